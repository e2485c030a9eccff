"""``templates check``: syntax with the paragraph, variables against the manifest, split tags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docx import Document

from portal.documents.lint import Problem, check_all, check_template
from portal.documents.manifest import Field, ManifestError, load_manifest

SHIPPED = Path(__file__).resolve().parents[2] / "doc_templates"
HEAD = 'title = "Letter before claim"\nlanguage = "en"\n'

#: A template that uses every construct the linter must understand, one run per tag.
CLEAN = [
    ["Dear ", "{{ debtor.name }}", ","],
    ["{%p for line in debtor.address_lines %}"],
    ["{{ line }}"],
    ["{%p endfor %}"],
    ["{% if debtor.is_individual %}", "You may seek advice.", "{% endif %}"],
    ["{% for inv in invoices %}", "{{ loop.index }}. ", "{{ inv.number }}", "{% endfor %}"],
    ["{% for p in interest.periods %}", "{{ p.start }}", " to ", "{{ p.end }}", "{% endfor %}"],
    ["{% set shown = totals.total_due|default('0.00') %}", "Total: ", "{{ shown }}"],
    ["Reference ", "{{ document['reference'] }}", " of ", "{{ document.date|upper }}"],
]
CLEAN_FIELDS = [
    ("debtor.name", "text"),
    ("debtor.address_lines", "list"),
    ("debtor.is_individual", "boolean"),
    ("invoices", "list"),
    ("invoices[].number", "text"),
    ("interest.periods", "list"),
    ("interest.periods[].start", "date"),
    ("interest.periods[].end", "date"),
    ("totals.total_due", "money"),
    ("document.reference", "text"),
    ("document.date", "date"),
]


def manifest_text(fields) -> str:
    return HEAD + "".join(
        f'\n[[fields]]\nname = "{name}"\ntype = "{kind}"\nrequired = true\ndescription = "x"\n'
        for name, kind in fields
    )


def write_template(root: Path, paragraphs, fields=(), name="ew/demand_letter", header=None):
    """A DOCX (each inner list is one paragraph, each string one run) and its manifest."""
    document = Document()
    for runs in paragraphs:
        paragraph = document.add_paragraph()
        for text in runs:
            paragraph.add_run(text)
    if header is not None:
        document.sections[0].header.paragraphs[0].add_run(header)
    path = root / f"{name}.docx"
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(path)
    if fields is not None:
        manifest = fields if isinstance(fields, str) else manifest_text(fields)
        path.with_suffix(".toml").write_text(manifest, encoding="utf-8")
    return path


def run_check(app, root: Path):
    app.config["DOC_TEMPLATES_DIR"] = str(root)
    return app.test_cli_runner().invoke(args=["templates", "check"])


def test_clean_template_passes(app, tmp_path):
    path = write_template(tmp_path, CLEAN, CLEAN_FIELDS)
    assert check_template(path, tmp_path) == []

    result = run_check(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output == "templates check: 1 templates, 0 problems\n"


def test_unknown_variable_fails_the_check(app, tmp_path):
    paragraphs = [*CLEAN, ["Yours, ", "{{ creditor.nmae }}"]]
    write_template(tmp_path, paragraphs, [*CLEAN_FIELDS, ("creditor.name", "text")])

    result = run_check(app, tmp_path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("ew/demand_letter.docx: unknown-variable: 'creditor.nmae' is used")
    assert "ew/demand_letter.toml" in lines[0]
    assert "did you mean 'creditor.name'?" in lines[0]
    assert 'paragraph: "Yours, {{ creditor.nmae }}"' in lines[0]
    # creditor.name is now never read: reported from the other side.
    assert lines[1].startswith("ew/demand_letter.docx: unused-field: 'creditor.name'")
    assert lines[2:] == ["templates check: 1 templates, 2 problems"]


def test_unused_field_is_reported(tmp_path):
    path = write_template(tmp_path, CLEAN, [*CLEAN_FIELDS, ("lawyer.name", "text")])
    (problem,) = check_template(path, tmp_path)
    assert problem.code == "unused-field"
    assert "'lawyer.name' is listed in ew/demand_letter.toml" in problem.message


@pytest.mark.parametrize(
    ("runs", "message"),
    [
        (["Unless ", "{% if debtor.is_individual %}", "you pay"], "Unexpected end of template"),
        (["Total ", "{{ a. }}", " due"], "expected name or number"),
    ],
)
def test_syntax_error_names_the_paragraph(tmp_path, runs, message):
    paragraphs = [["Dear ", "{{ debtor.name }}"], runs, ["Yours faithfully"], ["Signed"]]
    path = write_template(tmp_path, paragraphs, [("debtor.name", "text")])
    (problem,) = check_template(path, tmp_path)  # no variable check on a broken template
    assert problem.code == "syntax"
    assert message in problem.message
    assert problem.paragraph == "".join(runs)
    assert f'[paragraph: "{"".join(runs)}"]' in str(problem)


def test_tag_split_over_runs_is_reported(tmp_path):
    paragraphs = [["Dear {{ debtor.", "name }}, please pay"]]
    path = write_template(tmp_path, paragraphs, [("debtor.name", "text")])
    (problem,) = check_template(path, tmp_path)
    assert problem == Problem(
        "ew/demand_letter.docx",
        "split-tag",
        "tag '{{ debtor.name }}' is split over 2 Word runs",
        "Dear {{ debtor.name }}, please pay",
    )


def unknown(root: Path, paragraphs) -> set[str]:
    """The variables a template reads, as reported against an empty manifest."""
    path = write_template(root, paragraphs, [])
    problems = check_template(path, root)
    assert {problem.code for problem in problems} <= {"unknown-variable"}, problems
    return {re.match(r"'(.+?)' is used", problem.message).group(1) for problem in problems}


@pytest.mark.parametrize(
    ("runs", "used"),
    [
        (["{{ debtor.name }}"], {"debtor.name"}),
        (
            ["{% for inv in invoices %}", "{{ inv.number }}", "{% endfor %}"],
            {"invoices", "invoices[].number"},
        ),
        (
            ["{% for p in interest.periods %}", "{{ p.start }}", "{% endfor %}"],
            {"interest.periods", "interest.periods[].start"},
        ),
        (
            ["{% for line in debtor.address_lines %}", "{{ line }}", "{% endfor %}"],
            {"debtor.address_lines"},
        ),
        (["{% if debtor.is_individual %}", "x", "{% endif %}"], {"debtor.is_individual"}),
        (["{% for inv in invoices %}", "{{ loop.index }}", "{% endfor %}"], {"invoices"}),
        (["{% set n = 3 %}", "{{ n }}"], set()),
        (
            ["{{ debtor['name'] }}", "{% if debtor.email is defined %}{% endif %}"],
            {"debtor.name", "debtor.email"},
        ),
        (
            ["{{ totals.total_due|default('-') }}", "{{ debtor.name.upper() }}"],
            {"totals.total_due", "debtor.name"},
        ),
        (
            [
                "{% for inv in invoices|sort(attribute='due_date') %}",
                "{{ inv.balance }}",
                "{% for n in inv.notes %}",
                "{{ n.text }}",
                "{% endfor %}",
                "{% endfor %}",
            ],
            {"invoices", "invoices[].balance", "invoices[].notes", "invoices[].notes[].text"},
        ),
        (["{{ invoices[0].number }}"], {"invoices", "invoices[].number"}),
    ],
)
def test_variables_used(tmp_path, runs, used):
    assert unknown(tmp_path, [runs]) == used


def test_header_is_checked(tmp_path):
    path = write_template(tmp_path, [["{{ debtor.name }}"]], [("debtor.name", "text")],
                          header="{{ document.reference }}")  # fmt: skip
    (problem,) = check_template(path, tmp_path)
    assert problem.code == "unknown-variable"
    assert problem.message.startswith("header1.xml: 'document.reference' is used")


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        (HEAD + "[[fields]\n", "cannot read"),
        ('language = "en"\n', "'title' is missing"),
        ('title = "Letter"\n', "'language' is missing"),
        ('title = "Letter"\nlanguage = "fr"\n', "language 'fr' is not one of en, zh"),
        (HEAD + '[[fields]]\ntype = "text"\ndescription = "x"\n', "field 1: 'name' is missing"),
        (HEAD + '[[fields]]\nname = "debtor.name"\ndescription = "x"\n', "'type' is missing"),
        (HEAD + '[[fields]]\nname = "debtor.name"\ntype = "text"\n', "'description' is missing"),
        (manifest_text([("debtor.name", "string")]), "type 'string' is not one of"),
        (manifest_text([("debtor.name", "text")] * 2), "'debtor.name' is listed twice"),
        (manifest_text([("invoices[].number", "text")]), "'invoices' is no list field"),
    ],
)
def test_bad_manifest_is_reported(tmp_path, manifest, reason):
    path = write_template(tmp_path, [["{{ debtor.name }}"]], manifest)
    with pytest.raises(ManifestError, match=re.escape(reason)):
        load_manifest(path.with_suffix(".toml"))
    (problem,) = check_template(path, tmp_path)
    assert problem.code == "manifest"
    assert problem.message.startswith("ew/demand_letter.toml: ")
    assert reason in problem.message


def test_manifest_is_loaded(tmp_path):
    manifest = HEAD + (
        '[[fields]]\nname = "court.name"\ntype = "text"\nrequired = true\ninput = true\n'
        'description = "Court the claim is issued in"\n'
    )
    path = write_template(tmp_path, [["{{ court.name }}"]], manifest)
    loaded = load_manifest(path.with_suffix(".toml"))
    assert loaded.title == "Letter before claim"
    assert loaded.language == "en"
    court = Field("court.name", "text", True, "Court the claim is issued in", input=True)
    assert loaded.fields == (court,)


def test_missing_manifest_and_source_folder(app, tmp_path):
    write_template(tmp_path, [["{{ debtor.name }}"]], None, name="us/demand_letter")
    write_template(tmp_path, [["{{ broken"]], None, name="source/ew/demand_letter")
    count, problems = check_all(tmp_path)
    assert count == 1
    assert [str(problem) for problem in problems] == [
        "us/demand_letter.docx: missing-manifest: no manifest us/demand_letter.toml"
    ]


def test_no_templates_fails_the_check(app, tmp_path):
    result = run_check(app, tmp_path / "nowhere")
    assert result.exit_code == 1
    assert result.output.endswith("templates check: 0 templates, 0 problems\n")


def test_shipped_templates_pass():
    count, problems = check_all(SHIPPED)
    assert count > 0
    assert [str(problem) for problem in problems] == []
