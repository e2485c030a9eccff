"""Forms of the ledger pages."""

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField
from wtforms.validators import DataRequired


class OpenCaseForm(FlaskForm):
    """Open a case against a debtor; choices are filled in by the view."""

    invoices = SelectMultipleField(
        "Invoices to claim",
        choices=[],
        validators=[DataRequired(message="Tick at least one open invoice.")],
    )
    #: Admins choose the in-house legal owner; for legal users the owner is themselves.
    owner = SelectField("Case owner (in-house legal)", choices=[])
    lawyer = SelectField("External lawyer (optional)", choices=[], default="")
