"""The PDF sanitiser: removes what can act on its own and saves the document unencrypted.

Opened with pikepdf; open actions, additional actions (document, page, field, annotation),
JavaScript, Launch/ImportData/SubmitForm/ResetForm and other active actions, ``javascript:``/
``file:`` links, embedded files, file-attachment and multimedia annotations and XFA are removed;
fonts the PDF only names are embedded (Liberation, same widths); the notes say what was changed.
"""

from __future__ import annotations

import io
from collections import Counter

import pikepdf

from .base import RenditionFailed, already_seen, plural, save, text_value
from .fonts.substitute import embed_missing_fonts

#: Actions that only move around the document or show and hide things. Everything else —
#: JavaScript, Launch, ImportData, SubmitForm, ResetForm, GoToR/GoToE (other files), Rendition,
#: Sound, Movie, RichMediaExecute … — is removed.
_SAFE_ACTIONS = frozenset({"/GoTo", "/Named", "/Thread", "/SetOCGState", "/Hide", "/Trans"})
_SAFE_URI_SCHEMES = ("http://", "https://", "mailto:")
#: Annotations that carry files, sound, video or scripts of their own.
_ACTIVE_ANNOTATIONS = {
    "/FileAttachment": "file attachment",
    "/Sound": "multimedia annotation",
    "/Movie": "multimedia annotation",
    "/Screen": "multimedia annotation",
    "/RichMedia": "multimedia annotation",
    "/3D": "multimedia annotation",
}
_ACTION_CATEGORIES = {
    "/JavaScript": "JavaScript action",
    "/Launch": "Launch action",
    "/ImportData": "form action",
    "/SubmitForm": "form action",
    "/ResetForm": "form action",
}
#: Every action type of PDF 2.0 (``/S``): how an action dictionary is told from others that
#: have an ``/S`` too (structure elements, transparency groups, soft masks).
_ACTION_TYPES = frozenset(
    "/GoTo /GoToR /GoToE /GoToDp /Launch /Thread /URI /Sound /Movie /Hide /Named /SubmitForm "
    "/ResetForm /ImportData /SetOCGState /Rendition /Trans /GoTo3DView /JavaScript "
    "/RichMediaExecute".split()
)


class _Sanitiser:
    """Removes what can act on its own from an open pikepdf document, counting what it removes."""

    def __init__(self, document: pikepdf.Pdf) -> None:
        self.document = document
        self.removed: Counter[str] = Counter()
        self.notes: list[str] = []

    def run(self) -> list[str]:
        root = self.document.Root
        if "/OpenAction" in root:
            action = root.OpenAction
            if isinstance(action, pikepdf.Dictionary):
                self._check_action(action)
            del root["/OpenAction"]
        self._remove_additional_actions(root)
        if "/Names" in root and isinstance(root.Names, pikepdf.Dictionary):
            names = root.Names
            if "/JavaScript" in names:
                self.removed["JavaScript action"] += max(1, _name_tree_size(names.JavaScript))
                del names["/JavaScript"]
            if "/EmbeddedFiles" in names:
                self.removed["embedded file"] += max(1, _name_tree_size(names.EmbeddedFiles))
                del names["/EmbeddedFiles"]
        if isinstance(root.get("/Names"), pikepdf.Dictionary):
            for key in ("/AlternatePresentations", "/Renditions"):  # slide shows, media clips
                if key in root.Names:
                    self.removed["multimedia item"] += 1
                    del root.Names[key]
        for key in ("/Collection", "/Perms"):  # a portfolio's cover; usage-rights signatures
            if key in root:
                del root[key]
        self._clean_form(root)
        self._clean_outlines(root)
        for page in self.document.pages:
            self._clean_page(page.obj)
        self._scrub()
        notes = [f"removed {plural(noun, count)}" for noun, count in sorted(self.removed.items())]
        return notes + self.notes

    # actions

    def _check_action(self, action: pikepdf.Object, depth: int = 0) -> bool:
        """Whether ``action`` (with its ``/Next`` chain cleaned in place) may stay."""
        if not isinstance(action, pikepdf.Dictionary) or depth > 32:
            return False
        kind = action.get("/S")
        kind = str(kind) if isinstance(kind, pikepdf.Name) else ""
        if kind == "/URI":
            uri = text_value(action.get("/URI"))
            if not uri.strip().lower().startswith(_SAFE_URI_SCHEMES):
                self.removed[
                    "JavaScript link" if "javascript:" in uri.lower() else "unsafe link"
                ] += 1
                return False
        elif kind not in _SAFE_ACTIONS:
            self.removed[_ACTION_CATEGORIES.get(kind, "active action")] += 1
            return False
        if "/Next" in action:
            following = action.Next
            chain = list(following) if isinstance(following, pikepdf.Array) else [following]
            kept = [item for item in chain if self._check_action(item, depth + 1)]
            if not kept:
                del action["/Next"]
            elif len(kept) != len(chain):
                action.Next = pikepdf.Array(kept)
        return True

    def _remove_additional_actions(self, holder: pikepdf.Dictionary) -> None:
        if "/AA" not in holder:
            return
        triggers = holder.AA
        if isinstance(triggers, pikepdf.Dictionary):
            for _trigger, action in triggers.items():
                if self._check_action(action):
                    self.removed["automatic action"] += 1
        del holder["/AA"]

    def _scrub(self) -> None:
        """A last pass over every object, for active content in places the passes above do not
        visit (a parent form field's kids, a nested appearance, a nonstandard key …)."""
        seen: set[tuple[int, int]] = set()
        stack: list[pikepdf.Object] = [self.document.Root]
        while stack:
            obj = stack.pop()
            if isinstance(obj, pikepdf.Stream):
                if already_seen(obj, seen):
                    continue
                obj = obj.stream_dict
            elif isinstance(obj, pikepdf.Dictionary | pikepdf.Array):
                if already_seen(obj, seen):
                    continue
            else:
                continue
            if isinstance(obj, pikepdf.Array):
                kept = [item for item in obj if not self._scrubbed(item)]
                if len(kept) != len(obj):
                    obj[:] = kept  # noqa: B909 - replaced whole, after the loop
                stack.extend(kept)
                continue
            for key in list(obj.keys()):
                value = obj[key]
                if key == "/AA":
                    self._remove_additional_actions(obj)
                elif key in ("/EF", "/RichMediaContent"):
                    self.removed["embedded file"] += 1
                    del obj[key]
                elif self._scrubbed(value):
                    del obj[key]
                else:
                    stack.append(value)

    def _scrubbed(self, value: pikepdf.Object) -> bool:
        """Whether ``value`` is an action (or script) that has to go; counts it if so."""
        if not isinstance(value, pikepdf.Dictionary):
            return False
        kind = value.get("/S")
        is_action = (
            value.get("/Type") == "/Action"
            or "/JS" in value
            or (isinstance(kind, pikepdf.Name) and str(kind) in _ACTION_TYPES)
        )
        if not is_action:
            return False
        if "/JS" in value and kind != "/JavaScript":
            self.removed["JavaScript action"] += 1
            return True
        return not self._check_action(value)

    # parts of the document

    def _clean_form(self, root: pikepdf.Dictionary) -> None:
        form = root.get("/AcroForm")
        if not isinstance(form, pikepdf.Dictionary):
            return
        if "/XFA" in form:
            del form["/XFA"]
            self.notes.append("removed the XFA form (the form's fields and their values are kept)")
        if int(form.get("/SigFlags", 0)) & 1:
            self.notes.append(
                "the digital signature of the original is not valid on this copy; the original "
                "file keeps it"
            )
        seen: set[tuple[int, int]] = set()
        stack = list(form.get("/Fields", pikepdf.Array()))
        while stack:
            field_ = stack.pop()
            if not isinstance(field_, pikepdf.Dictionary) or already_seen(field_, seen):
                continue
            self._remove_additional_actions(field_)
            if "/A" in field_ and not self._check_action(field_.A):
                del field_["/A"]
            stack.extend(field_.get("/Kids", pikepdf.Array()))

    def _clean_outlines(self, root: pikepdf.Dictionary) -> None:
        outlines = root.get("/Outlines")
        if not isinstance(outlines, pikepdf.Dictionary):
            return
        seen: set[tuple[int, int]] = set()
        stack = [outlines.get("/First")]
        while stack:
            item = stack.pop()
            if not isinstance(item, pikepdf.Dictionary) or already_seen(item, seen):
                continue
            if "/A" in item and not self._check_action(item.A):
                del item["/A"]
            stack.extend(item.get(key) for key in ("/First", "/Next"))

    def _clean_page(self, page: pikepdf.Dictionary) -> None:
        self._remove_additional_actions(page)
        annotations = page.get("/Annots")
        if not isinstance(annotations, pikepdf.Array):
            return
        kept = []
        for annotation in annotations:
            if not isinstance(annotation, pikepdf.Dictionary):
                continue
            subtype = str(annotation.get("/Subtype", ""))
            if subtype in _ACTIVE_ANNOTATIONS:
                self.removed[_ACTIVE_ANNOTATIONS[subtype]] += 1
                continue
            self._remove_additional_actions(annotation)
            if "/PA" in annotation and not self._check_action(annotation.PA):
                del annotation["/PA"]
            if "/A" in annotation and not self._check_action(annotation.A):
                if subtype == "/Link":
                    continue  # a link that did nothing but run the action
                del annotation["/A"]
            kept.append(annotation)
        if len(kept) != len(annotations):
            page.Annots = pikepdf.Array(kept)


def _name_tree_size(node: pikepdf.Object, depth: int = 0) -> int:
    if not isinstance(node, pikepdf.Dictionary) or depth > 32:
        return 0
    count = len(node.get("/Names", ())) // 2
    for kid in node.get("/Kids", ()):
        count += _name_tree_size(kid, depth + 1)
    return count


def sanitise_pdf(data: bytes) -> tuple[bytes, list[str]]:
    """The PDF without active content, unencrypted, and what was removed (for ``notes``).

    :raises RenditionFailed: pikepdf cannot open the file.
    """
    try:
        document = pikepdf.open(io.BytesIO(data))
    except (pikepdf.PdfError, pikepdf.PasswordError) as error:
        raise RenditionFailed(
            "This PDF cannot be opened to make the exhibit copy. Please upload it again, or "
            "print it to a new PDF and upload that."
        ) from error
    with document:
        notes = _Sanitiser(document).run()
        if document.is_encrypted:
            notes.append("removed the encryption (permission restrictions)")
        notes += embed_missing_fonts(document)
        return save(document), notes
