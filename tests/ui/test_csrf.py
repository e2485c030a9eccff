"""The page forms carry a CSRF token and their routes refuse requests without one."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.cases.models import Case
from portal.extensions import db
from portal.ledger.models import InterestRate

from ..factories import PASSWORD, World, make_invoice


def _token(html: str, form_id: str | None = None) -> str:
    if form_id:
        html = html.split(f'id="{form_id}"', 1)[1]
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _signed_in_admin(csrf_app):
    client = csrf_app.test_client()
    token = _token(client.get("/login").data.decode())
    client.post(
        "/login", data={"email": World.EMAILS["admin"], "password": PASSWORD, "csrf_token": token}
    )
    return client


def test_page_posts_without_a_token_are_refused(csrf_app, world: World):
    client = _signed_in_admin(csrf_app)
    with csrf_app.app_context():
        rate_id = db.session.scalar(select(InterestRate.id).limit(1))
    case_id = world.assigned_case
    for path in [
        "/ledger/debtors/D-1",
        f"/cases/{case_id}/stage",
        f"/cases/{case_id}/status",
        f"/cases/{case_id}/next-action",
        f"/cases/{case_id}/events",
        "/admin/rates",
        f"/admin/rates/{rate_id}/delete",
        "/admin/rates/load",
    ]:
        assert client.post(path, data={}).status_code == 400, path
    with csrf_app.app_context():
        assert db.session.get(InterestRate, rate_id) is not None


def test_the_forms_carry_their_tokens(csrf_app, world: World):
    client = _signed_in_admin(csrf_app)
    with csrf_app.app_context():
        invoice = make_invoice("I-9", amount="90.00")
        db.session.commit()
        invoice_id = invoice.id
    page = client.get("/ledger/debtors/D-1").data.decode()
    response = client.post(
        "/ledger/debtors/D-1",
        data={
            "csrf_token": _token(page, "open-case"),
            "invoices": [str(invoice_id)],
            "owner": str(world.legal),
            "lawyer": "",
        },
    )
    assert response.status_code == 303, response.data.decode()[-2000:]
    case_page = client.get(response.headers["Location"]).data.decode()
    for form_id in ("event-form", "status-form"):
        assert _token(case_page, form_id)
    event = client.post(
        response.headers["Location"] + "/events",
        data={
            "csrf_token": _token(case_page, "event-form"),
            "type": "note",
            "date": "2025-06-01",
            "note_text": "Called; no answer.",
        },
    )
    assert event.status_code == 303
    with csrf_app.app_context():
        case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
        assert [item.details["text"] for item in case.events] == ["Called; no answer."]
    rates = client.get("/admin/rates").data.decode()
    assert _token(rates.split('action="/admin/rates/load"', 1)[1])
