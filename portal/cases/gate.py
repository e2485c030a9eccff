"""The prosecution gate: what a court filing is made from cannot be final while the case could
not enter prosecution.

A final statement of claim, evidence list or filing bundle is checked when it is generated
(built), submitted to counsel and signed — the same blockers that veto the stage move, evaluated
again at each step, because time passes and the record changes between them. Legal may record an
**override** of an overridable rule (R14, the demand letter's reply period: a protective claim
before limitation expires) with a reason. The override travels with the version, is audited, is
shown to counsel on review and never appears in the pleading itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..accounts.models import User
from ..audit.services import Actor, record
from ..db import utcnow
from ..domain import Conflict, ValidationFailed
from ..jurisdictions.rules.base import RULES, Finding
from . import readiness as _rules  # noqa: F401 - registers the rules' veto read below
from .models import Case, Stage
from .services import readiness

#: Shortest reason accepted for an override: a phrase that says why, not "ok".
MIN_REASON = 15


class ProsecutionBlocked(Conflict):
    """A final court filing refused while a prosecution blocker stands (409 with the findings)."""

    code = "prosecution_blocked"

    def __init__(self, what: str, step: str, findings: Sequence[Finding]) -> None:
        reasons = " ".join(f"{finding.rule}: {finding.message}" for finding in findings)
        super().__init__(
            f"The {what} cannot be {step} while the case is not ready for prosecution. {reasons}"
        )
        self.findings = list(findings)


def prosecution_blockers(case: Case) -> list[Finding]:
    """The blockers that veto moving ``case`` to prosecution today."""
    return [
        finding for finding in readiness(case, Stage.PROSECUTION) if finding.severity == "blocker"
    ]


def uncovered(blockers: Sequence[Finding], override: dict[str, Any] | None) -> list[Finding]:
    """The blockers an override (if any) does not cover."""
    rule = (override or {}).get("rule")
    return [finding for finding in blockers if finding.rule != rule]


def gate_refusal(
    what: str, step: str, blockers: Sequence[Finding], override: dict[str, Any] | None
) -> str | None:
    """Why ``step`` of ``what`` would be refused given the case's prosecution ``blockers``, or
    ``None`` (pages show it before anyone tries)."""
    remaining = uncovered(blockers, override)
    return ProsecutionBlocked(what, step, remaining).message if remaining else None


def check_gate(case: Case, what: str, step: str, override: dict[str, Any] | None) -> None:
    """Refuse ``step`` ("made final", "submitted", "signed") of ``what`` while a prosecution
    blocker the override does not cover stands.

    :raises ProsecutionBlocked: naming each rule and its message (with the dates).
    """
    remaining = uncovered(prosecution_blockers(case), override)
    if remaining:
        raise ProsecutionBlocked(what, step, remaining)


def record_override(actor: Actor, case: Case, what: str, rule: str, reason: str) -> dict[str, Any]:
    """Legal proceeds past ``rule`` for a final ``what``; the override to keep with the version.

    :raises ValidationFailed: no reason, an unknown rule, a rule that cannot be overridden, or
        one that does not block the case now.
    """
    rule = (rule or "").strip().upper()
    reason = (reason or "").strip()
    definition = RULES.get(rule)
    if definition is None:
        message = f"There is no rule {rule or '(none)'}."
        raise ValidationFailed(message, fields={"rule": [message]})
    if not definition.overridable:
        message = (
            f"{rule} ({definition.title}) cannot be overridden: do what it asks. Only the demand "
            "letter's reply period (R14) can be."
        )
        raise ValidationFailed(message, fields={"rule": [message]})
    blocking = [finding for finding in prosecution_blockers(case) if finding.rule == rule]
    if not blocking:
        message = f"{rule} does not block this case now; no override is needed."
        raise ValidationFailed(message, fields={"rule": [message]})
    if len(reason) < MIN_REASON:
        message = (
            f"Say in at least {MIN_REASON} characters why the claim cannot wait (e.g. "
            "limitation expires on …: protective claim)."
        )
        raise ValidationFailed(message, fields={"reason": [message]})
    user: User | None = actor.user
    override = {
        "rule": rule,
        "reason": reason,
        "by": user.email if user else None,
        "by_name": user.name if user else None,
        "at": utcnow().isoformat(timespec="seconds"),
        "findings": [finding.message for finding in blocking],
    }
    record(actor, "case.gate_override", "case", case.id, after={"for": what, **override})
    return override
