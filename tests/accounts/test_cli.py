"""``flask users create``: prompts, stdin, duplicates, lawyers."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.services import authenticate
from portal.audit.models import AuditEntry
from portal.extensions import db


def test_create_with_password_option(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Ann@Example.com",
            "--role",
            "legal",
            "--name",
            "Ann Lee",
            "--password",
            "a sufficiently long one",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = authenticate("ann@example.com", "a sufficiently long one")
        assert user is not None and user.role == "legal" and user.name == "Ann Lee"
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.create")
        ).one()
        assert entry.actor_label == "cli" and entry.changes["after"]["email"] == "ann@example.com"


def test_password_read_from_stdin_when_not_a_terminal(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "bob@example.com", "--role", "finance"],
        input="piped password value\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert authenticate("bob@example.com", "piped password value") is not None


def test_duplicate_email_fails_clearly(app):
    runner = app.test_cli_runner()
    args = [
        "users",
        "create",
        "dup@example.com",
        "--role",
        "admin",
        "--password",
        "long enough pw!",
    ]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=[*args[:2], "DUP@example.com", *args[3:]])
    assert again.exit_code != 0
    assert "already exists" in again.output
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(User)) == 1


def test_lawyer_needs_firm_and_licence(app):
    runner = app.test_cli_runner()
    base = [
        "users",
        "create",
        "counsel@firm.example",
        "--role",
        "lawyer",
        "--password",
        "long enough pw!",
    ]
    refused = runner.invoke(args=base)
    assert refused.exit_code != 0 and "firm" in refused.output
    made = runner.invoke(args=[*base, "--firm", "Vale LLP", "--licence", "SRA-1"])
    assert made.exit_code == 0, made.output
    with app.app_context():
        lawyer = db.session.scalars(select(User)).one()
        assert (lawyer.firm, lawyer.licence_number) == ("Vale LLP", "SRA-1")


def test_short_password_and_bad_role_are_refused(app):
    runner = app.test_cli_runner()
    short = runner.invoke(
        args=["users", "create", "c@example.com", "--role", "legal", "--password", "short"]
    )
    assert short.exit_code != 0 and "12 characters" in short.output
    role = runner.invoke(
        args=["users", "create", "c@example.com", "--role", "boss", "--password", "x" * 12]
    )
    assert role.exit_code != 0
