"""Counsel review of a filing bundle through its page: legal submits, the case's lawyer reads
the statement and signs every volume (pyHanko, a throw-away certificate authority), errors come
back on the form, and the page then verifies each signed volume."""

from __future__ import annotations

import re

from portal.bundles.models import Bundle
from portal.evidence.jobs import render_evidence
from portal.extensions import db

from ..factories import PASSWORD
from ..review.flow import PASSPHRASE, register, trusted_pki
from ..ui.conftest import section, text
from .test_bundle_review import build
from .test_bundles_api import ready_case
from .test_pages import signed_in


def status_of(app, bundle_id: int) -> str:
    with app.app_context():
        return db.session.get(Bundle, bundle_id).status.value


def test_legal_submits_and_counsel_signs_the_bundle_on_its_page(app, client, world):
    case = ready_case(app, client, world)
    bundle_id = build(client, app, case, "default")["id"]
    page_url = f"/bundles/{bundle_id}"

    legal = signed_in(app, "legal")
    page = legal.get(page_url)
    assert 'id="submit-form"' in page.data.decode()
    assert 'id="submit-blocker"' not in page.data.decode()
    sent = legal.post(f"{page_url}/submit", data={"comment": "Filed Monday."})
    assert sent.status_code == 303
    assert status_of(app, bundle_id) == "in_review"
    # Legal now sees who has it; no form to submit it again.
    waiting = legal.get(page_url)
    assert "for review since" in section(waiting, "review")
    assert 'id="submit-form"' not in waiting.data.decode()

    lawyer = signed_in(app, "lawyer")
    queue = lawyer.get("/review")
    assert f'href="/bundles/{bundle_id}#review"' in queue.data.decode()
    assert "Filing bundle" in section(queue, "queue-table")
    # Without a certificate the lawyer is told how to get one.
    assert 'id="no-certificate"' in lawyer.get(page_url).data.decode()
    pki = trusted_pki(app)
    assert register(client, app, pki["p12"]).status_code == 201
    page = lawyer.get(page_url)
    statement = section(page, "statement")
    assert "filing bundle version" in statement and "volume 1 PDF SHA-256" in statement

    wrong = lawyer.post(
        f"{page_url}/review",
        data={
            "decision": "approve",
            "approve-password": "not my password",
            "approve-passphrase": PASSPHRASE,
            "approve-confirm": "y",
        },
    )
    assert wrong.status_code == 422
    assert "the one given is not right" in section(wrong, "approve-form")
    assert status_of(app, bundle_id) == "in_review"

    signed = lawyer.post(
        f"{page_url}/review",
        data={
            "decision": "approve",
            "approve-password": PASSWORD,
            "approve-passphrase": PASSPHRASE,
            "approve-confirm": "y",
        },
    )
    assert signed.status_code == 303, text(signed)
    assert status_of(app, bundle_id) == "signed"
    after = legal.get(page_url)
    assert "Volume 1 verified" in section(after, "signature-check")
    assert "Download signed zip" in text(after)
    volume = legal.get(f"{page_url}/volumes/1?download=1")
    assert volume.status_code == 200
    assert re.search(rb"/ByteRange\s*\[", volume.data)
    # Another lawyer sees nothing of it.
    other = signed_in(app, "other_lawyer")
    assert other.get(page_url).status_code == 404
    assert other.post(f"{page_url}/review", data={"decision": "approve"}).status_code == 404


def test_a_bundle_without_a_claim_shows_why_it_cannot_be_submitted(app, client, world):
    with app.app_context():
        render_evidence(world.assigned_evidence)
    bundle_id = build(client, app, world.assigned_case, "default")["id"]
    legal = signed_in(app, "legal")
    page = legal.get(f"/bundles/{bundle_id}")
    assert "statement of claim" in section(page, "submit-blocker")
    refused = legal.post(f"/bundles/{bundle_id}/submit", data={})
    assert refused.status_code == 409
    assert "statement of claim" in section(refused, "submit-form")
    assert status_of(app, bundle_id) == "draft"
