"""A certificate's revocation status now, asked of its issuer (CRL and OCSP, RFC 5280 and 6960).

Asked only for a certificate whose chain already leads to a trusted root: the addresses then
come from a certificate that trusted authority signed, never from whoever handed in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InsufficientRevinfoError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

from .pki import run_async

#: Seconds to wait for one CRL download or OCSP answer.
FETCH_TIMEOUT = 5


@dataclass(frozen=True)
class RevocationStatus:
    """What the issuer says about a certificate now."""

    state: Literal["good", "revoked", "unknown"]
    revoked_at: datetime | None = None  #: UTC, when ``revoked``
    detail: str = ""  #: why the state is ``unknown``, or the issuer's words


def current_status(
    cert: asn1_x509.Certificate,
    others: Sequence[asn1_x509.Certificate],
    roots: Sequence[asn1_x509.Certificate],
    now: datetime,
) -> RevocationStatus:
    """Fetch the CRLs and OCSP answers ``cert`` (and each CA certificate on its path to one of
    ``roots``, with ``others`` as intermediates) names, and judge it at ``now``.

    "unknown" when the certificate names no source, no source answers, or the path no longer
    validates for another reason (an expired certificate, for one).
    """
    if not (cert.crl_distribution_points or cert.ocsp_urls):
        return RevocationStatus("unknown", detail="The certificate names no CRL or OCSP responder.")

    async def validate() -> None:
        backend = AIOHttpFetcherBackend(per_request_timeout=FETCH_TIMEOUT)
        context = ValidationContext(
            trust_roots=list(roots),
            other_certs=list(others),
            moment=now,
            allow_fetching=True,
            fetchers=backend.get_fetchers(),
            # A source the certificate names must answer; otherwise the state is unknown.
            revocation_mode="hard-fail",
        )
        try:
            await CertificateValidator(cert, validation_context=context).async_validate_path()
        finally:
            await backend.close()

    try:
        run_async(validate)
    except RevokedError as exc:
        return RevocationStatus("revoked", exc.revocation_dt.astimezone(UTC), str(exc))
    except InsufficientRevinfoError:
        return RevocationStatus(
            "unknown", detail="The certificate's CRL and OCSP responder did not answer."
        )
    except ExpiredError:
        return RevocationStatus(
            "unknown", detail="The certificate has expired; its issuer no longer reports on it."
        )
    except (PathBuildingError, PathValidationError, ValidationError) as exc:
        return RevocationStatus("unknown", detail=str(exc))
    return RevocationStatus("good", detail="The issuer reports the certificate not revoked.")
