"""Case routes of ``/api/v1``: open, read, change, timeline."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, request
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..accounts.services import user_by_email
from ..cases import events as event_service
from ..cases import policy
from ..cases import services as case_service
from ..cases.event_schemas import SCHEMAS as EVENT_SCHEMAS
from ..cases.event_schemas import load_event
from ..cases.models import Case, CaseStatus, EventType, Outcome, Stage
from ..cases.present import case_payload
from ..cases.timeline import describe
from ..domain import ValidationFailed
from ..errors import api_error
from ..extensions import db
from ..ledger.models import Invoice, Jurisdiction
from ..ledger.schemas import MoneyString
from ..ledger.upserts import debtor_by_external_id
from ..security import Permission, Role, has_permission
from .arguments import ApiBlueprint, json_type_errors
from .auth import BEARER, api_actor, api_user, token_required
from .schemas import (
    ApiErrorSchema,
    CaseListArgsSchema,
    CaseListSchema,
    FindingSchema,
    NonEmptyMixin,
    openapi_extra,
    places_rule,
    requires_when_given,
)

blp = ApiBlueprint("cases_api", __name__, url_prefix="/api/v1", description="Cases and timelines")


class CaseIn(Schema):
    debtor = fields.String(required=True, metadata={"description": "the debtor's external_id"})
    invoices = fields.List(
        fields.String(),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "external ids of the debtor's invoices to claim"},
    )
    jurisdiction = fields.String(
        load_default=None, validate=validate.OneOf([j.value for j in Jurisdiction])
    )
    lawyer = fields.Email(load_default=None, metadata={"description": "a lawyer user's e-mail"})
    owner = fields.Email(
        load_default=None,
        metadata={"description": "an in-house legal user's e-mail; default: the caller"},
    )


_OPEN_STATUSES = [status.value for status in CaseStatus if status is not CaseStatus.CLOSED]


@openapi_extra(
    {
        "allOf": [
            # Closing needs an outcome; an outcome goes with closing (``set_status``). An
            # outcome alone is refused unless the case is closed already.
            {
                "if": {"properties": {"status": {"const": "closed"}}, "required": ["status"]},
                "then": {"required": ["outcome"], "properties": {"outcome": {"type": "string"}}},
            },
            {
                "if": {"properties": {"status": {"enum": _OPEN_STATUSES}}, "required": ["status"]},
                "then": {"properties": {"outcome": {"type": "null"}}},
            },
        ]
    },
)
class CasePatch(NonEmptyMixin, Schema):
    lawyer = fields.String(allow_none=True, metadata={"description": "e-mail, or null"})
    stage = fields.String(validate=validate.OneOf([s.value for s in Stage]))
    status = fields.String(validate=validate.OneOf([s.value for s in CaseStatus]))
    outcome = fields.String(allow_none=True, validate=validate.OneOf([o.value for o in Outcome]))
    recovered_amount = MoneyString(allow_none=True)
    costs = MoneyString(allow_none=True)
    closed_on = fields.Date(allow_none=True)
    next_action = fields.String(allow_none=True, validate=validate.Length(max=300))
    next_action_due = fields.Date(allow_none=True)


def _date_out(**kwargs: Any) -> fields.String:
    """A date already formatted as ``YYYY-MM-DD`` by ``case_payload``."""
    return fields.String(required=True, metadata={"format": "date"}, **kwargs)


class InterestPeriodOut(Schema):
    invoice = fields.String(required=True)
    start = _date_out()
    end = _date_out()
    days = fields.Integer(required=True)
    principal = fields.String(required=True)
    rate = fields.String(required=True, allow_none=True, metadata={"description": "percent p.a."})
    amount = fields.String(required=True)


class InterestOut(Schema):
    amount = fields.String(required=True, allow_none=True)
    basis = fields.String(required=True, allow_none=True, metadata={"description": "or `mixed`"})
    basis_text = fields.List(
        fields.String(), required=True, metadata={"description": "sentences for letters"}
    )
    rate = fields.String(required=True, allow_none=True, metadata={"description": "percent p.a."})
    daily = fields.String(required=True, allow_none=True)
    periods = fields.List(fields.Nested(InterestPeriodOut), required=True)
    error = fields.String(
        required=True, allow_none=True, metadata={"description": "e.g. a missing rate row"}
    )


class LimitationOut(Schema):
    deadline = _date_out()
    set_by = fields.String(required=True)
    expired = fields.Boolean(required=True)
    warning = fields.Boolean(required=True)


class CaseInvoiceOut(Schema):
    external_id = fields.String(required=True)
    number = fields.String(required=True)
    issue_date = _date_out()
    delivery_date = _date_out(allow_none=True)
    due_date = _date_out()
    amount = fields.String(required=True)
    credited = fields.String(required=True)
    paid = fields.String(required=True)
    outstanding = fields.String(required=True)
    disputed = fields.Boolean(required=True)
    interest = fields.String(required=True, allow_none=True)
    limitation = fields.Nested(LimitationOut, required=True, allow_none=True)


class ReadinessOut(Schema):
    ready = fields.Boolean(required=True)
    findings = fields.List(fields.Nested(FindingSchema), required=True)


class NextActionOut(Schema):
    text = fields.String(required=True, allow_none=True)
    due = _date_out(allow_none=True)
    reason = fields.String(
        required=True, allow_none=True, metadata={"description": "`planned` or `promise broken`"}
    )


class PromiseOut(Schema):
    event = fields.Integer(required=True)
    amount = fields.String(required=True, allow_none=True)
    due = _date_out()
    state = fields.String(required=True)
    paid = fields.String(required=True, allow_none=True)


class ReconciliationOut(Schema):
    state = fields.String(required=True)
    sent = _date_out()
    reply_by = _date_out()


class CaseOut(Schema):
    """The case with its claim as of a date (see ``cases/present.py``); amounts are strings."""

    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    debtor = fields.String(required=True)
    debtor_name = fields.String(required=True)
    creditor = fields.String(required=True)
    jurisdiction = fields.String(required=True)
    stage = fields.String(required=True, validate=validate.OneOf([s.value for s in Stage]))
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in CaseStatus]))
    outcome = fields.String(required=True, allow_none=True)
    recovered_amount = fields.String(required=True, allow_none=True)
    costs = fields.String(required=True, allow_none=True)
    owner = fields.String(required=True)
    lawyer = fields.String(required=True, allow_none=True)
    currency = fields.String(required=True, allow_none=True)
    as_of = _date_out()
    principal = fields.String(required=True, allow_none=True)
    paid = fields.String(required=True, allow_none=True)
    outstanding = fields.String(required=True, allow_none=True)
    interest = fields.Nested(InterestOut, required=True)
    compensation = fields.String(required=True, allow_none=True)
    invoices = fields.List(fields.Nested(CaseInvoiceOut), required=True)
    readiness = fields.Dict(keys=fields.String(), values=fields.Nested(ReadinessOut), required=True)
    next_action = fields.String(required=True, allow_none=True)
    next_action_due = _date_out(allow_none=True)
    next_action_effective = fields.Nested(
        NextActionOut,
        required=True,
        metadata={"description": "what the work queue shows: a broken promise reopens it"},
    )
    promises = fields.List(fields.Nested(PromiseOut), required=True)
    reconciliation = fields.Nested(ReconciliationOut, required=True, allow_none=True)


class CaseArgs(Schema):
    as_of = fields.Date(load_default=None, metadata={"description": "default: today"})


class EventOut(Schema):
    id = fields.Integer(required=True)
    type = fields.Function(
        lambda event: event.type.value,
        required=True,
        metadata={"type": "string", "enum": [t.value for t in EventType]},
    )
    date = fields.Date(required=True)
    due = fields.Date(required=True, allow_none=True)
    delivered_on = fields.Date(required=True, allow_none=True)
    amount = fields.Function(
        lambda event: str(event.amount) if event.amount is not None else None,
        required=True,
        allow_none=True,
        metadata={"type": "string"},
    )
    currency = fields.String(required=True, allow_none=True)
    details = fields.Dict(required=True, metadata={"description": "the type's own fields"})
    summary = fields.Function(describe, required=True, metadata={"type": "string"})
    created_by = fields.Function(
        lambda event: event.created_by.email if event.created_by else None,
        required=True,
        allow_none=True,
        metadata={"type": "string"},
    )


class EventList(Schema):
    items = fields.List(fields.Nested(EventOut), required=True)
    next = fields.String(required=True, allow_none=True)


def _event_type(value: str):
    """The component of one event type's schema names that type alone."""

    def change(component: dict[str, Any]) -> None:
        component["properties"]["type"] = {"type": "string", "const": value}

    return change


# What the event schemas check beyond their fields: amounts have their currency's decimals, an
# amount or balance needs its currency. Dates (not in the future, a due day after the event)
# are compared with today and with each other, which a JSON schema cannot say.
#: Each event type's schema by its name.
EVENT_TYPES = {kind.value: schema for kind, schema in EVENT_SCHEMAS.items()}

for _type, _schema in EVENT_SCHEMAS.items():
    openapi_extra(_event_type(_type.value))(_schema)
openapi_extra({"allOf": [places_rule("amount")]})(EVENT_SCHEMAS[EventType.PROMISE])
openapi_extra({"allOf": [places_rule("balance"), requires_when_given("balance", "currency")]})(
    EVENT_SCHEMAS[EventType.RECONCILIATION_REPLY]
)
openapi_extra({"allOf": [places_rule("amount"), requires_when_given("amount", "currency")]})(
    EVENT_SCHEMAS[EventType.ACKNOWLEDGMENT]
)


def _lawyer(email: str | None) -> User | None:
    if not email:
        return None
    user = user_by_email(email)
    if user is None:
        raise ValidationFailed(f"No user {email}.", fields={"lawyer": ["Unknown user."]})
    return user


def with_case(check: Callable[[User, Case], bool] | None = None, message: str = ""):
    """Load the URL's case for the token's user before the body is parsed: an invisible case is
    404, a visible one the role may not change is 403 — whatever the body says."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args: Any, case_id: int, **kwargs: Any):
            user = api_user()
            case = policy.get_case_or_404(user, case_id)
            if check is not None and not check(user, case):
                abort(403, description=message or "Your role does not allow this.")
            g.case = case
            return view(*args, case_id=case_id, **kwargs)

        return wrapped

    return decorator


def _can_patch(user: User, case: Case) -> bool:
    return policy.can_edit_case(user, case) or policy.can_assign_lawyer(user, case)


@blp.route("/cases")
class Cases(MethodView):
    @token_required(Permission.VIEW_CASES)
    @blp.doc(security=BEARER)
    @blp.arguments(CaseListArgsSchema, location="query")
    @blp.response(200, CaseListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Cases the token's user may see (a lawyer: assigned ones), newest first, paged."""
        query = (
            policy.visible_cases(api_user())
            .options(
                selectinload(Case.debtor),
                selectinload(Case.creditor),
                selectinload(Case.owner),
                selectinload(Case.lawyer),
            )
            .order_by(Case.id.desc())
            .limit(args["limit"] + 1)
        )
        if args["cursor"]:
            query = query.where(Case.id < args["cursor"])
        rows = db.session.scalars(query).all()
        more = len(rows) > args["limit"]
        rows = rows[: args["limit"]]
        return {"items": rows, "next": str(rows[-1].id) if more and rows else None}

    @token_required(Permission.MANAGE_CASES)
    @blp.doc(security=BEARER)
    @blp.arguments(CaseIn)
    @blp.response(201, CaseOut)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="an invoice is in another case")
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, data: dict[str, Any]):
        """Open a case against a debtor for some of its invoices."""
        user = api_user()
        debtor = debtor_by_external_id(data["debtor"])
        keys = list(dict.fromkeys(data["invoices"]))
        invoices = db.session.scalars(select(Invoice).where(Invoice.external_id.in_(keys))).all()
        missing = sorted(set(keys) - {invoice.external_id for invoice in invoices})
        if missing:
            raise ValidationFailed(
                f"Unknown invoices: {', '.join(missing)}.",
                fields={"invoices": [f"Unknown: {', '.join(missing)}."]},
            )
        owner = _lawyer(data["owner"]) if data["owner"] else user
        if data["lawyer"] and not has_permission(user, Permission.ASSIGN_LAWYERS):
            return api_error(403, "Your role does not assign lawyers.")
        case = case_service.open_case(
            api_actor(),
            debtor=debtor,
            owner=owner if owner.role is Role.LEGAL else _owner_required(),
            invoices=sorted(invoices, key=lambda invoice: keys.index(invoice.external_id)),
            lawyer=_lawyer(data["lawyer"]),
            jurisdiction=data["jurisdiction"],
        )
        return case_payload(case), 201


def _owner_required():
    raise ValidationFailed(
        "The case owner must be an in-house legal user; give `owner`.",
        fields={"owner": ["An in-house legal user's e-mail."]},
    )


@blp.route("/cases/<int:case_id>")
class CaseItem(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @with_case()
    @blp.doc(security=BEARER)
    @blp.arguments(CaseArgs, location="query")
    @blp.response(200, CaseOut)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, args: dict[str, Any], case_id: int):
        """A case with its claim, interest, limitation per invoice and readiness per stage."""
        return case_payload(g.case, args["as_of"])

    @with_case(_can_patch, "Your role does not change cases.")
    @blp.doc(security=BEARER)
    @blp.arguments(CasePatch)
    @blp.response(200, CaseOut)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(
        409, schema=ApiErrorSchema, description="a stage's blockers remain (`findings`)"
    )
    @blp.alt_response(
        422, schema=ApiErrorSchema, description="no field to change, or values refused"
    )
    def patch(self, data: dict[str, Any], case_id: int):
        """Change counsel, stage (along the ladder), status/outcome or the next action."""
        user, case, actor = api_user(), g.case, api_actor()
        if "lawyer" in data:
            if not policy.can_assign_lawyer(user, case):
                return api_error(403, "Your role does not assign lawyers.")
            case_service.assign_lawyer(actor, case, _lawyer(data["lawyer"]))
        rest = set(data) - {"lawyer"}
        if rest and not policy.can_edit_case(user, case):
            return api_error(403, "Your role does not change cases.")
        if "status" in data or "outcome" in data:
            case_service.set_status(
                actor,
                case,
                CaseStatus(data.get("status") or case.status),
                outcome=Outcome(data["outcome"]) if data.get("outcome") else None,
                recovered_amount=data.get("recovered_amount"),
                costs=data.get("costs"),
                closed_on=data.get("closed_on"),
            )
        if "stage" in data:
            case_service.move_stage(actor, case, Stage(data["stage"]))
        if "next_action" in data or "next_action_due" in data:
            case_service.set_next_action(
                actor,
                case,
                data.get("next_action", case.next_action),
                data.get("next_action_due", case.next_action_due),
            )
        return case_payload(case)


@blp.route("/cases/<int:case_id>/events")
class CaseEvents(MethodView):
    decorators = [token_required(Permission.VIEW_CASES)]

    @with_case()
    @blp.doc(security=BEARER)
    @blp.response(200, EventList)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, case_id: int):
        """The case's timeline, oldest first."""
        return {"items": g.case.events, "next": None}

    @with_case(policy.can_edit_case, "Your role does not record case events.")
    @blp.doc(
        security=BEARER,
        requestBody={
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": list(EVENT_SCHEMAS.values()),
                        "description": "`type` says which fields the event takes",
                    }
                }
            },
        },
    )
    @blp.response(201, EventOut)
    @blp.alt_response(400, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    def post(self, case_id: int):
        """Record something that happened on the case."""
        case = g.case
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return api_error(400, "Send a JSON object.")
        kind = payload.get("type")
        if not isinstance(kind, str):
            # Not a type name at all (a number, an object): refused like an unknown name
            # (``load_event`` looks the value up in a set, which an object cannot be).
            payload = {**payload, "type": None}
        schema = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
        try:
            if schema is not None and (errors := json_type_errors(schema(), payload)):
                raise ValidationError(errors)
            data = load_event(payload)
        except ValidationError as error:
            fields_ = {
                key: value if isinstance(value, list) else [str(value)]
                for key, value in error.normalized_messages().items()
            }
            return api_error(422, "Some fields are missing or invalid.", fields=fields_)
        event = event_service.add_event(api_actor(), case, data)
        return event, 201
