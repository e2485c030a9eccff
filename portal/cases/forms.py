"""Case forms: counsel, ladder, status, next action, timeline events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..money import CURRENCIES, parse_amount
from .event_schemas import CHANNELS
from .models import CaseStatus, EventType, Outcome, Stage


class AssignLawyerForm(FlaskForm):
    lawyer = SelectField("External lawyer", choices=[], validate_choice=True)


class StageForm(FlaskForm):
    """One ladder button: the stage to move to."""

    stage = HiddenField(validators=[DataRequired()])

    def validate_stage(self, field: HiddenField) -> None:
        if field.data not in {stage.value for stage in Stage}:
            raise ValidationError("Not a stage of the ladder.")


def _amount(form: Any, field: StringField) -> None:
    """A non-negative amount with at most the case currency's decimals (``form.currency``)."""
    if not (field.data or "").strip():
        field.data = None
        return
    try:
        field.data = parse_amount(field.data, getattr(form, "currency", None), allow_zero=True)
    except ValueError as error:
        text = str(error)
        raise ValidationError(text[:1].upper() + text[1:] + ".") from error


class StatusForm(FlaskForm):
    """Open, hold or close the case; closing records the outcome."""

    status = SelectField(
        "Status",
        choices=[SelectChoice(s.value, s.value.replace("_", " ").capitalize()) for s in CaseStatus],
    )
    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice("", "— when closed —")]
        + [SelectChoice(outcome.value, outcome.label) for outcome in Outcome],
    )
    recovered_amount = StringField(
        "Recovered amount", validators=[_amount], render_kw={"inputmode": "decimal"}
    )
    costs = StringField("Costs", validators=[_amount], render_kw={"inputmode": "decimal"})
    closed_on = DateField("Closed on", validators=[Optional()])

    #: The case currency (decimal places of the amounts); set by the view.
    currency: str | None = None

    @property
    def recovered(self) -> Decimal | None:
        return self.recovered_amount.data or None

    @property
    def cost_amount(self) -> Decimal | None:
        return self.costs.data or None


class AgreementForm(FlaskForm):
    """The agreement the debt arises under, as a letter or pleading states it."""

    agreement_form = SelectField(
        "Form",
        choices=[
            SelectChoice("", "not recorded"),
            SelectChoice("written", "written"),
            SelectChoice("oral", "oral"),
        ],
        validate_choice=True,
    )
    agreement_date = DateField("Date made", validators=[Optional()])
    agreement_parties = TextAreaField(
        "Parties",
        validators=[Optional(), Length(max=1000)],
        description="Who made it, e.g. 'Northwind Components Ltd and John Smith'.",
    )
    agreement_terms = TextAreaField(
        "What was agreed (oral: who said what, when and where)",
        validators=[Optional(), Length(max=4000)],
    )
    fees_clause = BooleanField("The contract lets the creditor recover its lawyer's fees")


class NextActionForm(FlaskForm):
    next_action = StringField("Next action", validators=[Optional(), Length(max=300)])
    next_action_due = DateField("Due", validators=[Optional()])


def _date(label: str) -> StringField:
    # Kept as text: the event schema parses and checks dates (and says what is wrong).
    return StringField(label, render_kw={"type": "date"})


def _currencies() -> list[SelectChoice]:
    return [SelectChoice(code, code) for code in sorted(CURRENCIES)]


def _yes_no(yes: str, no: str) -> list[SelectChoice]:
    return [SelectChoice("", "— choose —"), SelectChoice("yes", yes), SelectChoice("no", no)]


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


#: Per event type, the schema fields the form asks for (form field = ``<type>_<name>``).
EVENT_FIELDS: dict[EventType, tuple[str, ...]] = {
    EventType.CONTACT: ("channel", "summary"),
    EventType.PROMISE: ("amount", "currency", "due"),
    EventType.DISPUTE: ("invoices", "reason"),
    EventType.DISPUTE_RESOLVED: ("invoices", "resolution"),
    EventType.RECONCILIATION_SENT: ("courier", "tracking", "reply_by"),
    EventType.RECONCILIATION_REPLY: ("confirmed", "balance", "currency"),
    EventType.DISPATCH: ("document", "courier", "tracking", "delivered_on"),
    EventType.ACKNOWLEDGMENT: ("signed", "amount", "currency"),
    EventType.ASSET: ("description",),
    EventType.NOTE: ("text",),
}
#: Optional amounts whose currency is only sent along with them.
_AMOUNT_OF_CURRENCY = {
    EventType.RECONCILIATION_REPLY: "balance",
    EventType.ACKNOWLEDGMENT: "amount",
}
#: Documents usually dispatched (suggestions; the field takes any name).
DISPATCH_DOCUMENTS = (
    "balance_confirmation",
    "advance_notice",
    "warning_letter",
    "demand_letter",
    "statement_of_claim",
)


class EventForm(FlaskForm):
    """Record a timeline event: the type decides which fieldset counts (the rest is ignored)."""

    type = SelectField(
        "What happened",
        choices=[SelectChoice(kind.value, kind.label) for kind in EventType],
        render_kw={"data-event-type-select": ""},
    )
    date = _date("Date")

    # The type's fieldsets are checked by the event schema, not by WTForms: a fieldset the
    # browser did not send must not fail the form.
    contact_channel = SelectField(
        "Channel",
        choices=[SelectChoice(c, c.capitalize()) for c in CHANNELS],
        validate_choice=False,
    )
    contact_summary = TextAreaField("Summary")

    promise_amount = StringField("Amount promised", render_kw={"inputmode": "decimal"})
    promise_currency = SelectField("Currency", choices=_currencies(), validate_choice=False)
    promise_due = _date("To be paid by")

    dispute_invoices = _Checkboxes("Disputed invoices", choices=[])
    dispute_reason = TextAreaField("Reason given")

    dispute_resolved_invoices = _Checkboxes("Invoices no longer disputed", choices=[])
    dispute_resolved_resolution = TextAreaField("How it was resolved")

    reconciliation_sent_courier = StringField("Courier")
    reconciliation_sent_tracking = StringField("Tracking number")
    reconciliation_sent_reply_by = _date("Reply by")

    reconciliation_reply_confirmed = SelectField(
        "Reply", choices=_yes_no("Balance confirmed", "Balance disputed"), validate_choice=False
    )
    reconciliation_reply_balance = StringField(
        "Balance stated by the debtor (optional)", render_kw={"inputmode": "decimal"}
    )
    reconciliation_reply_currency = SelectField(
        "Currency", choices=_currencies(), validate_choice=False
    )

    dispatch_document = StringField(
        "Document", render_kw={"list": "dispatch-documents", "autocomplete": "off"}
    )
    dispatch_courier = StringField("Courier")
    dispatch_tracking = StringField("Tracking number")
    dispatch_delivered_on = _date("Delivered on (optional)")

    acknowledgment_signed = SelectField(
        "Form", choices=_yes_no("Signed, in writing", "Oral or unsigned"), validate_choice=False
    )
    acknowledgment_amount = StringField(
        "Amount acknowledged (optional)", render_kw={"inputmode": "decimal"}
    )
    acknowledgment_currency = SelectField("Currency", choices=_currencies(), validate_choice=False)

    asset_description = TextAreaField("What was seen, where")

    note_text = TextAreaField("Note")

    def kind(self) -> EventType:
        return EventType(self.type.data)

    def field_for(self, name: str) -> Any:
        """The form field that carries the chosen type's schema field ``name``."""
        if name in ("type", "date"):
            return self[name]
        key = f"{self.type.data}_{name}"
        return self[key] if key in self else None

    def payload(self) -> dict[str, Any]:
        """The event as the API would receive it: only the chosen type's fields, blanks left out
        (so the schema reports what is missing)."""
        kind = self.kind()
        data: dict[str, Any] = {"type": kind.value}
        if (self.date.data or "").strip():
            data["date"] = self.date.data.strip()
        for name in EVENT_FIELDS[kind]:
            value = self.field_for(name).data
            if isinstance(value, str):
                value = value.strip()
            if value in (None, "", []):
                continue
            if name in ("confirmed", "signed"):
                value = {"yes": True, "no": False}.get(value, value)
            data[name] = value
        amount = _AMOUNT_OF_CURRENCY.get(kind)
        if amount and amount not in data:
            data.pop("currency", None)
        return data

    def place_errors(self, messages: dict[str, Any]) -> None:
        """Marshmallow's messages onto the fields; what has no field becomes a form error."""
        for name, value in messages.items():
            texts = _texts(value)
            field = self.field_for(name) if name != "_schema" else None
            if field is None:
                self.form_errors.extend(texts)
            else:
                field.errors = [*field.errors, *texts]

    def error_fields(self) -> dict[str, str]:
        """Service error names → form field names, for ``populate_errors``."""
        return {name: f"{self.type.data}_{name}" for name in EVENT_FIELDS[self.kind()]}


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    text = str(value)
    return ["Required." if text == "Missing data for required field." else text]
