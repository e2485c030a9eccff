"""Statements of claim and evidence lists say only what the record holds about the demand letter.

For a case in each jurisdiction, four records: no demand letter; one dispatched but with no
delivery recorded; delivered with its deadline still running (a final is refused, then made with
an override of R14); delivered with the deadline passed (a final needs nothing else). The PDF is
read back with pdftotext: it states the record's dates and never what the record lacks, and the
version's ``facts`` name each fact with its source.

No demand letter document exists in these cases, so the deadline is the delivery plus the reply
period: 14 days for an E&W company, 7 for the PRC, 10 for the US (``cases/readiness.py``).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.cases.events import add_event
from portal.cases.models import Case
from portal.cases.services import open_case
from portal.evidence.jobs import render_evidence
from portal.evidence.models import Evidence
from portal.extensions import db
from portal.ledger.models import CreditorEntity

from ..factories import ACTOR, World, make_debtor, make_invoice, ready_for_prosecution
from .test_documents_api import auth, text_of

TODAY = dt.date.today()
SENT = TODAY - dt.timedelta(days=12)
REPLY_DAYS = {"ew": 14, "cn": 7, "us": 10}
COURT = {
    "ew": "County Court Money Claims Centre",
    "cn": "北京市朝阳区人民法院",
    "us": "Circuit Court",
}
REASON = "Limitation for the oldest invoice expires next week: protective claim."
MONTHS = "January February March April May June July August September October November December"


def written(day: dt.date, jurisdiction: str) -> str:
    """A date as the jurisdiction's documents write it (en-GB, en-US, zh)."""
    month = MONTHS.split()[day.month - 1]
    if jurisdiction == "cn":
        return f"{day.year}年{day.month}月{day.day}日"
    if jurisdiction == "us":
        return f"{month} {day.day}, {day.year}"
    return f"{day.day} {month} {day.year}"


def flat(text: str) -> str:
    """pdftotext breaks Chinese lines anywhere: compare without any white space."""
    return re.sub(r"\s+", "", text)


@pytest.fixture
def cases(app, world: World) -> dict[str, int]:
    """One case per jurisdiction: the world's E&W and PRC cases and a new Illinois one."""
    with app.app_context():
        for user in db.session.scalars(select(User).where(User.firm_address.is_(None))):
            user.firm_address = "1 Chancery Lane\nLondon WC2A 1LS"
        # A PRC complaint names the claimant's legal representative (法定代表人).
        db.session.get(CreditorEntity, world.creditor).legal_representative = "Jane Director"
        lawyer = db.session.get(User, world.lawyer)
        us = open_case(
            ACTOR,
            debtor=make_debtor("D-9", "us"),
            owner=db.session.get(User, world.legal),
            lawyer=lawyer,
            invoices=[make_invoice("I-9", "D-9", currency="USD", amount="4600.00")],
        )
        db.session.commit()
        return {"ew": world.assigned_case, "cn": world.other_case, "us": us.id}


def record(app, case_id: int, state: str) -> dict[str, dt.date]:
    """Make the case's record say ``state`` of its demand letter; the dates it holds."""
    with app.app_context():
        case = db.session.get(Case, case_id)
        dates: dict[str, dt.date] = {}
        if state == "sent":
            add_event(
                ACTOR,
                case,
                {"type": "dispatch", "date": SENT, "document": "demand_letter",
                 "courier": "DHL", "tracking": "JD0001"},
            )  # fmt: skip
            dates["sent"] = SENT
        elif state in ("delivered", "expired"):
            days_ago = 3 if state == "delivered" else 60
            delivered = TODAY - dt.timedelta(days=days_ago)
            ready_for_prosecution(case, delivered_on=delivered)
            dates.update(sent=delivered - dt.timedelta(days=2), delivered=delivered)
            dates["deadline"] = delivered + dt.timedelta(days=REPLY_DAYS[case.jurisdiction.value])
        db.session.commit()
        if state in ("delivered", "expired"):
            # The evidence list shows each exhibit's pages: the worker's renditions.
            for evidence_id in db.session.scalars(
                select(Evidence.id).where(Evidence.case_id == case_id)
            ):
                render_evidence(evidence_id)
        return dates


def generate(client, app, case_id: int, jurisdiction: str, kind: str, mode: str, **extra):
    return client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": kind, "mode": mode, "fields": {"court.name": COURT[jurisdiction]}, **extra},
        headers=auth(app, "legal"),
    )


def read(client, app, document_id: int) -> tuple[str, dict]:
    legal = auth(app, "legal")
    pdf = client.get(f"/api/v1/documents/{document_id}/pdf", headers=legal).data
    return text_of(pdf), client.get(f"/api/v1/documents/{document_id}", headers=legal).get_json()


#: Per jurisdiction: what each state must say, and phrases that assert a demand letter at all.
SAYS = {
    "ew": {
        "none": ["The Claimant has not sent the Defendant a letter before claim."],
        "sent": ["sent to the Defendant on {sent}", "The Claimant has no record of its delivery."],
        "delivered": ["sent to the Defendant on {sent}", "delivered on {delivered}",
                      "by {deadline}. That time for payment has not yet passed."],
        "expired": ["delivered on {delivered}",
                    "by {deadline}. That time has passed and the Defendant has not paid them."],
    },
    "us": {
        "none": ["Plaintiff has not made a written demand on Defendant through counsel"],
        "sent": ["sent on {sent}", "Plaintiff has no record of its delivery."],
        "delivered": ["delivered on {delivered}", "requiring payment by {deadline}.",
                      "That date has not yet passed."],
        "expired": ["delivered on {delivered}", "requiring payment by {deadline}. That date has "
                    "passed, and Defendant has failed and refused to pay the balance"],
    },
    "cn": {
        "none": [],
        "sent": ["原告委托律师于{sent}向被告寄送律师函", "该律师函的送达情况尚无记录"],
        "delivered": ["催告被告于{deadline}前付清欠款", "被告于{delivered}签收，付款期限尚未届满"],
        "expired": ["催告被告于{deadline}前付清欠款", "被告于{delivered}签收，但逾期仍未支付"],
    },
}  # fmt: skip
#: Never said when the record lacks it.
NEVER = {
    "ew": {"delivered on": ("none", "sent"), "has not paid them": ("none", "sent", "delivered"),
           "demanded payment": ("none",)},
    "us": {"delivered on": ("none", "sent"), "failed and refused": ("none", "sent", "delivered"),
           "made written demand": ("none",)},
    # "日签收": the debtor signed for the letter on a date ("被告予以签收" is the goods).
    "cn": {"律师函": ("none",), "日签收": ("none", "sent"),
           "逾期仍未支付": ("none", "sent", "delivered")},
}  # fmt: skip


@pytest.mark.parametrize("jurisdiction", ["ew", "cn", "us"])
@pytest.mark.parametrize("state", ["none", "sent", "delivered", "expired"])
def test_the_claim_states_what_the_record_holds(app, client, cases, jurisdiction, state):
    case_id = cases[jurisdiction]
    dates = record(app, case_id, state)
    mode = "final" if state in ("delivered", "expired") else "draft"
    extra = {}
    if state == "delivered":
        refused = generate(client, app, case_id, jurisdiction, "statement_of_claim", "final")
        assert refused.status_code == 409
        # R14 names the last day of the reply period: the same deadline, as an ISO date.
        message = refused.get_json()["error"]["message"]
        assert "R14" in message and dates["deadline"].isoformat() in message
        extra = {"override": {"rule": "R14", "reason": REASON}}
    made = generate(client, app, case_id, jurisdiction, "statement_of_claim", mode, **extra)
    assert made.status_code == 201, made.get_json()
    text, body = read(client, app, made.get_json()["id"])
    values = {name: written(day, jurisdiction) for name, day in dates.items()}
    shown = flat(text) if jurisdiction == "cn" else text
    for phrase in SAYS[jurisdiction][state]:
        wanted = phrase.format(**values)
        assert (flat(wanted) if jurisdiction == "cn" else wanted) in shown, (state, wanted)
    for phrase, absent_in in NEVER[jurisdiction].items():
        if state in absent_in:
            assert phrase not in shown, (state, phrase)

    facts = {fact["name"]: fact for fact in body["facts"]}
    assert facts["debtor"]["source"]["type"] == "debtor"
    assert any(name.startswith("invoice ") for name in facts)
    if state == "none":
        assert facts["demand letter"]["value"] == "none dispatched"
        assert "demand letter sent" not in facts
    else:
        sent = facts["demand letter sent"]
        assert sent["value"] == dates["sent"].isoformat() and sent["source"]["type"] == "event"
    if state in ("delivered", "expired"):
        assert facts["demand letter delivered"]["value"] == dates["delivered"].isoformat()
        assert facts["payment demanded by"]["value"] == dates["deadline"].isoformat()
    else:
        assert "demand letter delivered" not in facts
    assert ("not paid by the deadline" in facts) is (state == "expired")


@pytest.mark.parametrize("jurisdiction", ["ew", "cn", "us"])
def test_the_evidence_list_says_the_same(app, client, cases, jurisdiction):
    case_id = cases[jurisdiction]
    none = generate(client, app, case_id, jurisdiction, "evidence_list", "draft")
    text, _body = read(client, app, none.get_json()["id"])
    for phrase in ("demanded", "律师函", "has not been made", "逾期仍未支付"):
        assert phrase not in flat(text) and phrase not in text, phrase

    dates = record(app, case_id, "expired")
    made = generate(client, app, case_id, jurisdiction, "evidence_list", "final")
    assert made.status_code == 201, made.get_json()
    text, body = read(client, app, made.get_json()["id"])
    deadline, delivered = (
        written(dates["deadline"], jurisdiction),
        written(dates["delivered"], jurisdiction),
    )
    if jurisdiction == "cn":
        assert flat(f"催告被告于{deadline}前付款，被告于{delivered}签收，逾期仍未支付") in flat(
            text
        )
    else:
        assert f"delivered on {delivered}" in text and "has not been made" in text
        assert deadline in text
    exhibits = [fact for fact in body["facts"] if fact["name"].startswith("exhibit ")]
    assert exhibits and all(fact["source"]["type"] == "evidence" for fact in exhibits)
