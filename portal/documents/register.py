"""Letter numbers: the creditor's sequence (``NWC-2026-0007``) and a law firm's own register.

A PRC lawyer's letter (律师函) is issued by the firm and carries the firm's number, drawn from
its register only when the letter is made final; the creditor's sequence numbers the rest.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..audit.services import Actor, record
from ..cases.models import Case
from ..domain import ValidationFailed
from ..extensions import db
from ..security import Role
from .models import DocumentKind, LawFirm, LawFirmSequence, ReferenceSequence


def next_reference(case: Case, on: dt.date) -> str:
    """The creditor's next letter number for the year: ``NWC-2026-0007``."""
    key = (case.creditor_id, on.year)
    row = db.session.get(ReferenceSequence, key, with_for_update=True)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(ReferenceSequence(creditor_id=key[0], year=key[1], last=0))
        except IntegrityError:
            pass  # another request created the year's row first; lock and use it
        row = db.session.get(ReferenceSequence, key, with_for_update=True, populate_existing=True)
    row.last += 1
    db.session.flush()
    return f"{case.creditor.code}-{on.year}-{row.last:04d}"


#: A firm's letter number until an admin sets the firm's own format: （2026）律函字第007号.
DEFAULT_LETTER_FORMAT = "（{year}）律函字第{seq:03d}号"
#: What a draft 律师函 prints where its number will be: the firm numbers only what it issues.
UNNUMBERED = "（定稿时由律师事务所登记编号）"


def firm_numbered(case: Case, kind: DocumentKind) -> bool:
    """A PRC lawyer's letter takes its number from the firm's register, not the creditor's."""
    return kind is DocumentKind.DEMAND_LETTER and case.jurisdiction.value == "cn"


def law_firm(name: str) -> LawFirm:
    """The firm's register row (made with the default format the first time it is needed)."""
    firm = db.session.scalar(select(LawFirm).where(LawFirm.name == name))
    if firm is None:
        try:
            with db.session.begin_nested():
                db.session.add(LawFirm(name=name, letter_format=DEFAULT_LETTER_FORMAT))
        except IntegrityError:
            pass  # another request registered the firm first
        firm = db.session.scalar(select(LawFirm).where(LawFirm.name == name))
    return firm


def format_letter_number(letter_format: str, year: int, seq: int) -> str:
    """:raises ValueError: the format names a field other than ``year`` and ``seq``."""
    try:
        return letter_format.format(year=year, seq=seq)
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(f"{letter_format!r} is not a letter-number format: {error}") from None


def next_firm_number(firm_name: str, on: dt.date) -> str:
    """The firm's next letter number for the year from its own register (per-firm sequence)."""
    firm = law_firm(firm_name)
    key = (firm.id, on.year)
    row = db.session.get(LawFirmSequence, key, with_for_update=True)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(LawFirmSequence(firm_id=firm.id, year=on.year, last=0))
        except IntegrityError:
            pass
        row = db.session.get(LawFirmSequence, key, with_for_update=True, populate_existing=True)
    row.last += 1
    db.session.flush()
    return format_letter_number(firm.letter_format, on.year, row.last)


def set_letter_format(actor: Actor, name: str, letter_format: str) -> LawFirm:
    """Set how a firm's letter numbers read, e.g. ``（{year}）京金律函字第{seq:03d}号``.

    :raises ValidationFailed: no ``{seq}`` in the format, a field other than ``year`` and
        ``seq``, or a format longer than 100 characters.
    """
    letter_format = (letter_format or "").strip()
    problem = None
    if "{seq" not in letter_format:
        problem = "The format must contain {seq} (the number within the year)."
    elif len(letter_format) > 100:
        problem = "At most 100 characters."
    else:
        try:
            sample = format_letter_number(letter_format, 2026, 7)
        except ValueError as error:
            problem = f"{error}; use {{year}} and {{seq}} (e.g. {{seq:03d}})."
        else:
            if len(sample) > 64:
                problem = "A number made from this format would be longer than 64 characters."
    if problem:
        raise ValidationFailed(problem, fields={"letter_format": [problem]})
    firm = law_firm(name)
    before = firm.letter_format
    if before != letter_format:
        firm.letter_format = letter_format
        db.session.flush()
        record(
            actor,
            "firm.letter_format",
            "law_firm",
            firm.id,
            before={"letter_format": before},
            after={"name": firm.name, "letter_format": letter_format},
        )
    return firm


def firm_registers(on: dt.date) -> list[dict]:
    """Every firm a lawyer signs for: its format, this year's last number and the next one."""
    names = set(
        db.session.scalars(
            select(User.firm).where(User.role == Role.LAWYER, User.firm.is_not(None))
        )
    )
    firms = {firm.name: firm for firm in db.session.scalars(select(LawFirm))}
    last = dict(
        db.session.execute(
            select(LawFirmSequence.firm_id, LawFirmSequence.last).where(
                LawFirmSequence.year == on.year
            )
        ).all()
    )
    rows = []
    for name in sorted(names | set(firms)):
        firm = firms.get(name)
        letter_format = firm.letter_format if firm else DEFAULT_LETTER_FORMAT
        issued = last.get(firm.id, 0) if firm else 0
        rows.append(
            {
                "name": name,
                "letter_format": letter_format,
                "issued": issued,
                "next": format_letter_number(letter_format, on.year, issued + 1),
            }
        )
    return rows
