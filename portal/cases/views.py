"""Case list and case page: the claim, the ladder, readiness, evidence, status, next action and
the timeline."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from marshmallow import ValidationError
from sqlalchemy import case as when
from sqlalchemy import func, select
from sqlalchemy.orm import aliased, selectinload
from wtforms import SelectChoice

from ..accounts.models import User
from ..accounts.views import current_actor
from ..business_time import today as business_today
from ..domain import DomainError
from ..evidence import intake
from ..evidence.forms import upload_form as evidence_upload_form
from ..evidence.models import Evidence
from ..evidence.services import limits as evidence_limits
from ..extensions import db
from ..forms import populate_errors, submit
from ..ids import id_arg
from ..jurisdictions.interest import pct
from ..ledger.models import Debtor, Jurisdiction
from ..ledger.views import money_filter
from ..listing import ordered, requested_sort
from ..security import Permission, Role, has_permission, permission_required
from . import policy, services
from .claims import build_claim, limitation_warning_days
from .event_schemas import load_event
from .events import add_event as add_event_service
from .figures import basis as figures_basis
from .figures import computed as compute_figures
from .forms import (
    DISPATCH_DOCUMENTS,
    AgreementForm,
    AssignLawyerForm,
    EventForm,
    NextActionForm,
    StageForm,
    StatusForm,
)
from .models import (
    Case,
    CaseDeadline,
    CaseEvent,
    CaseFigures,
    CaseStatus,
    EventType,
    Outcome,
    Stage,
)
from .present import case_payload
from .timeline import describe, reconciliation_state

bp = Blueprint("cases", __name__, url_prefix="/cases")
bp.add_app_template_filter(money_filter, "money")


@bp.app_template_filter("pct")
def pct_filter(rate: Any) -> str:
    """A rate as people write it: ``12.75``, ``8`` (no trailing zeros)."""
    return pct(Decimal(str(rate))) if rate not in (None, "") else ""


#: Cases per page of the list (the claims of one page are built in one batch).
PER_PAGE = 50
#: Next-action filter of the list.
DUE_FILTERS = {
    "overdue": "Next action overdue",
    "week": "Next action due within 7 days",
    "any": "Next action scheduled",
}
#: The owner, joined for sorting by name.
Owner = aliased(User)
#: The list's sortable columns (``?sort=<key>&dir=asc|desc``), each backed by an index or a
#: short sort of the filtered rows.
SORT_COLUMNS = {
    "reference": (Case.reference,),
    "debtor": (Debtor.name,),
    # The ladder's order, then what the next stage still needs (blockers, then warnings).
    "stage": (
        when(*((Case.stage == stage, index) for index, stage in enumerate(Stage))),
        CaseFigures.readiness_blockers,
        CaseFigures.readiness_warnings,
    ),
    "status": (Case.status,),
    "outstanding": (CaseFigures.outstanding,),
    "limitation": (CaseFigures.limitation_deadline,),
    "next": (CaseFigures.next_due,),
    "owner": (Owner.name,),
    "updated": (Case.updated_at,),
}


@bp.get("/")
@permission_required(Permission.VIEW_CASES)
def index():
    """Cases the user may see, filtered; each with its next action, balance and limitation."""
    today = business_today()
    query = policy.visible_cases(current_user).join(Case.debtor)
    keys = ("stage", "status", "jurisdiction", "lawyer", "owner", "due", "q")
    filters = {key: request.args.get(key, "") for key in keys}
    if filters["stage"] in set(Stage):
        query = query.where(Case.stage == Stage(filters["stage"]))
    if filters["status"] in set(CaseStatus):
        query = query.where(Case.status == CaseStatus(filters["status"]))
    if filters["jurisdiction"] in set(Jurisdiction):
        query = query.where(Case.jurisdiction == Jurisdiction(filters["jurisdiction"]))
    if filters["lawyer"] == "none":
        query = query.where(Case.lawyer_id.is_(None))
    elif (lawyer_id := id_arg("lawyer")) is not None:
        query = query.where(Case.lawyer_id == lawyer_id)
    if (owner_id := id_arg("owner")) is not None:
        query = query.where(Case.owner_id == owner_id)
    if filters["due"] == "overdue":
        query = query.where(Case.next_action_due < today)
    elif filters["due"] == "week":
        query = query.where(Case.next_action_due.between(today, today + dt.timedelta(days=7)))
    elif filters["due"] == "any":
        query = query.where(Case.next_action_due.is_not(None))
    if filters["q"]:
        text = filters["q"].strip()[:100]
        query = query.where(
            Debtor.name.icontains(text, autoescape=True)
            | Case.reference.icontains(text, autoescape=True)
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    sort = requested_sort(SORT_COLUMNS, "updated", descending=True)
    rows = db.session.execute(
        ordered(
            query.add_columns(CaseFigures)
            .outerjoin(CaseFigures, CaseFigures.case_id == Case.id)
            .join(Owner, Owner.id == Case.owner_id)
            .options(
                selectinload(Case.debtor), selectinload(Case.lawyer), selectinload(Case.owner)
            ),
            sort,
            SORT_COLUMNS,
            Case.id,
        )
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    cases = [row[0] for row in rows]
    claims, readiness = _listed_figures(rows, today)
    staff = current_user.role is not Role.LAWYER
    return render_template(
        "cases/index.html",
        cases=cases,
        claims=claims,
        readiness=readiness,
        filters=filters,
        sort=sort,
        stages=list(Stage),
        statuses=list(CaseStatus),
        jurisdictions=list(Jurisdiction),
        lawyers=services.active_lawyers() if staff else [],
        owners=_legal_users() if staff else [],
        due_filters=DUE_FILTERS,
        today=today,
        page=page,
        pages=pages,
        total=total,
    )


def _listed_figures(rows, today: dt.date) -> tuple[dict[int, dict], dict[int, dict]]:
    """The list's balance, limitation, next action and readiness of each listed case, from the
    stored figures (one query for the limitation counts); a case whose figures are not stored
    yet (just after an upgrade) or stored on other rules has them computed here instead."""
    current = figures_basis()
    stored = {
        case.id: {column.key: getattr(figures, column.key) for column in CaseFigures.__table__.c}
        for case, figures in rows
        if figures is not None and not figures.stale and figures.basis == current
    }
    soon = today + dt.timedelta(days=limitation_warning_days())
    counts: dict[int, dict[str, int]] = {}
    if stored:
        for case_id, expired, warning in db.session.execute(
            select(
                CaseDeadline.case_id,
                func.sum(when((CaseDeadline.due < today, 1), else_=0)),
                func.sum(when((CaseDeadline.due.between(today, soon), 1), else_=0)),
            )
            .where(CaseDeadline.kind == "limitation", CaseDeadline.case_id.in_(list(stored)))
            .group_by(CaseDeadline.case_id)
        ):
            counts[case_id] = {"expired": expired or 0, "warning": warning or 0}
    missing = [case for case, _figures in rows if case.id not in stored]
    for case_id, (row, deadlines) in compute_figures(missing).items():
        stored[case_id] = row
        limits = [item["due"] for item in deadlines if item["kind"] == "limitation"]
        counts[case_id] = {
            "expired": sum(1 for due in limits if due < today),
            "warning": sum(1 for due in limits if today <= due <= soon),
        }
    claims, readiness = {}, {}
    for case_id, figures in stored.items():
        claims[case_id] = {
            "outstanding": figures["outstanding"],
            "currency": figures["currency"],
            **counts.get(case_id, {"expired": 0, "warning": 0}),
            "deadline": figures["limitation_deadline"],
            "next": {
                "text": figures["next_text"],
                "due": figures["next_due"].isoformat() if figures["next_due"] else None,
                "reason": figures["next_reason"],
            },
        }
        readiness[case_id] = {
            "stage": figures["readiness_stage"],
            "blockers": figures["readiness_blockers"],
            "warnings": figures["readiness_warnings"],
            "title": figures["readiness_title"],
        }
    return claims, readiness


def _legal_users() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == Role.LEGAL).order_by(User.name)))


# --- the case page ---------------------------------------------------------------------------


def _as_of() -> dt.date | None:
    raw = request.args.get("as_of", "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        flash(f"“{raw[:20]}” is not a date (YYYY-MM-DD); the claim is as of today.", "warning")
        return None


def render_case(case: Case, status: int = 200, **forms: Any):
    """The case page; ``forms`` carries a submitted form back with its errors."""
    as_of = _as_of()
    claim = build_claim(case, as_of)
    payload = case_payload(case, claim=claim)
    events = db.session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id)
        .options(selectinload(CaseEvent.created_by))
        .order_by(CaseEvent.date, CaseEvent.id)
    ).all()
    reconciliation = reconciliation_state(claim.events, claim.as_of)
    badges: dict[int, tuple[str, str]] = {}
    for promise in payload["promises"]:
        badges[promise["event"]] = (promise["state"], PROMISE_COLOURS[promise["state"]])
    if reconciliation:
        badges[reconciliation.sent.id] = (
            reconciliation.state.replace("_", " "),
            RECONCILIATION_COLOURS[reconciliation.state],
        )
    editable = policy.can_edit_case(current_user, case)
    if editable:
        forms.setdefault("status_form", _status_form(case))
        forms.setdefault("next_form", NextActionForm(obj=case, formdata=None))
        forms.setdefault("agreement_form", _agreement_form(case))
        forms.setdefault("event_form", _event_form(case))
        forms.setdefault("stage_form", StageForm(formdata=None))
    if policy.can_assign_lawyer(current_user, case):
        forms.setdefault("assign_form", _assign_form(case, submitted=False))
    if policy.can_view_case(current_user, case) and has_permission(
        current_user, Permission.UPLOAD_EVIDENCE
    ):
        forms.setdefault("upload_form", evidence_upload_form(case))
    from ..documents.services import case_documents
    from ..documents.views import STATUS_COLOURS, can_generate

    if can_generate(case):
        from ..documents.forms import GenerateForm

        forms.setdefault("generate_form", GenerateForm(formdata=None))
    ladder = list(Stage)
    index = ladder.index(case.stage)
    interest = claim.interest or {}
    total_due = None
    if not claim.interest_error:
        total_due = claim.outstanding + interest.get("amount", Decimal(0)) + claim.compensation
    return render_template(
        "cases/show.html",
        case=case,
        claim=claim,
        payload=payload,
        numbers={item["external_id"]: item["number"] for item in payload["invoices"]},
        events=events,
        describe=describe,
        badges=badges,
        reconciliation=reconciliation,
        stages=ladder,
        next_stage=ladder[index + 1] if index + 1 < len(ladder) else None,
        previous_stage=ladder[index - 1] if index > 0 else None,
        editable=editable,
        total_due=total_due,
        event_types=list(EventType),
        dispatch_documents=DISPATCH_DOCUMENTS,
        as_of_given=as_of is not None,
        evidence=_evidence(case),
        upload_limit=evidence_limits().max_bytes,
        allowed_files=intake.ALLOWED_DESCRIPTION,
        file_types={media: ext.lstrip(".").upper() for media, ext in intake.EXTENSIONS.items()},
        checklist=_checklist(payload["readiness"]),
        documents=case_documents(case),
        document_colours=STATUS_COLOURS,
        **forms,
    ), status


def _evidence(case: Case) -> list[Evidence]:
    """The case's evidence with its invoices, oldest first (one query for the links)."""
    return list(
        db.session.scalars(
            select(Evidence)
            .where(Evidence.case_id == case.id)
            .options(selectinload(Evidence.invoices))
            .order_by(Evidence.id)
        )
    )


def _checklist(readiness: dict[str, dict]) -> list[dict[str, Any]]:
    """Every stage's findings split into blockers and warnings (blockers are listed first)."""
    checklist = []
    for stage in Stage:
        state = readiness.get(stage.value)
        if state is None:
            continue
        findings = state["findings"]
        checklist.append(
            {
                "stage": stage,
                "ready": state["ready"],
                "blockers": [item for item in findings if item["severity"] == "blocker"],
                "warnings": [item for item in findings if item["severity"] != "blocker"],
            }
        )
    return checklist


PROMISE_COLOURS = {"kept": "success", "broken": "danger", "pending": "secondary"}
RECONCILIATION_COLOURS = {
    "awaiting": "secondary",
    "confirmed": "success",
    "disputed": "danger",
    "deemed_confirmed": "info",
}


@bp.get("/<int:case_id>")
@permission_required(Permission.VIEW_CASES)
def show(case_id: int):
    """One case: parties, ladder, claim with interest and limitation, timeline."""
    case = policy.get_case_or_404(current_user, case_id)
    return render_case(case)


def _back(case_id: int, anchor: str | None = None):
    return redirect(url_for("cases.show", case_id=case_id, _anchor=anchor), 303)


def _findings(error: services.StageBlocked) -> Markup:
    """The refusal and each blocker, as a list inside the flashed message (escaped)."""
    items = Markup("").join(
        Markup("<li><strong>{}</strong> {}{}</li>").format(
            finding.rule,
            finding.message,
            f" (invoice {finding.invoice})" if finding.invoice else "",
        )
        for finding in error.findings
    )
    return Markup('{} Blockers:<ul class="mb-0">{}</ul>').format(error.message, items)


@bp.post("/<int:case_id>/stage")
@permission_required(Permission.MANAGE_CASES)
def move_stage(case_id: int):
    """Move the case up or back the ladder; a stage's blockers are listed when it refuses."""
    case = policy.get_case_or_404(current_user, case_id, for_edit=True)
    form = StageForm()
    if not form.validate_on_submit():
        flash("Choose a stage of the ladder.", "danger")
        return _back(case_id)
    target = Stage(form.stage.data)
    try:
        services.move_stage(current_actor(), case, target)
    except services.StageBlocked as error:
        db.session.rollback()
        flash(_findings(error), "danger")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        flash(f"{case.reference} is now at the stage {target.label.lower()}.", "success")
    return _back(case_id)


def _status_form(case: Case, submitted: bool = False) -> StatusForm:
    """The status form: from the request when ``submitted``, else showing the case's values."""
    if submitted:
        form = StatusForm()
    else:
        form = StatusForm(
            formdata=None,
            data={
                "status": case.status.value,
                "outcome": case.outcome.value if case.outcome else "",
                "recovered_amount": _plain(case.recovered_amount, case.currency),
                "costs": _plain(case.costs, case.currency),
                "closed_on": case.closed_on,
            },
        )
    form.currency = case.currency
    return form


def _plain(amount: Decimal | None, currency: str | None) -> str:
    return money_filter(amount, currency).replace(",", "")


@bp.post("/<int:case_id>/status")
@permission_required(Permission.MANAGE_CASES)
def set_status(case_id: int):
    """Open, hold or close the case (closing needs the outcome)."""
    case = policy.get_case_or_404(current_user, case_id, for_edit=True)
    form = _status_form(case, submitted=True)
    if form.validate_on_submit():
        try:
            services.set_status(
                current_actor(),
                case,
                CaseStatus(form.status.data),
                outcome=Outcome(form.outcome.data) if form.outcome.data else None,
                recovered_amount=form.recovered,
                costs=form.cost_amount,
                closed_on=form.closed_on.data,
            )
        except DomainError as error:
            db.session.rollback()
            populate_errors(form, error)
        else:
            flash(f"{case.reference}: status {case.status.value.replace('_', ' ')}.", "success")
            return _back(case_id)
    return render_case(case, 422, status_form=form)


@bp.post("/<int:case_id>/next-action")
@permission_required(Permission.MANAGE_CASES)
def set_next_action(case_id: int):
    """What legal does next on the case, and by when."""
    case = policy.get_case_or_404(current_user, case_id, for_edit=True)
    form = NextActionForm()
    if form.validate_on_submit():
        services.set_next_action(
            current_actor(), case, form.next_action.data, form.next_action_due.data
        )
        flash(f"{case.reference}: next action saved.", "success")
        return _back(case_id)
    return render_case(case, 422, next_form=form)


def _agreement_form(case: Case) -> AgreementForm:
    form = AgreementForm(obj=case, formdata=None)
    form.agreement_form.data = case.agreement_form or ""
    return form


@bp.post("/<int:case_id>/agreement")
@permission_required(Permission.MANAGE_CASES)
def set_agreement(case_id: int):
    """The agreement the debt arises under, as the letters and pleadings state it."""
    case = policy.get_case_or_404(current_user, case_id, for_edit=True)
    form = AgreementForm()
    if submit(form, lambda: services.set_agreement(current_actor(), case, form.data)):
        flash(f"{case.reference}: agreement saved.", "success")
        return _back(case_id)
    return render_case(case, 422, agreement_form=form)


def _event_form(case: Case, submitted: bool = False) -> EventForm:
    """The event form: from the request when ``submitted``, else blank (today, case currency)."""
    if submitted:
        form = EventForm()
    else:
        defaults = {"type": EventType.CONTACT.value, "date": business_today().isoformat()}
        if case.currency:
            for kind in ("promise", "reconciliation_reply", "acknowledgment"):
                defaults[f"{kind}_currency"] = case.currency
        form = EventForm(formdata=None, data=defaults)
    choices = [
        SelectChoice(invoice.external_id, f"{invoice.number} (due {invoice.due_date})")
        for invoice in case.invoices
    ]
    form.dispute_invoices.choices = choices
    form.dispute_resolved_invoices.choices = list(choices)
    return form


@bp.post("/<int:case_id>/events")
@permission_required(Permission.MANAGE_CASES)
def add_event(case_id: int):
    """Record a timeline event, checked by the same schema as the API."""
    case = policy.get_case_or_404(current_user, case_id, for_edit=True)
    form = _event_form(case, submitted=True)
    if form.validate_on_submit():
        kind = form.kind()
        try:
            data = load_event(form.payload())
        except ValidationError as error:
            form.place_errors(error.normalized_messages())
        else:
            try:
                add_event_service(current_actor(), case, data)
            except DomainError as error:
                db.session.rollback()
                populate_errors(form, error, form.error_fields())
            else:
                flash(f"{kind.label} recorded on {case.reference}.", "success")
                return _back(case_id, "timeline")
    if not form.form_errors and not any(field.errors for field in form):
        form.form_errors.append("The event could not be recorded.")
    return render_case(case, 422, event_form=form)


# --- counsel ---------------------------------------------------------------------------------


@bp.post("/<int:case_id>/lawyer")
@permission_required(Permission.ASSIGN_LAWYERS)
def assign_lawyer(case_id: int):
    """Assign the external lawyer (or withdraw the assignment)."""
    case = policy.get_case_or_404(current_user, case_id)
    form = _assign_form(case)
    if not form.validate_on_submit():
        flash("Choose one of the listed lawyers.", "danger")
        return _back(case.id)
    lawyer = db.session.get(User, int(form.lawyer.data)) if form.lawyer.data else None
    try:
        services.assign_lawyer(current_actor(), case, lawyer)
    except DomainError as error:
        flash(error.message, "danger")
        return _back(case.id)
    db.session.commit()
    who = lawyer.name if lawyer else "nobody"
    flash(f"Case {case.reference} is now assigned to {who}.", "success")
    return _back(case.id)


def _assign_form(case: Case, submitted: bool = True) -> AssignLawyerForm:
    current = str(case.lawyer_id or "")
    form = AssignLawyerForm() if submitted else AssignLawyerForm(formdata=None, lawyer=current)
    form.lawyer.choices = [SelectChoice("", "— not assigned —")] + [
        SelectChoice(str(user.id), f"{user.name} ({user.firm})")
        for user in services.active_lawyers()
    ]
    return form
