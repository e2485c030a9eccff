"""Forms of the administration pages."""

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from ..ledger.models import Jurisdiction
from ..security import Role


class UserCreateForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    role = SelectField(
        "Role", choices=[SelectChoice(role.value, role.value.capitalize()) for role in Role]
    )
    password = PasswordField("Initial password", validators=[DataRequired(), Length(max=1024)])
    firm = StringField("Law firm (lawyers)", validators=[Optional(), Length(max=200)])
    licence_number = StringField(
        "Licence number (lawyers)", validators=[Optional(), Length(max=64)]
    )


class CreditorForm(FlaskForm):
    code = StringField("Short code", validators=[DataRequired(), Length(max=16)])
    legal_name = StringField("Legal name", validators=[DataRequired(), Length(max=300)])
    registration_id = StringField("Registration id", validators=[DataRequired(), Length(max=64)])
    address = TextAreaField("Registered address", validators=[DataRequired(), Length(max=2000)])
    jurisdiction = SelectField(
        "Jurisdiction", choices=[SelectChoice(item.value, item.label) for item in Jurisdiction]
    )
    legal_representative = StringField(
        "Legal representative", validators=[Optional(), Length(max=200)]
    )
    email = EmailField("E-mail", validators=[Optional(), Length(max=254)])
    phone = StringField("Phone", validators=[Optional(), Length(max=64)])
    bank_name = StringField("Bank", validators=[Optional(), Length(max=200)])
    bank_account = StringField("Account / IBAN", validators=[Optional(), Length(max=64)])
    bank_code = StringField("SWIFT / sort code / routing", validators=[Optional(), Length(max=32)])
