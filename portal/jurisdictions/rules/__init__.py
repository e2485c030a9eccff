"""Completeness rules: which findings stand in the way of each escalation stage.

Importing this package registers every rule (``RULES``); ``evaluate(facts, stage)`` and
``readiness(facts)`` run them. The catalogue with conditions and legal bases is ``docs/rules.md``.
"""

from __future__ import annotations

from . import cn, common, ew, us  # noqa: F401  (importing a module registers its rules)
from .base import (
    JURISDICTIONS,
    RULES,
    STAGES,
    CaseFacts,
    Check,
    EventFact,
    EvidenceFact,
    Finding,
    InvoiceFact,
    Rule,
    evaluate,
    readiness,
    rule,
)

__all__ = [
    "JURISDICTIONS",
    "RULES",
    "STAGES",
    "CaseFacts",
    "Check",
    "EventFact",
    "EvidenceFact",
    "Finding",
    "InvoiceFact",
    "Rule",
    "evaluate",
    "readiness",
    "rule",
]
