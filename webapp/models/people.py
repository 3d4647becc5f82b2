"""Staff people (网格长, 网格员, 楼栋长, 社区民警 …) linked from grids, buildings, police rooms."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.crypto import EncryptedString
from webapp.domain.choices import StaffRole

from .base import Base, Versioned, choice_check


class StaffPerson(Versioned, Base):
    __tablename__ = "staff_person"
    __table_args__ = (choice_check("role", StaffRole),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    # Personal data: stored encrypted (Fernet, DATA_KEY), shown masked (webapp.security.personal).
    phone: Mapped[str | None] = mapped_column(EncryptedString(300), comment="加密存储")
    # The work phone published on the grid notice board and the public lookup page (公示电话):
    # not personal, and published only where someone has entered it.
    public_phone: Mapped[str | None] = mapped_column(String(30), comment="公示电话")
    role: Mapped[str] = mapped_column(String(8))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    # use_alter: grids point at their staff and staff at their grid.
    grid_id: Mapped[int | None] = mapped_column(
        ForeignKey("grid.id", use_alter=True, ondelete="SET NULL"), index=True
    )
    note: Mapped[str | None] = mapped_column(String(200))
