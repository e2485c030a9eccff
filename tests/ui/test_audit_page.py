"""The audit page sorts the whole trail on the server and pages each order."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.audit.services import Actor, record
from portal.extensions import db

from ..factories import World


def _actions(response) -> list[str]:
    return re.findall(r"<td><code>([a-z_.]+)</code></td>", response.data.decode())


def _ids(response) -> list[int]:
    return [int(value) for value in re.findall(r"<tr>\s*<td>(\d+)</td>", response.data.decode())]


def test_every_column_sorts_the_whole_trail(app, as_role, world: World):
    client = as_role("admin")  # signing in is audited too: count after it
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(AuditEntry))
        everything = sorted(db.session.scalars(select(AuditEntry.action)).all())
    newest = client.get("/admin/audit/")
    ids = _ids(newest)
    assert ids == sorted(ids, reverse=True) and ids[0] == total
    # By action, ascending: the first page is the first rows of every action sorted.
    by_action = client.get("/admin/audit/?sort=action&dir=asc")
    assert _actions(by_action) == everything[: len(_actions(by_action))]
    assert 'aria-sort="ascending"' in by_action.data.decode()
    descending = _actions(client.get("/admin/audit/?sort=action&dir=desc"))
    assert descending[0] == everything[-1]
    # A filter keeps the order and the order keeps the filter.
    filtered = client.get("/admin/audit/?sort=actor&dir=desc&action=case.")
    assert all(action.startswith("case.") for action in _actions(filtered))
    assert "sort=actor" in filtered.data.decode() and "action=case." in filtered.data.decode()


def test_the_default_order_pages_by_id_and_others_by_page(app, as_role, world: World):
    client = as_role("admin")
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(AuditEntry))
        # Enough rows for a second page of 100 (the world writes fewer).
        for number in range(120):
            record(Actor.system(), "test.filler", "test", str(number))
        db.session.commit()
    total += 120
    first = client.get("/admin/audit/")
    assert len(_ids(first)) == 100
    # Older entries continue after the last id shown: ids total−100 … 1 follow on the next page.
    older = re.search(r'href="(/admin/audit/\?[^"]*before=\d+[^"]*)"', first.data.decode())
    assert older, "a link to older entries"
    second = client.get(older.group(1).replace("&amp;", "&"))
    assert _ids(second)[0] == total - 100
    # Sorted by action, pages are numbered; page 2 starts where page 1 ended.
    page_one = _ids(client.get("/admin/audit/?sort=action&dir=asc"))
    page_two = _ids(client.get("/admin/audit/?sort=action&dir=asc&page=2"))
    assert len(page_one) == 100 and page_two and not set(page_one) & set(page_two)
