"""What counsel need in each jurisdiction's documents, each taken from the record.

- Illinois: the plaintiff described by its place of incorporation (creditor record); counsel's
  telephone and Cook County attorney code in the signature block (Rule 131(d)), which the lawyer
  keeps on their profile.
- PRC: the defendant company's 法定代表人 pleaded; 律师费 only under a fees clause recorded on the
  case; the firm's seal once, beside the lawyer's signature line; the 证据目录's original/copy
  column from the evidence record.
- England & Wales, PAP-Debt: "Dear Mr Whitfield" from the debtor's title and surname; the
  agreement's form, date and parties (para 3.1(c)/(d)) recorded on the case page.

Texts are read back from the PDF with pdftotext.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.cases.services import open_case
from portal.documents.manifest import STATUTORY_FORMS
from portal.documents.statutory import upload_form
from portal.evidence.jobs import render_evidence
from portal.evidence.models import Evidence
from portal.extensions import db
from portal.ledger.models import CreditorEntity, Debtor

from ..conftest import login
from ..factories import (
    ACTOR,
    World,
    make_debtor,
    make_individual,
    make_invoice,
    ready_for_prosecution,
)
from ..ui.conftest import text
from ..ui.test_statutory_forms import form_pdf
from .test_documents_api import auth, text_of


@pytest.fixture
def as_role(app, world: World):
    """A client signed in through the login form as one of the world's users."""

    def make(role: str):
        client = app.test_client()
        assert login(client, World.EMAILS[role]).status_code == 302
        return client

    return make


def flat(value: str) -> str:
    return re.sub(r"\s+", "", value)


def generate(client, app, case_id: int, kind: str, mode: str = "draft"):
    return client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": kind, "mode": mode, "fields": {"court.name": "Circuit Court of Cook County"}},
        headers=auth(app, "legal"),
    )


def pdf_text(client, app, response) -> str:
    assert response.status_code == 201, response.get_json()
    pdf = client.get(
        f"/api/v1/documents/{response.get_json()['id']}/pdf", headers=auth(app, "legal")
    )
    return text_of(pdf.data)


def _case(app, world: World, external_id: str, jurisdiction: str, currency: str, **debtor):
    with app.app_context():
        lawyer = db.session.get(User, world.lawyer)
        lawyer.firm_address = "200 West Madison Street\nChicago, IL 60606"
        party = make_debtor(external_id, jurisdiction)
        for name, value in debtor.items():
            setattr(party, name, value)
        case = open_case(
            ACTOR,
            debtor=party,
            owner=db.session.get(User, world.legal),
            lawyer=lawyer,
            invoices=[make_invoice(f"{external_id}-1", external_id, currency=currency)],
        )
        # Final court filings need the prosecution gate clear: delivered, reply period over.
        ready_for_prosecution(case)
        db.session.commit()
        for evidence_id in db.session.scalars(
            select(Evidence.id).where(Evidence.case_id == case.id)
        ):
            render_evidence(evidence_id)
        return case.id


def test_illinois_complaint_states_incorporation_phone_and_attorney_code(
    app, client, as_role, world: World
):
    case_id = _case(app, world, "IL-1", "us", "USD")
    with app.app_context():
        db.session.get(CreditorEntity, world.creditor).incorporation = "Delaware"
        db.session.get(User, world.lawyer).attorney_code = None
        db.session.commit()

    refused = generate(client, app, case_id, "statement_of_claim", "final")
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"]["missing_fields"] == ["lawyer.attorney_code"]

    # The lawyer keeps the signature-block details on their own profile.
    lawyer = as_role("lawyer")
    saved = lawyer.post(
        "/profile/counsel",
        data={"firm_address": "200 West Madison Street\nChicago, IL 60606",
              "phone": "(312) 555-0148", "attorney_code": "61234"},
    )  # fmt: skip
    assert saved.status_code == 303
    assert "Your signature-block details are saved." in text(lawyer.get("/profile"))
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.counsel_details")
        ).one()
        assert entry.changes["after"] == {"phone": "(312) 555-0148", "attorney_code": "61234"}
    # Nobody else has these details: the form does not exist for them.
    assert as_role("legal").post("/profile/counsel", data={}).status_code == 404

    complaint = pdf_text(client, app, generate(client, app, case_id, "statement_of_claim", "final"))
    assert "Plaintiff is a corporation organized under the laws of Delaware" in complaint
    assert "Tel.: (312) 555-0148" in complaint
    assert "Cook County Attorney Code: 61234" in complaint
    listing = pdf_text(client, app, generate(client, app, case_id, "evidence_list", "final"))
    assert "Tel.: (312) 555-0148 · Cook County Attorney Code: 61234" in listing


def test_prc_documents_plead_the_legal_representative_fees_clause_seal_and_originals(
    app, client, as_role, world: World
):
    # The world's PRC case: its company debtor's legal representative is "Dana Director".
    case_id = world.other_case
    with app.app_context():
        db.session.get(User, world.lawyer).firm_address = "北京市朝阳区建国门外大街1号"
        db.session.get(CreditorEntity, world.creditor).legal_representative = "陈国强"
        items = db.session.scalars(select(Evidence).where(Evidence.case_id == case_id)).all()
        items[0].original_held = True
        for item in items[1:]:
            item.original_held = None  # nobody said: the list claims no more than a copy
        db.session.commit()

    complaint = flat(pdf_text(client, app, generate(client, app, case_id, "statement_of_claim")))
    assert "法定代表人：DanaDirector。" in complaint

    letter = flat(pdf_text(client, app, generate(client, app, case_id, "demand_letter")))
    assert "律师费" not in letter
    # The firm's seal once, beside the signing lawyer's line.
    assert letter.count("（盖章）") == 1 and "公章" not in letter
    assert "TestChambersLLP（盖章）承办律师：OtherLawyer（签字）执业证号：L-1" in letter

    page = as_role("legal").post(
        f"/cases/{case_id}/agreement",
        data={"agreement_form": "written", "agreement_date": "2025-02-18",
              "agreement_parties": "Creditor Trading Ltd 与 Debtor D-2 Ltd", "fees_clause": "y"},
    )  # fmt: skip
    assert page.status_code == 303
    letter = flat(pdf_text(client, app, generate(client, app, case_id, "demand_letter")))
    assert "并主张逾期付款利息以及合同约定由贵方承担的律师费等相关费用" in letter

    listing = pdf_text(client, app, generate(client, app, case_id, "evidence_list"))
    assert "原件/复印件" in flat(listing)
    assert (
        flat(listing).count("原件")
        - flat(listing).count("原件/复印件")
        - flat(listing).count("持有原件")
        - flat(listing).count("提交原件")
        == 1
    )
    assert flat(listing).count("复印件") - flat(listing).count("原件/复印件") == len(items) - 1


def test_pap_debt_letter_greets_by_title_and_surname_and_states_the_agreement(
    app, client, as_role, world: World
):
    with app.app_context():
        person = make_individual("EW-P", title=None, surname=None)
        lawyer = db.session.get(User, world.lawyer)
        lawyer.firm_address = "1 Chancery Lane\nLondon WC2A 1LS"
        # The prescribed forms the letter is issued with (see tests/ui/test_statutory_forms.py).
        for kind in STATUTORY_FORMS:
            upload_form(ACTOR, kind, form_pdf(kind), f"{kind}.pdf", "test edition")
        case_id = open_case(
            ACTOR,
            debtor=person,
            owner=db.session.get(User, world.legal),
            lawyer=lawyer,
            invoices=[make_invoice("EW-P-1", "EW-P")],
        ).id
        db.session.commit()

    refused = generate(client, app, case_id, "demand_letter", "final")
    assert refused.status_code == 422
    assert set(refused.get_json()["error"]["fields"]["missing_fields"]) >= {
        "debtor.salutation", "agreement.form", "agreement.date", "agreement.parties",
    }  # fmt: skip
    with app.app_context():
        person = db.session.scalar(select(Debtor).where(Debtor.external_id == "EW-P"))
        person.title, person.surname = "Mr", "Whitfield"
        db.session.commit()

    legal = as_role("legal")
    oral = legal.post(
        f"/cases/{case_id}/agreement",
        data={"agreement_form": "oral", "agreement_date": "2024-11-01",
              "agreement_parties": "Creditor Trading Ltd and Thomas Whitfield"},
    )  # fmt: skip
    assert oral.status_code == 422
    assert "For an oral agreement, say who agreed what, when and where." in text(oral)
    written = legal.post(
        f"/cases/{case_id}/agreement",
        data={"agreement_form": "written", "agreement_date": "2024-11-01",
              "agreement_parties": "Creditor Trading Ltd and Thomas Whitfield"},
    )  # fmt: skip
    assert written.status_code == 303
    assert "Creditor Trading Ltd and Thomas Whitfield" in text(legal.get(f"/cases/{case_id}"))

    letter = pdf_text(client, app, generate(client, app, case_id, "demand_letter", "final"))
    assert "Dear Mr Whitfield" in letter
    assert (
        "The debt arises under a written agreement dated 1 November 2024 between Creditor "
        "Trading Ltd and Thomas Whitfield." in letter
    )
    assert "You may ask us for a copy of the written agreement" in letter
    made = generate(client, app, case_id, "demand_letter", "draft").get_json()
    body = client.get(f"/api/v1/documents/{made['id']}", headers=auth(app, "legal")).get_json()
    assert {
        "name": "agreement",
        "value": "written, 2024-11-01, Creditor Trading Ltd and Thomas Whitfield",
        "source": {"type": "case", "id": case_id},
    } in body["facts"]
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "case.agreement")
        ).one()
        assert entry.changes["after"]["agreement_date"] == dt.date(2024, 11, 1).isoformat()
