"""A statement of claim says the debtor signed for the goods, received the invoices or never
objected only when the record proves it.

Per jurisdiction, a case first with no delivery evidence, then with a delivery note signed for
the debtor and a proof of invoice delivery for its invoice, then with a dispute recorded. The
drafts are read back with pdftotext; ``facts`` names the evidence and the event behind each.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from portal.accounts.models import User
from portal.cases.events import add_event
from portal.cases.models import Case
from portal.cases.services import open_case
from portal.evidence.models import EvidenceKind
from portal.evidence.services import add_evidence
from portal.extensions import db

from ..factories import ACTOR, World, make_debtor, make_invoice
from .test_documents_api import auth, text_of

CURRENCY = {"ew": "GBP", "cn": "CNY", "us": "USD"}
#: What each jurisdiction's claim says once receipt is proven, and what it says without.
PROVEN = {
    "ew": ["to the Defendant, which signed for them on delivery, and rendered invoice"],
    "cn": [
        "原告依约向被告交付了货物，被告予以签收，原告亦向被告开具了相应发票，被告已收到上述发票。"
    ],
    "us": [
        "7. Defendant received the goods and/or services, as delivery records signed for "
        "Defendant show, and did not reject them. Defendant has not objected to the Invoices.",
        "18. Plaintiff and Defendant had a course of prior transactions under which Plaintiff "
        "rendered, and Defendant received, the Invoices",
        "19. Defendant received and retained the Invoices and statements without objection",
    ],
}
UNPROVEN = {
    "ew": ["to the Defendant, and rendered invoice"],
    "cn": ["原告依约向被告交付了货物，原告亦向被告开具了相应发票。"],
    "us": [
        "7. Plaintiff's records show the delivery of the goods and/or services to Defendant. "
        "Defendant has not objected to the Invoices.",
        "19. Plaintiff rendered the Invoices and statements to Defendant at the address stated",
    ],
}
ASSERTING = ["signed for them", "予以签收", "被告已收到", "Defendant received"]


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def claim_text(client, app, case_id: int) -> tuple[str, dict]:
    made = client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "statement_of_claim", "mode": "draft"},
        headers=auth(app, "legal"),
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    pdf = client.get(f"/api/v1/documents/{body['id']}/pdf", headers=auth(app, "legal")).data
    facts = client.get(f"/api/v1/documents/{body['id']}", headers=auth(app, "legal")).get_json()
    return text_of(pdf), facts


def says(text: str, phrase: str, jurisdiction: str) -> bool:
    if jurisdiction == "cn":
        return flat(phrase) in flat(text)
    return phrase in text


@pytest.mark.parametrize("jurisdiction", ["ew", "cn", "us"])
def test_receipt_and_objection_are_pleaded_only_from_the_record(
    app, client, world: World, jurisdiction
):
    with app.app_context():
        case = open_case(
            ACTOR,
            debtor=make_debtor(f"R-{jurisdiction}", jurisdiction),
            owner=db.session.get(User, world.legal),
            lawyer=db.session.get(User, world.lawyer),
            invoices=[make_invoice(f"R-{jurisdiction}-{n}", f"R-{jurisdiction}",
                                   currency=CURRENCY[jurisdiction]) for n in (1, 2)],
        )  # fmt: skip
        db.session.commit()
        case_id = case.id

    text, body = claim_text(client, app, case_id)
    for phrase in UNPROVEN[jurisdiction]:
        assert says(text, phrase, jurisdiction), phrase
    for phrase in ASSERTING:
        assert not says(text, phrase, jurisdiction), phrase
    assert not [fact for fact in body["facts"] if fact["name"] == "goods signed for"]

    with app.app_context():
        case = db.session.get(Case, case_id)
        invoice = case.invoices[0]
        both = [item.external_id for item in case.invoices]
        note = add_evidence(
            ACTOR, case, b"delivery note signed for the debtor", "note.txt",
            {"kind": EvidenceKind.DELIVERY_NOTE, "document_date": invoice.issue_date,
             "signed_by_debtor": True, "signer": "Goods-in clerk"},
            invoice_keys=both,
        )  # fmt: skip
        proof = add_evidence(
            ACTOR, case, b"courier proof: invoice delivered", "proof.txt",
            {"kind": EvidenceKind.INVOICE_DELIVERY_PROOF, "document_date": invoice.issue_date},
            invoice_keys=both,
        )  # fmt: skip
        db.session.commit()
        note_id, proof_id = note.id, proof.id

    text, body = claim_text(client, app, case_id)
    for phrase in PROVEN[jurisdiction]:
        assert says(text, phrase, jurisdiction), phrase
    sources = {(fact["name"], fact["source"]["id"]) for fact in body["facts"]}
    assert ("goods signed for", note_id) in sources
    assert ("invoices received", proof_id) in sources

    # A dispute on the record (of the second invoice, which is then not claimed): the claim no
    # longer says the debtor never objected.
    with app.app_context():
        add_event(
            ACTOR,
            db.session.get(Case, case_id),
            {"type": "dispute", "date": dt.date.today() - dt.timedelta(days=3),
             "invoices": [f"R-{jurisdiction}-2"], "reason": "Goods arrived damaged."},
        )  # fmt: skip
        db.session.commit()
    text, body = claim_text(client, app, case_id)
    assert "not objected" not in text and "without objection" not in text
    assert any(fact["name"] == "dispute raised" for fact in body["facts"])
    if jurisdiction == "us":
        assert "19. Defendant received the Invoices and statements." in text
