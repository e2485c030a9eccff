"""Verifying signed PDFs: the verify route, the download check and ``flask verify``."""

from __future__ import annotations

import io
import tracemalloc
from contextlib import contextmanager

from pyhanko.pdf_utils.generic import NameObject, StreamObject, TextStringObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.review.models import TrustedRoot

from ..documents.test_documents_api import auth
from .flow import signed_letter, trusted_pki


def verify(client, app, data: bytes, role: str = "finance") -> tuple[int, dict]:
    response = client.post(
        "/api/v1/verify",
        data={"file": (io.BytesIO(data), "file.pdf")},
        headers=auth(app, role),
    )
    return response.status_code, response.get_json()


def appended_update(pdf: bytes) -> bytes:
    """An incremental update after the signature: a changed document title."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    info = writer.trailer["/Info"]
    info[NameObject("/Title")] = TextStringObject("Altered after signing")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_verify_tells_intact_changed_appended_and_untrusted(app, client, world):
    pki = trusted_pki(app)
    document_id, pdf = signed_letter(app, client, world, pki["p12"])

    status, body = verify(client, app, pdf)
    assert status == 200
    assert body["known"] and body["valid"] and not body["changed"]
    assert body["document"] == document_id and body["version"] == 1

    # One flipped byte inside the signed range: not intact, not known.
    middle = len(pdf) // 3
    flipped = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]
    status, body = verify(client, app, flipped)
    assert status == 200, body
    assert not body["known"] and body["changed"] and not body["valid"]
    (signature,) = body["signatures"]
    assert signature["intact"] is False and signature["signer"] == "Lawyer Test"

    # An update appended after signing: the signature itself still checks, the file does not.
    status, body = verify(client, app, appended_update(pdf))
    assert status == 200, body
    (signature,) = body["signatures"]
    assert signature["intact"] is True
    assert signature["covers_whole_file"] is False
    assert body["valid"] is False and body["changed"] is True
    # The portal recognises the signed revision inside it.
    assert body["known"] is True and body["document"] == document_id

    # A lawyer not on the case learns that the file is known, not which case it is.
    status, body = verify(client, app, pdf, role="other_lawyer")
    assert status == 200 and body["known"] and "document" not in body and "case" not in body

    # Not a PDF.
    status, body = verify(client, app, b"GIF89a not a pdf")
    assert status == 422

    # Once the root is no longer trusted, the signature is untrusted and the download refused.
    with app.app_context():
        db.session.execute(db.delete(TrustedRoot))
        db.session.commit()
    status, body = verify(client, app, pdf)
    (signature,) = body["signatures"]
    assert signature["intact"] and not signature["trusted"] and not body["valid"]
    refused = client.get(f"/api/v1/documents/{document_id}/pdf", headers=auth(app, "legal"))
    assert refused.status_code == 409
    assert "does not verify" in refused.get_json()["error"]["message"]
    with app.app_context():
        failures = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "document.verification_failed")
        ).all()
        assert [entry.object_id for entry in failures] == [str(document_id)]


def test_flask_verify_command(app, client, world, tmp_path):
    pki = trusted_pki(app)
    document_id, pdf = signed_letter(app, client, world, pki["p12"])
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(pdf)
    bad.write_bytes(appended_update(pdf))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["verify", str(good)])
    assert result.exit_code == 0, result.output
    assert "Known to the portal: yes" in result.output and "demand_letter v1" in result.output
    result = runner.invoke(args=["verify", str(bad)])
    assert result.exit_code == 1
    assert "Changed since signing: yes" in result.output
    listed = runner.invoke(args=["trust", "list"])
    assert "Test Counsel CA" in listed.output


def _padded(pdf: bytes, megabytes: int) -> bytes:
    """``pdf`` with an incremental update adding an unreferenced stream of ``megabytes`` MB."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.add_object(StreamObject(stream_data=bytes(range(256)) * (megabytes * 4096)))
    info = writer.trailer["/Info"]
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_large_upload_is_verified_from_its_spooled_file_not_copied_into_memory(
    app, client, world, monkeypatch
):
    from portal.review import verification

    pki = trusted_pki(app)
    document_id, pdf = signed_letter(app, client, world, pki["p12"])
    big = _padded(pdf, 20)  # 20 MB appended after the signed revision
    seen = []
    original = verification.mapped

    def spy(upload):
        manager = original(upload)
        data = manager.__enter__()
        seen.append(type(data).__name__)
        tracemalloc.start()
        try:
            yield data
        finally:
            seen.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            manager.__exit__(None, None, None)

    monkeypatch.setattr("portal.api.review.mapped", contextmanager(spy))
    # The body is encoded here, in memory: the test client would spool a body this large to a
    # temporary file of its own and never close it.
    boundary, body_bytes = encode_multipart({"file": FileStorage(io.BytesIO(big), "big.pdf")})
    response = client.post(
        "/api/v1/verify",
        data=body_bytes,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=auth(app, "finance"),
    )
    status, body = response.status_code, response.get_json()
    assert status == 200, body
    # The signed revision is a prefix of the file: found, with the update after it reported.
    assert body["known"] and body["document"] == document_id and body["changed"]
    kind, peak = seen
    assert kind == "mmap"  # Werkzeug spooled the 20 MB part to a file; it was mapped, not read
    assert peak < 8 * 1024 * 1024, peak  # the verification held well under the file's 20 MB


def test_verify_is_capped_like_uploads(app, client, world):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # the upload limit, here 64 KB
    status, body = verify(client, app, b"%PDF-1.7\n" + b"0" * (65 * 1024))
    assert status == 413 and "larger than" in body["error"]["message"]
