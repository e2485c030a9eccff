"""Ledger pages: debtors with their balances, opening a case, aging with drill-down and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from ..accounts.models import User
from ..accounts.views import current_actor
from ..business_time import today as business_today
from ..cases import policy
from ..cases import services as case_services
from ..cases.models import Case, CaseStatus, case_invoice
from ..domain import DomainError
from ..extensions import db
from ..forms import populate_errors
from ..listing import ordered, requested_sort
from ..money import format_money, quantize
from ..security import Permission, Role, has_permission, permission_required
from . import aging as aging_service
from .allocation import debtor_balances, invoice_balances
from .forms import OpenCaseForm
from .models import (
    CreditNote,
    CreditorEntity,
    Debtor,
    Invoice,
    Jurisdiction,
    Payment,
    PaymentAllocation,
)

bp = Blueprint("ledger", __name__, url_prefix="/ledger")

#: Debtors per page of the list.
PER_PAGE = 100
BUCKET_KEYS = [key for key, _label, _days in aging_service.BUCKETS]
ZERO = Decimal(0)


def money_filter(amount: Any, currency: str | None) -> str:
    """Template filter ``|money(currency)``: ``1,234.50``, rounded half-up to the minor unit."""
    if amount is None or amount == "":
        return ""
    return format_money(Decimal(str(amount)), currency or "XXX")


bp.add_app_template_filter(money_filter, "money")


# --- debtors ---------------------------------------------------------------------------------


@dataclass
class Balance:
    """What one debtor owes in one currency (invoices less credit notes and allocations)."""

    currency: str
    outstanding: Decimal
    open_invoices: int
    #: Due date of the oldest invoice still open and overdue.
    oldest_overdue: dt.date | None


def balances_by_debtor(debtor_ids: list[int], today: dt.date) -> dict[int, list[Balance]]:
    """Outstanding per debtor and currency, for many debtors in one grouped query (from the
    stored aging when it is today's)."""
    if not debtor_ids:
        return {}
    result: dict[int, list[Balance]] = defaultdict(list)
    for row in db.session.execute(aging_service.balances(today, debtor_ids)):
        if row.outstanding:
            result[row.debtor_id].append(
                Balance(
                    row.currency,
                    row.outstanding,
                    int(row.open_invoices or 0),
                    aging_service.as_date(row.oldest_overdue),
                )
            )
    return result


def _visible_case_ids() -> Select:
    """Ids of the cases the signed-in user may see (for ``IN`` clauses)."""
    return policy.visible_cases(current_user).with_only_columns(Case.id)


#: The debtor list's sortable columns; the figures' columns are filled in per request.
DEBTOR_SORTS = {
    "name": (Debtor.name,),
    "external_id": (Debtor.external_id,),
    "kind": (Debtor.kind,),
    "jurisdiction": (Debtor.jurisdiction,),
    "outstanding": (),
    "open_invoices": (),
    "oldest_overdue": (),
    "open_cases": (),
}


@bp.get("/debtors")
@permission_required(Permission.VIEW_LEDGER)
def debtors():
    """Debtors with their outstanding balance per currency, filtered by name and jurisdiction."""
    filters = {
        "q": request.args.get("q", "").strip()[:100],
        "jurisdiction": request.args.get("jurisdiction", ""),
        "owing": request.args.get("owing", ""),
    }
    query = select(Debtor)
    if filters["q"]:
        query = query.where(
            Debtor.name.icontains(filters["q"], autoescape=True)
            | Debtor.external_id.icontains(filters["q"], autoescape=True)
        )
    if filters["jurisdiction"] in set(Jurisdiction):
        query = query.where(Debtor.jurisdiction == Jurisdiction(filters["jurisdiction"]))
    if filters["owing"]:
        # The aging holds a row only where something is outstanding.
        owing, _stored = aging_service.source(business_today())
        query = query.where(Debtor.id.in_(select(owing.c.debtor_id)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    sort = requested_sort(DEBTOR_SORTS, "name")
    columns = dict(DEBTOR_SORTS)
    if sort.key in ("outstanding", "open_invoices", "oldest_overdue"):
        # Figures per debtor from the stored aging (computed live until the day's is stored).
        totals = aging_service.debtor_totals(business_today())
        query = query.outerjoin(totals, totals.c.debtor_id == Debtor.id)
        columns[sort.key] = (totals.c[sort.key],)
    elif sort.key == "open_cases":
        columns["open_cases"] = (
            select(func.count())
            .where(
                Case.debtor_id == Debtor.id,
                Case.id.in_(_visible_case_ids()),
                Case.status != CaseStatus.CLOSED,
            )
            .scalar_subquery(),
        )
    rows = db.session.scalars(
        ordered(query, sort, columns, Debtor.id).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    ids = [debtor.id for debtor in rows]
    open_cases = (
        dict(
            db.session.execute(
                select(Case.debtor_id, func.count())
                .where(
                    Case.id.in_(_visible_case_ids()),
                    Case.debtor_id.in_(ids),
                    Case.status != CaseStatus.CLOSED,
                )
                .group_by(Case.debtor_id)
            ).all()
        )
        if ids
        else {}
    )
    return render_template(
        "ledger/debtors.html",
        debtors=rows,
        balances=balances_by_debtor(ids, business_today()),
        open_cases=open_cases,
        filters=filters,
        sort=sort,
        jurisdictions=list(Jurisdiction),
        page=page,
        pages=pages,
        total=total,
    )


@dataclass
class InvoiceRow:
    """An invoice with its balance and the open case that claims it (if any)."""

    invoice: Invoice
    creditor: str
    credited: Decimal
    paid: Decimal
    outstanding: Decimal
    case: Any = None  # (id, reference, status) of the claiming open case

    @property
    def eligible(self) -> bool:
        """Can go into a new case: something is owed and no open case claims it."""
        return self.outstanding > 0 and self.case is None


def _debtor_or_404(external_id: str) -> Debtor:
    debtor = db.session.scalar(select(Debtor).where(Debtor.external_id == external_id))
    if debtor is None:
        abort(404)
    return debtor


def _invoice_rows(debtor: Debtor) -> list[InvoiceRow]:
    credited, paid, outstanding, joins = invoice_balances()
    rows = [
        InvoiceRow(invoice, code, credited_sum, paid_sum, outstanding_sum)
        for invoice, code, credited_sum, paid_sum, outstanding_sum in db.session.execute(
            joins(select(Invoice, CreditorEntity.code, credited, paid, outstanding))
            .join(CreditorEntity, CreditorEntity.id == Invoice.creditor_id)
            .where(Invoice.debtor_id == debtor.id)
            .order_by(Invoice.due_date, Invoice.id)
        )
    ]
    by_id = {row.invoice.id: row for row in rows}
    if by_id:
        # Every open case counts here (the service refuses an invoice claimed twice), but only
        # cases the user may see are named.
        visible = set(db.session.scalars(_visible_case_ids()))
        for invoice_id, case_id, reference, status in db.session.execute(
            select(case_invoice.c.invoice_id, Case.id, Case.reference, Case.status)
            .join(Case, Case.id == case_invoice.c.case_id)
            .where(case_invoice.c.invoice_id.in_(by_id), Case.status != CaseStatus.CLOSED)
        ):
            by_id[invoice_id].case = (case_id if case_id in visible else None, reference, status)
    return rows


def _open_case_form(rows: list[InvoiceRow], formdata: Any = None) -> OpenCaseForm:
    form = OpenCaseForm(formdata=formdata) if formdata is not None else OpenCaseForm()
    form.invoices.choices = [
        SelectChoice(str(row.invoice.id), row.invoice.number) for row in rows if row.eligible
    ]
    if current_user.role is Role.ADMIN:
        form.owner.choices = [
            SelectChoice(str(user.id), user.name)
            for user in db.session.scalars(
                select(User)
                .where(User.role == Role.LEGAL, User.active.is_(True))
                .order_by(User.name)
            )
        ]
    else:
        del form.owner
    if has_permission(current_user, Permission.ASSIGN_LAWYERS):
        form.lawyer.choices = [SelectChoice("", "— none yet —")] + [
            SelectChoice(str(user.id), f"{user.name} ({user.firm})")
            for user in case_services.active_lawyers()
        ]
    else:
        del form.lawyer
    return form


def _render_debtor(debtor: Debtor, rows: list[InvoiceRow], form: OpenCaseForm | None, status=200):
    payments = db.session.execute(
        select(Payment, Invoice.number)
        .outerjoin(Invoice, Invoice.id == Payment.invoice_id)
        .where(Payment.debtor_id == debtor.id)
        .order_by(Payment.date.desc(), Payment.id.desc())
    ).all()
    allocations: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for payment_id, number, amount in db.session.execute(
        select(PaymentAllocation.payment_id, Invoice.number, PaymentAllocation.amount)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(Payment.debtor_id == debtor.id)
        .order_by(Invoice.due_date, Invoice.id)
    ):
        allocations[payment_id].append((number, amount))
    credit_notes = db.session.execute(
        select(CreditNote, Invoice.number)
        .join(Invoice, Invoice.id == CreditNote.invoice_id)
        .where(CreditNote.debtor_id == debtor.id)
        .order_by(CreditNote.date.desc(), CreditNote.id.desc())
    ).all()
    cases = db.session.scalars(
        policy.visible_cases(current_user)
        .where(Case.debtor_id == debtor.id)
        .options(selectinload(Case.owner), selectinload(Case.lawyer))
        .order_by(Case.created_at.desc(), Case.id.desc())
    ).all()
    return render_template(
        "ledger/debtor.html",
        debtor=debtor,
        invoices=rows,
        balances=sorted(debtor_balances(debtor.id).items()),
        payments=payments,
        allocations=allocations,
        credit_notes=credit_notes,
        cases=cases,
        form=form,
        today=business_today(),
    ), status


@bp.get("/debtors/<path:external_id>")
@permission_required(Permission.VIEW_LEDGER)
def debtor(external_id: str):
    """One debtor: details, invoices with balances, payments, credit notes, cases."""
    debtor = _debtor_or_404(external_id)
    rows = _invoice_rows(debtor)
    form = _open_case_form(rows) if has_permission(current_user, Permission.MANAGE_CASES) else None
    return _render_debtor(debtor, rows, form)


@bp.post("/debtors/<path:external_id>")
@permission_required(Permission.MANAGE_CASES)
def open_case(external_id: str):
    """Open a case against the debtor for the ticked invoices; then show the case."""
    debtor = _debtor_or_404(external_id)
    rows = _invoice_rows(debtor)
    form = _open_case_form(rows, request.form)
    if form.validate_on_submit():
        chosen = set(form.invoices.data)
        invoices = [row.invoice for row in rows if str(row.invoice.id) in chosen]
        if "owner" in form:
            owner = db.session.get(User, int(form.owner.data))
        else:
            owner = current_user._get_current_object()
        lawyer = None
        if "lawyer" in form and form.lawyer.data:
            lawyer = db.session.get(User, int(form.lawyer.data))
        try:
            case = case_services.open_case(
                current_actor(), debtor=debtor, owner=owner, invoices=invoices, lawyer=lawyer
            )
        except DomainError as error:
            db.session.rollback()
            populate_errors(form, error)
        else:
            flash(f"Case {case.reference} opened for {len(invoices)} invoice(s).", "success")
            return redirect(url_for("cases.show", case_id=case.id), 303)
    if "owner" in form and not form.owner.choices:
        form.owner.errors = [*form.owner.errors, "Create an in-house legal user first."]
    return _render_debtor(debtor, _invoice_rows(debtor), form, status=422)


# --- aging -----------------------------------------------------------------------------------


def _as_of() -> dt.date:
    """The ``as_of`` query argument (ISO date), today when absent or not a date."""
    raw = request.args.get("as_of", "").strip()
    if raw:
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            flash(f"“{raw[:20]}” is not a date (YYYY-MM-DD); showing today.", "warning")
    return business_today()


def _by_creditor() -> bool:
    return request.args.get("by_creditor", "") in ("1", "on", "true", "yes")


@dataclass
class Segment:
    key: str
    label: str
    index: int
    amount: Decimal
    #: Share of the currency's total, percent, and where the segment starts.
    percent: float
    start: float


def chart_segments(per_bucket: dict[str, Decimal]) -> list[Segment]:
    """Stacked-bar segments of one currency's bucket totals (non-empty buckets only)."""
    positive = {key: max(amount, ZERO) for key, amount in per_bucket.items()}
    whole = sum(positive.values(), ZERO)
    segments, start = [], 0.0
    if whole <= 0:
        return segments
    for index, (key, label, _days) in enumerate(aging_service.BUCKETS):
        amount = positive.get(key, ZERO)
        if amount <= 0:
            continue
        percent = round(float(amount / whole * 100), 3)
        segments.append(Segment(key, label, index, amount, percent, round(start, 3)))
        start += percent
    return segments


def _aging_filters() -> aging_service.AgingFilter:
    """The report's filters from the query string (unknown values are ignored)."""
    creditor = request.args.get("creditor", "").strip()[:16]
    jurisdiction = request.args.get("jurisdiction", "")
    bucket = request.args.get("bucket", "")
    creditor_id = (
        db.session.scalar(select(CreditorEntity.id).where(CreditorEntity.code == creditor))
        if creditor
        else None
    )
    return aging_service.AgingFilter(
        creditor_id=creditor_id,
        jurisdiction=jurisdiction if jurisdiction in set(Jurisdiction) else None,
        bucket=bucket if bucket in aging_service.KEYS else None,
    )


@bp.get("/aging")
@permission_required(Permission.VIEW_LEDGER)
def aging():
    """Outstanding per debtor and currency in the overdue buckets, a page at a time, with the
    totals of every row and charts."""
    as_of, by_creditor = _as_of(), _by_creditor()
    report = aging_service.report(
        as_of,
        by_creditor=by_creditor,
        filters=_aging_filters(),
        page=request.args.get("page", 1, type=int) or 1,
    )
    args = {
        key: request.args[key]
        for key in ("as_of", "by_creditor", "creditor", "jurisdiction", "bucket")
        if request.args.get(key)
    }
    return render_template(
        "ledger/aging.html",
        report=report,
        rows=report.rows,
        totals=sorted(report.totals.items()),
        charts={currency: chart_segments(per) for currency, per in report.totals.items()},
        buckets=aging_service.BUCKETS,
        as_of=as_of,
        by_creditor=by_creditor,
        args=args,
        creditors=db.session.scalars(select(CreditorEntity).order_by(CreditorEntity.code)).all(),
        jurisdictions=list(Jurisdiction),
    )


def _csv_text(value: str) -> str:
    """Keep spreadsheet programs from reading a debtor's name as a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.get("/aging.csv")
@permission_required(Permission.VIEW_LEDGER)
def aging_csv():
    """The aging table as CSV (amounts as plain decimal strings in the currency's minor unit),
    every row of the filter, streamed as it is read."""
    as_of, by_creditor = _as_of(), _by_creditor()
    query, _stored = aging_service.report_query(as_of, by_creditor, _aging_filters())
    creditor = ["creditor"] if by_creditor else []
    header = ["as_of", "debtor", "debtor_name", *creditor, "currency", *BUCKET_KEYS, "total"]

    app = current_app._get_current_object()

    def lines():
        # Its own app context (and database session), entered only when the body is read.
        with app.app_context():
            yield from _aging_lines(query, as_of, by_creditor, header)

    suffix = "-by-creditor" if by_creditor else ""
    return Response(
        lines(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="aging-{as_of.isoformat()}{suffix}.csv"'
        },
    )


def _aging_lines(query, as_of: dt.date, by_creditor: bool, header: list[str]):
    """The CSV's text in chunks of about 64 KB, rows read 1,000 at a time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    # A byte-order mark, so spreadsheet programs read the names as UTF-8.
    out.write("\ufeff")
    writer.writerow(header)
    for result in db.session.execute(query.execution_options(yield_per=1000)):
        row = aging_service.as_row(result._mapping, by_creditor)
        writer.writerow(
            [
                as_of.isoformat(),
                _csv_text(row.debtor),
                _csv_text(row.debtor_name),
                *([_csv_text(row.creditor)] if by_creditor else []),
                row.currency,
                *(str(quantize(row.buckets[key], row.currency)) for key in BUCKET_KEYS),
                str(quantize(row.total, row.currency)),
            ]
        )
        if out.tell() > 64 * 1024:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


@bp.get("/aging/invoices")
@permission_required(Permission.VIEW_LEDGER)
def aging_invoices():
    """Drill-down: a debtor's open invoices as of a date, in one bucket (or all)."""
    as_of = _as_of()
    debtor = _debtor_or_404(request.args.get("debtor", ""))
    labels = {key: label for key, label, _days in aging_service.BUCKETS}
    bucket = request.args.get("bucket", "")
    if bucket not in labels:
        bucket = ""
    currency = request.args.get("currency", "").strip().upper()[:3]
    creditor = request.args.get("creditor", "").strip()[:16]
    credited, paid, outstanding, joins = invoice_balances(as_of)
    bucket_of = aging_service.bucket_expression(as_of)
    query = (
        joins(
            select(
                Invoice, CreditorEntity.code, credited, paid, outstanding, bucket_of.label("bucket")
            )
        )
        .join(CreditorEntity, CreditorEntity.id == Invoice.creditor_id)
        .where(Invoice.debtor_id == debtor.id, Invoice.issue_date <= as_of, outstanding != 0)
        .order_by(Invoice.due_date, Invoice.id)
    )
    if bucket:
        query = query.where(bucket_of == bucket)
    if currency:
        query = query.where(Invoice.currency == currency)
    if creditor:
        query = query.where(CreditorEntity.code == creditor)
    rows = db.session.execute(query).all()
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row[0].currency] += row[4]
    return render_template(
        "ledger/aging_invoices.html",
        debtor=debtor,
        rows=rows,
        totals=sorted(totals.items()),
        as_of=as_of,
        bucket=bucket,
        bucket_label=labels.get(bucket),
        labels=labels,
        currency=currency,
        creditor=creditor,
    )
