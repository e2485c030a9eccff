"""The registry: ids, stages, jurisdictions, a clean case, ordering and readiness."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.jurisdictions.rules import (
    JURISDICTIONS,
    RULES,
    STAGES,
    evaluate,
    readiness,
)

from .builders import change, event, facts, limitation, summary, with_evidence, with_invoice

ALL = ("cn", "ew", "us")

#: The catalogue as documented in docs/rules.md: id -> (from_stage, severity, jurisdictions).
CATALOGUE = {
    "N1": ("reconciliation", "blocker", ALL),
    "N2": ("reconciliation", "blocker", ALL),
    "N3": ("demand_letter", "blocker", ALL),
    "R1": ("reconciliation", "blocker", ALL),
    "R2": ("demand_letter", "warning", ALL),
    "R3": ("notice", "blocker", ALL),
    "R4": ("notice", "warning", ALL),
    "R5": ("notice", "blocker", ALL),
    "R6": ("demand_letter", "warning", ALL),
    "R7": ("demand_letter", "blocker", ALL),
    "R8": ("prosecution", "blocker", ALL),
    "R9": ("prosecution", "blocker", ("cn",)),
    "R10": ("prosecution", "blocker", ("ew", "us")),
    "R11": ("demand_letter", "warning", ALL),
    "R12": ("reconciliation", "warning", ALL),
    "R13": ("prosecution", "blocker", ("ew",)),
    "R14": ("prosecution", "blocker", ALL),
    "R16": ("demand_letter", "blocker", ALL),
    "R17": ("prosecution", "blocker", ("cn",)),
    "R18": ("notice", "warning", ALL),
    "R19": ("demand_letter", "blocker", ("cn",)),
    "R20": ("reconciliation", "warning", ALL),
}

DOCS = Path(__file__).resolve().parents[3] / "docs" / "rules.md"


def test_ids_are_exactly_the_catalogue():
    expected = {f"R{n}" for n in range(1, 21) if n != 15} | {"N1", "N2", "N3"}
    assert set(RULES) == expected
    assert set(CATALOGUE) == expected


@pytest.mark.parametrize("rule_id", sorted(CATALOGUE))
def test_each_rule_is_registered_as_documented(rule_id):
    item = RULES[rule_id]
    from_stage, severity, jurisdictions = CATALOGUE[rule_id]
    assert item.id == rule_id
    assert (item.from_stage, item.severity, item.jurisdictions) == (
        from_stage,
        severity,
        frozenset(jurisdictions),
    )
    assert item.title.strip() and item.legal_basis.strip()


def test_docs_table_lists_every_rule_with_its_stage_and_jurisdictions():
    rows = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| (N\d|R\d+) \|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|", line)
        if match:
            rows[match[1]] = [cell.strip() for cell in match.groups()[1:]]
    assert set(rows) == set(CATALOGUE)
    for rule_id, (from_stage, severity, jurisdictions) in CATALOGUE.items():
        _title, stages, where, level = rows[rule_id]
        assert stages.startswith(from_stage), rule_id
        assert where == ", ".join(jurisdictions), rule_id
        assert level.startswith(severity), rule_id


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
@pytest.mark.parametrize("debtor_kind", ["company", "individual"])
def test_a_complete_case_has_no_findings_at_any_stage(jurisdiction, debtor_kind):
    case = facts(jurisdiction, debtor_kind=debtor_kind)
    for stage in STAGES:
        assert evaluate(case, stage) == [], stage
    assert all(entry["ready"] for entry in readiness(case).values())


def test_a_rule_applies_from_its_stage_on():
    """R3 (from notice) and R8 (prosecution only): stages are cumulative."""
    case = with_evidence(facts("ew"), 3, remove=True)  # no delivery note for INV-2
    case = with_evidence(case, 6, source="")  # R8
    found = {stage: [f.rule for f in evaluate(case, stage)] for stage in STAGES}
    assert found == {
        "reconciliation": [],
        "notice": ["R3"],
        "warning": ["R3"],
        "demand_letter": ["R3"],
        "prosecution": ["R3", "R8"],
    }


JURISDICTION_RULES = {"R9", "R10", "R13", "R17", "R19"}


@pytest.mark.parametrize(
    ("jurisdiction", "expected"),
    [("cn", {"R17", "R19"}), ("ew", {"R10", "R13"}), ("us", {"R10"})],
)
def test_jurisdiction_rules_apply_only_in_their_jurisdiction(jurisdiction, expected):
    """The same defects trip only the rules of the case's jurisdiction."""
    case = facts(
        jurisdiction,
        debtor_kind="individual",  # R13 (E&W) without the demand letter below
        route="payment_order",  # R17 (PRC) with the disputed invoice below
        lawyer=("Wei Li", None, "131"),  # R19 (PRC): no firm
    )
    case = with_invoice(case, "INV-2", disputed=True)
    case = with_invoice(case, "INV-1", limitation=limitation("2025-08-31"))  # in the window
    # An oral acknowledgment (R10 in E&W and the US) and no demand letter.
    case = change(case, events=(event(30, "acknowledgment", "2025-02-01"),))
    found = {finding.rule for finding in evaluate(case, "prosecution")}
    assert found & JURISDICTION_RULES == expected
    assert {"R1", "R14"} <= found


def test_evaluate_puts_blockers_first():
    case = with_evidence(facts("ew"), 6, remove=True)  # R18 warning for both invoices
    case = with_evidence(case, 2, remove=True)  # R3 blocker for INV-1
    assert summary(evaluate(case, "notice")) == [
        ("R3", "blocker", "INV-1", None),
        ("R18", "warning", "INV-1", None),
        ("R18", "warning", "INV-2", None),
    ]
    stages = readiness(case)
    assert [stages[s]["ready"] for s in STAGES] == [True, False, False, False, False]
    assert stages["reconciliation"]["findings"] == []
