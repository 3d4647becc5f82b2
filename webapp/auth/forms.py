from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(
        "用户名",
        validators=[DataRequired("请输入用户名。"), Length(max=50, message="用户名过长。")],
    )
    password = PasswordField(
        "密码", validators=[DataRequired("请输入密码。"), Length(max=200, message="密码过长。")]
    )


class PasswordForm(FlaskForm):
    current = PasswordField(
        "当前密码",
        validators=[DataRequired("请输入当前密码。"), Length(max=200, message="密码过长。")],
    )
    new = PasswordField(
        "新密码", validators=[DataRequired("请输入新密码。"), Length(max=200, message="密码过长。")]
    )
    confirm = PasswordField(
        "确认新密码",
        validators=[DataRequired("请再次输入新密码。"), Length(max=200, message="密码过长。")],
    )


class TotpForm(FlaskForm):
    code = StringField(
        "验证码",
        validators=[DataRequired("请输入验证码。"), Length(max=20, message="验证码过长。")],
    )
