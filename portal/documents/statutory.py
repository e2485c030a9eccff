"""Statutory enclosures: the official forms a letter is issued with (PAP-Debt Annex 1).

The Pre-Action Protocol for Debt Claims prescribes the Information Sheet, Reply Form and
Financial Statement; a letter sends those forms, not a paraphrase. An admin uploads each
official PDF once (a new upload is the next version); a letter whose template names them is
issued with the newest versions appended, and cannot be final while one is missing.
"""

from __future__ import annotations

import io
from contextlib import ExitStack
from typing import Any

import pikepdf
from sqlalchemy import func, select

from ..audit.services import Actor, record
from ..domain import ValidationFailed
from ..evidence.intake import name_for_type
from ..extensions import db
from ..pdf.base import save
from ..storage import file_store, register_references
from .manifest import STATUTORY_FORMS
from .models import StatutoryForm

#: An official form is a few pages: 10 MB is ample.
MAX_BYTES = 10 * 1024 * 1024


def current_forms() -> dict[str, StatutoryForm]:
    """The newest version of each kind that has been uploaded."""
    newest = (
        select(StatutoryForm.kind, func.max(StatutoryForm.version).label("version"))
        .group_by(StatutoryForm.kind)
        .subquery()
    )
    rows = db.session.scalars(
        select(StatutoryForm).join(
            newest,
            (StatutoryForm.kind == newest.c.kind) & (StatutoryForm.version == newest.c.version),
        )
    )
    return {row.kind: row for row in rows}


def upload_form(actor: Actor, kind: str, data: bytes, filename: str, edition: str) -> StatutoryForm:
    """Store an official form as the next version of ``kind``.

    :raises ValidationFailed: unknown kind, no edition, not a readable unencrypted PDF by its
        content, or larger than ``MAX_BYTES``.
    """
    edition = (edition or "").strip()
    if kind not in STATUTORY_FORMS:
        message = f"Unknown form {kind!r}."
        raise ValidationFailed(message, fields={"kind": [message]})
    if not edition:
        message = "Say which publication this is (source and date of the official form)."
        raise ValidationFailed(message, fields={"edition": [message]})
    if len(data) > MAX_BYTES:
        message = f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB."
        raise ValidationFailed(message, fields={"file": [message]})
    pages = _pdf_pages(data)
    sha256, _ = file_store().put(data)
    version = (
        db.session.scalar(select(func.max(StatutoryForm.version)).where(StatutoryForm.kind == kind))
        or 0
    ) + 1
    form = StatutoryForm(
        kind=kind,
        version=version,
        edition=edition[:300],
        # Named like every stored upload: ending in its content's extension.
        original_name=name_for_type((filename or "form.pdf").strip()[:250] or "form.pdf", ".pdf"),
        sha256=sha256,
        pages=pages,
        uploaded_by_id=actor.user.id if actor.user else None,
    )
    db.session.add(form)
    db.session.flush()
    record(
        actor,
        "statutory_form.upload",
        "statutory_form",
        form.id,
        after={"kind": kind, "version": version, "edition": form.edition, "sha256": sha256},
    )
    return form


def _pdf_pages(data: bytes) -> int:
    message = "The official form must be a PDF that opens without a password."
    if not data.startswith(b"%PDF-"):
        raise ValidationFailed(message, fields={"file": [message]})
    try:
        with pikepdf.open(io.BytesIO(data)) as document:
            if document.is_encrypted:
                raise ValidationFailed(message, fields={"file": [message]})
            count = len(document.pages)
    except (pikepdf.PdfError, pikepdf.PasswordError) as error:
        raise ValidationFailed(message, fields={"file": [message]}) from error
    if count == 0:
        raise ValidationFailed(message, fields={"file": [message]})
    return count


def enclosures(kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """What a template's ``enclosures`` list says: each form's title, edition and version, or
    ``missing`` when no admin has uploaded it yet (its title is then the draft's marker)."""
    current = current_forms()
    listed = []
    for kind in kinds:
        form = current.get(kind)
        title = STATUTORY_FORMS[kind]
        listed.append(
            {
                "kind": kind,
                "title": title
                if form
                else f"[missing: {title} – an admin must upload the official form]",
                "edition": form.edition if form else None,
                "version": form.version if form else None,
                "sha256": form.sha256 if form else None,
                "missing": form is None,
            }
        )
    return listed


def annexed(pdf: bytes, listed: list[dict[str, Any]]) -> bytes:
    """The letter's PDF with each uploaded form's pages appended, in the listed order."""
    hashes = [item["sha256"] for item in listed if item.get("sha256")]
    if not hashes:
        return pdf
    store = file_store()
    with ExitStack() as stack:
        letter = stack.enter_context(pikepdf.open(io.BytesIO(pdf)))
        for sha256 in hashes:
            # Read through the store's check of the hash; open until the merged file is saved.
            form = stack.enter_context(pikepdf.open(io.BytesIO(store.read(sha256))))
            letter.pages.extend(form.pages)
        return save(letter)


def _stored_hashes():
    yield from db.session.scalars(select(StatutoryForm.sha256))


register_references(_stored_hashes)
