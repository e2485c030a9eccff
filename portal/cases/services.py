"""Cases: opening them, counsel, the escalation ladder, status and outcome, next actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, cast, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..accounts.models import User
from ..audit.services import Actor, record
from ..db import utcnow
from ..domain import Conflict, ValidationFailed
from ..extensions import db
from ..jurisdictions.rules.base import Finding
from ..ledger.models import CreditorEntity, Debtor, Invoice
from ..security import Role
from . import figures
from .models import Case, CaseReferenceSequence, CaseStatus, Outcome, Stage, case_invoice

LADDER = list(Stage)


class StageBlocked(Conflict):
    """A stage move refused because a stage's blockers remain (409 with the findings)."""

    code = "stage_blocked"

    def __init__(self, stage: Stage, findings: Sequence[Finding]) -> None:
        super().__init__(f"The case is not ready for {stage.label.lower()}.")
        self.stage = stage
        self.findings = list(findings)


#: Readiness checks that may veto entering a stage: ``check(case, stage) -> findings``.
#: The completeness checker registers itself here; the ladder itself does not know the rules.
ReadinessCheck = Callable[[Case, Stage], Sequence[Finding]]
_readiness_checks: list[ReadinessCheck] = []


def register_readiness_check(check: ReadinessCheck) -> ReadinessCheck:
    """Add a veto to stage moves (idempotent)."""
    if check not in _readiness_checks:
        _readiness_checks.append(check)
    return check


def readiness(case: Case, stage: Stage) -> list[Finding]:
    """Every registered check's findings for ``stage``."""
    return [finding for check in _readiness_checks for finding in check(case, stage)]


def readiness_checks() -> tuple[ReadinessCheck, ...]:
    """The registered checks, in registration order."""
    return tuple(_readiness_checks)


def next_reference() -> str:
    """The next case reference of this year, e.g. ``AC-2026-0007`` (``AC-2026-10001`` later).

    Drawn from the year's counter row, which the UPDATE locks until the case's transaction
    ends: parallel openings queue there, and a rolled-back opening leaves no gap.
    """
    year = utcnow().year
    draw = (
        update(CaseReferenceSequence)
        .where(CaseReferenceSequence.year == year)
        .values(last=CaseReferenceSequence.last + 1)
        .returning(CaseReferenceSequence.last)
    )
    number = db.session.scalar(draw)
    if number is None:
        # The year's first case: start after any case of the year already there (numerically,
        # not as text: "AC-2026-9999" > "AC-2026-10000"). A parallel first case may insert the
        # row too; ON CONFLICT DO NOTHING waits for it and keeps its row.
        prefix = f"AC-{year}-"
        highest = db.session.scalar(
            select(func.max(cast(func.substr(Case.reference, len(prefix) + 1), Integer))).where(
                Case.reference.like(f"{prefix}%")
            )
        )
        dialect = {"postgresql": postgresql, "sqlite": sqlite}[db.session.get_bind().dialect.name]
        db.session.execute(
            dialect.insert(CaseReferenceSequence)
            .values(year=year, last=highest or 0)
            .on_conflict_do_nothing(index_elements=["year"])
        )
        number = db.session.scalar(draw)
    return f"AC-{year}-{number:04d}"


def open_case(
    actor: Actor,
    *,
    debtor: Debtor,
    owner: User,
    invoices: Sequence[Invoice] = (),
    creditor: CreditorEntity | None = None,
    lawyer: User | None = None,
    jurisdiction: str | None = None,
) -> Case:
    """Open a case against ``debtor`` for ``invoices`` (one creditor, one currency).

    :raises ValidationFailed: invoices of another debtor, mixed creditors or currencies, invoices
        already claimed in another open case, a non-legal owner or a non-lawyer as counsel.
    :raises Conflict: an invoice is already claimed by another open case.
    """
    if owner.role is not Role.LEGAL:
        raise ValidationFailed("The case owner must be an in-house legal user.")
    if lawyer is not None:
        _check_lawyer(lawyer)
    foreign = [invoice.external_id for invoice in invoices if invoice.debtor_id != debtor.id]
    if foreign:
        raise ValidationFailed(
            f"Invoices of another debtor: {', '.join(foreign)}.",
            fields={"invoices": [f"Not invoices of {debtor.external_id}: {', '.join(foreign)}."]},
        )
    currencies = {invoice.currency for invoice in invoices}
    creditors = {invoice.creditor_id for invoice in invoices}
    if len(currencies) > 1 or len(creditors) > 1:
        raise ValidationFailed(
            "A case claims invoices of one creditor entity in one currency.",
            fields={"invoices": ["Open one case per creditor entity and currency."]},
        )
    if invoices:
        _check_not_claimed([invoice.id for invoice in invoices])
        creditor = invoices[0].creditor
    if creditor is None:
        raise ValidationFailed("Choose the invoices (or the creditor entity) of the case.")
    case = Case(
        reference=next_reference(),
        creditor=creditor,
        debtor=debtor,
        owner=owner,
        lawyer=lawyer,
        jurisdiction=jurisdiction or debtor.jurisdiction,
        currency=next(iter(currencies)) if currencies else None,
        invoices=list(invoices),
    )
    db.session.add(case)
    db.session.flush()
    record(
        actor,
        "case.open",
        "case",
        case.id,
        after={
            "reference": case.reference,
            "debtor": debtor.external_id,
            "creditor": creditor.code,
            "owner": owner.email,
            "lawyer": lawyer.email if lawyer else None,
            "jurisdiction": case.jurisdiction,
            "stage": case.stage or Stage.RECONCILIATION,
            "invoices": [invoice.external_id for invoice in invoices],
        },
    )
    return case


def _check_not_claimed(invoice_ids: list[int]) -> None:
    claimed = db.session.execute(
        select(Invoice.external_id, Case.reference)
        .join(case_invoice, case_invoice.c.invoice_id == Invoice.id)
        .join(Case, Case.id == case_invoice.c.case_id)
        .where(Invoice.id.in_(invoice_ids), Case.status != CaseStatus.CLOSED)
    ).all()
    if claimed:
        listed = ", ".join(f"{invoice} ({reference})" for invoice, reference in claimed)
        raise Conflict(
            f"Already claimed in an open case: {listed}.",
            fields={"invoices": [f"Already claimed: {listed}."]},
        )


def assign_lawyer(actor: Actor, case: Case, lawyer: User | None) -> None:
    """Assign (or, with ``None``, withdraw) the external lawyer of a case.

    :raises ValidationFailed: the user is not an active lawyer.
    """
    if lawyer is not None:
        _check_lawyer(lawyer)
    before = case.lawyer.email if case.lawyer else None
    after = lawyer.email if lawyer else None
    if before == after:
        return
    case.lawyer = lawyer
    db.session.flush()
    record(
        actor,
        "case.assign_lawyer",
        "case",
        case.id,
        before={"lawyer": before},
        after={"lawyer": after},
    )


def move_stage(actor: Actor, case: Case, target: Stage) -> None:
    """Move along the ladder. Going up checks every stage entered on the way (a skipped stage
    must be ready too); going back is allowed and audited.

    :raises Conflict: the case is closed.
    :raises StageBlocked: a stage on the way has blockers.
    """
    if case.status is CaseStatus.CLOSED:
        raise Conflict("The case is closed; reopen it first.")
    current = LADDER.index(case.stage)
    wanted = LADDER.index(target)
    if wanted == current:
        return
    for stage in LADDER[current + 1 : wanted + 1]:
        blockers = [finding for finding in readiness(case, stage) if finding.severity == "blocker"]
        if blockers:
            raise StageBlocked(stage, blockers)
    before = case.stage
    _compare_and_set(case, stage=target)
    record(actor, "case.stage", "case", case.id, before={"stage": before}, after={"stage": target})


class CaseChanged(Conflict):
    """The case moved on since it was read: the move is refused, not written over it."""

    code = "case_changed"


def _compare_and_set(case: Case, **values: Any) -> None:
    """Write ``values`` only if the case is still the version this request read; bump it.

    :raises CaseChanged: a parallel request moved the case first (its current stage and status
        are in the error's fields).
    """
    version = case.version
    db.session.flush()
    moved = db.session.execute(
        update(Case)
        .where(Case.id == case.id, Case.version == version)
        .values(version=version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(case)
    # A bulk UPDATE: the session's flush does not see it, so the figures are told.
    figures.touch(case.id)
    if moved.rowcount != 1:
        raise CaseChanged(
            f"{case.reference} was changed meanwhile: it is now at {case.stage.label} "
            f"({case.status.value}). Look again and move it from there.",
            fields={"stage": [case.stage.value], "status": [case.status.value]},
        )


def set_status(
    actor: Actor,
    case: Case,
    status: CaseStatus,
    *,
    outcome: Outcome | None = None,
    recovered_amount: Decimal | None = None,
    costs: Decimal | None = None,
    closed_on: dt.date | None = None,
) -> None:
    """Open, hold or close a case; closing records the outcome with recovered amount and costs.

    :raises ValidationFailed: closing without an outcome, or an outcome on an open case.
    """
    if status is CaseStatus.CLOSED and outcome is None:
        raise ValidationFailed(
            "Closing a case needs its outcome.", fields={"outcome": ["Required to close."]}
        )
    if status is not CaseStatus.CLOSED and outcome is not None:
        raise ValidationFailed(
            "An outcome is recorded when the case is closed.",
            fields={"outcome": ["Only with status closed."]},
        )
    if status is not CaseStatus.CLOSED and case.status is CaseStatus.CLOSED:
        _check_not_claimed([invoice.id for invoice in case.invoices])
    fields = ("status", "outcome", "recovered_amount", "costs", "closed_on")
    before = {name: getattr(case, name) for name in fields}
    closing = status is CaseStatus.CLOSED
    after = {
        "status": status,
        "outcome": outcome,
        "recovered_amount": recovered_amount if closing else None,
        "costs": costs if closing else None,
        "closed_on": (closed_on or utcnow().date()) if closing else None,
    }
    if before != after:
        _compare_and_set(case, **after)
        record(actor, "case.status", "case", case.id, before=before, after=after)


def set_next_action(actor: Actor, case: Case, text: str | None, due: dt.date | None) -> None:
    """What legal does next and by when."""
    before = {"next_action": case.next_action, "next_action_due": case.next_action_due}
    case.next_action = (text or "").strip()[:300] or None
    case.next_action_due = due
    after = {"next_action": case.next_action, "next_action_due": case.next_action_due}
    if before != after:
        db.session.flush()
        record(actor, "case.next_action", "case", case.id, before=before, after=after)


AGREEMENT_FIELDS = (
    "agreement_form",
    "agreement_date",
    "agreement_parties",
    "agreement_terms",
    "fees_clause",
)


def set_agreement(actor: Actor, case: Case, values: dict) -> bool:
    """Record the agreement the debt arises under (form, date, parties, terms, fees clause).

    :raises ValidationFailed: an unknown form, or an oral agreement without what was agreed.
    """
    after = {
        "agreement_form": values.get("agreement_form") or None,
        "agreement_date": values.get("agreement_date"),
        "agreement_parties": (values.get("agreement_parties") or "").strip() or None,
        "agreement_terms": (values.get("agreement_terms") or "").strip() or None,
        "fees_clause": bool(values.get("fees_clause")),
    }
    if after["agreement_form"] not in (None, "written", "oral"):
        message = "The agreement is written or oral."
        raise ValidationFailed(message, fields={"agreement_form": [message]})
    if after["agreement_form"] == "oral" and not after["agreement_terms"]:
        message = "For an oral agreement, say who agreed what, when and where."
        raise ValidationFailed(message, fields={"agreement_terms": [message]})
    before = {name: getattr(case, name) for name in AGREEMENT_FIELDS}
    if before == after:
        return False
    for name, value in after.items():
        setattr(case, name, value)
    db.session.flush()
    record(actor, "case.agreement", "case", case.id, before=before, after=after)
    return True


def active_lawyers() -> list[User]:
    """Lawyers who can be assigned, by name."""
    return list(
        db.session.scalars(
            select(User).where(User.role == Role.LAWYER, User.active.is_(True)).order_by(User.name)
        )
    )


def _check_lawyer(user: User) -> None:
    if user.role is not Role.LAWYER or not user.active:
        raise ValidationFailed(
            f"{user.email} is not an active external lawyer.",
            fields={"lawyer": ["Choose an active external lawyer."]},
        )
