"""Pages at scale: every page's median against the trivial route, and its SQL statement count
against the same page on a small data set, side by side in one run (issue 17, items 4 and 8).

    .venv/bin/python bench/scale.py [--cases 10000 --invoices 100000 --payments 12000]
                                    [--seed 17] [--reuse] [--repeat 15] [--small]

Generates a deterministic data set into PostgreSQL (schema by the migrations, rows by COPY):
creditors, ~cases/5 debtors in three jurisdictions, invoices in four currencies over three years
with some credit notes, payments allocated by the portal's own rule, cases (open, on hold,
closed; every stage; owners and lawyers; claimed invoices; next actions) and their timeline
events, users with known passwords. The same generator fills a second database with a small set
(1 % of the cases), so the statement counts of each page can be compared: a page whose count
grows with the data runs a query per row somewhere.

After what the job worker keeps current is refreshed (stored case figures, the day's aging), in
process (``app.test_client()``, signed in as in-house legal, a lawyer or an admin), each page is
requested ``--repeat`` times after two warm-ups, each time right after a request to the trivial
route, so both medians come from the same seconds of a shared machine: median, size, statements
per request. Targets (issue 17, item 4): every page's median ≤ 10 × ``/api/v1/health``'s;
statements per page on the large data set no more than on the small one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import statistics
import sys
import time
import traceback
from collections import Counter as Tally
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench"
#: Bumped whenever the generator's output changes, so ``--reuse`` regenerates.
GENERATOR_VERSION = 1
#: The data set's "today": every date is relative to it, so the data does not move with the clock.
ANCHOR = dt.date(2026, 12, 1)
#: Known passwords of the generated users (a throw-away bench database).
BENCH_PASSWORD = "bench-pass"  # noqa: S105 - bench credential, printed on purpose
LEGAL = "legal@arrears-demo.example"
LAWYER = "lawyer@arrears-demo.example"
ADMIN = "admin@arrears-demo.example"
TARGET_RATIO = 10.0


# --- the database ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """What a data set is made of; recorded in the database for ``--reuse``."""

    cases: int
    invoices: int
    payments: int
    seed: int

    @property
    def debtors(self) -> int:
        return max(20, self.cases // 5)

    def scaled(self, factor: float) -> Params:
        return Params(
            cases=max(1, round(self.cases * factor)),
            invoices=max(1, round(self.invoices * factor)),
            payments=max(1, round(self.payments * factor)),
            seed=self.seed,
        )

    def marker(self) -> str:
        return json.dumps(
            {**self.__dict__, "generator": GENERATOR_VERSION, "schema": schema_fingerprint()},
            sort_keys=True,
        )


def schema_fingerprint() -> str:
    """A hash of the migration files: a data set made under other migrations (a new one, or one
    edited while it is being written) is not reused."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _admin_dsn(url: str) -> tuple[str, str]:
    """A libpq DSN for the server's ``postgres`` database, and the bench database's name."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), parsed.database or "portal_bench"


def stored_marker(url: str) -> str | None:
    """The parameters recorded in the bench database, ``None`` when it or they are missing."""
    import psycopg

    dsn, name = _admin_dsn(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            return None
    from sqlalchemy.engine import make_url

    target = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(target, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('bench_dataset')").fetchone()[0] is None:
            return None
        row = conn.execute("SELECT params FROM bench_dataset").fetchone()
        return row[0] if row else None


def recreate_database(url: str) -> None:
    """Drop (ending its connections) and create the bench database."""
    import psycopg
    from psycopg import sql

    dsn, name = _admin_dsn(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def bench_folder(name: str) -> Path:
    """``bench/out/<name>``: the bench app's instance folder, file store and job queue."""
    folder = ROOT / "bench" / "out" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def bench_config(url: str, folder: Path) -> dict[str, Any]:
    """Settings of the in-process bench app (production's, but CSRF off for the test client)."""
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "JOBS_SQLITE_PATH": str(folder / "jobs.db"),
        "FILE_STORE_PATH": str(folder / "files"),
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        # A page that fails raises here, so its traceback can be printed.
        "PROPAGATE_EXCEPTIONS": True,
    }


def make_app(url: str, folder: Path):
    """The portal on ``url`` with the bench folder as its instance folder."""
    os.environ["PORTAL_INSTANCE_PATH"] = str(folder / "instance")
    from portal import create_app

    return create_app(bench_config(url, folder))


def prepare(url: str, params: Params, reuse: bool, label: str) -> tuple[Any, bool]:
    """The app on a database holding ``params``' data set (generated unless reused)."""
    marker = stored_marker(url) if reuse else None
    fresh = marker != params.marker()
    if fresh:
        if reuse:
            print(f"[{label}] no data set with these parameters in {url}; generating")
        recreate_database(url)
    app = make_app(url, bench_folder(label))
    with app.app_context():
        from flask_migrate import upgrade

        # On a reused database too: migrations added since the data was made are applied.
        upgrade()
    if fresh:
        started = time.perf_counter()
        counts = generate(app, params)
        made = ", ".join(f"{count:,} {name}" for name, count in counts.items())
        print(f"[{label}] generated in {time.perf_counter() - started:.1f} s: {made}")
    else:
        print(f"[{label}] reusing the data set in {url} ({params.marker()})")
    return app, fresh


# --- generation -----------------------------------------------------------------------------

CN_CITIES = ["杭州", "苏州", "深圳", "宁波", "成都", "青岛", "上海", "天津", "武汉", "南京"]
CN_WORDS = ["明远", "恒通", "华信", "港城", "天府", "海源", "金诚", "宏达", "永盛", "瑞丰"]
CN_TRADES = ["机电设备", "精密制造", "电子科技", "物流", "建材贸易", "食品", "化工", "纺织"]
EN_WORDS = [
    "Brackley",
    "Harrowgate",
    "Pennine",
    "Medway",
    "Severn",
    "Cotswold",
    "Calder",
    "Mersey",
    "Tamar",
    "Wensley",
    "Fenland",
    "Chiltern",
    "Solent",
    "Trent",
]
EN_TRADES = [
    "Engineering",
    "Fabrications",
    "Plastics",
    "Marine Supplies",
    "Foods",
    "Print & Pack",
    "Joinery",
    "Logistics",
    "Tooling",
    "Textiles",
]
US_WORDS = [
    "Lakeshore",
    "Prairie State",
    "Fox River",
    "Midwest",
    "Heartland",
    "Kankakee",
    "Sangamon",
    "Rock River",
    "Illini",
    "Great Lakes",
    "Wabash",
    "Des Plaines",
]
US_CITIES = [
    ("Chicago", "60607"),
    ("Springfield", "62701"),
    ("Aurora", "60505"),
    ("Peoria", "61604"),
    ("Joliet", "60432"),
    ("Rockford", "61101"),
]
#: Jurisdiction → (creditor code, main currency, typical invoice size, days to pay).
BILLING = {
    "cn": ("DH-CN", "CNY", 180_000, 60),
    "ew": ("NWC-UK", "GBP", 9_000, 30),
    "us": ("NWC-US", "USD", 14_000, 30),
}
EXTRA_CREDITOR = {
    "code": "NWC-US",
    "legal_name": "Northwind Components Inc.",
    "registration_id": "DE-5512093",
    "address": "311 S Wacker Dr, Suite 4000, Chicago, IL 60606",
    "jurisdiction": "us",
    "legal_representative": "Paul Brennan, President",
    "incorporation": "Delaware",
    "email": "ar@northwind-components.example",
    "phone": "(312) 555-0190",
    "bank_name": "JPMorgan Chase Bank, N.A.",
    "bank_account": "000123456789",
    "bank_code": "071000013",
}
NEXT_ACTIONS = [
    "Call the finance manager",
    "Chase the reconciliation reply",
    "Send the demand letter",
    "Check the promised payment arrived",
    "Review the dispute",
    "Prepare the claim form",
    "Ask counsel for advice",
]
STAGE_WEIGHTS = {
    "reconciliation": 35,
    "notice": 20,
    "warning": 15,
    "demand_letter": 20,
    "prosecution": 10,
}
OUTCOMES = ["paid", "settled", "payment_plan", "judgment", "written_off"]


def _spread(total: int, parts: int, rng: random.Random, low: float = 0.4) -> list[int]:
    """``total`` split into ``parts`` uneven, non-negative integers that add up exactly."""
    weights = [rng.uniform(low, 2 - low) for _ in range(parts)]
    whole = sum(weights)
    counts = [int(total * weight / whole) for weight in weights]
    for index in range(total - sum(counts)):
        counts[index % parts] += 1
    return counts


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


@dataclass
class Rows:
    """Rows per table, in insertion order."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.tables.setdefault(table, []).append(row)


def _debtor_row(number: int, jurisdiction: str, rng: random.Random) -> dict[str, Any]:
    individual = rng.random() < 0.12
    if jurisdiction == "cn":
        city = rng.choice(CN_CITIES)
        name = f"{city}{rng.choice(CN_WORDS)}{rng.choice(CN_TRADES)}有限公司"
        if individual:
            name = f"{rng.choice('王李张刘陈杨赵黄')}{rng.choice('建国明华伟芳')}（个体工商户）"
        address = f"{city}市{rng.choice(CN_WORDS)}路 {rng.randint(1, 999)} 号"
        registration = f"9133{number:014d}"
        extra = {"legal_representative": f"{rng.choice('周吴郑孙林何')}{rng.choice(CN_WORDS)}"}
    elif jurisdiction == "ew":
        surname = rng.choice(["Whitfield", "Ashworth", "Pryce", "Hollins", "Marsh"])
        name = f"{rng.choice(EN_WORDS)} {rng.choice(EN_TRADES)} Ltd"
        if individual:
            name = f"Thomas {surname} t/a {surname} {rng.choice(EN_TRADES)}"
        park = rng.choice(EN_WORDS)
        address = f"Unit {rng.randint(1, 40)}, {park} Park, Leeds LS{rng.randint(1, 28)} 7EE"
        registration = f"{number:08d}"
        extra = {"title": "Mr", "surname": surname} if individual else {}
    else:
        city, zip_code = rng.choice(US_CITIES)
        name = f"{rng.choice(US_WORDS)} {rng.choice(EN_TRADES)} LLC"
        if individual:
            name = f"Daniel Ortega d/b/a Ortega {rng.choice(EN_TRADES)}"
        address = f"{rng.randint(100, 9999)} W Main St, {city}, IL {zip_code}"
        registration = f"IL-LLC-{number:07d}"
        extra = {"title": "Mr", "surname": "Ortega"} if individual else {}
    return {
        "external_id": f"{jurisdiction.upper()}-{number:05d}",
        "name": name,
        "kind": "individual" if individual else "company",
        "registration_id": None if individual and jurisdiction != "cn" else registration,
        "address": address,
        "email": f"accounts{number}@debtor.example",
        "phone": None,
        "jurisdiction": jurisdiction,
        "legal_representative": None,
        "title": None,
        "surname": None,
        **extra,
    }


def build_rows(
    params: Params,
    creditors: dict[str, int],
    owners: Sequence[int],
    lawyers: dict[str, Sequence[int]],
) -> Rows:
    """Every generated row (ids given here), deterministic for ``params``."""
    rng = random.Random(params.seed)  # noqa: S311 - bench figures, not security
    rows = Rows()
    stamp = dt.datetime.combine(ANCHOR, dt.time(9), tzinfo=dt.UTC)
    jurisdictions = rng.choices(["cn", "ew", "us"], weights=[40, 35, 25], k=params.debtors)
    invoice_counts = _spread(params.invoices, params.debtors, rng)
    case_counts = _spread(params.cases, params.debtors, rng)
    payment_counts = _spread(params.payments, params.debtors, rng)
    invoice_id = payment_id = note_id = case_id = event_id = 0
    # Cases are numbered per year of opening once all are made (references sort by number).
    cases: list[dict[str, Any]] = []
    for index, jurisdiction in enumerate(jurisdictions):
        debtor_id = index + 1
        rows.add(
            "debtor",
            {
                "id": debtor_id,
                **_debtor_row(debtor_id, jurisdiction, rng),
                "created_at": stamp,
                "updated_at": stamp,
            },
        )
        code, currency, size, terms = BILLING[jurisdiction]
        mine: dict[str, list[dict[str, Any]]] = {}
        for number in range(invoice_counts[index]):
            invoice_id += 1
            issued = ANCHOR - dt.timedelta(days=rng.randint(5, 3 * 365))
            own_currency = "EUR" if jurisdiction == "ew" and rng.random() < 0.1 else currency
            amount = _money(rng.uniform(size / 4, size * 2))
            invoice = {
                "id": invoice_id,
                "external_id": f"{jurisdiction.upper()}-{debtor_id:05d}-INV-{number + 1:04d}",
                "debtor_id": debtor_id,
                "creditor_id": creditors[code],
                "number": f"{code.split('-')[0]}-{issued.year}-{invoice_id:06d}",
                "issue_date": issued,
                "delivery_date": issued - dt.timedelta(days=2),
                "due_date": issued + dt.timedelta(days=terms),
                "currency": own_currency,
                "amount": amount,
                "contract_ref": f"MSA-{debtor_id:05d}",
                "interest_rate": Decimal(8) if own_currency == "USD" and number % 10 == 0 else None,
                "created_at": stamp,
                "updated_at": stamp,
            }
            rows.add("invoice", invoice)
            mine.setdefault(own_currency, []).append(invoice)
            if rng.random() < 0.03:
                note_id += 1
                rows.add(
                    "credit_note",
                    {
                        "id": note_id,
                        "external_id": f"CN-{invoice['external_id']}",
                        "debtor_id": debtor_id,
                        "invoice_id": invoice_id,
                        "date": min(issued + dt.timedelta(days=rng.randint(5, 60)), ANCHOR),
                        "currency": own_currency,
                        "amount": _money(float(amount) * rng.uniform(0.05, 0.5)),
                        "created_at": stamp,
                        "updated_at": stamp,
                    },
                )
        for number in range(payment_counts[index]):
            payment_id += 1
            paid_on = ANCHOR - dt.timedelta(days=rng.randint(1, 3 * 365))
            named = None
            if mine.get(currency) and rng.random() < 0.3:
                named = rng.choice(mine[currency])["id"]
            rows.add(
                "payment",
                {
                    "id": payment_id,
                    "external_id": f"{jurisdiction.upper()}-{debtor_id:05d}-PAY-{number + 1:04d}",
                    "debtor_id": debtor_id,
                    "invoice_id": named,
                    "date": paid_on,
                    "currency": currency,
                    "amount": _money(rng.uniform(size / 5, size * 1.5)),
                    "created_at": stamp,
                    "updated_at": stamp,
                },
            )
        unclaimed = list(mine.get(currency) or next(iter(mine.values()), []))
        rng.shuffle(unclaimed)
        for _ in range(case_counts[index]):
            case_id += 1
            claimed = [unclaimed.pop() for _ in range(min(rng.randint(1, 6), len(unclaimed)))]
            claimed.sort(key=lambda invoice: invoice["due_date"])
            status = rng.choices(["open", "on_hold", "closed"], weights=[75, 8, 17])[0]
            stage = rng.choices(list(STAGE_WEIGHTS), weights=list(STAGE_WEIGHTS.values()))[0]
            oldest = claimed[0]["due_date"] if claimed else ANCHOR - dt.timedelta(days=400)
            opened = min(
                ANCHOR - dt.timedelta(days=2), oldest + dt.timedelta(days=rng.randint(30, 200))
            )
            lawyer_id = rng.choice(lawyers[jurisdiction]) if rng.random() < 0.55 else None
            case = {
                "id": case_id,
                "reference": "",
                "creditor_id": creditors[code],
                "debtor_id": debtor_id,
                "owner_id": rng.choice(owners),
                "lawyer_id": lawyer_id,
                "jurisdiction": jurisdiction,
                "stage": stage,
                "status": status,
                "currency": claimed[0]["currency"] if claimed else None,
                "outcome": None,
                "recovered_amount": None,
                "costs": None,
                "closed_on": None,
                "next_action": None,
                "next_action_due": None,
                "route": "litigation" if stage == "prosecution" and rng.random() < 0.5 else None,
                "agreement_form": None,
                "agreement_date": None,
                "agreement_parties": None,
                "agreement_terms": None,
                "fees_clause": False,
                "version": 1,
                "created_at": dt.datetime.combine(opened, dt.time(10), tzinfo=dt.UTC),
                "updated_at": None,
            }
            if status == "closed":
                closed_on = min(ANCHOR, opened + dt.timedelta(days=rng.randint(20, 300)))
                total = sum((invoice["amount"] for invoice in claimed), Decimal(0))
                case.update(
                    outcome=rng.choice(OUTCOMES),
                    closed_on=closed_on,
                    recovered_amount=_money(float(total) * rng.uniform(0, 1)),
                )
            elif rng.random() < 0.6:
                case.update(
                    next_action=rng.choice(NEXT_ACTIONS),
                    next_action_due=ANCHOR + dt.timedelta(days=rng.randint(-30, 30)),
                )
            if rng.random() < 0.2:
                case.update(
                    agreement_form="written",
                    agreement_date=opened - dt.timedelta(days=700),
                    agreement_parties=f"{code} and debtor {debtor_id}",
                )
            for invoice in claimed:
                rows.add("case_invoice", {"case_id": case_id, "invoice_id": invoice["id"]})
            last = opened
            start = opened + dt.timedelta(days=1)
            events = [
                (
                    "reconciliation_sent",
                    start,
                    {
                        "courier": "SF Express" if code == "DH-CN" else "Royal Mail",
                        "tracking": f"RS{case_id:07d}",
                    },
                    start + dt.timedelta(days=30),
                )
            ]
            if rng.random() < 0.6:
                events.append(
                    (
                        "contact",
                        start + dt.timedelta(days=7),
                        {"channel": "phone", "summary": "Called the finance manager."},
                        None,
                    )
                )
            if rng.random() < 0.3:
                events.append(
                    ("promise", start + dt.timedelta(days=10), {}, start + dt.timedelta(days=24))
                )
            if rng.random() < 0.2:
                events.append(
                    (
                        "note",
                        start + dt.timedelta(days=12),
                        {"text": "Debtor asked for copies of the invoices."},
                        None,
                    )
                )
            for kind, date, details, due in events:
                if date > ANCHOR:
                    continue
                event_id += 1
                last = max(last, date)
                promise = kind == "promise" and case["currency"] is not None
                rows.add(
                    "case_event",
                    {
                        "id": event_id,
                        "case_id": case_id,
                        "type": kind if kind != "promise" or promise else "note",
                        "date": date,
                        "due": due if kind != "promise" or promise else None,
                        "delivered_on": None,
                        "amount": Decimal(1000) if promise else None,
                        "currency": case["currency"] if promise else None,
                        "details": details
                        if kind != "promise" or promise
                        else {"text": "Promise."},
                        "created_by_id": case["owner_id"],
                        "created_at": dt.datetime.combine(date, dt.time(11), tzinfo=dt.UTC),
                    },
                )
            case["updated_at"] = dt.datetime.combine(last, dt.time(12), tzinfo=dt.UTC)
            cases.append(case)
    per_year: dict[int, int] = {}
    for case in sorted(cases, key=lambda case: (case["created_at"], case["id"])):
        year = case["created_at"].year
        per_year[year] = per_year.get(year, 0) + 1
        # next_reference() reads max(reference) as text: beyond 9999 a year it would repeat one.
        assert per_year[year] <= 9999, "more than 9,999 cases opened in one year"
        case["reference"] = f"AC-{year}-{per_year[year]:04d}"
    rows.tables["case"] = cases
    return rows


def copy_rows(connection, table, rows: Iterable[dict[str, Any]], dialect) -> int:
    """COPY ``rows`` into ``table`` (a SQLAlchemy Table), values through the columns' types."""
    rows = list(rows)
    if not rows:
        return 0
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    processors = [column.type.bind_processor(dialect) for column in columns]
    quoted = ", ".join(f'"{name}"' for name in names)
    with connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                values = [row[name] for name in names]
                values = [
                    value if process is None or value is None else process(value)
                    for value, process in zip(values, processors, strict=True)
                ]
                # JSON columns: COPY takes their text.
                copy.write_row(
                    [
                        json.dumps(value) if isinstance(value, dict | list) else value
                        for value in values
                    ]
                )
    return len(rows)


def _users(actor) -> tuple[list[int], dict[str, list[int]], dict[str, int]]:
    """The demo users (their passwords) plus more legal users and lawyers (``BENCH_PASSWORD``)."""
    from portal.accounts.models import User
    from portal.accounts.services import hash_password
    from portal.extensions import db
    from portal.security import Role
    from portal.seed import DEMO_USERS

    hashes: dict[str, str] = {}
    made: dict[str, User] = {}
    specs = [dict(spec) for spec in DEMO_USERS]
    for number in range(1, 5):
        specs.append(
            {
                "email": f"legal{number}@bench.example",
                "role": "legal",
                "name": f"Legal {number}",
                "password": BENCH_PASSWORD,
            }
        )
    for jurisdiction in ("cn", "ew", "us"):
        for number in range(1, 4):
            specs.append(
                {
                    "email": f"lawyer{number}.{jurisdiction}@bench.example",
                    "role": "lawyer",
                    "name": f"Counsel {number} ({jurisdiction})",
                    "password": BENCH_PASSWORD,
                    "firm": f"Bench Chambers {jurisdiction.upper()}",
                    "licence_number": f"L-{number}",
                    "firm_address": "1 Bench Street",
                    "phone": "+1 312 555 0100",
                    "attorney_code": "99001",
                }
            )
    for spec in specs:
        password = spec.pop("password")
        if password not in hashes:
            hashes[password] = hash_password(password)  # argon2id: once per distinct password
        user = User(password_hash=hashes[password], **{**spec, "role": Role(spec["role"])})
        db.session.add(user)
        made[user.email] = user
    db.session.flush()
    owners = [user.id for user in made.values() if user.role is Role.LEGAL]
    lawyers: dict[str, list[int]] = {"cn": [], "ew": [], "us": []}
    for email, user in made.items():
        if user.role is Role.LAWYER:
            where = email.split("@")[0].split(".")[-1] if "bench" in email else None
            where = (
                where or {"lawyer": "ew", "lawyer.cn": "cn", "lawyer.us": "us"}[email.split("@")[0]]
            )
            lawyers[where].append(user.id)
    return owners, lawyers, {email: user.id for email, user in made.items()}


def generate(app, params: Params) -> dict[str, int]:
    """Fill the (migrated, empty) database with ``params``' data set; counts per table."""
    from sqlalchemy import select, text

    from portal.audit.services import Actor
    from portal.extensions import db
    from portal.ledger import rates
    from portal.ledger.allocation import reallocate_many
    from portal.ledger.models import CreditorEntity, Payment
    from portal.ledger.services import save_creditor
    from portal.seed import DEMO_CREDITORS

    actor = Actor(user=None, label="bench-scale")
    counts: dict[str, int] = {}
    with app.app_context():
        owners, lawyers, _ = _users(actor)
        for spec in [*DEMO_CREDITORS, EXTRA_CREDITOR]:
            save_creditor(actor, None, spec)
        rates.load_file(actor)
        for kind in rates.KINDS:
            try:
                rates.confirm(actor, kind, ANCHOR, "bench: the packaged rate file")
            except Exception as error:  # a kind with no row in force: left unconfirmed
                print(f"  rate {kind} not confirmed: {error}")
        creditors = dict(db.session.execute(select(CreditorEntity.code, CreditorEntity.id)).all())
        db.session.commit()
        started = time.perf_counter()
        rows = build_rows(params, creditors, owners, lawyers)
        print(f"  rows built in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        tables = db.metadata.tables
        raw = db.engine.raw_connection()
        try:
            for name in (
                "debtor",
                "invoice",
                "credit_note",
                "payment",
                "case",
                "case_invoice",
                "case_event",
            ):
                counts[name] = copy_rows(
                    raw.driver_connection,
                    tables[name],
                    rows.tables.get(name, []),
                    db.engine.dialect,
                )
            raw.driver_connection.commit()
        finally:
            raw.close()
        for name in ("debtor", "invoice", "credit_note", "payment", "case", "case_event"):
            db.session.execute(
                text(
                    # Our own table names, not input.
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "  # noqa: S608
                    f'(SELECT coalesce(max(id), 0) + 1 FROM "{name}"), false)'
                )
            )
        if db.session.scalar(text("SELECT to_regclass('case_reference_sequence')")) is not None:
            # Each year's reference counter, as migration 0015 sets it from existing cases.
            db.session.execute(
                text(
                    "INSERT INTO case_reference_sequence (year, last) "
                    "SELECT CAST(substr(reference, 4, 4) AS INTEGER), "
                    'MAX(CAST(substr(reference, 9) AS INTEGER)) FROM "case" '
                    "GROUP BY 1 ON CONFLICT (year) DO UPDATE SET last = excluded.last"
                )
            )
        db.session.commit()
        print(f"  COPY in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        # Allocations by the portal's own rule, as an import would leave them.
        reallocate_many(db.session.execute(select(Payment.debtor_id, Payment.currency)).all())
        db.session.commit()
        counts["payment_allocation"] = db.session.scalar(
            text("SELECT count(*) FROM payment_allocation")
        )
        print(f"  allocations in {time.perf_counter() - started:.1f} s")
        db.session.execute(text("ANALYZE"))
        db.session.execute(text("CREATE TABLE bench_dataset (params text NOT NULL)"))
        db.session.execute(text("INSERT INTO bench_dataset VALUES (:p)"), {"p": params.marker()})
        db.session.commit()
    return counts


def refresh_figures(app, label: str) -> float | None:
    """Run ``flask cases refresh-figures`` in-process if it exists; its seconds."""
    group = app.cli.commands.get("cases")
    commands = getattr(group, "commands", {})
    if "refresh-figures" not in commands:
        print(f"[{label}] flask cases refresh-figures: not there yet, skipped")
        return None
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["cases", "refresh-figures"])
    seconds = time.perf_counter() - started
    if result.exit_code != 0:
        print(
            f"[{label}] flask cases refresh-figures FAILED ({result.exit_code}):\n{result.output}"
        )
        if result.exception is not None:
            traceback.print_exception(result.exception)
    else:
        print(f"[{label}] flask cases refresh-figures: {seconds:.1f} s")
    return seconds


def refresh_aging(app, label: str) -> float | None:
    """Store the day's debtor aging as the worker does every day (``refresh_if_due``), if the
    portal has a stored aging; its seconds."""
    try:
        from portal.ledger.aging import refresh_if_due
    except ImportError:
        print(f"[{label}] stored aging: not there yet, skipped")
        return None
    from portal.business_time import today as business_today
    from portal.extensions import db

    started = time.perf_counter()
    with app.app_context():
        ran = refresh_if_due(business_today())
        db.session.commit()
    seconds = time.perf_counter() - started
    done = "stored" if ran else "already stored"
    print(f"[{label}] the day's debtor aging {done}: {seconds:.1f} s")
    return seconds


def refresh_stored(app, label: str) -> None:
    """What the worker keeps current: the stored case figures and the day's debtor aging; then
    the planner's statistics, as autovacuum would gather them on a database in service (freshly
    loaded tables have none, and the plans then read every row)."""
    refresh_figures(app, label)
    refresh_aging(app, label)
    from sqlalchemy import text

    from portal.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
            print(f"[{label}] ANALYZE done")


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Page:
    """One thing to request: who asks, the URL, and whether it is an API call."""

    name: str
    url: str
    who: str = LEGAL
    api: bool = False


@dataclass
class Measure:
    page: Page
    median_ms: float = float("nan")
    statements: int = -1
    size: int = 0
    status: int = 0
    rows: int | None = None
    error: str | None = None
    #: The last request's statements.
    sql: list[str] = field(default_factory=list)
    #: The trivial route's median, measured in turn with this page's requests.
    trivial_ms: float = float("nan")


class Counter:
    """SQL statements sent through the engine (``before_cursor_execute``)."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.count = 0
        #: The statements' text (whitespace collapsed), to show what a larger count adds.
        self.seen: list[str] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement: str, *args: Any) -> None:
        self.count += 1
        self.seen.append(" ".join(statement.split()))


def samples(app) -> dict[str, Any]:
    """The ids the pages are requested with: an open case of the demo lawyer with the most
    invoices (the heaviest ordinary case page), a debtor with the most invoices."""
    from sqlalchemy import func, select

    from portal.accounts.models import User
    from portal.cases.models import Case, CaseStatus, case_invoice
    from portal.extensions import db
    from portal.ledger.models import Debtor, Invoice

    with app.app_context():
        lawyer = db.session.scalar(select(User.id).where(User.email == LAWYER))
        heaviest = (
            select(Case.id)
            .join(case_invoice, case_invoice.c.case_id == Case.id)
            .where(Case.status == CaseStatus.OPEN)
            .group_by(Case.id)
            .order_by(func.count().desc(), Case.id)
            .limit(1)
        )
        case_id = db.session.scalar(heaviest.where(Case.lawyer_id == lawyer))
        case_id = case_id or db.session.scalar(heaviest)
        debtor = db.session.scalar(
            select(Debtor.external_id)
            .join(Invoice, Invoice.debtor_id == Debtor.id)
            .group_by(Debtor.id)
            .order_by(func.count().desc(), Debtor.id)
            .limit(1)
        )
        some = db.session.scalars(select(Case.id).order_by(Case.id).limit(5)).all()
    return {"case": case_id, "debtor": debtor, "cases": some}


def pages(sample: dict[str, Any], sorts: Sequence[str]) -> list[Page]:
    """Every page measured (the trivial route first)."""
    case, debtor = sample["case"], sample["debtor"]
    listed = [Page(f"case list ?{query}", f"/cases/?{query}") for query in sorts]
    return [
        Page("trivial /api/v1/health", "/api/v1/health", who=""),
        Page("dashboard (legal)", "/"),
        Page("dashboard (lawyer)", "/", who=LAWYER),
        Page("aging report", "/ledger/aging"),
        Page("aging CSV (every row)", "/ledger/aging.csv"),
        Page("case list", "/cases/"),
        *listed,
        Page("case list, overdue open", "/cases/?status=open&due=overdue"),
        Page("case list (lawyer)", "/cases/", who=LAWYER),
        Page("case page", f"/cases/{case}"),
        Page("debtor list", "/ledger/debtors"),
        Page("debtor page", f"/ledger/debtors/{debtor}"),
        Page("audit list (admin)", "/admin/audit/", who=ADMIN),
        Page("API case", f"/api/v1/cases/{case}", api=True),
        Page("API case list", "/api/v1/cases", api=True),
        Page("API aging", "/api/v1/aging", api=True),
    ]


class Session:
    """Test clients signed in as each user, and a bearer token for the API (legal user)."""

    def __init__(self, app) -> None:
        self.app = app
        self.clients: dict[str, Any] = {"": app.test_client()}
        self.token = ""

    def client(self, who: str):
        if who not in self.clients:
            client = self.app.test_client()
            password = BENCH_PASSWORD if "bench.example" in who else _demo_password(who)
            answer = client.post("/login", data={"email": who, "password": password})
            if answer.status_code != 302:
                raise RuntimeError(f"sign-in as {who} answered {answer.status_code}")
            self.clients[who] = client
        return self.clients[who]

    def bearer(self) -> dict[str, str]:
        if not self.token:
            self.token = api_token(self.app, LEGAL)
        return {"Authorization": f"Bearer {self.token}"}


def _demo_password(email: str) -> str:
    from portal.seed import DEMO_USERS

    return next(spec["password"] for spec in DEMO_USERS if spec["email"] == email)


def api_token(app, email: str) -> str:
    """A new API token for ``email`` (committed)."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.accounts.services import create_token
    from portal.audit.services import Actor
    from portal.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        _token, plain = create_token(Actor(user=None, label="bench"), user, "bench")
        db.session.commit()
    return plain


def request(session: Session, page: Page, counter: Counter) -> tuple[float, int, int, bytes]:
    """One request: seconds (the whole body read), statements, status, body."""
    client = session.client(page.who)
    headers = session.bearer() if page.api else {}
    before = counter.count
    counter.seen = []
    started = time.perf_counter()
    answer = client.get(page.url, headers=headers)
    body = answer.get_data()
    seconds = time.perf_counter() - started
    return seconds, counter.count - before, answer.status_code, body


def measure(app, page_list: Sequence[Page], repeat: int, label: str) -> list[Measure]:
    """Each page ``repeat`` times after two warm-ups: median, statements, size. Each page
    request is paired with a trivial-route request, so the page's ratio compares medians taken
    in the same seconds (the shared machine's load comes and goes)."""
    from portal.extensions import db

    with app.app_context():
        counter = Counter(db.engine)
    session = Session(app)
    trivial = page_list[0]
    results = []
    for page in page_list:
        result = Measure(page)
        results.append(result)
        try:
            times, counts, beside = [], [], []
            for round_ in range(repeat + 2):
                if page is not trivial:
                    beside.append(request(session, trivial, counter)[0])
                seconds, statements, status, body = request(session, page, counter)
                result.status = status
                if status not in (200, 503) or (status == 503 and page.who):
                    result.error = f"HTTP {status}: {body[:200]!r}"
                    break
                if round_ >= 2:
                    times.append(seconds)
                    counts.append(statements)
            else:
                result.median_ms = statistics.median(times) * 1000 if times else float("nan")
                beside = beside[2:] or times
                result.trivial_ms = statistics.median(beside) * 1000 if beside else float("nan")
                result.statements = max(counts, default=statements)
                result.sql = counter.seen
                result.size = len(body)
                if page.url.endswith(".csv"):
                    result.rows = body.count(b"\r\n") - 1
        except Exception as error:
            frames = traceback.extract_tb(error.__traceback__)[-4:]
            where = "; ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames)
            result.error = f"{type(error).__name__}: {error} [{where}]"
            traceback.print_exception(error)
        timing = (
            f"{result.median_ms:.0f} ms (trivial beside it {result.trivial_ms:.1f} ms)"
            if repeat
            else f"HTTP {result.status}"
        )
        shown = result.error or f"{timing}, {result.statements} statements"
        print(f"  [{label}] {page.name}: {shown}", flush=True)
    return results


def check_sample(app, sample: dict[str, Any]) -> list[str]:
    """A few case pages and API cases answer 200 on the generated data (problems, if any)."""
    page_list = [Page(f"case page {case}", f"/cases/{case}") for case in sample["cases"]]
    page_list += [
        Page(f"API case {case}", f"/api/v1/cases/{case}", api=True) for case in sample["cases"]
    ]
    return [
        f"{result.page.name}: {result.error}"
        for result in measure(app, page_list, 0, "check")
        if result.error
    ]


# --- the report -----------------------------------------------------------------------------


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"


def added(small: Measure, large: Measure) -> list[str]:
    """The statements the large data set's request sent beyond the small one's (shortened;
    compared as multisets, since the order of a page's queries may differ with the data)."""
    extra = Tally(_shape(text) for text in large.sql) - Tally(_shape(text) for text in small.sql)
    return [
        f"{count} × {text if len(text) <= 130 else text[:127] + '...'}"
        for text, count in extra.items()
    ]


def _shape(statement: str) -> str:
    """A statement with its IN lists' length left out (selectin loads batch their keys)."""
    return re.sub(r"IN \((?:[^()]|\([^()]*\))*\)", "IN (...)", statement)


def _ratio(result: Measure) -> float:
    return result.median_ms / result.trivial_ms


def table(large: list[Measure], small: list[Measure]) -> list[str]:
    """The target rows: page, median, the trivial route beside it, the ratio, statements
    small → large, size."""
    by_name = {result.page.name: result for result in small}
    head = (
        f"{'page':<38} {'median ms':>9} {'trivial ms':>10} {'× trivial':>9} {'target':>6} "
        f"{'':<6} {'statements small→large':>22} {'':<6} {'size':>8}"
    )
    lines = [head, "-" * len(head)]
    for result in large:
        other = by_name.get(result.page.name)
        if result.error:
            lines.append(f"{result.page.name:<38} FAILED {result.error[:300]}")
            continue
        is_trivial = result is large[0]
        ratio = 1.0 if is_trivial else _ratio(result)
        ratio_ok = "" if is_trivial else ("OK" if ratio <= TARGET_RATIO else "MISSED")
        small_count = other.statements if other and not other.error else None
        same = (
            "" if small_count is None else ("OK" if result.statements <= small_count else "MISSED")
        )
        counts = f"{'?' if small_count is None else small_count} → {result.statements}"
        extra = f", {result.rows:,} rows" if result.rows is not None else ""
        lines.append(
            f"{result.page.name:<38} {result.median_ms:>9.1f} {result.trivial_ms:>10.1f} "
            f"{ratio:>9.1f} {'' if is_trivial else '≤ 10×':>6} {ratio_ok:<6} {counts:>22} "
            f"{same:<6} {_size(result.size):>8}{extra}"
        )
        if same == "MISSED":
            lines.extend(f"    more on the large data set: {text}" for text in added(other, result))
    return lines


def summary(large: list[Measure], small: list[Measure]) -> tuple[int, int]:
    """(targets met, targets in all) over both kinds of target."""
    by_name = {result.page.name: result for result in small}
    met = total = 0
    for result in large[1:]:
        total += 2
        if result.error:
            continue
        met += _ratio(result) <= TARGET_RATIO
        other = by_name.get(result.page.name)
        met += bool(other and not other.error and result.statements <= other.statements)
    return met, total


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--small-database-url",
        default=None,
        help="the small data set's database (default: <database>_small)",
    )
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--payments", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--small-factor",
        type=float,
        default=0.01,
        help="the small data set's size against the large one (default 1 %%)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep a database that already holds the same data set"
    )
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per page")
    parser.add_argument(
        "--small",
        action="store_true",
        help="time the small data set as fully as the large (its own table)",
    )
    parser.add_argument(
        "--sorts",
        default="sort=reference;sort=outstanding&dir=desc;sort=next;sort=debtor",
        help="case list sort queries to measure (semicolon-separated)",
    )
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args(argv)

    params = Params(args.cases, args.invoices, args.payments, args.seed)
    small_params = params.scaled(args.small_factor)
    small_url = args.small_database_url or f"{args.database_url}_small"
    print(
        f"bench/scale.py on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}; "
        f"large {params}, small {small_params}"
    )
    started = time.perf_counter()
    app, _ = prepare(args.database_url, params, args.reuse, "large")
    small_app, _ = prepare(small_url, small_params, args.reuse, "small")
    print(f"data sets ready in {time.perf_counter() - started:.1f} s")
    refresh_stored(app, "large")
    refresh_stored(small_app, "small")
    if args.generate_only:
        return 0

    problems = check_sample(app, samples(app))
    for problem in problems:
        print(f"  DATA CHECK FAILED: {problem}")
    sorts = [query for query in args.sorts.split(";") if query]
    large = measure(app, pages(samples(app), sorts), args.repeat, "large")
    small = measure(
        small_app, pages(samples(small_app), sorts), args.repeat if args.small else 1, "small"
    )

    print()
    print(
        f"Scale: {params.cases:,} cases, {params.invoices:,} invoices, {params.payments:,} "
        f"payments (small: {small_params.cases:,} / {small_params.invoices:,} / "
        f"{small_params.payments:,}); PostgreSQL; in-process test client; medians of "
        f"{args.repeat} after 2 warm-ups; {os.cpu_count()} cores"
    )
    print("\n".join(table(large, small)))
    if args.small:
        print("\nSmall data set, timed the same way:")
        print("\n".join(table(small, small)))
    met, total = summary(large, small)
    print(
        f"\nTargets met: {met} of {total} (ratio ≤ {TARGET_RATIO:g} × trivial; statements "
        "on the large data set no more than on the small)"
    )
    if problems:
        print(f"Data check: {len(problems)} sample request(s) failed (see above)")
    return 0 if met == total and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
