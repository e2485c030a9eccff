"""Admin pages: users and creditor entities."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.ledger.models import CreditorEntity

from ..conftest import login
from ..factories import World

NEW_LAWYER = {
    "email": "new.counsel@firm.example",
    "name": "New Counsel",
    "role": "lawyer",
    "password": "initial password 1",
    "firm": "",
    "licence_number": "",
}


def test_admin_creates_a_lawyer_only_with_firm_and_licence(app, client, world: World):
    login(client, World.EMAILS["admin"])
    refused = client.post("/admin/users/new", data=NEW_LAWYER)
    assert refused.status_code == 422 and b"Required for lawyers." in refused.data
    made = client.post(
        "/admin/users/new", data={**NEW_LAWYER, "firm": "Vale LLP", "licence_number": "SRA-9"}
    )
    assert made.status_code == 303
    listing = client.get("/admin/users?role=lawyer").data.decode()
    assert "new.counsel@firm.example" in listing and "finance@tests.example" not in listing
    duplicate = client.post(
        "/admin/users/new", data={**NEW_LAWYER, "firm": "Vale LLP", "licence_number": "SRA-9"}
    )
    assert duplicate.status_code == 422 and b"Already in use." in duplicate.data
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == NEW_LAWYER["email"])).firm == (
            "Vale LLP"
        )


def test_admin_disables_and_enables_a_user(app, client, world: World):
    login(client, World.EMAILS["admin"])
    assert (
        client.post(f"/admin/users/{world.finance}/active", data={"active": "0"}).status_code == 303
    )
    with app.app_context():
        assert db.session.get(User, world.finance).active is False
    assert login(app.test_client(), World.EMAILS["finance"]).status_code == 401
    client.post(f"/admin/users/{world.finance}/active", data={"active": "1"})
    assert login(app.test_client(), World.EMAILS["finance"]).status_code == 302
    own = client.post(
        f"/admin/users/{world.admin}/active", data={"active": "0"}, follow_redirects=True
    )
    assert b"You cannot disable your own account." in own.data
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_type == "user")
        ).all()
        assert actions.count("user.disable") == 1 and actions.count("user.enable") == 1


def test_creditor_entities_are_created_and_edited(app, client, world: World):
    login(client, World.EMAILS["admin"])
    data = {
        "code": "SECOND",
        "legal_name": "Second Entity GmbH",
        "registration_id": "HRB 1234",
        "address": "Hauptstr. 1, Berlin",
        "jurisdiction": "ew",
        "bank_name": "Bank",
        "bank_account": "DE00 0000",
        "bank_code": "BANKDEFF",
    }
    assert client.post("/admin/creditors/new", data=data).status_code == 303
    clash = client.post("/admin/creditors/new", data={**data, "legal_name": "Other"})
    assert clash.status_code == 422 and b"Already used." in clash.data
    with app.app_context():
        entity = db.session.scalar(select(CreditorEntity).where(CreditorEntity.code == "SECOND"))
        entity_id = entity.id
    assert (
        client.post(
            f"/admin/creditors/{entity_id}", data={**data, "bank_code": "NEWBIC00"}
        ).status_code
        == 303
    )
    page = client.get("/admin/creditors").data.decode()
    assert "Second Entity GmbH" in page and "NEWBIC00" in page
    with app.app_context():
        update = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "creditor.update")
        ).one()
        assert update.changes == {
            "before": {"bank_code": "BANKDEFF"},
            "after": {"bank_code": "NEWBIC00"},
        }
