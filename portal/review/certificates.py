"""Lawyers' signing certificates and the certificate authorities the portal trusts."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from ..accounts.models import Role, User
from ..audit.services import Actor, record
from ..domain import Conflict, ValidationFailed
from ..extensions import db
from ..signing import (
    certificate_identity,
    check_signing_certificate,
    check_trusted_chain,
    load_pem_or_der_certificate,
    open_pkcs12,
)
from .models import SigningCertificate, TrustedRoot


def active_certificate(user: User) -> SigningCertificate | None:
    """The lawyer's current signing certificate."""
    return db.session.scalar(
        select(SigningCertificate)
        .where(SigningCertificate.user_id == user.id, SigningCertificate.active.is_(True))
        .order_by(SigningCertificate.id.desc())
        .limit(1)
    )


def register_certificate(
    actor: Actor, user: User, data: bytes, passphrase: str
) -> SigningCertificate:
    """Check a PKCS#12 file and make it the lawyer's signing certificate.

    The passphrase opens the file for the check and is then forgotten; it is asked again at every
    signature. An earlier certificate is retired (approvals keep naming it).

    :raises ValidationFailed: the user is not a lawyer, or no passphrase.
    :raises CertificateRejected: not PKCS#12, wrong passphrase, no key, expired, or a key usage
        that does not allow signing; ``CertificateUntrusted`` when its chain does not lead to a
        trusted root (or is not valid now).
    """
    if user.role is not Role.LAWYER:
        raise ValidationFailed("Only external lawyers sign documents.")
    if not passphrase:
        raise ValidationFailed(
            "Enter the passphrase that protects the file.",
            fields={"passphrase": ["Required to check the file."]},
        )
    _key, cert, chain = open_pkcs12(data, passphrase)  # opened once: decryption is slow
    now = datetime.now(UTC)
    check_signing_certificate(cert, now)
    check_trusted_chain(cert, chain, trust_roots(), now, fetch_revocation=True)
    identity = certificate_identity(cert)
    retired = []
    for earlier in db.session.scalars(
        select(SigningCertificate).where(
            SigningCertificate.user_id == user.id, SigningCertificate.active.is_(True)
        )
    ):
        earlier.active = False
        retired.append(earlier.fingerprint_sha256)
    certificate = SigningCertificate(
        user_id=user.id,
        p12=data,
        subject=identity.subject[:500],
        subject_name=identity.subject_name[:200],
        issuer=identity.issuer[:500],
        serial=identity.serial[:80],
        fingerprint_sha256=identity.fingerprint_sha256,
        not_before=identity.not_before,
        not_after=identity.not_after,
        active=True,
    )
    db.session.add(certificate)
    db.session.flush()
    record(
        actor,
        "certificate.register",
        "user",
        user.id,
        before={"certificates": retired},
        after={
            "certificate": certificate.id,
            "subject": certificate.subject,
            "issuer": certificate.issuer,
            "fingerprint_sha256": certificate.fingerprint_sha256,
            "not_after": certificate.not_after,
        },
    )
    return certificate


def trusted_roots() -> list[TrustedRoot]:
    """The configured roots, newest first."""
    return list(db.session.scalars(select(TrustedRoot).order_by(TrustedRoot.id.desc())))


def trust_roots() -> list[x509.Certificate]:
    """The trusted roots as certificates, for verification."""
    return [x509.load_der_x509_certificate(root.der) for root in trusted_roots()]


def add_trusted_root(actor: Actor, data: bytes, *, demo: bool = False) -> TrustedRoot:
    """Trust a certificate authority (PEM or DER).

    :raises CertificateRejected: not a certificate.
    :raises ValidationFailed: not a CA certificate.
    :raises Conflict: already trusted.
    """
    cert = load_pem_or_der_certificate(data)
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise ValidationFailed(
            "This is not a certificate authority's certificate (basic constraints CA:TRUE).",
            fields={"file": ["Upload the root (CA) certificate, not a signer's."]},
        )
    identity = certificate_identity(cert)
    existing = db.session.scalar(
        select(TrustedRoot).where(TrustedRoot.fingerprint_sha256 == identity.fingerprint_sha256)
    )
    if existing is not None:
        raise Conflict(f"{identity.subject} is already trusted.")
    root = TrustedRoot(
        subject=identity.subject[:500],
        fingerprint_sha256=identity.fingerprint_sha256,
        der=cert.public_bytes(serialization.Encoding.DER),
        not_after=identity.not_after,
        demo=demo,
        added_by_id=actor.user.id if actor.user else None,
    )
    db.session.add(root)
    db.session.flush()
    record(
        actor,
        "trusted_root.add",
        "trusted_root",
        root.id,
        after={"subject": root.subject, "fingerprint_sha256": root.fingerprint_sha256},
    )
    return root


def remove_trusted_root(actor: Actor, root: TrustedRoot) -> None:
    """Stop trusting a root (signatures under it then verify as untrusted)."""
    record(
        actor,
        "trusted_root.remove",
        "trusted_root",
        root.id,
        before={"subject": root.subject, "fingerprint_sha256": root.fingerprint_sha256},
    )
    db.session.delete(root)
    db.session.flush()
