"""Forms of the administration pages."""

from decimal import Decimal

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..documents.manifest import STATUTORY_FORMS
from ..jurisdictions import RATE_KINDS
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
    firm_address = TextAreaField(
        "Firm address (lawyers)", validators=[Optional(), Length(max=1000)]
    )
    phone = StringField("Telephone (lawyers)", validators=[Optional(), Length(max=64)])
    attorney_code = StringField(
        "Court attorney code (lawyers; Cook County: the firm's attorney code)",
        validators=[Optional(), Length(max=32)],
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
    incorporation = StringField(
        "Place of incorporation",
        validators=[Optional(), Length(max=200)],
        description="As a pleading says it: Delaware, Illinois, England and Wales.",
    )
    email = EmailField("E-mail", validators=[Optional(), Length(max=254)])
    phone = StringField("Phone", validators=[Optional(), Length(max=64)])
    bank_name = StringField("Bank", validators=[Optional(), Length(max=200)])
    bank_account = StringField("Account / IBAN", validators=[Optional(), Length(max=64)])
    bank_code = StringField("SWIFT / sort code / routing", validators=[Optional(), Length(max=32)])


class RateForm(FlaskForm):
    """Add a row to the rate table, or correct the row of the same kind and day."""

    kind = SelectField(
        "Kind", choices=[SelectChoice(kind, label) for kind, label in sorted(RATE_KINDS.items())]
    )
    valid_from = DateField("Valid from", validators=[DataRequired(message="Give the first day.")])
    rate = DecimalField(
        "Rate, % per annum",
        places=None,
        validators=[InputRequired(message="Give the rate.")],
        render_kw={"inputmode": "decimal"},
    )
    source = TextAreaField(
        "Source",
        validators=[DataRequired(message="Say where the figure comes from."), Length(max=2000)],
    )

    def validate_rate(self, field: DecimalField) -> None:
        value: Decimal | None = field.data
        if value is None:  # not a number: WTForms has said so
            return
        if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
            raise ValidationError("A percentage per annum between 0 and 100.")
        if value.as_tuple().exponent < -6:
            raise ValidationError("At most 6 decimal places.")


class RateConfirmForm(FlaskForm):
    """Confirm that the table holds every rate of a kind in force up to a day."""

    kind = SelectField(
        "Kind", choices=[SelectChoice(kind, label) for kind, label in sorted(RATE_KINDS.items())]
    )
    confirmed_through = DateField(
        "Confirmed through", validators=[DataRequired(message="Give the day you checked up to.")]
    )
    source = TextAreaField(
        "What you checked",
        validators=[
            DataRequired(message="Say which publication you checked."),
            Length(max=2000),
        ],
    )


class LetterFormatForm(FlaskForm):
    """How a law firm's letter numbers read (its own register)."""

    name = HiddenField(validators=[DataRequired(), Length(max=200)])
    letter_format = StringField(
        "Letter number format",
        validators=[DataRequired(message="Give the format."), Length(max=100)],
    )


class StatutoryFormUpload(FlaskForm):
    """Upload the official PDF of a prescribed form (the next version of its kind)."""

    kind = SelectField(
        "Form", choices=[SelectChoice(kind, title) for kind, title in STATUTORY_FORMS.items()]
    )
    edition = StringField(
        "Publication",
        validators=[DataRequired(message="Say where and when it was published."), Length(max=300)],
        description="e.g. PAP-Debt Annex 1, GOV.UK, version in force from 1 October 2017",
    )
    file = FileField("Official PDF", validators=[FileRequired("Choose the PDF.")])
