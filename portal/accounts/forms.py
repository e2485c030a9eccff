"""Sign-in, profile and token forms."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=100)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("new_password", message="The passwords differ.")],
    )


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token (revoke, disable, sign out)."""


class CounselForm(FlaskForm):
    """A lawyer's own details printed in the signature block of what they sign."""

    firm_address = TextAreaField("Firm address", validators=[Optional(), Length(max=1000)])
    phone = StringField("Telephone", validators=[Optional(), Length(max=64)])
    attorney_code = StringField("Court attorney code", validators=[Optional(), Length(max=32)])
