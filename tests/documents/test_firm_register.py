"""A PRC lawyer's letter (律师函) carries the number of the firm's own letter register.

The firm numbers a letter once, when it is made final, in its own sequence and format (set by an
admin); drafts print no number; a later version of the same letter keeps it; the creditor's
sequence is not touched; another firm counts on its own.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.cases.services import open_case
from portal.documents.models import ReferenceSequence
from portal.documents.register import UNNUMBERED
from portal.extensions import db

from ..conftest import login
from ..factories import ACTOR, World, make_debtor, make_invoice, make_user
from ..ui.conftest import text
from .test_documents_api import auth, text_of

YEAR = dt.date.today().year
FORMAT = "（{year}）测律函字第{seq:03d}号"


def letter(client, app, case_id: int, mode: str) -> tuple[dict, str]:
    made = client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "demand_letter", "mode": mode},
        headers=auth(app, "legal"),
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    pdf = client.get(f"/api/v1/documents/{body['id']}/pdf", headers=auth(app, "legal"))
    return client.get(f"/api/v1/documents/{body['id']}", headers=auth(app, "legal")).get_json(), (
        re.sub(r"\s+", "", text_of(pdf.data))
    )


def sequences(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.sum(ReferenceSequence.last))) or 0


def test_firm_numbers_its_lawyers_letters_in_its_own_register(app, client, world: World):
    with app.app_context():
        for user in db.session.scalars(select(User).where(User.firm.is_not(None))):
            user.firm_address = "北京市朝阳区建国门外大街1号"
        other_firm = make_user(
            "lawyer", "lawyer.b@tests.example", name="B Lawyer", firm="乙律师事务所",
            firm_address="上海市浦东新区世纪大道100号",
        )  # fmt: skip
        owner = db.session.get(User, world.legal)
        same_firm = open_case(
            ACTOR, debtor=make_debtor("CN-A", "cn"), owner=owner,
            lawyer=db.session.get(User, world.lawyer),
            invoices=[make_invoice("CN-A-1", "CN-A", currency="CNY")],
        ).id  # fmt: skip
        elsewhere = open_case(
            ACTOR, debtor=make_debtor("CN-B", "cn"), owner=owner, lawyer=other_firm,
            invoices=[make_invoice("CN-B-1", "CN-B", currency="CNY")],
        ).id  # fmt: skip
        db.session.commit()
    first = world.other_case  # the world's PRC case: the other lawyer, of Test Chambers LLP
    before = sequences(app)

    draft, words = letter(client, app, first, "draft")
    assert draft["reference"] == UNNUMBERED
    assert f"函号：{UNNUMBERED}" in words

    admin = app.test_client()
    login(admin, World.EMAILS["admin"])
    bad = admin.post("/admin/firms", data={"name": "Test Chambers LLP", "letter_format": "{no}"})
    assert bad.status_code == 422
    assert "The format must contain {seq}" in text(bad)
    saved = admin.post("/admin/firms", data={"name": "Test Chambers LLP", "letter_format": FORMAT})
    assert saved.status_code == 303
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "firm.letter_format")
        ).one()
        assert entry.changes["after"]["letter_format"] == FORMAT

    one, words = letter(client, app, first, "final")
    assert one["reference"] == f"（{YEAR}）测律函字第001号"
    assert f"函号：（{YEAR}）测律函字第001号" in words
    two, _ = letter(client, app, same_firm, "final")
    assert two["reference"] == f"（{YEAR}）测律函字第002号"
    # Another firm counts from one in the default format.
    own, _ = letter(client, app, elsewhere, "final")
    assert own["reference"] == f"（{YEAR}）律函字第001号"
    # A new version of the same letter keeps the number the firm gave it.
    again, _ = letter(client, app, first, "final")
    assert again["version"] == 3 and again["reference"] == f"（{YEAR}）测律函字第001号"
    # The creditor's letter sequence numbered none of these.
    assert sequences(app) == before

    page = text(admin.get("/admin/firms"))
    assert f"Test Chambers LLP 2 （{YEAR}）测律函字第003号" in page
    assert f"乙律师事务所 1 （{YEAR}）律函字第002号" in page
