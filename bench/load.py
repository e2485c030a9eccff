"""Under load: 50 signed-in clients against gunicorn -w 4 on the scale data set, the trivial
route and the page mix measured side by side in one run with the same client (issue 17, item 4).

    .venv/bin/python bench/load.py [--clients 50] [--seconds 60] [--gunicorn-workers 4]
                                   [--writes] [--workers]

The data set is ``bench/scale.py``'s (reused when the database already holds it, generated
otherwise). gunicorn runs with the production settings (``gunicorn.conf.py``, sync workers) on
127.0.0.1. Each client is a thread with its own session (signed in through the real form, CSRF
token included) and its own connection; it sends a request, reads the whole answer and sends the
next, for ``--seconds``:

* (a) the trivial route ``/api/v1/health``;
* (b) the page mix, each client in turn: the case list, a case page, the aging report and the API
  case (bearer token), over 200 different open cases.

Targets (issue 17, item 4): the page mix has 0 errors; its p95 ≤ 10 × the trivial route's p95
in the same run. The client runs on the same 2 cores as the server: its own CPU use is printed,
and the trivial route is measured with the same client, so the ratio compares like with like.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale  # noqa: E402 - bench/scale.py beside this file

ROOT = scale.ROOT
TARGET_RATIO = 10.0
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class Client:
    """One user's session: a cookie and a connection kept while the server allows (gunicorn's
    sync workers close it after each answer; ``http.client`` then opens a new one)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{key}={value}" for key, value in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                answer = self.connection.getresponse()
                data = answer.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle kept-alive connection: once more on a new one.
                self.connection.close()
                if attempt == 2:
                    raise
        for header in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if answer.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return answer.status, data, answer

    def login(self, email: str, password: str) -> None:
        status, page, _ = self.request("GET", "/login")
        match = CSRF.search(page.decode())
        if status != 200 or match is None:
            raise RuntimeError(f"GET /login answered {status} without a CSRF token")
        form = {
            "email": email,
            "password": password,
            "csrf_token": match.group(1) or match.group(2),
        }
        status, _, _ = self.request(
            "POST",
            "/login",
            body=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302:
            raise RuntimeError(f"sign-in as {email} answered {status}")


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    #: Latencies per kind of request (the page mix's pages).
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    database_cpu: float = 0.0
    machine_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, share: float, kind: str | None = None) -> float:
        values = self.latencies if kind is None else self.by_kind.get(kind, [])
        return percentile(values, share)


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile (0.95: p95) of ``values``."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def _cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds of these processes so far (``/proc/<pid>/stat``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _database_pids(database: str) -> list[int]:
    """PostgreSQL backends serving ``database`` (their process title names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, UnicodeDecodeError):
                continue
            if title.startswith("postgres: ") and f" {database} " in title:
                found.append(int(entry.name))
    return found


def _machine_seconds() -> float:
    """CPU seconds the whole machine has been busy (``/proc/stat``), every process's."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    busy = values[0] + values[1] + values[2] + values[5] + values[6]  # user nice system irq softirq
    return busy / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def run_phase(
    name: str,
    clients: Sequence[Client],
    next_request: Callable[[int, int], tuple[str, str, dict]],
    seconds: float,
    server_pids: Sequence[int],
    database: str,
    ok_statuses: frozenset[int] = frozenset({200}),
) -> Phase:
    """Every client requests in a loop for ``seconds``; latencies of the answers completed."""
    phase = Phase(name, seconds)
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)
    deadline = [0.0]

    def work(index: int, client: Client) -> None:
        start.wait()
        count = 0
        mine, errors, statuses, samples = [], 0, {}, []
        while time.perf_counter() < deadline[0]:
            kind, path, headers = next_request(index, count)
            count += 1
            began = time.perf_counter()
            try:
                status, body, _ = client.request("GET", path, headers=headers)
            except Exception as error:  # a refused or broken connection counts as an error
                status, body = 0, f"{type(error).__name__}: {error}".encode()
            took = time.perf_counter() - began
            statuses[status] = statuses.get(status, 0) + 1
            if status not in ok_statuses:
                errors += 1
                if len(samples) < 3:
                    samples.append(f"{status} {path}: {body[:160]!r}")
            if time.perf_counter() <= deadline[0]:
                mine.append((kind, took))
        with lock:
            for kind, took in mine:
                phase.latencies.append(took)
                phase.by_kind.setdefault(kind, []).append(took)
            phase.errors += errors
            for key, value in statuses.items():
                phase.statuses[key] = phase.statuses.get(key, 0) + value
            phase.error_samples.extend(samples[: max(0, 5 - len(phase.error_samples))])

    threads = [
        threading.Thread(target=work, args=(index, client), daemon=True)
        for index, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    backends = set(_database_pids(database))
    cpu_before = _rusage()
    server_before = _cpu_seconds(server_pids)
    database_before = _cpu_seconds(sorted(backends))
    machine_before = _machine_seconds()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    # The last answers arrive after the deadline: CPU is shared over the whole window.
    window = time.perf_counter() - began
    phase.client_cpu = (_rusage() - cpu_before) / window
    phase.server_cpu = (_cpu_seconds(server_pids) - server_before) / window
    phase.machine_cpu = (_machine_seconds() - machine_before) / window
    # Backends opened during the phase count from zero (gunicorn's pools keep theirs open).
    new = sorted(set(_database_pids(database)) - backends)
    after = _cpu_seconds(sorted(backends)) + _cpu_seconds(new)
    phase.database_cpu = (after - database_before) / window
    return phase


def _rusage() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def start_gunicorn(url: str, workers: int, folder: Path) -> tuple[subprocess.Popen, int]:
    """gunicorn -w ``workers`` with ``gunicorn.conf.py`` on the bench database; (process, port)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    config = scale.bench_config(url, folder)
    env = dict(os.environ)
    env["PORTAL_INSTANCE_PATH"] = str(folder / "instance")
    for key in ("DATABASE_URL", "SECRET_KEY", "JOBS_SQLITE_PATH", "FILE_STORE_PATH"):
        env[f"PORTAL_{key}"] = config[key]
    # Plain HTTP on 127.0.0.1: the cookies must travel without TLS. Everything else (CSRF,
    # sign-in limits, error pages) is production's.
    env["PORTAL_SESSION_COOKIE_SECURE"] = "false"
    env["PORTAL_REMEMBER_COOKIE_SECURE"] = "false"
    log = (folder / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "portal:create_app()",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=ROOT,
    )
    log.close()
    deadline = time.monotonic() + 90
    while True:
        try:
            status, _, _ = Client(port).request("GET", "/api/v1/health")
            if status in (200, 503):  # 503: no job worker runs, which this bench does not need
                return process, port
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError((folder / "gunicorn.log").read_text()[-3000:])
        time.sleep(0.3)


def open_cases(app, count: int) -> list[int]:
    """``count`` open cases that claim invoices, spread over the data set."""
    from sqlalchemy import select

    from portal.cases.models import Case, CaseStatus
    from portal.extensions import db

    with app.app_context():
        ids = db.session.scalars(
            select(Case.id).where(Case.status == CaseStatus.OPEN, Case.currency.is_not(None))
        ).all()
    step = max(1, len(ids) // count)
    return list(ids[::step][:count])


def report(trivial: Phase, mix: Phase, clients: int, workers: int) -> list[str]:
    """The table and the targets."""
    lines = [
        f"{'phase':<40} {'req/s':>8} {'p50 ms':>9} {'p95 ms':>9} {'errors':>7}  "
        f"{'client':>7} {'gunicorn':>8} {'postgres':>8} {'machine':>7}  statuses",
    ]
    for phase in (trivial, mix):
        statuses = ", ".join(f"{key}: {value}" for key, value in sorted(phase.statuses.items()))
        lines.append(
            f"{phase.name:<40} {phase.rate:>8.1f} {phase.percentile(0.5) * 1000:>9.1f} "
            f"{phase.percentile(0.95) * 1000:>9.1f} {phase.errors:>7}  "
            f"{phase.client_cpu:>6.2f}c {phase.server_cpu:>7.2f}c {phase.database_cpu:>7.2f}c "
            f"{phase.machine_cpu:>6.2f}c  {statuses}"
        )
        if len(phase.by_kind) > 1:
            for kind, values in sorted(phase.by_kind.items()):
                p50, p95 = percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000
                lines.append(
                    f"  {kind:<38} {len(values) / phase.seconds:>8.1f} {p50:>9.1f} {p95:>9.1f}"
                )
        lines.extend(f"    error: {sample}" for sample in phase.error_samples)
    ratio = mix.percentile(0.95) / trivial.percentile(0.95)
    lines += [
        "",
        f"{'target':<52} {'measured':>12}  verdict",
        f"{'page mix errors = 0':<52} {mix.errors:>12}  {'OK' if mix.errors == 0 else 'MISSED'}",
        f"{'page mix p95 ≤ 10 × trivial p95 (same run, same client)':<52} {ratio:>11.1f}×  "
        f"{'OK' if ratio <= TARGET_RATIO else 'MISSED'}",
        "",
        f"client, gunicorn, postgres, machine: cores busy on average (c) in the load generator "
        f"(this process, {clients} threads), in gunicorn's {workers} workers, in PostgreSQL's "
        f"backends for this database, and on the whole machine ({os.cpu_count()} cores; what "
        f"the three do not account for is other work on the machine).",
    ]
    return lines


def optional_benches(args: argparse.Namespace) -> None:
    """Run ``bench/writes.py`` and ``bench/workers.py`` when asked for and present; print their
    target rows."""
    for flag, name in ((args.writes, "writes"), (args.workers, "workers")):
        if not flag:
            continue
        if not (ROOT / "bench" / f"{name}.py").exists():
            print(f"\nbench/{name}.py: not there yet, skipped")
            continue
        print(f"\nbench/{name}.py (its own data and servers):", flush=True)
        rows = __import__(name).measure()
        print("\n".join(f"  {row.line() if hasattr(row, 'line') else row}" for row in rows))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=scale.DEFAULT_URL)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--payments", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument("--writes", action="store_true", help="also run bench/writes.py")
    parser.add_argument("--workers", action="store_true", help="also run bench/workers.py")
    args = parser.parse_args(argv)

    params = scale.Params(args.cases, args.invoices, args.payments, args.seed)
    print(
        f"bench/load.py on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}; {params}; "
        f"{args.clients} clients, gunicorn -w {args.gunicorn_workers}, {args.seconds:g} s a phase"
    )
    app, _fresh = scale.prepare(args.database_url, params, True, "large")
    # What the worker keeps current (quick when it already is).
    scale.refresh_stored(app, "large")
    token = scale.api_token(app, scale.LEGAL)
    cases = open_cases(app, 200)
    folder = scale.bench_folder("load")
    process, port = start_gunicorn(args.database_url, args.gunicorn_workers, folder)
    try:
        server_pids = [process.pid, *_children(process.pid)]
        clients = [Client(port) for _ in range(args.clients)]
        started = time.perf_counter()
        for client in clients:
            client.login(scale.LEGAL, scale._demo_password(scale.LEGAL))
        print(f"{len(clients)} clients signed in in {time.perf_counter() - started:.1f} s")
        bearer = {"Authorization": f"Bearer {token}"}

        def trivial(_index: int, _count: int) -> tuple[str, str, dict]:
            return "health", "/api/v1/health", {}

        def mix(index: int, count: int) -> tuple[str, str, dict]:
            case = cases[(index * 7 + count) % len(cases)]
            kind = (index + count) % 4
            if kind == 0:
                return "case list", "/cases/", {}
            if kind == 1:
                return "case page", f"/cases/{case}", {}
            if kind == 2:
                return "aging report", "/ledger/aging", {}
            return "API case", f"/api/v1/cases/{case}", bearer

        # A short warm-up: every worker imports lazily and fills its caches on first use.
        database = make_url(args.database_url).database
        run_phase("warm-up", clients[:8], mix, 5, server_pids, database)
        first = run_phase(
            "(a) trivial /api/v1/health",
            clients,
            trivial,
            args.seconds,
            server_pids,
            database,
            ok_statuses=frozenset({200, 503}),
        )
        print(f"  {first.name}: {first.rate:.1f} req/s", flush=True)
        second = run_phase(
            "(b) page mix: list, case, aging, API case",
            clients,
            mix,
            args.seconds,
            server_pids,
            database,
        )
        print(f"  {second.name}: {second.rate:.1f} req/s", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=60)
    print()
    print(
        f"Load: {args.clients} clients, gunicorn -w {args.gunicorn_workers} (sync), "
        f"{args.seconds:g} s a phase, {params.cases:,} cases / {params.invoices:,} invoices, "
        f"PostgreSQL, {os.cpu_count()} cores shared by client, server and database"
    )
    lines = report(first, second, args.clients, args.gunicorn_workers)
    print("\n".join(lines))
    optional_benches(args)
    ratio_ok = second.percentile(0.95) <= TARGET_RATIO * first.percentile(0.95)
    return 0 if second.errors == 0 and ratio_ok else 1


if __name__ == "__main__":
    sys.exit(main())
