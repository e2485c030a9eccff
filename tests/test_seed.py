"""``flask seed-demo``: one user per role, two creditors, ~20 debtors, cases; idempotent."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.services import authenticate
from portal.audit.services import verify_chain
from portal.cases.models import Case
from portal.extensions import db
from portal.ledger.models import CreditorEntity, Debtor
from portal.review.models import SigningCertificate, TrustedRoot
from portal.signing.pki import load_pkcs12


def test_seed_demo_creates_everything_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "6 users, 2 creditors, 20 debtors, 6 cases" in first.output
    assert "invoices" in first.output and "rates" in first.output
    assert (
        "admin@arrears-demo.example" in first.output and "password: demo-admin-pass" in first.output
    )
    with app.app_context():
        roles = Counter(user.role.value for user in db.session.scalars(select(User)))
        assert roles == {"admin": 1, "legal": 1, "finance": 1, "lawyer": 3}
        jurisdictions = Counter(d.jurisdiction.value for d in db.session.scalars(select(Debtor)))
        assert set(jurisdictions) == {"cn", "ew", "us"} and sum(jurisdictions.values()) == 20
        assert db.session.scalar(select(db.func.count()).select_from(CreditorEntity)) == 2
        cases = db.session.scalars(select(Case)).all()
        assert len(cases) == 6 and {case.jurisdiction.value for case in cases} == {"cn", "ew", "us"}
        assert authenticate("lawyer@arrears-demo.example", "demo-lawyer-pass") is not None
        # Each demo lawyer can sign: a DEMO certificate under a DEMO root the portal trusts.
        (root,) = db.session.scalars(select(TrustedRoot)).all()
        assert root.demo and "DEMO" in root.subject
        certificates = db.session.scalars(select(SigningCertificate)).all()
        assert len(certificates) == 3 and all("(DEMO)" in c.subject_name for c in certificates)
        assert all(load_pkcs12(c.p12, "demo-p12-pass").issuer == root.subject for c in certificates)
        assert "demo-p12-pass" in first.output
        entries, broken = verify_chain()
        assert broken is None and entries > 30
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "already present, nothing added" in second.output
    assert "legal@arrears-demo.example" in second.output
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Debtor)) == 20
        assert db.session.scalar(select(db.func.count()).select_from(Case)) == 6
        assert db.session.scalar(select(db.func.count()).select_from(SigningCertificate)) == 3
        assert verify_chain() == (entries, None)
