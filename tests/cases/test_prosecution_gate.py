"""The prosecution gate: a final statement of claim, evidence list or filing bundle is refused
while the case could not enter prosecution — when it is generated, submitted and signed — unless
legal recorded an override of the demand letter's reply period (R14), which counsel then sees.

The case is the world's England & Wales company case, made ready except for R14: two delivery
notes, every item described, and a demand letter delivered ``DELIVERED_DAYS_AGO`` days ago. A
company has 14 days to reply (PD-PAC para 6(c)), so the period runs to delivery + 14 days.
"""

from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.cases.events import add_event
from portal.cases.models import Case
from portal.documents.models import Document
from portal.evidence.jobs import render_evidence
from portal.evidence.models import Evidence
from portal.extensions import db
from portal.review.models import Approval

from ..bundles.test_bundles_api import COURT, render_all
from ..conftest import login
from ..documents.test_documents_api import auth, complete_the_lawyer, text_of
from ..factories import ACTOR, PASSWORD, World, ready_for_prosecution
from ..review.flow import PASSPHRASE, register, trusted_pki
from ..ui.conftest import section

DELIVERED_DAYS_AGO = 5
REASON = "Limitation for invoice INV-I-1 expires next week: protective claim."


def delivered_on() -> dt.date:
    return dt.date.today() - dt.timedelta(days=DELIVERED_DAYS_AGO)


def period_ends() -> dt.date:
    # 14 days for a company, counted from delivery: 5 days ago + 14 = 9 days from today.
    return delivered_on() + dt.timedelta(days=14)


def reply_period_running(app, world: World) -> int:
    """The assigned case with every prosecution blocker cleared but R14."""
    with app.app_context():
        ready_for_prosecution(
            db.session.get(Case, world.assigned_case), delivered_on=delivered_on()
        )
        db.session.commit()
    complete_the_lawyer(app)
    return world.assigned_case


def generate(client, app, case_id: int, kind: str, **extra):
    return client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": kind, "mode": "final", "fields": {"court.name": COURT}, **extra},
        headers=auth(app, "legal"),
    )


def documents_of(app, case_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(Document).where(Document.case_id == case_id)
        )


def audits(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_final_claim_and_list_are_refused_naming_the_rule_and_the_date(app, client, world):
    case = reply_period_running(app, world)
    before = documents_of(app, case)
    for kind in ("statement_of_claim", "evidence_list"):
        refused = generate(client, app, case, kind)
        assert refused.status_code == 409, refused.get_json()
        error = refused.get_json()["error"]
        assert error["code"] == "prosecution_blocked"
        assert "R14" in error["message"]
        assert period_ends().isoformat() in error["message"]
        assert delivered_on().isoformat() in error["message"]
        assert [finding["rule"] for finding in error["findings"]] == ["R14"]
    assert documents_of(app, case) == before, "nothing was stored"
    assert audits(app, "document.generate") == []
    # A draft is still possible: it is not filed.
    draft = client.post(
        f"/api/v1/cases/{case}/documents",
        json={"kind": "statement_of_claim", "mode": "draft"},
        headers=auth(app, "legal"),
    )
    assert draft.status_code == 201, draft.get_json()


def test_with_no_demand_letter_the_claim_is_refused(app, client, world):
    complete_the_lawyer(app)
    refused = generate(client, app, world.assigned_case, "statement_of_claim")
    assert refused.status_code == 409
    message = refused.get_json()["error"]["message"]
    assert "R14: Debtor D-1 Ltd has not been sent a demand letter." in message
    # Other blockers are named too (no delivery notes yet, the note is not described).
    assert "R3" in message and "R8" in message


def test_an_override_is_validated_then_recorded_audited_and_not_printed(app, client, world):
    case = reply_period_running(app, world)
    for override, field in (
        ({"rule": "R8", "reason": REASON}, "rule"),  # only R14 may be overridden
        ({"rule": "R99", "reason": REASON}, "rule"),
        ({"rule": "R14", "reason": "urgent"}, "reason"),  # under 15 characters
    ):
        refused = generate(client, app, case, "statement_of_claim", override=override)
        assert refused.status_code == 422, refused.get_json()
        assert field in refused.get_json()["error"]["fields"]
    # An override on a draft, or of another document kind, is refused too.
    draft = client.post(
        f"/api/v1/cases/{case}/documents",
        json={"kind": "statement_of_claim", "mode": "draft", "override": {"rule": "R14",
              "reason": REASON}},
        headers=auth(app, "legal"),
    )  # fmt: skip
    assert draft.status_code == 422 and "override" in draft.get_json()["error"]["fields"]
    assert audits(app, "case.gate_override") == []

    made = generate(
        client, app, case, "statement_of_claim", override={"rule": "R14", "reason": REASON}
    )
    assert made.status_code == 201, made.get_json()
    document = client.get(
        f"/api/v1/documents/{made.get_json()['id']}", headers=auth(app, "legal")
    ).get_json()
    override = document["override"]
    assert (override["rule"], override["reason"], override["by"]) == (
        "R14",
        REASON,
        World.EMAILS["legal"],
    )
    assert override["findings"] == [
        f"The debtor has until {period_ends().isoformat()} to reply to the demand letter "
        f"delivered on {delivered_on().isoformat()} (14 days)."
    ]
    assert dt.datetime.fromisoformat(override["at"]).date() == dt.datetime.now(dt.UTC).date()
    [entry] = audits(app, "case.gate_override")
    assert entry.object_id == str(case) and entry.changes["after"]["reason"] == REASON
    [generated] = audits(app, "document.generate")
    assert generated.changes["after"]["override"]["rule"] == "R14"
    # The pleading itself says nothing about it.
    pdf = client.get(f"/api/v1/documents/{document['id']}/pdf", headers=auth(app, "legal")).data
    text = text_of(pdf)
    assert "protective" not in text and "R14" not in text and "override" not in text.lower()


def test_overridden_claim_goes_to_counsel_who_sees_the_override_and_signs(app, client, world):
    case = reply_period_running(app, world)
    pki = trusted_pki(app)
    assert register(client, app, pki["p12"]).status_code == 201
    made = generate(
        client, app, case, "statement_of_claim", override={"rule": "R14", "reason": REASON}
    )
    document_id = made.get_json()["id"]
    submitted = client.post(
        f"/api/v1/documents/{document_id}/submit", json={}, headers=auth(app, "legal")
    )
    assert submitted.status_code == 200, submitted.get_json()

    lawyer = app.test_client()
    assert login(lawyer, World.EMAILS["lawyer"]).status_code == 302
    page = lawyer.get(f"/documents/{document_id}/review")
    shown = section(page, "override")
    assert "R14 overridden by legal" in shown and REASON in shown
    assert f"until {period_ends().isoformat()}" in shown
    readiness = section(page, "readiness")
    assert "overridden by legal" in readiness
    # Findings name invoices by their numbers, as the case page does (R2: no contract).
    assert "(invoice INV-I-1)" in readiness and "(invoice I-1)" not in readiness
    # Beside the PDF: what the claim asserts and where each fact comes from.
    asserted = section(page, "asserted-facts")
    assert f"demand letter delivered {delivered_on().isoformat()} timeline event #" in asserted
    assert f"payment demanded by {period_ends().isoformat()}" in asserted
    assert "not paid by the deadline" not in asserted, "the period is still running"
    assert 'href="/cases/' in page.data.decode().split('id="asserted-facts"')[1]

    signed = client.post(
        f"/api/v1/documents/{document_id}/review",
        json={"decision": "approve", "password": PASSWORD, "p12_passphrase": PASSPHRASE},
        headers=auth(app, "lawyer"),
    )
    assert signed.status_code == 200 and signed.get_json()["status"] == "signed"


def test_signing_is_refused_when_a_blocker_appears_after_submission(app, client, world):
    # Delivered 60 days ago: nothing blocks, so no override is needed.
    with app.app_context():
        ready_for_prosecution(db.session.get(Case, world.assigned_case))
        db.session.commit()
    complete_the_lawyer(app)
    case = world.assigned_case
    pki = trusted_pki(app)
    assert register(client, app, pki["p12"]).status_code == 201
    made = generate(client, app, case, "statement_of_claim")
    assert made.status_code == 201, made.get_json()
    document_id = made.get_json()["id"]
    legal = auth(app, "legal")
    assert (
        client.post(f"/api/v1/documents/{document_id}/submit", json={}, headers=legal).json[
            "status"
        ]
        == "in_review"
    )
    # Then evidence arrives that nobody has described: R8 blocks prosecution again.
    late = client.post(
        f"/api/v1/cases/{case}/evidence",
        data={"file": (io.BytesIO(b"Late letter from the debtor"), "late.txt"),
              "kind": "correspondence"},
        headers=legal,
    )  # fmt: skip
    assert late.status_code == 201
    refused = client.post(
        f"/api/v1/documents/{document_id}/review",
        json={"decision": "approve", "password": PASSWORD, "p12_passphrase": PASSPHRASE},
        headers=auth(app, "lawyer"),
    )
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["code"] == "prosecution_blocked"
    assert "cannot be signed" in refused.get_json()["error"]["message"]
    assert "R8" in refused.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.get(Document, document_id).status.value == "in_review"
        assert db.session.scalar(select(func.count()).select_from(Approval)) == 0


def test_a_bundle_inherits_the_claims_override_and_shows_it_with_readiness(app, client, world):
    case = reply_period_running(app, world)
    render_all(app, case)
    made = generate(
        client, app, case, "statement_of_claim", override={"rule": "R14", "reason": REASON}
    )
    assert made.status_code == 201, made.get_json()
    legal = auth(app, "legal")
    started = client.post(f"/api/v1/cases/{case}/bundles", json={}, headers=legal)
    assert started.status_code == 202, started.get_json()
    job = client.get(f"/api/v1/jobs/{started.get_json()['job']}", headers=legal).get_json()
    assert job["status"] == "done", job
    bundle = client.get(f"/api/v1/bundles/{job['result']['bundle']}", headers=legal).get_json()
    # The evidence list inside is final under the claim's override; the API says which.
    assert bundle["final"] is True, bundle["warnings"]
    assert bundle["override"]["rule"] == "R14" and bundle["override"]["reason"] == REASON

    page_client = app.test_client()
    assert login(page_client, World.EMAILS["legal"]).status_code == 302
    page = page_client.get(f"/bundles/{bundle['id']}")
    assert REASON in section(page, "override")
    readiness = section(page, "readiness")
    assert "Readiness for prosecution" in readiness and "overridden by legal" in readiness
    submitted = client.post(f"/api/v1/bundles/{bundle['id']}/submit", json={}, headers=legal)
    assert submitted.status_code == 200, submitted.get_json()


def test_a_bundle_without_an_override_is_a_draft_while_the_period_runs(app, client, world):
    case = reply_period_running(app, world)
    with app.app_context():
        for evidence_id in db.session.scalars(select(Evidence.id).where(Evidence.case_id == case)):
            render_evidence(evidence_id)
    legal = auth(app, "legal")
    started = client.post(f"/api/v1/cases/{case}/bundles", json={}, headers=legal)
    job = client.get(f"/api/v1/jobs/{started.get_json()['job']}", headers=legal).get_json()
    bundle = client.get(f"/api/v1/bundles/{job['result']['bundle']}", headers=legal).get_json()
    assert bundle["final"] is False and bundle["override"] is None
    assert any(period_ends().isoformat() in warning for warning in bundle["warnings"])


def test_the_generate_form_records_an_override(app, world):
    case = reply_period_running(app, world)
    legal = app.test_client()
    assert login(legal, World.EMAILS["legal"]).status_code == 302
    form = {"kind": "statement_of_claim", "mode": "final", "court_name": COURT}
    refused = legal.post(f"/cases/{case}/documents", data=form)
    assert refused.status_code == 409
    assert "R14" in section(refused, "generate-form")
    short = legal.post(
        f"/cases/{case}/documents", data={**form, "override_rule": "R14", "override_reason": "x"}
    )
    assert short.status_code == 422
    assert "at least 15 characters" in section(short, "override-fields")
    made = legal.post(
        f"/cases/{case}/documents",
        data={**form, "override_rule": "R14", "override_reason": REASON},
    )
    assert made.status_code == 303, section(made, "generate-form")
    page = legal.get(made.headers["Location"])
    assert REASON in section(page, "override")


def test_the_letters_own_later_deadline_holds_the_gate(app, client, world):
    # Delivered 16 days ago: 14 calendar days have run, but the letter gave 21 days from its
    # delivery (as a business-day deadline does), so the claim must wait for that date.
    delivered = dt.date.today() - dt.timedelta(days=16)
    letter_deadline = delivered + dt.timedelta(days=21)
    with app.app_context():
        case = db.session.get(Case, world.assigned_case)
        ready_for_prosecution(case, delivered_on=dt.date.today() - dt.timedelta(days=200))
        add_event(
            ACTOR,
            case,
            {"type": "dispatch", "date": delivered - dt.timedelta(days=1),
             "document": "demand_letter", "courier": "Royal Mail", "tracking": "RM2",
             "delivered_on": delivered, "due": letter_deadline},
        )  # fmt: skip
        db.session.commit()
    complete_the_lawyer(app)
    refused = generate(client, app, world.assigned_case, "statement_of_claim")
    assert refused.status_code == 409
    message = refused.get_json()["error"]["message"]
    assert (
        f"R14: The debtor has until {letter_deadline.isoformat()} to reply to the demand letter "
        f"delivered on {delivered.isoformat()} (the deadline the letter gave)."
    ) in message
