"""What a community is measured against and the map did not hold: its 居民小组 and its
registered volunteers (注册志愿者). Both grow with the city, so both carry their community as
the distribution key (docs/scale-out.md), never null."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.crypto import EncryptedString
from webapp.domain.choices import VolunteerService

from .base import Base, Versioned, choice_check


class ResidentGroup(Versioned, Base):
    """居民小组: 100–200 households under a 居民小组长 elected by them."""

    __tablename__ = "resident_group"
    __table_args__ = (CheckConstraint("households >= 0", name="households"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    households: Mapped[int] = mapped_column(Integer, server_default="0", comment="户数")
    leader: Mapped[str | None] = mapped_column(String(50), comment="居民小组长")
    note: Mapped[str | None] = mapped_column(String(200))


class Volunteer(Versioned, Base):
    """注册志愿者 of a community (the plans ask ≥ 10 % of its residents)."""

    __tablename__ = "volunteer"
    __table_args__ = (choice_check("service", VolunteerService),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    # Personal data: stored encrypted (Fernet, DATA_KEY), shown masked (webapp.security.personal).
    phone: Mapped[str | None] = mapped_column(EncryptedString(300), comment="加密存储")
    service: Mapped[str] = mapped_column(String(8), comment="服务类别")
    registered_on: Mapped[date | None] = mapped_column(Date, comment="注册日期")
