"""Recording the dispatch of a signed document: a timeline event that the limitation rules read."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.audit.services import Actor
from portal.cases.models import Case
from portal.db import utcnow
from portal.documents.models import Document, DocumentStatus
from portal.domain import Conflict, ValidationFailed
from portal.extensions import db
from portal.review.dispatch import record_dispatch
from portal.review.models import Approval
from portal.review.services import Forbidden

from ..documents.test_documents_api import auth
from ..factories import stored_document


def _signed(document: Document, lawyer_id: int, on: dt.datetime | None = None) -> None:
    """Mark a placeholder version as signed (the real signing is tested end to end elsewhere)."""
    document.status = DocumentStatus.SIGNED
    db.session.add(
        Approval(
            document_id=document.id,
            lawyer_id=lawyer_id,
            decided_at=on or utcnow(),
            reviewed_sha256=document.pdf_sha256,
            signed_sha256=document.pdf_sha256,
            certificate_sha256="0" * 64,
            statement="test",
            authenticated_at=utcnow(),
        )
    )
    db.session.flush()
    db.session.refresh(document)


def test_a_delivered_prc_demand_restarts_limitation(app, client, world):
    with app.app_context():
        case = db.session.get(Case, world.other_case)  # the PRC case
        document = stored_document(case, "demand_letter")
        legal = Actor(user=db.session.get(type(case.owner), world.legal))
        finance = Actor(user=db.session.get(type(case.owner), world.finance))

        def dispatch(actor: Actor, delivered_on: dt.date | None):
            return record_dispatch(
                actor,
                document,
                sent_on=dt.date(2026, 11, 2),
                courier="EMS",
                tracking="EA123456789CN",
                delivered_on=delivered_on,
            )

        with pytest.raises(Conflict):  # not signed yet
            dispatch(legal, None)
        # Dated and signed on 1 November 2026, the day before it went out.
        document.document_date = dt.date(2026, 11, 1)
        _signed(document, world.other_lawyer, dt.datetime(2026, 11, 1, 15, 0, tzinfo=dt.UTC))
        with pytest.raises(ValidationFailed):  # delivered before it was sent
            dispatch(legal, dt.date(2026, 11, 1))
        with pytest.raises(Forbidden):
            dispatch(finance, None)
        event = dispatch(legal, dt.date(2026, 11, 4))
        db.session.commit()
        assert event.details["document"] == "demand_letter"
        assert event.details["document_id"] == document.id

    body = client.get(
        f"/api/v1/cases/{world.other_case}?as_of=2026-11-20", headers=auth(app, "legal")
    ).get_json()
    (invoice,) = body["invoices"]
    limitation = invoice["limitation"]
    assert "2026-11-04" in limitation["set_by"], limitation
    # PRC: three years from the restart.
    assert limitation["deadline"] == "2029-11-04"
