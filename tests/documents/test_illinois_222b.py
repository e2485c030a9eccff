"""Illinois S. Ct. Rule 222(b): a complaint for money damages of $50,000 or less (exclusive of
interest and costs) carries the affidavit that they do not exceed $50,000; a larger one does not."""

from __future__ import annotations

import pytest

from portal.accounts.models import User
from portal.cases.services import open_case
from portal.extensions import db

from ..factories import ACTOR, World, make_debtor, make_invoice
from .test_documents_api import auth, text_of

AFFIDAVIT = "Affidavit Pursuant to Supreme Court Rule 222(b)"


@pytest.mark.parametrize(
    ("amount", "attached"),
    [
        ("46005.48", True),  # under the limit
        ("50000.00", True),  # "$50,000 or less": the limit itself is in
        ("60000.00", False),
    ],
)
def test_the_affidavit_follows_the_damages_sought(app, client, world: World, amount, attached):
    with app.app_context():
        case = open_case(
            ACTOR,
            debtor=make_debtor("D-IL", "us"),
            owner=db.session.get(User, world.legal),
            lawyer=db.session.get(User, world.lawyer),
            invoices=[make_invoice("I-IL", "D-IL", currency="USD", amount=amount)],
        )
        db.session.commit()
        case_id = case.id
    made = client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "statement_of_claim", "mode": "draft"},
        headers=auth(app, "legal"),
    )
    assert made.status_code == 201, made.get_json()
    pdf = client.get(f"/api/v1/documents/{made.get_json()['id']}/pdf", headers=auth(app, "legal"))
    text = text_of(pdf.data)
    # The principal is the damages sought; interest (accruing since 2025) is excluded.
    assert f"{int(float(amount)):,}" in text
    assert (AFFIDAVIT.lower() in text.lower()) is attached
    assert ("does not exceed $50,000.00, exclusive of interest and costs" in text) is attached
