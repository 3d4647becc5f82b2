from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from webapp.forms import no_markup, strip


class TokenForm(FlaskForm):
    name = StringField(
        "令牌名称",
        filters=[strip],
        validators=[
            DataRequired("请填写令牌名称,例如“QGIS 办公电脑”。"),
            Length(max=60, message="令牌名称最多 60 字。"),
            no_markup("令牌名称不能包含“<”或“>”。"),
        ],
    )
