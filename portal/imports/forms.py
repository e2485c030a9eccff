"""Forms of the import pages."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Length

KIND_CHOICES = [
    SelectChoice("invoices", "Invoices"),
    SelectChoice("payments", "Payments"),
    SelectChoice("debtors", "Debtors"),
]


class ImportUploadForm(FlaskForm):
    kind = SelectField("The file holds", choices=KIND_CHOICES)
    file = FileField(
        "CSV or XLSX file",
        validators=[FileRequired("Choose a file.")],
        # A hint for the file picker only: the type is decided by the content.
        render_kw={"accept": ".csv,.xlsx"},
    )


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Length(max=64)])


class ImportCancelForm(FlaskForm):
    """Only the CSRF token."""
