"""Bulk demand letters, DOCX + PDF: the portal's pipeline against its floor and the naive way.

    .venv/bin/python bench/letters.py [--letters 200] [--naive 40]

In one run, on the same machine and the same letters:

* **portal** — the bulk job as the queue runs it: claims and contexts from the database, docxtpl
  renders, one LibreOffice process per batch (``DOCUMENT_BATCH_SIZE``, default 100), files into
  the store, version rows, audit, the zip;
* **floor** — only the unavoidable work on the same template and contexts: the docxtpl renders and
  one batched LibreOffice run over all the DOCX files (the issue's floor); also shown with as
  many LibreOffice processes side by side as the portal uses (``OFFICE_PROCESSES``, one per core
  up to four), the fair floor for the portal's parallel conversion;
* **naive** — one LibreOffice process per letter (each with its own profile, as a careful naive
  implementation would do). ``--naive N`` times N letters and scales to the full count (the
  per-letter cost is flat); ``--naive 0`` times them all.

Targets (issue 5): portal ≤ 1.5 × floor; portal ≥ 10 × faster than naive.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ON = dt.date(2026, 11, 23)


def build(app, letters: int) -> list[int]:
    """Demo data plus ``letters`` England & Wales cases of three invoices each; their ids."""
    from portal.accounts.models import User
    from portal.audit.services import Actor
    from portal.cases.services import open_case
    from portal.extensions import db
    from portal.ledger.upserts import upsert_debtor, upsert_invoice
    from portal.seed import seed_demo

    actor = Actor(user=None, label="bench")
    with app.app_context():
        seed_demo()
        legal = db.session.scalar(db.select(User).where(User.email == "legal@arrears-demo.example"))
        lawyer = db.session.scalar(
            db.select(User).where(User.email == "lawyer@arrears-demo.example")
        )
        ids = []
        for n in range(letters):
            debtor, _ = upsert_debtor(
                actor,
                f"B-{n:04d}",
                {
                    "name": f"Bench Customer {n:04d} Ltd",
                    "kind": "company",
                    "registration_id": f"{10000000 + n}",
                    "address": f"{n + 1} Market Street\nLeeds LS1 {n % 9}AB",
                    "jurisdiction": "ew",
                },
            )
            invoices = []
            for k in range(3):
                invoice, _ = upsert_invoice(
                    actor,
                    f"B-{n:04d}-{k}",
                    {
                        "debtor": debtor.external_id,
                        "creditor": "NWC-UK",
                        "number": f"BN-{n:04d}-{k}",
                        "issue_date": dt.date(2025, 3, 1) + dt.timedelta(days=10 * k),
                        "delivery_date": dt.date(2025, 2, 27) + dt.timedelta(days=10 * k),
                        "due_date": dt.date(2025, 3, 31) + dt.timedelta(days=10 * k),
                        "currency": "GBP",
                        "amount": Decimal("1250.00") + n + k,
                        "contract_ref": f"SA-{n:04d}",
                    },
                    allocate=False,
                )
                invoices.append(invoice)
            case = open_case(actor, debtor=debtor, owner=legal, lawyer=lawyer, invoices=invoices)
            ids.append(case.id)
        db.session.commit()
        return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=200)
    parser.add_argument("--naive", type=int, default=40, help="letters timed one per process")
    args = parser.parse_args()

    from portal import create_app
    from portal.accounts.models import User
    from portal.audit.services import Actor
    from portal.cases.models import Case
    from portal.documents.bulk import start_bulk
    from portal.documents.models import DocumentKind
    from portal.documents.rendering import prepare as mark
    from portal.documents.rendering import render_docx
    from portal.documents.services import prepare_document
    from portal.extensions import db
    from portal.jobs.models import Job
    from portal.office import OfficeConverter

    work = Path(tempfile.mkdtemp(prefix="bench-letters-"))
    os.environ["PORTAL_INSTANCE_PATH"] = str(work / "instance")
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
            "JOBS_IMMEDIATE": True,
            "JOBS_SQLITE_PATH": str(work / "jobs.db"),
            "FILE_STORE_PATH": str(work / "files"),
            "OFFICE_TIMEOUT": 600,
        }
    )
    with app.app_context():
        db.create_all()
    print(f"bench/letters: building {args.letters} cases in {work} …", flush=True)
    ids = build(app, args.letters)

    with app.app_context():
        cases = list(db.session.scalars(db.select(Case).where(Case.id.in_(ids))))
        # Warm-up: LibreOffice's first start after boot reads it from disk; not what we measure.
        OfficeConverter(timeout=600).convert_many(
            [("warm.docx", prepare_document(cases[0], DocumentKind.DEMAND_LETTER, final=True,
                                            on=ON).docx)]
        )  # fmt: skip
        db.session.rollback()

        # The floor's inputs: the same template and contexts the portal will use.
        prepared = [
            prepare_document(case, DocumentKind.DEMAND_LETTER, final=True, on=ON) for case in cases
        ]
        db.session.rollback()  # give back the reference numbers: the portal run takes them
        template = prepared[0].spec
        contexts = [mark(template.manifest, item.context) for item in prepared]

    print("bench/letters: floor (docxtpl renders + one batched LibreOffice run) …", flush=True)
    started = time.perf_counter()
    files = [render_docx(template.data, context) for context in contexts]
    render_seconds = time.perf_counter() - started
    office = OfficeConverter(timeout=600, batch_size=len(files))
    started = time.perf_counter()
    results = office.convert_many([(f"{n}.docx", data) for n, data in enumerate(files)])
    convert_seconds = time.perf_counter() - started
    assert all(result.pdf for result in results), "floor: a conversion failed"
    floor = render_seconds + convert_seconds
    with app.app_context():
        from portal.documents.services import converter

        processes = converter().processes
    parallel = OfficeConverter(timeout=600, batch_size=len(files), processes=processes)
    started = time.perf_counter()
    results = parallel.convert_many([(f"{n}.docx", data) for n, data in enumerate(files)])
    parallel_seconds = time.perf_counter() - started
    assert all(result.pdf for result in results), "parallel floor: a conversion failed"
    floor_parallel = render_seconds + parallel_seconds

    print("bench/letters: portal (bulk job) …", flush=True)
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "legal@arrears-demo.example"))
        cases = list(db.session.scalars(db.select(Case).where(Case.id.in_(ids))))
        started = time.perf_counter()
        job = start_bulk(Actor(user=user), DocumentKind.DEMAND_LETTER, cases, final=True, on=ON)
        portal = time.perf_counter() - started
        db.session.expire_all()
        job = db.session.get(Job, job.id)
        if job.status.value != "done" or job.result["failed"]:
            print(f"bench/letters: the job did not succeed: {job.error or job.result['errors']}")
            return 1

    sample = len(files) if args.naive <= 0 else min(args.naive, len(files))
    print(f"bench/letters: naive (one LibreOffice per letter, {sample} letters) …", flush=True)
    single = OfficeConverter(timeout=600, batch_size=1)
    started = time.perf_counter()
    for n, data in enumerate(files[:sample]):
        assert single.convert(f"{n}.docx", data)
    naive_convert = (time.perf_counter() - started) * len(files) / sample
    naive = render_seconds + naive_convert

    count = len(files)
    scaled = "" if sample == count else f", {sample} timed and scaled"
    generated = job.result["generated"]
    lines = [
        f"letters  {count}",
        f"floor    {floor:7.2f} s  {1000 * floor / count:5.0f} ms/letter  "
        f"(render {render_seconds:.2f} s + one LibreOffice run {convert_seconds:.2f} s)",
        f"floor/{processes}  {floor_parallel:7.2f} s  "
        f"{1000 * floor_parallel / count:5.0f} ms/letter  "
        f"(render + {parallel.launches} LibreOffice runs side by side {parallel_seconds:.2f} s)",
        f"portal   {portal:7.2f} s  {1000 * portal / count:5.0f} ms/letter  "
        f"(bulk job: {generated} versions stored, zip; {processes} LibreOffice runs side by side)",
        f"naive    {naive:7.2f} s  {1000 * naive / count:5.0f} ms/letter  "
        f"(render + one LibreOffice run per letter{scaled})",
    ]
    ratio_floor = portal / floor
    speedup = naive / portal
    verdict_floor = "OK" if ratio_floor <= 1.5 else "MISSED"
    verdict_naive = "OK" if speedup >= 10 else "MISSED"
    lines += [
        "",
        f"portal / floor = {ratio_floor:5.2f}  (target <= 1.5)  {verdict_floor}",
        f"naive / portal = {speedup:5.2f}  (target >= 10)   {verdict_naive}",
        f"portal / floor with the same {processes} processes = {portal / floor_parallel:5.2f}",
    ]
    print("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
