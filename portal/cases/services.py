"""Cases: opening them and assigning counsel. Stage moves arrive with the ledger issue."""

from __future__ import annotations

from sqlalchemy import func, select

from ..accounts.models import User
from ..audit.services import Actor, record
from ..db import utcnow
from ..domain import ValidationFailed
from ..extensions import db
from ..ledger.models import CreditorEntity, Debtor
from ..security import Role
from .models import Case


def next_reference() -> str:
    """The next case reference of this year, e.g. ``AC-2026-0007``."""
    year = utcnow().year
    prefix = f"AC-{year}-"
    count = db.session.scalar(
        select(func.count()).select_from(Case).where(Case.reference.like(f"{prefix}%"))
    )
    return f"{prefix}{(count or 0) + 1:04d}"


def open_case(
    actor: Actor,
    *,
    creditor: CreditorEntity,
    debtor: Debtor,
    owner: User,
    lawyer: User | None = None,
) -> Case:
    """Open a case against ``debtor`` in the debtor's jurisdiction.

    :raises ValidationFailed: the owner is not in-house legal or the lawyer is not a lawyer.
    """
    if owner.role is not Role.LEGAL:
        raise ValidationFailed("The case owner must be an in-house legal user.")
    if lawyer is not None:
        _check_lawyer(lawyer)
    case = Case(
        reference=next_reference(),
        creditor=creditor,
        debtor=debtor,
        owner=owner,
        lawyer=lawyer,
        jurisdiction=debtor.jurisdiction,
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
            "stage": case.stage,
        },
    )
    return case


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
