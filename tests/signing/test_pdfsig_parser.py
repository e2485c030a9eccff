"""The ``pdfsig`` output parser, on output captured from poppler 22."""

from __future__ import annotations

from .pdfsig import parse_pdfsig

#: ``pdfsig`` on a file signed twice and then altered inside the first revision.
SAMPLE = """\
Digital Signature Info of: /tmp/two.pdf
Signature #1:
  - Signature Field Name: CounselSignature
  - Signer Certificate Common Name: Alice Counsel
  - Signer full Distinguished Name: E=alice@counsel.example,CN=Alice Counsel
  - Signing Time: Dec 02 2026 13:24:20
  - Signing Hash Algorithm: SHA-256
  - Signature Type: ETSI.CAdES.detached
  - Signed Ranges: [0 - 3205], [7083 - 8217]
  - Not total document signed
  - Signature Validation: Digest Mismatch.
Signature #2:
  - Signature Field Name: PartnerSignature
  - Signer Certificate Common Name: Bob Partner
  - Signer full Distinguished Name: E=bob@counsel.example,CN=Bob Partner
  - Signing Time: Dec 02 2026 13:24:20
  - Signing Hash Algorithm: SHA-256
  - Signature Type: ETSI.CAdES.detached
  - Signed Ranges: [0 - 10643], [14497 - 15091]
  - Total document signed
  - Signature Validation: Signature is Valid.
  - Certificate Validation: Certificate issuer isn't Trusted.
"""


def test_parser_reads_each_signature_block() -> None:
    first, second = parse_pdfsig(SAMPLE)

    assert first["number"] == 1
    assert first["Signature Field Name"] == "CounselSignature"
    assert first["Signer full Distinguished Name"] == "E=alice@counsel.example,CN=Alice Counsel"
    assert first["Signed Ranges"] == "[0 - 3205], [7083 - 8217]"
    assert first["Not total document signed"] is True
    assert "Total document signed" not in first
    assert first["Signature Validation"] == "Digest Mismatch."
    assert "Certificate Validation" not in first

    assert second["number"] == 2
    assert second["Signer Certificate Common Name"] == "Bob Partner"
    assert second["Total document signed"] is True
    assert second["Signature Validation"] == "Signature is Valid."
    assert second["Certificate Validation"] == "Certificate issuer isn't Trusted."


def test_parser_returns_nothing_for_an_unsigned_file() -> None:
    assert parse_pdfsig("File 'letter.pdf' does not contain any signatures\n") == []
