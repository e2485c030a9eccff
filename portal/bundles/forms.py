"""The bundle build form of the case page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from .profiles import PROFILES, CourtProfile

#: How the exhibits are ordered (the keys are ``services.ARRANGEMENTS``).
ARRANGEMENT_LABELS = {
    "kind": "By kind, then date",
    "chronological": "Chronological",
}


def describe_limits(profile: CourtProfile) -> str:
    """A court profile's limits as one sentence, shown as help under the profile choice."""
    limits = []
    if profile.max_pages_per_volume is not None:
        limits.append(f"{profile.max_pages_per_volume} pages")
    if profile.max_bytes_per_volume is not None:
        limits.append(f"{profile.max_bytes_per_volume / 1_000_000:.0f} MB")
    text = (
        f"Volumes of at most {' and '.join(limits)}; a longer bundle is split at exhibit "
        "boundaries."
        if limits
        else "No size or page limit: one volume."
    )
    if profile.pdfa_required:
        text += " PDF/A required (the bundle is not converted: the preflight report warns)."
    return f"{text} Images at most {profile.max_image_dpi} dpi."


class BuildBundleForm(FlaskForm):
    profile = SelectField(
        "Court profile",
        choices=[SelectChoice(name, profile.title) for name, profile in PROFILES.items()],
        default="default",
        validators=[DataRequired()],
    )
    order = SelectField(
        "Exhibit order",
        choices=[SelectChoice(key, label) for key, label in ARRANGEMENT_LABELS.items()],
        default="kind",
        validators=[DataRequired()],
    )
    dividers = BooleanField("Divider page before each section")
    label_prefix = StringField(
        "Exhibit label prefix",
        default="C-",
        validators=[DataRequired(), Length(max=6)],
    )
