"""The register's forms: a house, a person, a move, a visit, the visit frequencies; every
message in Chinese, ID numbers checked by GB 11643-1999."""

from __future__ import annotations

import re

from wtforms import DateField, FloatField, IntegerField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from webapp import clock
from webapp.domain import creditcode, idcard
from webapp.domain.register import (
    CHECKLIST_LABELS,
    HouseUse,
    IdType,
    PersonKind,
    Relation,
    Sex,
    UnitKind,
)
from webapp.forms import CheckedForm, no_markup, strip
from webapp.security.personal import unchanged

TEXT = "不能包含“<”或“>”。"
PHONE = re.compile(r"^[0-9+\-\s]{7,20}$")


def _choice(label: str, enum, *, optional: bool = False) -> StringField:
    """A closed list (the template writes the <select>): one of the enum's values."""
    values = {m.value for m in enum}

    def check(_form, field) -> None:
        if optional and not field.data:
            return
        if field.data not in values:
            raise ValidationError(f"请选择{label}:{'、'.join(m.value for m in enum)}。")

    return StringField(label, filters=[strip], validators=[check])


def _phone(_form, field) -> None:
    """A phone number, or the mask an edit form shows back unchanged (which keeps the stored
    number: the views save only a number that is not a mask)."""
    if field.data and not unchanged(field.data) and not PHONE.match(field.data):
        raise ValidationError("电话号码只能包含数字、空格、“+”“-”,7-20位。")


def _not_future(_form, field) -> None:
    if field.data and field.data > clock.today():
        raise ValidationError(f"{field.label.text}不能晚于今天。")


def _text(label: str, max_length: int, *, required: bool = False):
    message = f"{label}最多{max_length}字,{TEXT}"
    checks = [InputRequired(f"请填写{label}。")] if required else [Optional()]
    return StringField(
        label,
        filters=[strip],
        validators=[*checks, Length(max=max_length, message=message), no_markup(message)],
    )


class HouseForm(CheckedForm):
    unit = IntegerField(
        "单元",
        validators=[
            InputRequired("请填写单元(数字)。"),
            NumberRange(1, 99, "单元应为1-99的数字。"),
        ],
    )
    floor = IntegerField(
        "楼层",
        validators=[
            InputRequired("请填写楼层(数字)。"),
            NumberRange(-5, 200, "楼层应为-5至200。"),
        ],
    )
    room = _text("室号", 10, required=True)
    street = _text("街路巷", 50, required=True)
    door_number = _text("门牌号", 20, required=True)
    building_number = _text("楼号", 20, required=True)
    use = _choice("用途", HouseUse)
    landlord = _text("房东", 30)
    landlord_phone = StringField("房东电话", filters=[strip], validators=[Optional(), _phone])
    landlord_id_number = StringField("房东证件号码", filters=[strip], validators=[Optional()])
    contract_start = DateField("合同起", validators=[Optional()])
    contract_end = DateField("合同止", validators=[Optional()])
    version = IntegerField(validators=[Optional()])

    def validate_contract_end(self, field) -> None:
        if field.data and self.contract_start.data and field.data < self.contract_start.data:
            raise ValidationError("租赁合同止日不能早于起日。")

    def validate_landlord_id_number(self, field) -> None:
        """A resident ID (GB 11643, the check digit named when wrong); a masked value shown
        back unchanged keeps the stored one."""
        if unchanged(field.data):
            return
        try:
            field.data = idcard.parse(field.data, clock.today()).number
        except idcard.IdNumberError as err:
            raise ValidationError(f"房东证件号码:{err.message}") from None

    def validate_landlord(self, field) -> None:
        if self.use.data == HouseUse.RENTED and not field.data:
            raise ValidationError("出租房屋请填写房东(以房管人)。")


class PersonForm(CheckedForm):
    name = _text("姓名", 30, required=True)
    kind = _choice("人口类别", PersonKind)
    id_type = _choice("证件类型", IdType)
    id_number = StringField("证件号码", filters=[strip])
    sex = _choice("性别", Sex, optional=True)
    birth_date = DateField("出生日期", validators=[Optional(), _not_future])
    phone = StringField("电话", filters=[strip], validators=[Optional(), _phone])
    relation = _choice("与户主关系", Relation)
    moved_in = DateField("迁入日期", validators=[Optional(), _not_future])
    version = IntegerField(validators=[Optional()])

    card: idcard.IdCard | None = None

    def validate_id_number(self, field) -> None:
        """A 居民身份证 number by GB 11643-1999, and typed sex and birth date against it;
        other documents: present and plain."""
        if not field.data or field.data == "":
            raise ValidationError("请填写证件号码。")
        if self.id_type.data == IdType.RESIDENT_ID:
            try:
                self.card = idcard.parse(field.data, today=clock.today())
                birth = self.birth_date.data if not self.birth_date.errors else None
                idcard.check_against(self.card, sex=self.sex.data or None, birth_date=birth)
            except idcard.IdNumberError as err:
                raise ValidationError(err.message) from None
            field.data = self.card.number
        elif len(field.data) > 30 or not re.fullmatch(r"[A-Za-z0-9\-]+", field.data):
            raise ValidationError("证件号码只能包含字母、数字和“-”,最多30位。")
        elif not self.sex.data or not self.birth_date.data:
            raise ValidationError("非居民身份证请填写性别和出生日期。")


class MoveForm(CheckedForm):
    house_id = IntegerField(
        "迁入房屋编号", validators=[InputRequired("请填写迁入房屋的编号(数字)。")]
    )
    household_id = IntegerField("并入户", validators=[Optional()])
    on = DateField("迁移日期", validators=[InputRequired("请填写迁移日期。"), _not_future])


class LeaveForm(CheckedForm):
    on = DateField("迁出日期", validators=[InputRequired("请填写迁出日期。"), _not_future])


class VisitForm(CheckedForm):
    visited_on = DateField("走访日期", validators=[InputRequired("请填写走访日期。"), _not_future])
    notes = _text("走访情况", 500, required=True)
    lat = FloatField(validators=[Optional(), NumberRange(-90, 90, "定位纬度无效。")])
    lon = FloatField(validators=[Optional(), NumberRange(-180, 180, "定位经度无效。")])
    # 走访事由: items of 三必到 / 五必访 / 六必访 (each a checkbox named "reasons").
    reasons = SelectMultipleField(validate_choice=False)

    def validate_reasons(self, field) -> None:
        unknown = [v for v in field.data or [] if v not in CHECKLIST_LABELS]
        if unknown:
            raise ValidationError(f"走访事由“{unknown[0][:20]}”不在三必到、五必访、六必访之列。")


class UnitForm(CheckedForm):
    name = _text("单位名称", 100, required=True)
    kind = _choice("单位类型", UnitKind)
    credit_code = StringField("统一社会信用代码", filters=[strip], validators=[Optional()])
    contact = _text("联系人", 30)
    phone = StringField("联系电话", filters=[strip], validators=[Optional(), _phone])
    employees = IntegerField(
        "从业人数", validators=[Optional(), NumberRange(0, 100000, "从业人数应为0-100000。")]
    )
    address = _text("门牌、铺面位置", 200)
    version = IntegerField(validators=[Optional()])

    def validate_credit_code(self, field) -> None:
        if field.data:
            try:
                field.data = creditcode.parse(field.data)
            except creditcode.CreditCodeError as err:
                raise ValidationError(err.message) from None
