"""Forms built from the registry: one WTForms class per entity, with Chinese messages.

Every text field refuses markup (``<``, ``>``) and over-long values; numbers keep to their range;
a choice keeps to its list; references keep to the rows offered. The geometry arrives as text
(GeoJSON drawn on the map, or pasted coordinates) with its coordinate system, and ``version``
carries the row version the form was loaded with, for optimistic locking.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy import text
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import TelInput, TextInput

from gis.coords import CoordinateSystem
from gis.errors import UserError
from webapp.forms import MARKUP, hidden_characters, strip

from .registry import Entity, Field

CRS_CHOICES = [
    (CoordinateSystem.WGS84.value, "WGS84 / CGCS2000(天地图、GPS)"),
    (CoordinateSystem.GCJ02.value, "GCJ-02(高德、腾讯)"),
    (CoordinateSystem.BD09.value, "BD-09(百度)"),
]
MAX_REF_CHOICES = 2000


def no_markup(_form, field) -> None:
    """Plain text only: no markup, no control characters, no bidi reordering marks."""
    if not field.data:
        return
    value = str(field.data)
    if MARKUP.search(value):
        raise ValidationError(f"{field.label.text}不能包含“<”或“>”等标记字符。")
    if problem := hidden_characters(field.label.text, value):
        raise ValidationError(problem)


def _checked_by(check):
    def validate(_form, field) -> None:
        if field.data:
            try:
                check(str(field.data))
            except UserError as err:
                raise ValidationError(err.message) from None

    return validate


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


def _number(value: float) -> str:
    """A limit as users read it: 10000000, not 1e+07."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _validators(spec: Field) -> list:
    validators: list = []
    if spec.kind in ("int", "decimal"):
        validators.append(
            InputRequired(f"请填写{spec.label}。")
            if spec.required
            else Optional(strip_whitespace=True)
        )
        if spec.min_value is not None or spec.max_value is not None:
            low = "" if spec.min_value is None else f"不小于 {_number(spec.min_value)}"
            high = "" if spec.max_value is None else f"不大于 {_number(spec.max_value)}"
            validators.append(
                NumberRange(
                    spec.min_value,
                    spec.max_value,
                    f"{spec.label}应{low}{'、' if low and high else ''}{high}。",
                )
            )
        return validators
    if spec.kind in ("bool",):
        return validators
    if spec.kind == "date":
        return [Optional()]
    if spec.required:
        validators.append(DataRequired(f"请填写{spec.label}。"))
    else:
        validators.append(Optional())
    if spec.max_length:
        validators.append(
            Length(max=spec.max_length, message=f"{spec.label}最多 {spec.max_length} 个字。")
        )
    if spec.kind in ("text", "textarea"):
        validators.append(no_markup)
    if spec.pattern:
        validators.append(Regexp(spec.pattern, message=spec.pattern_message))
    if spec.check:
        validators.append(_checked_by(spec.check))
    return validators


def _wtf_field(spec: Field):
    kwargs = {"label": spec.label, "validators": _validators(spec), "description": spec.help}
    if spec.kind in ("text",):
        widget = TelInput() if spec.input_type == "tel" else TextInput()
        return StringField(filters=[strip], widget=widget, **kwargs)
    if spec.kind == "textarea":
        return TextAreaField(filters=[strip], **kwargs)
    if spec.kind == "int":
        return IntegerField(**kwargs)
    if spec.kind == "decimal":
        return DecimalField(places=None, **kwargs)
    if spec.kind == "bool":
        return BooleanField(**kwargs)
    if spec.kind == "date":
        return DateField(format="%Y-%m-%d", **kwargs)
    if spec.kind == "choice":
        choices = [("", "请选择")] + [(m.value, m.value) for m in spec.choices]
        return SelectField(choices=options(choices), **kwargs)
    if spec.kind == "ref":
        return SelectField(coerce=_optional_int, choices=[], validate_choice=True, **kwargs)
    raise ValueError(f"unknown field kind {spec.kind}")


class EntityForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    version = HiddenField()


_FORMS: dict[str, type[EntityForm]] = {}


def form_class(entity: Entity) -> type[EntityForm]:
    if entity.key not in _FORMS:
        _FORMS[entity.key] = _build_form(entity)
    return _FORMS[entity.key]


def _connected_on(form, field) -> None:
    if form.connected.data and not field.data:
        raise ValidationError("已接入雪亮工程的点位须填写接入日期。")


# Rules across fields, as WTForms inline validators (validate_<field>), per entity.
CROSS_FIELD_RULES = {"camera": {"validate_connected_on": _connected_on}}


def _build_form(entity: Entity) -> type[EntityForm]:
    attrs = {spec.name: _wtf_field(spec) for spec in entity.fields}
    attrs.update(CROSS_FIELD_RULES.get(entity.key, {}))
    if entity.geometry:
        attrs["geometry"] = TextAreaField(
            "图形",
            description="在地图上绘制,或粘贴 GeoJSON、WKT 或“经度,纬度”坐标(每行一对)",
        )
        attrs["crs"] = SelectField("坐标系", choices=options(CRS_CHOICES), default="wgs84")
    return type(f"{entity.model.__name__}Form", (EntityForm,), attrs)


# ---- reference choices ------------------------------------------------------------------

REF_SQL = {
    "community": "SELECT id, name FROM community {where} ORDER BY name",
    "grid": "SELECT id, code || ' ' || name FROM grid {where} ORDER BY code",
    "compound": "SELECT id, name FROM compound {where} ORDER BY name",
    "staff": "SELECT id, name || '(' || role || ')' FROM staff_person {where} ORDER BY name",
    "facility_type": "SELECT id, name FROM facility_type ORDER BY sort_order, name",
}


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the options of a SelectField."""
    return [SelectChoice(value, label) for value, label in pairs]


def ref_choices(session: Session, ref: str, community_id: int | None) -> list[tuple]:
    """The rows a reference may point at: those of one community where one is known."""
    where = ""
    if community_id is not None and ref in ("grid", "compound", "staff"):
        where = "WHERE community_id = :community"
    sql = REF_SQL[ref].format(where=where) + f" LIMIT {MAX_REF_CHOICES}"
    rows = session.execute(text(sql), {"community": community_id}).all()
    return [(None, "—")] + [(row[0], row[1]) for row in rows]


def fill_choices(form: EntityForm, entity: Entity, session: Session, community_id) -> None:
    for spec in entity.fields:
        if spec.kind == "ref":
            scope = None if spec.ref == "community" else community_id
            getattr(form, spec.name).choices = options(ref_choices(session, spec.ref, scope))
