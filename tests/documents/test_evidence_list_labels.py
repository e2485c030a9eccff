"""A bundle's evidence list shows each exhibit's label whole in its first column: "C-001" on
one line, never broken into "C-" and "001" (as it was at 0.9 cm in the E&W list)."""

from __future__ import annotations

import re
import subprocess

import pytest

from portal.cases.models import Case
from portal.documents.models import DocumentKind
from portal.documents.services import convert_all, prepare_document
from portal.extensions import db

from ..factories import World


@pytest.mark.parametrize("case_of", ["assigned_case", "other_case"])  # E&W, PRC
def test_labels_stay_whole(app, world: World, case_of: str):
    with app.app_context():
        case = db.session.get(Case, getattr(world, case_of))
        evidence = world.assigned_evidence if case_of == "assigned_case" else world.other_evidence
        prepared = prepare_document(
            case, DocumentKind.EVIDENCE_LIST, final=False, positions={evidence: ("C-001", "12–15")}
        )
        ((pdf, error),) = convert_all([("list.docx", prepared.docx)])
    assert pdf is not None, error
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert re.search(r"^\s*C-001\b.*12–15", text, re.M), text
    assert not re.search(r"^\s*C-\s", text, re.M), text
