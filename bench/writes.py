"""Write paths on PostgreSQL: invoice PUTs with one and four clients, the 10,001st case of a year.

    .venv/bin/python bench/writes.py [--database-url URL] [--invoices 100000] [--requests 600]

In one run, on a database this script creates and drops (``--keep`` keeps it):

* **seed** — 10 creditors' worth of ledger made with bulk SQL (deterministic: ``generate_series``):
  ``--debtors`` debtors, ``--invoices`` invoices spread over them, a payment on every second
  invoice, and 10,000 cases of this year (``AC-<year>-0001`` … ``AC-<year>-10000``);
* **serve** — gunicorn -w 4 with the production settings (``gunicorn.conf.py``);
* **PUT** — ``PUT /api/v1/invoices/<id>`` with an API token: ``--requests`` new invoices on
  existing debtors (each request one row, re-allocating its debtor's payments and auditing it),
  once from one client and once from four clients side by side (different invoices);
* **10,001st case** — ``POST /api/v1/cases`` once: the reference must be ``AC-<year>-10001``;
* **chain** — the audit trail still verifies after the parallel writes.

Targets (issue 17, item 5): invoice PUTs ≥ 300 rows/s with 4 clients; the 10,001st case of a
year opens. Each target is printed as ``name  measured  target  OK/MISSED``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_writes"
PUT_TARGET = 300.0


@dataclass(frozen=True)
class Row:
    """One printed line: what was measured against its target."""

    name: str
    measured: str
    target: str
    ok: bool | None  # None: shown for comparison, no target

    def line(self) -> str:
        verdict = "" if self.ok is None else ("OK" if self.ok else "MISSED")
        return f"{self.name:<34} {self.measured:>18}  {self.target:<22} {verdict}"


def _admin_engine(url):
    from sqlalchemy import create_engine

    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def create_database(url) -> None:
    """A fresh, empty database named by ``url`` (dropped first if it is there)."""
    from sqlalchemy import text

    engine = _admin_engine(url)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    engine.dispose()


def drop_database(url) -> None:
    from sqlalchemy import text

    engine = _admin_engine(url)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    engine.dispose()


SEED = [
    """INSERT INTO creditor_entity (code, legal_name, registration_id, address, jurisdiction,
           created_at, updated_at)
       VALUES ('BENCH', 'Bench Creditor Ltd', '01234567', '1 Bench Street, Leeds', 'ew',
           now(), now())""",
    """INSERT INTO debtor (external_id, name, kind, registration_id, address, jurisdiction,
           created_at, updated_at)
       SELECT 'D-' || lpad(g::text, 6, '0'), 'Bench Debtor ' || g || ' Ltd', 'company',
           (20000000 + g)::text, g || ' Market Street, Leeds', 'ew', now(), now()
       FROM generate_series(1, :debtors) AS g""",
    # Invoice g belongs to debtor (g mod debtors) + 1; amounts 100.00 … 1099.00 (scaled by 10^4).
    """INSERT INTO invoice (external_id, debtor_id, creditor_id, number, issue_date, due_date,
           currency, amount, created_at, updated_at)
       SELECT 'I-' || lpad(g::text, 7, '0'), d.id, c.id, 'INV-' || lpad(g::text, 7, '0'),
           DATE '2025-01-01' + (g % 300), DATE '2025-01-31' + (g % 300), 'GBP',
           (100 + g % 1000) * 10000, now(), now()
       FROM generate_series(1, :invoices) AS g
       JOIN debtor AS d ON d.external_id = 'D-' || lpad((g % :debtors + 1)::text, 6, '0')
       CROSS JOIN creditor_entity AS c""",
    # A payment of half its amount on every second invoice.
    """INSERT INTO payment (external_id, debtor_id, invoice_id, date, currency, amount,
           created_at, updated_at)
       SELECT 'P-' || i.external_id, i.debtor_id, i.id, i.due_date, 'GBP', i.amount / 2,
           now(), now()
       FROM invoice AS i WHERE i.id % 2 = 0""",
    """INSERT INTO payment_allocation (payment_id, invoice_id, amount)
       SELECT p.id, p.invoice_id, p.amount FROM payment AS p""",
    # 10,000 cases of this year, one per debtor in turn: AC-<year>-0001 … AC-<year>-10000.
    """INSERT INTO "case" (reference, creditor_id, debtor_id, owner_id, jurisdiction, stage,
           status, fees_clause, version, created_at, updated_at)
       SELECT 'AC-' || :year || '-' || lpad(g::text, greatest(4, length(g::text)), '0'), c.id,
           d.id, u.id, 'ew',
           'reconciliation', 'open', false, 1, now(), now()
       FROM generate_series(1, 10000) AS g
       JOIN debtor AS d ON d.external_id = 'D-' || lpad((g % :debtors + 1)::text, 6, '0')
       CROSS JOIN creditor_entity AS c
       JOIN "user" AS u ON u.email = :owner""",
]


def seed(app, debtors: int, invoices: int) -> str:
    """The bench's ledger and cases; returns the legal user's API token."""
    from sqlalchemy import text

    from portal.accounts.services import create_token, create_user
    from portal.audit.services import Actor
    from portal.db import utcnow
    from portal.extensions import db

    with app.app_context():
        actor = Actor(user=None, label="bench")
        password = "Bench-writes-2026!"  # noqa: S105 (a throw-away account on a throw-away database)
        user = create_user(actor, email="legal@bench.example", role="legal", password=password)
        _token, plain = create_token(actor, user, "bench")
        db.session.commit()
        params = {
            "debtors": debtors,
            "invoices": invoices,
            "year": str(utcnow().year),
            "owner": "legal@bench.example",
        }
        for statement in SEED:
            db.session.execute(text(statement), params)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
        return plain


def free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def start_gunicorn(env: dict[str, str], folder: Path, workers: int = 4):
    """gunicorn -w ``workers`` with ``gunicorn.conf.py``; (process, port) once it answers."""
    port = free_port()
    log = (folder / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", str(ROOT / "gunicorn.conf.py"),
         "-w", str(workers), "-b", f"127.0.0.1:{port}", "portal:create_app()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    deadline = time.monotonic() + 60
    while True:
        try:
            status, _ = request(port, "GET", "/api/v1/health", None, {})
            if status:
                return process, port
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / "gunicorn.log").read_text()) from None
            time.sleep(0.2)


def request(port: int, method: str, path: str, body, headers) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        data = None if body is None else json.dumps(body).encode()
        connection.request(
            method, path, body=data, headers={**headers, "Content-Type": "application/json"}
        )
        answer = connection.getresponse()
        raw = answer.read()
        return answer.status, json.loads(raw) if raw else {}
    finally:
        connection.close()


def server_cpu(master: int) -> float:
    """CPU seconds the gunicorn workers (children of ``master``) have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == master:  # ppid; utime and stime follow at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def invoice_body(n: int, debtors: int) -> dict:
    """New invoice ``n`` (numbers above the seed's), on debtor ``n mod debtors + 1``."""
    day = 1 + n % 28
    return {
        "debtor": f"D-{n % debtors + 1:06d}",
        "creditor": "BENCH",
        "number": f"new-{n:07d}",
        "issue_date": f"2026-03-{day:02d}",
        "due_date": f"2026-04-{day:02d}",
        "currency": "GBP",
        "amount": f"{200 + n % 500}.50",
    }


def put_invoices(port: int, token: str, numbers: list[int], clients: int, debtors: int):
    """PUT one new invoice per number from ``clients`` threads; (seconds, failures)."""
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    shares = [numbers[k::clients] for k in range(clients)]

    def client(share: list[int]) -> None:
        for n in share:
            status, answer = request(
                port, "PUT", f"/api/v1/invoices/BW-{n:07d}", invoice_body(n, debtors), headers
            )
            if status != 201:
                failures.append(f"{status} {answer}")

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, failures


def measure(
    database_url: str = DEFAULT_URL,
    *,
    debtors: int = 10_000,
    invoices: int = 100_000,
    requests: int = 600,
    keep: bool = False,
) -> list[Row]:
    """Seed, serve, measure; the target rows (the database is dropped unless ``keep``)."""
    from sqlalchemy.engine import make_url

    from portal import create_app
    from portal.db import utcnow

    url = make_url(database_url)
    work = Path(tempfile.mkdtemp(prefix="bench-writes-"))
    settings = {
        "SECRET_KEY": "bench-writes",
        "DATABASE_URL": database_url,
        "JOBS_SQLITE_PATH": str(work / "jobs.db"),
        "FILE_STORE_PATH": str(work / "files"),
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    os.environ["PORTAL_INSTANCE_PATH"] = str(work / "instance")
    env = {**os.environ, **{f"PORTAL_{key}": value for key, value in settings.items()}}
    env["PORTAL_SESSION_COOKIE_SECURE"] = "false"
    env["PYTHONPATH"] = str(ROOT)

    create_database(url)
    process = None
    try:
        app = create_app(settings)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(directory=str(ROOT / "migrations"))
        print(f"bench/writes: seeding {invoices} invoices, {debtors} debtors …", flush=True)
        started = time.perf_counter()
        token = seed(app, debtors, invoices)
        print(f"bench/writes: seeded in {time.perf_counter() - started:.1f} s", flush=True)
        from portal.extensions import db

        with app.app_context():
            db.engine.dispose()

        process, port = start_gunicorn(env, work)
        # Warm-up: each worker's first requests import and compile what the rest reuse.
        warm, _ = put_invoices(port, token, list(range(1, 41)), 4, debtors)
        first = 1000
        one_s, one_fail = put_invoices(
            port, token, list(range(first, first + requests)), 1, debtors
        )
        first += requests
        load = os.getloadavg()[0]
        cpu_before = server_cpu(process.pid)
        four_s, four_fail = put_invoices(
            port, token, list(range(first, first + requests)), 4, debtors
        )
        cpu_per_put = (server_cpu(process.pid) - cpu_before) / requests
        status, answer = request(
            port,
            "POST",
            "/api/v1/cases",
            {"debtor": "D-000002", "invoices": ["BW-0000001"]},
            {"Authorization": f"Bearer {token}"},
        )
        with app.app_context():
            from portal.audit.services import verify_chain

            entries, broken = verify_chain()
            db.engine.dispose()
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=60)
        if not keep:
            drop_database(url)

    one_rate = requests / one_s
    four_rate = requests / four_s
    expected = f"AC-{utcnow().year}-10001"
    got = answer.get("reference") if status == 201 else f"{status} {answer}"[:60]
    return [
        Row(
            "invoice PUT, 1 client",
            f"{one_rate:.0f} rows/s",
            f"({len(one_fail)} failed)",
            None if not one_fail else False,
        ),
        Row(
            "invoice PUT, 4 clients",
            f"{four_rate:.0f} rows/s",
            f">= {PUT_TARGET:.0f} rows/s",
            four_rate >= PUT_TARGET and not four_fail,
        ),
        Row("4 clients / 1 client", f"{four_rate / one_rate:.2f} x", "", None),
        Row("app CPU per PUT (4 clients)", f"{1000 * cpu_per_put:.1f} ms", "(gunicorn)", None),
        Row(
            "machine load (1 min), cores",
            f"{load:.1f}",
            f"{os.cpu_count()} cores, shared",
            None,
        ),
        Row("10,001st case of the year", str(got), expected, got == expected),
        Row(
            "audit chain after parallel PUTs",
            f"{entries} entries",
            "verifies",
            broken is None,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--debtors", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=600, help="PUTs per measured run")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    rows = measure(
        args.database_url,
        debtors=args.debtors,
        invoices=args.invoices,
        requests=args.requests,
        keep=args.keep,
    )
    print(f"{'name':<34} {'measured':>18}  {'target':<22} OK/MISSED")
    for row in rows:
        print(row.line())
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
