"""Rates you can stand behind: each kind is confirmed through a day, and nothing after it is used.

The last row of a kind says nothing about a change published since; a figure that needs a
rate after the confirmed day is refused for a final document (the draft names the rate), and
the rates page says what to add.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.documents.models import Document
from portal.extensions import db
from portal.jurisdictions import (
    RATE_KINDS,
    SHIPPED_CONFIRMATIONS_CSV,
    RateRow,
    RateTable,
    UnconfirmedRate,
    load_confirmations_csv,
)
from portal.jurisdictions.interest import rate_in_force
from portal.ledger.models import RateConfirmation
from portal.ledger.rates import confirm, load_file

from ..documents.test_documents_api import auth, complete_the_lawyer, text_of
from ..factories import ACTOR, World
from .conftest import text

TODAY = dt.date.today()
BOE = RateRow("boe_base", dt.date(2024, 11, 7), Decimal("4.75"), "test")


def test_a_day_after_the_confirmation_is_refused_naming_the_kind_and_both_days():
    table = RateTable([BOE], {"boe_base": dt.date(2024, 12, 30)})
    assert rate_in_force(table, "boe_base", dt.date(2024, 12, 30)) is BOE
    with pytest.raises(UnconfirmedRate) as raised:
        rate_in_force(table, "boe_base", dt.date(2024, 12, 31))
    message = str(raised.value)
    assert "'boe_base' rates" in message
    assert "confirmed only through 2024-12-30" in message
    assert "in force on 2024-12-31" in message
    # A kind nobody confirmed is never used; a plain list of rows (pack unit tests) is unchecked.
    with pytest.raises(UnconfirmedRate, match="never been confirmed"):
        rate_in_force(RateTable([BOE]), "boe_base", dt.date(2024, 12, 1))
    assert rate_in_force([BOE], "boe_base", dt.date(2030, 1, 1)) is BOE


def test_the_shipped_table_says_through_when_each_kind_was_checked():
    shipped = {item.kind: item for item in load_confirmations_csv(SHIPPED_CONFIRMATIONS_CSV)}
    assert set(shipped) == set(RATE_KINDS)
    assert all(item.source for item in shipped.values())


def test_loading_the_shipped_table_never_moves_a_later_confirmation_back(app, world: World):
    with app.app_context():
        shipped = {item.kind: item for item in load_confirmations_csv(SHIPPED_CONFIRMATIONS_CSV)}
        # The world confirmed all four kinds through today, after the shipped day.
        load_file(ACTOR)
        query = select(RateConfirmation.kind, RateConfirmation.confirmed_through)
        rows = dict(db.session.execute(query).all())
        assert rows == dict.fromkeys(RATE_KINDS, TODAY)
        assert all(TODAY >= item.through for item in shipped.values())


def test_a_figure_past_the_confirmation_is_a_draft_naming_the_rate_until_an_admin_confirms(
    app, client, as_role, world: World
):
    complete_the_lawyer(app)
    with app.app_context():
        # The world's E&W invoices fall due on 2025-02-09: statutory interest starts on
        # 2025-02-10 and takes the base rate of the preceding 31 December (2024-12-31).
        confirm(ACTOR, "boe_base", dt.date(2024, 12, 30), "checked the BoE page to 30 Dec 2024")
        db.session.commit()
        documents = db.session.scalar(select(func.count()).select_from(Document))
    headers = auth(app, "legal")
    url = f"/api/v1/cases/{world.assigned_case}/documents"

    final = client.post(url, json={"kind": "warning_letter", "mode": "final"}, headers=headers)
    assert final.status_code == 422, final.get_json()
    message = final.get_json()["error"]["message"]
    assert "can only be a draft" in message
    assert "confirmed only through 2024-12-30" in message and "on 2024-12-31" in message
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Document)) == documents

    draft = client.post(url, json={"kind": "warning_letter", "mode": "draft"}, headers=headers)
    assert draft.status_code == 201, draft.get_json()
    assert "interest.rate" in draft.get_json()["missing_fields"]
    pdf = client.get(f"/api/v1/documents/{draft.get_json()['id']}/pdf", headers=headers)
    assert "[missing: The 'boe_base' rates" in text_of(pdf.data)

    admin = as_role("admin")
    page = text(admin.get("/admin/rates"))
    assert "To add: any Bank of England base rate (Bank Rate) published after 2024-12-30" in page
    future = (TODAY + dt.timedelta(days=1)).isoformat()
    refused = admin.post(
        "/admin/rates/confirm",
        data={
            "confirm-kind": "boe_base",
            "confirm-confirmed_through": future,
            "confirm-source": "BoE Bank Rate page",
        },
    )
    assert refused.status_code == 422
    assert f"{future} is in the future: confirm through today at the latest." in text(refused)
    done = admin.post(
        "/admin/rates/confirm",
        data={
            "confirm-kind": "boe_base",
            "confirm-confirmed_through": TODAY.isoformat(),
            "confirm-source": "BoE page",
        },
    )
    assert done.status_code == 303
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "rate.confirm")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry.changes["after"]["confirmed_through"] == TODAY.isoformat()
        assert entry.changes["before"]["confirmed_through"] == "2024-12-30"

    final = client.post(url, json={"kind": "demand_letter", "mode": "final"}, headers=headers)
    assert final.status_code == 201, final.get_json()
    pdf = client.get(f"/api/v1/documents/{final.get_json()['id']}/pdf", headers=headers)
    # Base rate 4.75 (in force on 31 Dec 2024, row of 2024-11-07) + 8 = 12.75 % a year.
    words = text_of(pdf.data)
    assert "12.75" in words
    # The pack's sentence gives its dates in words, as the rest of the letter does.
    assert "on 31 December 2024 plus 8%" in words and "from 10 February 2025" in words
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", words)
