"""12345 热线接口: the systems allowed to push tickets into the event loop and read outcomes.

A client holds a random bearer token shown once when it is made; only its SHA-256 is kept (the
token carries 256 random bits, so a fast hash is enough: nothing to brute-force). ``name`` is
what the client's events carry in ``grid_event.hotline_system``: the client reads those events
only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .area import Community
from .base import Base, Timestamped

# The communities a client may report into, when it is not all of them.
hotline_client_community = Table(
    "hotline_client_community",
    Base.metadata,
    Column("client_id", ForeignKey("hotline_client.id", ondelete="CASCADE"), primary_key=True),
    Column("community_id", ForeignKey("community.id", ondelete="CASCADE"), primary_key=True),
)


class HotlineClient(Timestamped, Base):
    """An API client (接口账号) of the hotline API, e.g. 市12345热线平台."""

    __tablename__ = "hotline_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True, comment="系统名称")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="令牌的 SHA-256")
    # The token's last characters, so staff can tell which token a system was given.
    token_hint: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    # True: every community of the subdistrict; else only ``communities``.
    all_communities: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_by: Mapped[str] = mapped_column(String(50))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    communities: Mapped[list[Community]] = relationship(
        secondary=hotline_client_community, order_by="Community.id"
    )

    @property
    def scope_label(self) -> str:
        if self.all_communities:
            return "全部社区"
        return "、".join(c.name for c in self.communities) or "无(不能上报)"
