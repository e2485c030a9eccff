"""Forms of the review pages: submission, the lawyer's decision, dispatch, certificates,
verification, trusted roots and the inbox."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

#: The longest comment a reviewer or submitter may write (the API allows the same).
MAX_COMMENT = 5000


class SubmitForm(FlaskForm):
    """Legal sends a final version to the case's lawyer."""

    comment = TextAreaField(
        "Note for counsel (optional)", validators=[Optional(), Length(max=MAX_COMMENT)]
    )


class RequestChangesForm(FlaskForm):
    """The lawyer sends the version back; saying what to change is required."""

    comment = TextAreaField(
        "What needs to change",
        validators=[DataRequired("Say what needs to change."), Length(max=MAX_COMMENT)],
    )


class ApproveForm(FlaskForm):
    """The lawyer approves and signs: a fresh password, the certificate's passphrase and the
    statement read."""

    password = PasswordField(
        "Your portal password",
        validators=[DataRequired("Enter your portal password."), Length(max=1024)],
    )
    passphrase = PasswordField(
        "Certificate passphrase",
        validators=[DataRequired("Enter the passphrase of your certificate."), Length(max=1024)],
    )
    comment = TextAreaField("Comment (optional)", validators=[Optional(), Length(max=MAX_COMMENT)])
    confirm = BooleanField(
        "I have read the statement above and approve this version",
        validators=[DataRequired("Tick the box to confirm you have read the statement.")],
    )


class DispatchForm(FlaskForm):
    """The signed version went out by courier or post."""

    sent_on = DateField("Date sent", validators=[DataRequired("Enter the day it was sent.")])
    courier = StringField(
        "Courier or postal service",
        validators=[DataRequired("Name the courier or postal service."), Length(max=200)],
    )
    tracking = StringField(
        "Tracking number", validators=[DataRequired("Enter the tracking number."), Length(max=200)]
    )
    delivered_on = DateField("Delivered on (optional)", validators=[Optional()])


class CertificateForm(FlaskForm):
    """A lawyer's PKCS#12 signing certificate and the passphrase that opens it (not stored)."""

    file = FileField(
        "Certificate file (.p12 or .pfx)",
        validators=[
            FileRequired("Choose your .p12 or .pfx file."),
            FileAllowed(["p12", "pfx"], "Upload a PKCS#12 file ending in .p12 or .pfx."),
        ],
    )
    passphrase = PasswordField(
        "Passphrase",
        validators=[DataRequired("Enter the passphrase that protects the file."), Length(max=1024)],
    )


class VerifyForm(FlaskForm):
    """Any PDF, to check who signed it and whether it changed."""

    file = FileField("PDF file", validators=[FileRequired("Choose a PDF file to check.")])


class TrustedRootForm(FlaskForm):
    """A certificate authority's certificate, PEM or DER."""

    file = FileField(
        "CA certificate (PEM or DER)",
        validators=[FileRequired("Choose the certificate authority's certificate file.")],
    )


class RemoveRootForm(FlaskForm):
    """The confirmation step before a root is no longer trusted."""

    confirm = BooleanField(
        "I understand that signatures issued under this authority will show as untrusted",
        validators=[DataRequired("Tick the box to confirm the removal.")],
    )


class InboxForm(FlaskForm):
    """A button that only carries the CSRF token (open a notification, mark all read)."""
