"""一标三实: 实有房屋 (houses), 户 (households), 实有人口 (people), their residences, and the people
who need visits (特殊人群/重点人员, 关爱对象) with their 走访 records.

Names, ID numbers and phones of residents are personal data: encrypted at rest
(webapp.crypto.EncryptedString), the ID number also kept as a blind index (``id_index``, a keyed
HMAC) so it can be looked up without decrypting the table. A person's community and grid are
those of the house they live in (or last lived in): every scope check reads them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.crypto import EncryptedString
from webapp.domain.register import (
    CHECKLIST,
    CategoryGroup,
    HouseUse,
    IdType,
    PersonKind,
    Relation,
    Sex,
    UnitKind,
)

from .base import (
    Base,
    InGrid,
    Versioned,
    choice_check,
    community_key,
    keyed_parent,
    parent_key,
)

BLIND_INDEX_LENGTH = 64  # HMAC-SHA256 in hex


class House(InGrid, Versioned, Base):
    """实有房屋: one dwelling or shop of a building, with its 标准地址 (standard address)."""

    __tablename__ = "house"
    __table_args__ = (
        choice_check("use", HouseUse),
        UniqueConstraint("building_id", "unit", "room", name="uq_house_building_unit_room"),
        CheckConstraint("unit > 0 AND floor BETWEEN -5 AND 200", name="position"),
        CheckConstraint(
            "contract_end IS NULL OR contract_start IS NULL OR contract_end >= contract_start",
            name="contract_dates",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    unit: Mapped[int] = mapped_column(Integer, comment="单元")
    floor: Mapped[int] = mapped_column(Integer, comment="楼层")
    room: Mapped[str] = mapped_column(String(10), comment="室号")
    # 标准地址: street, door number and building number; unit and room complete it.
    street: Mapped[str] = mapped_column(String(50), comment="街路巷")
    door_number: Mapped[str] = mapped_column(String(20), comment="门牌号")
    building_number: Mapped[str] = mapped_column(String(20), comment="楼号")
    use: Mapped[str] = mapped_column(String(4), server_default=HouseUse.OWNER_OCCUPIED.value)
    landlord: Mapped[str | None] = mapped_column(EncryptedString(300), comment="房东,加密存储")
    landlord_phone: Mapped[str | None] = mapped_column(
        EncryptedString(300), comment="房东电话,加密存储"
    )
    # The landlord as a person (以房管人): their ID number, and its blind index, which finds
    # them in the register when they are registered here, and their rentals from their record.
    landlord_id_number: Mapped[str | None] = mapped_column(
        EncryptedString(300), comment="房东证件号码,加密存储"
    )
    landlord_id_index: Mapped[str | None] = mapped_column(
        String(BLIND_INDEX_LENGTH), index=True, comment="房东证件号码盲索引"
    )
    contract_start: Mapped[date | None] = mapped_column(Date, comment="租赁合同起")
    contract_end: Mapped[date | None] = mapped_column(Date, comment="租赁合同止")

    households: Mapped[list[Household]] = relationship(
        back_populates="house", order_by="Household.id"
    )

    @property
    def address(self) -> str:
        """The standard address as one line: 春阳路 88号 3号楼 2单元 502室."""
        return (
            f"{self.street}{self.door_number}号 {self.building_number} "
            f"{self.unit}单元 {self.room}室"
        )


class OrgUnit(InGrid, Versioned, Base):
    """实有单位: a company, shop or organisation in a building; its contact's name and phone
    are personal data."""

    __tablename__ = "org_unit"
    __table_args__ = (
        choice_check("kind", UnitKind),
        CheckConstraint("employees >= 0", name="employees"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    credit_code: Mapped[str | None] = mapped_column(String(18), comment="统一社会信用代码")
    contact: Mapped[str | None] = mapped_column(EncryptedString(300), comment="联系人,加密存储")
    phone: Mapped[str | None] = mapped_column(EncryptedString(300), comment="联系电话,加密存储")
    employees: Mapped[int] = mapped_column(Integer, server_default="0", comment="从业人数")
    address: Mapped[str | None] = mapped_column(String(200), comment="门牌、铺面位置")


class Household(InGrid, Versioned, Base):
    """户: the people who keep house together in one house (a family, or a tenant's)."""

    __tablename__ = "household"

    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("house.id"), index=True)
    number: Mapped[str | None] = mapped_column(String(30), comment="户号")

    house: Mapped[House] = relationship(back_populates="households")


class Person(InGrid, Versioned, Base):
    """实有人口. ``household_id`` is the household the person lives in now (None after moving
    away); the history is in ``residence``."""

    __tablename__ = "person"
    __table_args__ = (
        choice_check("kind", PersonKind),
        choice_check("id_type", IdType),
        choice_check("sex", Sex),
        choice_check("relation", Relation),
        keyed_parent(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(4), server_default=PersonKind.REGISTERED.value)
    name: Mapped[str] = mapped_column(EncryptedString(300), comment="姓名,加密存储")
    # Exact-name lookups across a wide scope (the whole subdistrict) go through this keyed hash.
    name_index: Mapped[str] = mapped_column(String(BLIND_INDEX_LENGTH), index=True)
    id_type: Mapped[str] = mapped_column(String(8), server_default=IdType.RESIDENT_ID.value)
    id_number: Mapped[str] = mapped_column(EncryptedString(300), comment="证件号码,加密存储")
    # One person, one row in the subdistrict: the same ID number twice is refused.
    id_index: Mapped[str] = mapped_column(
        String(BLIND_INDEX_LENGTH), unique=True, comment="证件号码盲索引(HMAC-SHA256)"
    )
    sex: Mapped[str] = mapped_column(String(2))
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(EncryptedString(300), comment="电话,加密存储")
    relation: Mapped[str] = mapped_column(String(6), comment="与户主关系")
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)

    household: Mapped[Household | None] = relationship()
    categories: Mapped[list[PersonCategory]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="PersonCategory.category"
    )


class Residence(Base):
    """A stay of a person in a house: moved in, moved out (None while living there). A move
    closes one and opens the next, so the history stays; one open stay per person."""

    __tablename__ = "residence"
    __table_args__ = (
        CheckConstraint("moved_out IS NULL OR moved_out >= moved_in", name="dates"),
        Index(
            "uq_residence_open_person",
            "person_id",
            unique=True,
            postgresql_where=text("moved_out IS NULL"),
        ),
        # The stay goes with the person (who is visited where they live now).
        parent_key("person_id", "person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = community_key()
    person_id: Mapped[int] = mapped_column(Integer, index=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("house.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    moved_in: Mapped[date] = mapped_column(Date)
    moved_out: Mapped[date | None] = mapped_column(Date)

    house: Mapped[House] = relationship()


class VisitFrequency(Base):
    """How often the people of a category are visited, kept by the center (走访频次)."""

    __tablename__ = "visit_frequency"
    __table_args__ = (
        choice_check("category_group", CategoryGroup),
        CheckConstraint("every_days BETWEEN 1 AND 366", name="every_days"),
    )

    category: Mapped[str] = mapped_column(String(10), primary_key=True)
    category_group: Mapped[str] = mapped_column(String(4))
    every_days: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(100), server_default="")
    updated_by: Mapped[str | None] = mapped_column(String(50))


class PersonCategory(Base):
    """A category a person carries (社区矫正, 独居老人 …) since a date."""

    __tablename__ = "person_category"
    __table_args__ = (parent_key("person_id", "person"),)

    community_id: Mapped[int] = community_key()
    person_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(ForeignKey("visit_frequency.category"), primary_key=True)
    since: Mapped[date] = mapped_column(Date)

    person: Mapped[Person] = relationship(back_populates="categories")
    frequency: Mapped[VisitFrequency] = relationship(lazy="joined")


class Visit(InGrid, Base):
    """走访: a visit to a person, where the visitor stood (phone geolocation) and whether that
    was within VISIT_MAX_DISTANCE_M of the person's building."""

    __tablename__ = "visit"
    __table_args__ = (
        CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90)", name="lat"),
        CheckConstraint("lon IS NULL OR (lon BETWEEN -180 AND 180)", name="lon"),
        CheckConstraint(
            "reasons <@ ARRAY["
            + ", ".join(f"'{item.label}'" for item in CHECKLIST)
            + "]::varchar[]",
            name="reasons_choice",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    visited_on: Mapped[date] = mapped_column(Date)
    # 走访事由: the 三必到 / 五必访 / 六必访 items the visit answered (webapp.domain.register).
    reasons: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), server_default=text("'{}'::varchar[]"), comment="走访事由"
    )
    visitor: Mapped[str] = mapped_column(String(50))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float, comment="距住所楼栋的距离")
    located: Mapped[bool] = mapped_column(Boolean, server_default="false", comment="位置核验通过")
    notes: Mapped[str] = mapped_column(String(500), server_default="")
    photo_name: Mapped[str | None] = mapped_column(String(120))
    photo_stored: Mapped[str | None] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
