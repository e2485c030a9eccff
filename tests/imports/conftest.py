"""Fixtures of the import tests: the app with the import routes and command wired in, a ledger
with the demo creditor codes and debtors, and writers of real CSV and XLSX files."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask

from portal.audit.models import AuditEntry
from portal.extensions import csrf, db
from portal.imports import bp as imports_bp
from portal.imports.api import blp as imports_api_blp
from portal.imports.cli import import_cli
from portal.ledger.models import Debtor, DebtorKind, Invoice, Jurisdiction, Payment

from ..conftest import build_app
from ..factories import ACTOR, make_creditor

INVOICE_HEADER = [
    "external_id",
    "debtor",
    "creditor",
    "number",
    "issue_date",
    "delivery_date",
    "due_date",
    "currency",
    "amount",
    "contract_ref",
    "interest_rate",
]


def wire(app: Flask) -> None:
    """What ``create_app`` will do once the import blueprints are registered there."""
    if "imports" not in app.blueprints:
        app.register_blueprint(imports_bp)
    if "imports_api" not in app.blueprints:
        api = app.extensions["flask-smorest"]["blp_name_to_api"]["api"]
        csrf.exempt(imports_api_blp)
        api.register_blueprint(imports_api_blp)
    if "import" not in app.cli.commands:
        app.cli.add_command(import_cli)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    for built in build_app(tmp_path):
        wire(built)
        yield built


@pytest.fixture
def csrf_app(tmp_path: Path) -> Iterator[Flask]:
    for built in build_app(tmp_path, WTF_CSRF_ENABLED=True):
        wire(built)
        yield built


@dataclass
class Ledger:
    """Creditor entity ids by code and debtor ids by external id."""

    creditors: dict[str, int]
    debtors: dict[str, int]


def add_debtors(external_ids: Sequence[str], jurisdiction: str = "ew") -> dict[str, int]:
    debtors = [
        Debtor(
            external_id=external_id,
            name=f"Debtor {external_id} Ltd",
            kind=DebtorKind.COMPANY,
            registration_id="01234567",
            address="2 Low Road, Leeds LS1 1AA",
            jurisdiction=Jurisdiction(jurisdiction),
        )
        for external_id in external_ids
    ]
    db.session.add_all(debtors)
    db.session.flush()
    return {debtor.external_id: debtor.id for debtor in debtors}


@pytest.fixture
def ledger(app: Flask) -> Ledger:
    """Creditors NWC-UK and DH-CN; debtors EW-0001…EW-0050 and CN-0001…CN-0005."""
    with app.app_context():
        creditors = {code: make_creditor(code).id for code in ("NWC-UK", "DH-CN")}
        debtors = add_debtors([f"EW-{n:04d}" for n in range(1, 51)])
        debtors |= add_debtors([f"CN-{n:04d}" for n in range(1, 6)], "cn")
        db.session.commit()
        return Ledger(creditors, debtors)


def invoice_row(index: int, **changes: Any) -> dict[str, Any]:
    """A plausible invoice of NWC-UK; ``index`` 1… makes the ids and numbers unique."""
    issue = dt.date(2024, 1, 1) + dt.timedelta(days=index % 700)
    row = {
        "external_id": f"INV-{index:05d}",
        "debtor": f"EW-{index % 50 + 1:04d}",
        "creditor": "NWC-UK",
        "number": f"SI-{index:06d}",
        "issue_date": issue.isoformat(),
        "delivery_date": issue.isoformat(),
        "due_date": (issue + dt.timedelta(days=30)).isoformat(),
        "currency": "GBP",
        "amount": f"{100 + index % 9000}.{index % 100:02d}",
        "contract_ref": f"FA-{index % 40:03d}",
        "interest_rate": "" if index % 3 else "8.5",
    }
    row.update(changes)
    return row


def write_csv(
    path: Path,
    rows: Sequence[dict[str, Any]],
    header: Sequence[str] | None = None,
    *,
    delimiter: str = ",",
    bom: bool = False,
) -> Path:
    header = list(header or rows[0].keys())
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(name, "") for name in header])
    return path


def write_xlsx(path: Path, header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def count(model: type) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def counts() -> dict[str, int]:
    """Rows of the tables an import may touch (inside an app context)."""
    return {
        "invoices": count(Invoice),
        "payments": count(Payment),
        "debtors": count(Debtor),
        "audit": count(AuditEntry),
    }


def import_audits() -> list[AuditEntry]:
    return db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.action == "ledger.import").order_by(AuditEntry.id)
    ).all()


__all__ = ["ACTOR"]
