"""The boundary import's forms: the upload (level, coordinate system, text encoding) and the
mapping of columns (layer, name, code, parent code)."""

from __future__ import annotations

from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional

from gis.boundary_checks import LEVELS
from gis.boundary_crs import CRS_CHOICES
from gis.boundary_files import ENCODINGS
from webapp.forms import CheckedForm, strip

LEVEL_CHOICES = list(LEVELS.items())


class UploadForm(CheckedForm):
    level = SelectField("层级", choices=LEVEL_CHOICES, validators=[InputRequired("请选择层级。")])
    crs = SelectField("坐标系", choices=CRS_CHOICES, default="auto")
    encoding = SelectField("文字编码", choices=ENCODINGS, default="auto")


class MappingForm(UploadForm):
    layer = IntegerField("图层", default=0, validators=[Optional(), NumberRange(min=0)])
    name = StringField("名称列", filters=[strip], validators=[InputRequired("请选择名称列。")])
    code = StringField("编码列", filters=[strip], validators=[InputRequired("请选择编码列。")])
    parent = StringField("上级编码列", filters=[strip], default="")

    def choice(self):
        from .plan import Choice

        return Choice(
            level=self.level.data,
            name=self.name.data,
            code=self.code.data,
            parent=self.parent.data or "",
            crs=self.crs.data,
            encoding=self.encoding.data,
            layer=self.layer.data or 0,
        )


def guess(columns: list[str], *words: str) -> str:
    """The first column whose name holds one of ``words`` (case-insensitive), else ""."""
    for word in words:
        for column in columns:
            if word.lower() in column.lower():
                return column
    return ""
