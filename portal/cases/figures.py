"""Stored per-case figures: what lists and the work queue show, kept current as cases change.

Building a claim (balances, interest, limitation) and a readiness check per case is too slow to do
for every open case on every page. So each case's figures (``CaseFigures``) and dated obligations
(``CaseDeadline``) are computed from the same engines the case page uses and stored:

* in the transaction that changes the case or its ledger — a session hook collects the cases a
  flush touched (the case, its events, evidence, documents and bundles, its invoices, the
  debtor's payments and credit notes) and computes their figures just before the commit;
* by the worker, for what time alone changes (interest accrues, a deadline comes near): every
  open case whose figures are not as of today, and every row marked stale (a new interest rate
  marks all of them).

Pages then read the figures with a fixed number of indexed queries, whatever the number of cases;
states that depend on today (overdue, broken, deemed confirmed, expiring) are compared in SQL, so
they are right even before the daily refresh has run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from ..business_time import today as business_today
from ..extensions import db
from ..ledger.models import (
    CreditNote,
    InterestRate,
    Invoice,
    Payment,
    PaymentAllocation,
    RateConfirmation,
)
from ..transactions import on_every_session
from .claims import CaseClaim, build_claims
from .models import Case, CaseDeadline, CaseFigures, CaseStatus, Stage, case_invoice
from .timeline import effective_next_action, promise_states, reconciliation_state

log = logging.getLogger(__name__)

#: Cases computed per batch (claims and readiness are built with a fixed number of queries).
BATCH = 500
#: Session key of what a transaction's flushes touched.
_TOUCHED = "case_figures.touched"
#: Bump when what the figures hold or how they are computed changes: every row is recomputed.
FIGURES_VERSION = 1


def basis() -> str:
    """A fingerprint of what readiness is computed from (the registered rules, their code) and
    of ``FIGURES_VERSION``: figures stored on another basis (a deploy changed the rules) are
    out of date, so lists compute them afresh and the worker replaces them."""
    from ..jurisdictions.rules import base as rules_base

    digest = hashlib.sha256(str(FIGURES_VERSION).encode())
    for rule in sorted(rules_base.RULES.values(), key=lambda item: item.id):
        digest.update(
            repr(
                (
                    rule.id,
                    rule.from_stage,
                    sorted(rule.jurisdictions),
                    rule.severity,
                    getattr(rule.check, "__qualname__", ""),
                )
            ).encode()
        )
        code = getattr(rule.check, "__code__", None)
        if code is not None:
            _digest_code(digest, code)
    return digest.hexdigest()[:16]


def _digest_code(digest: Any, code: Any) -> None:
    """A function's byte code and constants, nested functions included — never a ``repr`` that
    holds a memory address, so every process computes the same fingerprint."""
    digest.update(code.co_code)
    for constant in code.co_consts:
        if hasattr(constant, "co_code"):
            _digest_code(digest, constant)
        else:
            digest.update(repr(constant).encode())


# --- computing -----------------------------------------------------------------------------


def _readiness_summary(case: Case, states: dict[str, dict]) -> dict[str, Any]:
    """Blockers and warnings before the next stage (the case's own at the top of the ladder)."""
    ladder = list(Stage)
    target = ladder[min(ladder.index(case.stage) + 1, len(ladder) - 1)]
    findings = states[target.value]["findings"]
    blockers = sum(1 for finding in findings if finding.severity == "blocker")
    title = "; ".join(f"{finding.rule}: {finding.message}" for finding in findings[:8])
    return {
        "readiness_stage": target,
        "readiness_blockers": blockers,
        "readiness_warnings": len(findings) - blockers,
        "readiness_title": title + (" …" if len(findings) > 8 else ""),
    }


def _rows(
    case: Case, claim: CaseClaim, states: dict[str, dict], current_basis: str
) -> tuple[dict, list[dict]]:
    """The figures row and the deadline rows of one case."""
    promises = promise_states(claim.events, claim.payments, claim.as_of)
    action = effective_next_action(case, promises)
    limits = [item for item in claim.invoices if item.limitation is not None]
    interest = (claim.interest.get("amount") if claim.interest else None) or Decimal(0)
    figures = {
        "case_id": case.id,
        "computed_on": claim.as_of,
        "stale": False,
        "basis": current_basis,
        "currency": claim.currency,
        "outstanding": claim.outstanding,
        "interest": interest,
        "total": claim.outstanding + interest + claim.compensation,
        "next_due": dt.date.fromisoformat(action["due"]) if action["due"] else None,
        "next_text": (action["text"] or "")[:300] or None,
        "next_reason": action["reason"],
        "limitation_deadline": min((item.limitation.deadline for item in limits), default=None),
        **_readiness_summary(case, states),
    }
    deadlines = []
    base = {
        "case_id": case.id,
        "open": case.status is CaseStatus.OPEN,
        "label": "",
        "note": None,
        "since": None,
    }
    if figures["next_due"] is not None:
        deadlines.append(
            base
            | {
                "kind": "next_action",
                "due": figures["next_due"],
                "label": figures["next_text"] or "",
                "note": action["reason"],
            }
        )
    # Only the latest promise counts: a broken promise followed by a new one is history.
    if promises:
        last = promises[-1]
        deadlines.append(
            base
            | {
                "kind": "promise",
                "due": last.event.due,
                "since": last.event.date,
                "amount": last.event.amount,
                "paid": last.paid,
                "currency": last.event.currency or case.currency,
            }
        )
    sent = reconciliation_state(claim.events, claim.as_of)
    if sent is not None and sent.reply is None:
        deadlines.append(base | {"kind": "reply_by", "due": sent.sent.due, "since": sent.sent.date})
    for item in limits:
        deadlines.append(
            base
            | {
                "kind": "limitation",
                "due": item.limitation.deadline,
                "label": item.invoice.number,
                "note": item.limitation.set_by[:300],
            }
        )
    return figures, deadlines


def computed(cases: Sequence[Case]) -> dict[int, tuple[dict, list[dict]]]:
    """Per case: its figures row and deadline rows, computed (not stored)."""
    # Local import: readiness registers the rules and imports the services, which import this
    # package's models only, so the cycle is broken here rather than at import time.
    from .readiness import readiness_many

    by_jurisdiction: dict[Any, list[Case]] = defaultdict(list)
    for case in cases:
        by_jurisdiction[case.jurisdiction].append(case)
    result: dict[int, tuple[dict, list[dict]]] = {}
    current_basis = basis()
    for group in by_jurisdiction.values():
        # One as-of day per jurisdiction: each case's figures are as of its own today.
        claims = build_claims(group)
        states = readiness_many(group, claims=claims)
        for case in group:
            result[case.id] = _rows(case, claims[case.id], states[case.id], current_basis)
    return result


def compute(cases: Sequence[Case]) -> None:
    """Compute and store the figures and deadlines of ``cases`` (in the caller's transaction)."""
    rows = computed(cases).values()
    figures = [row for row, _dated in rows]
    deadlines = [deadline for _row, dated in rows for deadline in dated]
    ids = [case.id for case in cases]
    db.session.execute(delete(CaseDeadline).where(CaseDeadline.case_id.in_(ids)))
    db.session.execute(delete(CaseFigures).where(CaseFigures.case_id.in_(ids)))
    if figures:
        db.session.execute(insert(CaseFigures), figures)
    if deadlines:
        for row in deadlines:
            row.setdefault("amount", None)
            row.setdefault("paid", None)
            row.setdefault("currency", None)
        db.session.execute(insert(CaseDeadline), deadlines)


def refresh(case_ids: Iterable[int]) -> int:
    """Recompute the figures of the cases with these ids, ``BATCH`` at a time."""
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), BATCH):
        cases = db.session.scalars(
            select(Case)
            .where(Case.id.in_(ids[start : start + BATCH]))
            .options(selectinload(Case.debtor), selectinload(Case.lawyer))
        ).all()
        compute(cases)
    return len(ids)


def due_for_refresh(today: dt.date, limit: int = BATCH) -> list[int]:
    """Ids of cases whose figures are missing, stale, or (open cases) not as of ``today``."""
    return list(
        db.session.scalars(
            select(Case.id)
            .outerjoin(CaseFigures, CaseFigures.case_id == Case.id)
            .where(
                or_(
                    CaseFigures.case_id.is_(None),
                    CaseFigures.stale.is_(True),
                    CaseFigures.basis != basis(),
                    (CaseFigures.computed_on < today) & (Case.status != CaseStatus.CLOSED),
                )
            )
            .order_by(Case.id)
            .limit(limit)
        )
    )


def refresh_due(today: dt.date | None = None, *, commit: bool = True) -> int:
    """Refresh every case ``due_for_refresh``, one committed batch at a time; the number done.

    A case whose figures cannot be computed (its claim raises) is logged and left out, so it
    does not hold back the others: its batch is retried one case at a time. A batch is compared
    with the one before so that a case whose figures cannot be brought to ``today`` (its
    jurisdiction's day is behind) does not loop for ever.
    """
    # The earliest "today" of any jurisdiction: a case computed as of its own today is current.
    today = today or min(business_today(code) for code in ("cn", "ew", "us"))
    done = 0
    previous: list[int] = []
    failed: set[int] = set()
    while ids := [
        case_id
        for case_id in due_for_refresh(today, limit=BATCH + len(failed))
        if case_id not in failed
    ][:BATCH]:
        if ids == previous:
            break
        try:
            with db.session.begin_nested():
                refresh(ids)
            done += len(ids)
        except Exception:
            log.exception("case figures: a batch of %d failed; computing them one by one", len(ids))
            for case_id in ids:
                try:
                    with db.session.begin_nested():
                        refresh([case_id])
                    done += 1
                except Exception:
                    log.exception("case figures of case %d could not be computed", case_id)
                    failed.add(case_id)
        if commit:
            db.session.commit()
        previous = ids
    return done


def mark_all_stale() -> None:
    """Every stored figure is out of date (e.g. an interest rate changed)."""
    db.session.execute(update(CaseFigures).values(stale=True))


# --- keeping them current ------------------------------------------------------------------


def _touched(session: Session) -> dict[str, set]:
    return session.info.setdefault(_TOUCHED, {"case": set(), "invoice": set(), "debtor": set()})


def touch(case_id: int) -> None:
    """Note a case changed by a statement the session's flush does not see (a bulk ``UPDATE``),
    so its figures are computed before the commit all the same."""
    _touched(db.session)["case"].add(case_id)


def _collect(session: Session, _flush_context: Any) -> None:
    """After a flush: note the cases (directly or through invoices and debtors) it touched."""
    touched = _touched(session)
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Case):
            if instance not in session.deleted:
                touched["case"].add(instance.id)
        elif isinstance(instance, Invoice):
            touched["invoice"].add(instance.id)
        elif isinstance(instance, PaymentAllocation | CreditNote):
            touched["invoice"].add(instance.invoice_id)
        elif isinstance(instance, Payment):
            touched["debtor"].add(instance.debtor_id)
        elif isinstance(instance, InterestRate | RateConfirmation):
            touched["all"] = {True}
        elif isinstance(getattr(instance, "case_id", None), int):
            touched["case"].add(instance.case_id)


def _cases_touched(touched: dict[str, set]) -> set[int]:
    ids = set(touched["case"])
    invoices = [item for item in touched["invoice"] if item is not None]
    for start in range(0, len(invoices), BATCH):
        ids.update(
            db.session.scalars(
                select(case_invoice.c.case_id).where(
                    case_invoice.c.invoice_id.in_(invoices[start : start + BATCH])
                )
            )
        )
    debtors = sorted(item for item in touched["debtor"] if item is not None)
    for start in range(0, len(debtors), BATCH):
        ids.update(
            db.session.scalars(
                select(Case.id).where(Case.debtor_id.in_(debtors[start : start + BATCH]))
            )
        )
    # A case deleted in this transaction has no figures to compute.
    return set(db.session.scalars(select(Case.id).where(Case.id.in_(ids)))) if ids else set()


def _before_commit(session: Session) -> None:
    """Compute the figures of what this transaction touched, inside it, before it commits."""
    # What is still pending is flushed first: its flush tells what it touched.
    session.flush()
    if _TOUCHED not in session.info:
        return
    for _round in range(3):
        touched = session.info.pop(_TOUCHED, None)
        if not touched:
            return
        if touched.get("all"):
            mark_all_stale()
        ids = _cases_touched(touched)
        if not ids:
            continue
        try:
            with session.begin_nested():
                refresh(ids)
        except Exception:
            # The change itself must not be lost because its figures could not be computed:
            # they are marked stale and the worker retries (and logs) them.
            log.exception("case figures of %d case(s) could not be computed", len(ids))
            session.execute(
                update(CaseFigures).where(CaseFigures.case_id.in_(ids)).values(stale=True)
            )
        session.flush()


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_TOUCHED, None)


def install() -> None:
    """Keep figures current in every session of the app (idempotent)."""
    on_every_session(
        {"after_flush": _collect, "before_commit": _before_commit, "after_rollback": _forget}
    )
