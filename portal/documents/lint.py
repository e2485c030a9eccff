"""``templates check``: Jinja syntax, variables against the manifest and split tags (no Flask)."""

from __future__ import annotations

import difflib
import html
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
from docx.opc.exceptions import OpcError
from docx.opc.oxml import parse_xml
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2 import nodes
from lxml import etree

from .manifest import ManifestError, load_manifest

CODES = ("syntax", "unknown-variable", "unused-field", "split-tag", "manifest", "missing-manifest")
#: The delimiters docxtpl renders with (Jinja's defaults); parsing needs no filters or undefined.
_ENV = jinja2.Environment()  # noqa: S701 - parsed only, never rendered
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_OPENER = re.compile(r"\{[{%#]")
_BLOCK_TAG = re.compile(r"\{%-?\s*(\w+)(.*?)%\}")
#: In patched XML: a w:t's text, or a tag docxtpl moved out of its paragraph or row ({%p}, {%tr}).
_VISIBLE = re.compile(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>|(\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\})")
_BLOCKS = {"if", "for", "macro", "call", "filter", "with", "block", "autoescape", "set"}
_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a template."""

    template: str  #: path relative to the templates root, e.g. ``ew/demand_letter.docx``
    code: str  #: one of CODES
    message: str
    paragraph: str | None = None  #: visible text of the paragraph concerned

    def __str__(self) -> str:
        line = f"{self.template}: {self.code}: {self.message}"
        if self.paragraph is not None:
            text = " ".join(self.paragraph.split())
            text = text if len(text) <= 120 else text[:117] + "..."
            line += f' [paragraph: "{text}"]'
        return line


@dataclass(frozen=True)
class _Part:
    """A part docxtpl renders: its raw XML element and the patched XML as one line per paragraph."""

    label: str  #: "" for the body, else the part's file name (``header1.xml``)
    element: etree._Element
    lines: list[str]

    def where(self, message: str) -> str:
        return f"{self.label}: {message}" if self.label else message


def check_all(root: Path) -> tuple[int, list[Problem]]:
    """Check every ``<jurisdiction>/**/*.docx`` under ``root`` (not ``source/``)."""
    templates = sorted(
        path
        for folder in (root.iterdir() if root.is_dir() else ())
        if folder.is_dir() and folder.name != "source" and not folder.name.startswith(".")
        for path in folder.rglob("*.docx")
        if not path.name.startswith("~$")  # Word's lock file while the template is open
    )
    problems = [problem for path in templates for problem in check_template(path, root)]
    return len(templates), problems


def check_template(docx_path: Path, root: Path) -> list[Problem]:
    """Every problem of one template and its manifest."""
    name = docx_path.relative_to(root).as_posix()
    manifest_path = docx_path.with_suffix(".toml")
    manifest_name = manifest_path.relative_to(root).as_posix()
    problems: list[Problem] = []
    manifest = None
    if not manifest_path.is_file():
        problems.append(Problem(name, "missing-manifest", f"no manifest {manifest_name}"))
    else:
        try:
            manifest = load_manifest(manifest_path)
        except ManifestError as error:
            problems.append(Problem(name, "manifest", f"{manifest_name}: {error.reason}"))
    try:
        parts = _parts(docx_path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, OpcError, etree.LxmlError) as error:
        return [*problems, Problem(name, "syntax", f"cannot open as a Word document: {error}")]
    uses = _Uses()
    parsed = True
    for part in parts:
        problems.extend(_split_tags(name, part))
        try:
            tree = _ENV.parse("\n".join(part.lines))
        except jinja2.TemplateSyntaxError as error:
            problems.append(_syntax_problem(name, part, error))
            parsed = False
            continue
        uses.walk(tree, part)
    if manifest is not None and parsed:
        problems.extend(_compare(name, manifest_name, {f.name for f in manifest.fields}, uses))
    return problems


def _parts(docx_path: Path) -> list[_Part]:
    """Body, headers, footers and footnotes, as docxtpl sees them before rendering."""
    template = DocxTemplate(docx_path)
    template.init_docx()
    related = [part for uri in (template.HEADER_URI, template.FOOTER_URI)
               for _key, part in template.get_headers_footers(uri)]  # fmt: skip
    related += [part for part in template.docx.part.package.parts
                if part.content_type == _FOOTNOTES]  # fmt: skip
    elements = [("", template.docx.element.body)] + [
        (part.partname.rsplit("/", 1)[-1], parse_xml(part.blob)) for part in related
    ]
    parts = []
    for label, element in elements:
        xml = template.patch_xml(template.xml_to_string(element))
        # Only our newlines, so that Jinja's line number is the paragraph's.
        xml = xml.replace("\r", " ").replace("\n", " ").replace("</w:p>", "</w:p>\n")
        parts.append(_Part(label, element, xml.split("\n")))
    return parts


def _paragraph(part: _Part, lineno: int | None) -> str | None:
    """The text a line of patched XML shows: its w:t texts and any tag moved out of a run."""
    if lineno is None or not 1 <= lineno <= len(part.lines):
        return None
    found = _VISIBLE.findall(part.lines[lineno - 1])
    return html.unescape("".join(text or tag for text, tag in found)).strip()


def _syntax_problem(name: str, part: _Part, error: jinja2.TemplateSyntaxError) -> Problem:
    message, lineno = error.message or str(error), error.lineno
    if message.startswith("Unexpected end of template"):
        # Jinja points at the end; the paragraph that matters is where the open block starts.
        opened = _unclosed_block_line(part.lines)
        if opened is not None:
            message, lineno = f"{message} (the block opens in this paragraph)", opened
    return Problem(name, "syntax", part.where(message), _paragraph(part, lineno))


def _unclosed_block_line(lines: list[str]) -> int | None:
    """Line of the innermost block tag (``{% if %}``, ``{% for %}``…) that is never closed."""
    opened: list[int] = []
    for lineno, line in enumerate(lines, 1):
        for tag, rest in _BLOCK_TAG.findall(line):
            if tag.startswith("end") and opened:
                opened.pop()
            elif tag in _BLOCKS and not (tag == "set" and "=" in rest):  # not {% set x = 1 %}
                opened.append(lineno)
    return opened[-1] if opened else None


def _split_tags(name: str, part: _Part) -> list[Problem]:
    """Tags whose characters lie in more than one w:t, and tags not closed in their paragraph."""
    problems = []
    for paragraph in part.element.iter(qn("w:p")):
        spans: list[tuple[int, int]] = []
        text = ""
        for node in paragraph.iter(qn("w:t")):
            if next(node.iterancestors(qn("w:p"))) is paragraph and node.text:
                spans.append((len(text), len(text) + len(node.text)))
                text += node.text
        for match in _TAG.finditer(text):
            runs = [1 for start, end in spans if start < match.end() and end > match.start()]
            if len(runs) > 1:
                message = f"tag {match.group(0)!r} is split over {len(runs)} Word runs"
                problems.append(Problem(name, "split-tag", part.where(message), text))
        closed = [match.span() for match in _TAG.finditer(text)]
        for opener in _OPENER.finditer(text):
            if not any(start <= opener.start() < end for start, end in closed):
                message = f"tag {text[opener.start() :][:40]!r} is not closed in its paragraph"
                problems.append(Problem(name, "syntax", part.where(message), text))
                break
    return problems


class _Uses:
    """The context paths a template reads (``debtor.name``, ``invoices``, ``invoices[].number``)."""

    def __init__(self) -> None:
        self.first: dict[str, tuple[_Part, int]] = {}  #: path → where it is first read
        self.part: _Part | None = None
        self.scopes: list[dict[str, str | None]] = [{}]  #: local name → path it aliases, or None

    def walk(self, tree: nodes.Template, part: _Part) -> None:
        self.part = part
        self.visit(tree)

    def use(self, path: str, lineno: int) -> None:
        # ``invoices[].number`` reads ``invoices`` too; a bare loop item reads only its list.
        pieces = path.split("[]")
        lists = ["[]".join(pieces[:count]) for count in range(1, len(pieces))]
        for found in [*lists, path.removesuffix("[]")]:
            if found not in self.first and self.part is not None:
                self.first[found] = (self.part, lineno)

    def path(self, node: nodes.Node) -> str | None:
        """The context path an expression names, or None (a local, a global, a computed value)."""
        if isinstance(node, nodes.Name):
            for scope in reversed(self.scopes):
                if node.name in scope:
                    return scope[node.name]
            return None if node.name in _ENV.globals else node.name
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            base = self.path(node.node)
            key = node.attr if isinstance(node, nodes.Getattr) else _constant(node.arg)
            if base is None or key is None:
                return base  # a computed key (``x[i]``) still reads ``x``
            return f"{base}[]" if isinstance(key, int) else f"{base}.{key}"
        if isinstance(node, nodes.Filter):
            return self.path(node.node)  # ``invoices|sort(...)`` still yields invoices' items
        return None

    def alias(self, node: nodes.Node) -> str | None:
        """The path ``{% set x = debtor %}`` makes ``x`` stand for (None for a computed value)."""
        plain = isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem)
        return self.path(node) if plain else None

    def visit(self, node: nodes.Node) -> None:
        handler = getattr(self, f"visit_{type(node).__name__}", None)
        if handler is not None:
            handler(node)
            return
        for child in node.iter_child_nodes():
            self.visit(child)

    def in_scope(self, names: dict[str, str | None], *bodies: list[nodes.Node]) -> None:
        self.scopes.append(names)
        for body in bodies:
            for child in body:
                self.visit(child)
        self.scopes.pop()

    def visit_Name(self, node: nodes.Name) -> None:
        if node.ctx == "load":
            self.visit_Getattr(node)

    def visit_Getattr(self, node: nodes.Getattr | nodes.Getitem | nodes.Name) -> None:
        path = self.path(node)
        if path is not None:
            self.use(path, node.lineno)
        while isinstance(node, nodes.Getattr | nodes.Getitem):
            if isinstance(node, nodes.Getitem) and _constant(node.arg) is None:
                self.visit(node.arg)
            node = node.node

    visit_Getitem = visit_Getattr

    def visit_Call(self, node: nodes.Call) -> None:
        # A method call (``name.upper()``) reads the object, not an attribute called ``upper``.
        target = node.node.node if isinstance(node.node, nodes.Getattr) else node.node
        for child in [target, *node.args, *node.kwargs, node.dyn_args, node.dyn_kwargs]:
            if child is not None:
                self.visit(child)

    def visit_For(self, node: nodes.For) -> None:
        self.visit(node.iter)
        source = self.path(node.iter)
        item = f"{source}[]" if source is not None else None
        names: dict[str, str | None] = dict.fromkeys(_names(node.target))
        if isinstance(node.target, nodes.Name):
            names[node.target.name] = item
        self.in_scope({**names, "loop": None}, [node.test] if node.test else [], node.body)
        self.in_scope({}, node.else_)

    def visit_Assign(self, node: nodes.Assign) -> None:
        self.visit(node.node)
        alias = self.alias(node.node) if isinstance(node.target, nodes.Name) else None
        for target in _names(node.target):
            self.scopes[-1][target] = alias

    def visit_AssignBlock(self, node: nodes.AssignBlock) -> None:
        self.in_scope({}, node.body)
        for target in _names(node.target):
            self.scopes[-1][target] = None

    def visit_Macro(self, node: nodes.Macro) -> None:
        for default in node.defaults:
            self.visit(default)
        self.scopes[-1][node.name] = None
        names = dict.fromkeys([*_names(*node.args), "caller", "varargs", "kwargs"])
        self.in_scope(names, node.body)

    def visit_CallBlock(self, node: nodes.CallBlock) -> None:
        self.visit(node.call)
        self.in_scope(dict.fromkeys(_names(*node.args)), node.body)

    def visit_With(self, node: nodes.With) -> None:
        for value in node.values:
            self.visit(value)
        names: dict[str, str | None] = {}
        for target, value in zip(node.targets, node.values, strict=True):
            alias = self.alias(value) if isinstance(target, nodes.Name) else None
            names.update(dict.fromkeys(_names(target), alias))
        self.in_scope(names, node.body)


def _names(*targets: nodes.Node) -> list[str]:
    """Names a target binds: ``x`` or each name of ``a, b``."""
    found = []
    for target in targets:
        if isinstance(target, nodes.Name):
            found.append(target.name)
        else:
            found.extend(name.name for name in target.find_all(nodes.Name))
    return found


def _constant(node: nodes.Node) -> str | int | None:
    if isinstance(node, nodes.Const) and isinstance(node.value, str | int):
        return node.value
    return None


def _compare(name: str, manifest_name: str, fields: set[str], uses: _Uses) -> list[Problem]:
    """Variables read but not in the manifest, and manifest fields never read."""
    problems = []
    for path, (part, lineno) in sorted(uses.first.items()):
        if path in fields or any(f.startswith((f"{path}.", f"{path}[]")) for f in fields):
            continue  # a field, or an object holding fields (``{% if debtor %}``)
        close = difflib.get_close_matches(path, fields, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        message = f"{path!r} is used but not listed in {manifest_name}{hint}"
        paragraph = _paragraph(part, lineno)
        problems.append(Problem(name, "unknown-variable", part.where(message), paragraph))
    for field in sorted(fields - set(uses.first)):
        message = f"{field!r} is listed in {manifest_name} but the template never uses it"
        problems.append(Problem(name, "unused-field", message))
    return problems
