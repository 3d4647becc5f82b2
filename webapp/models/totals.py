"""Row totals of the map's tables, kept by the database so the layer control's counts cost the
same in a city as in one subdistrict (GET /api/layers/counts).

Statement triggers (migration 1557523b782f) append each INSERT's and DELETE's row count as a
delta; a table's total is the sum of its deltas. Appending takes no lock that another writer
waits on (a counter row would make every writer of ``building`` wait for a long import to
commit), and now and then a writer folds the committed deltas it can lock into one row, so
the sum stays over a few dozen rows per table.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class RowCountDelta(Base):
    """Rows a statement added (or, negative, removed) in one table."""

    __tablename__ = "map_row_count"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(63))
    delta: Mapped[int] = mapped_column(BigInteger)
