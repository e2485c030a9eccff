"""Forms of the document pages: generate, upload an edited version, bulk generation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..ids import form_id
from .bulk import BUCKETS
from .models import DocumentKind

KIND_CHOICES = [SelectChoice(kind.value, kind.label) for kind in DocumentKind]
MODE_CHOICES = [
    SelectChoice("draft", "Draft (missing fields marked)"),
    SelectChoice("final", "Final (refused while fields are missing)"),
]
BUCKET_LABELS = {
    "d1_30": "1–30 days overdue",
    "d31_60": "31–60 days",
    "d61_90": "61–90 days",
    "d91_180": "91–180 days",
    "d181_365": "181–365 days",
    "over_365": "over 365 days",
}


class GenerateForm(FlaskForm):
    kind = SelectField("Document", choices=KIND_CHOICES, validators=[DataRequired()])
    mode = SelectField("Mode", choices=MODE_CHOICES, validators=[DataRequired()])
    court_name = StringField(
        "Court (statements of claim)", validators=[Optional(), Length(max=300)]
    )
    court_address = StringField("Court address", validators=[Optional(), Length(max=500)])
    claim_facts = TextAreaField(
        "Additional facts (statements of claim)", validators=[Optional(), Length(max=5000)]
    )
    override_rule = SelectField(
        "Override a prosecution blocker",
        choices=[
            SelectChoice("", "— none —"),
            SelectChoice("R14", "R14: the demand letter's reply period (protective claim)"),
        ],
        validators=[Optional()],
    )
    override_reason = TextAreaField(
        "Reason for the override (shown to counsel, not printed)",
        validators=[Optional(), Length(max=2000)],
    )

    def override(self) -> dict[str, str] | None:
        """The override asked for, if a rule was chosen."""
        if not self.override_rule.data:
            return None
        return {"rule": self.override_rule.data, "reason": self.override_reason.data or ""}

    def inputs(self) -> dict[str, str]:
        """The typed-in template fields that were filled in."""
        values = {
            "court.name": self.court_name.data,
            "court.address": self.court_address.data,
            "claim.facts": self.claim_facts.data,
        }
        return {key: value.strip() for key, value in values.items() if value and value.strip()}


class UploadVersionForm(FlaskForm):
    file = FileField("Edited DOCX", validators=[FileRequired()])


class BulkForm(FlaskForm):
    kind = SelectField("Document", choices=KIND_CHOICES, validators=[DataRequired()])
    mode = SelectField("Mode", choices=MODE_CHOICES, validators=[DataRequired()])
    bucket = SelectField(
        "Or every open case in the aging bucket",
        choices=[SelectChoice("", "— the cases ticked below —")]
        + [SelectChoice(key, BUCKET_LABELS[key]) for key in BUCKETS],
        validators=[Optional()],
    )
    cases = SelectMultipleField("Cases", coerce=form_id, validate_choice=False)
