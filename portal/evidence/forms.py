"""The evidence upload form of the case page (one set of fields for one or several files)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    MultipleFileField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..cases.models import Case
from ..money import CURRENCIES
from .models import EvidenceKind

#: The shared fields sent with every file (``invoices`` aside).
FIELD_NAMES = (
    "kind",
    "document_date",
    "signed_by_debtor",
    "sealed",
    "original_held",
    "source",
    "proves",
    "description",
    "signer",
    "amount",
    "currency",
)
#: Yes / no / unknown, as ``parse_flag`` reads them.
FLAG_CHOICES = [SelectChoice("", "Unknown"), SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class EvidenceUploadForm(FlaskForm):
    """What the uploader says about the files; the service checks the values."""

    file = MultipleFileField("Files", id="evidence-file")
    kind = SelectField(
        "Kind of document",
        choices=[SelectChoice("", "Choose the kind…")]
        + [SelectChoice(kind.value, kind.label) for kind in EvidenceKind],
        render_kw={"required": True},
        id="evidence-kind",
    )
    invoices = SelectMultipleField(
        "Invoices it concerns",
        choices=[],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=False,
        id="evidence-invoices",
    )
    document_date = DateField("Document date", validators=[Optional()], id="evidence-date")
    signed_by_debtor = SelectField(
        "Signed by the debtor", choices=FLAG_CHOICES, id="evidence-signed"
    )
    sealed = SelectField("Sealed (company chop)", choices=FLAG_CHOICES, id="evidence-sealed")
    original_held = SelectField("Original held", choices=FLAG_CHOICES, id="evidence-original")
    source = StringField(
        "Source", render_kw={"placeholder": "debtor, courier, ERP …"}, id="evidence-source"
    )
    proves = TextAreaField("What it proves", id="evidence-proves")
    description = TextAreaField("Description", id="evidence-description")
    signer = StringField(
        "Signed by (name and position)",
        render_kw={"placeholder": "e.g. J. Smith, warehouse manager"},
        id="evidence-signer",
    )
    amount = StringField(
        "Amount on the document", render_kw={"placeholder": "e.g. 1234.50"}, id="evidence-amount"
    )
    currency = SelectField(
        "Currency",
        choices=[SelectChoice("", "—")] + [SelectChoice(code, code) for code in sorted(CURRENCIES)],
        id="evidence-currency",
    )


def upload_fields(formdata: Mapping) -> dict[str, str]:
    """Form data (a ``MultiDict``) → the mapping ``parse_fields`` reads."""
    fields = {name: formdata.get(name, "") for name in FIELD_NAMES}
    getlist = getattr(formdata, "getlist", None)
    keys = getlist("invoices") if getlist else [formdata.get("invoices", "")]
    fields["invoices"] = ",".join(key for key in keys if key)
    return fields


def upload_form(case: Case, submitted: bool = False) -> EvidenceUploadForm:
    """The form with the case's invoices as checkboxes: blank, or from the request."""
    form = EvidenceUploadForm() if submitted else EvidenceUploadForm(formdata=None)
    form.invoices.choices = [
        SelectChoice(invoice.external_id, invoice.number)
        for invoice in sorted(case.invoices, key=lambda invoice: invoice.number)
    ]
    return form
