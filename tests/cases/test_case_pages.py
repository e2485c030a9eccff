"""Case list, case page, dashboard: scoped by the policy and useful when empty."""

from __future__ import annotations

from sqlalchemy import select

from portal.cases import policy
from portal.cases.models import Case
from portal.extensions import db
from portal.security import Role

from ..conftest import login
from ..factories import World, make_user


def _reference(app, case_id: int) -> str:
    with app.app_context():
        return db.session.get(Case, case_id).reference


def test_lawyer_sees_only_assigned_cases(app, client, world: World):
    login(client, World.EMAILS["lawyer"])
    page = client.get("/cases/").data.decode()
    assert _reference(app, world.assigned_case) in page
    assert _reference(app, world.other_case) not in page
    assert client.get(f"/cases/{world.other_case}").status_code == 404
    dashboard = client.get("/").data.decode()
    assert (
        "Cases assigned to you" in dashboard and _reference(app, world.other_case) not in dashboard
    )


def test_visible_cases_query_is_scoped(app, world: World):
    with app.app_context():
        lawyer = db.session.get(policy.User, world.lawyer)
        finance = db.session.get(policy.User, world.finance)
        assert db.session.scalars(policy.visible_cases(lawyer)).all() == [
            db.session.get(Case, world.assigned_case)
        ]
        assert len(db.session.scalars(policy.visible_cases(finance)).all()) == 2
        assert not policy.can_edit_case(finance, db.session.get(Case, world.assigned_case))


def test_case_list_filters(app, client, world: World):
    login(client, World.EMAILS["legal"])
    china = client.get("/cases/?jurisdiction=cn").data.decode()
    assert _reference(app, world.other_case) in china
    assert _reference(app, world.assigned_case) not in china
    nothing = client.get("/cases/?stage=prosecution").data.decode()
    assert "No case matches these filters" in nothing


def test_assigning_a_non_lawyer_is_refused(app, client, world: World):
    login(client, World.EMAILS["legal"])
    response = client.post(
        f"/cases/{world.assigned_case}/lawyer",
        data={"lawyer": str(world.finance)},
        follow_redirects=True,
    )
    assert b"Choose one of the listed lawyers." in response.data
    with app.app_context():
        assert db.session.get(Case, world.assigned_case).lawyer_id == world.lawyer


def test_empty_dashboards_say_what_to_do_first(app, client):
    with app.app_context():
        for role in Role:
            make_user(role)
        db.session.commit()
    expectations = {
        "admin": "add the creditor entity",
        "legal": "No open cases.",
        "finance": "feed the receivables",
        "lawyer": "No cases are assigned to you yet.",
    }
    for role, text in expectations.items():
        client = app.test_client()
        login(client, f"{role}@tests.example")
        assert text in client.get("/").data.decode(), role
    with app.app_context():
        assert db.session.scalars(select(Case)).all() == []


def test_case_list_filters_by_lawyer(app, client, world: World):
    login(client, World.EMAILS["legal"])
    mine = client.get(f"/cases/?lawyer={world.lawyer}").data.decode()
    assert _reference(app, world.assigned_case) in mine
    assert _reference(app, world.other_case) not in mine
    assert "No case matches these filters" in client.get("/cases/?lawyer=none").data.decode()
