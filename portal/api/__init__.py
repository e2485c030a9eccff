"""The ``/api/v1`` JSON API (flask-smorest: marshmallow schemas, OpenAPI generated from code)."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from ..extensions import csrf
from ..ledger.schemas import MoneyString, RateString
from .schemas import ApiErrorSchema, SchemaExtrasPlugin, money_field_properties


class PortalApi(Api):
    """flask-smorest's Api documenting our error shape as the default error response."""

    ERROR_SCHEMA = ApiErrorSchema


def init_api(app: Flask) -> Api:
    """Create the API for ``app``, register its blueprints and the bearer security scheme."""
    api = PortalApi(
        app,
        spec_kwargs={
            "info": {
                "description": "Receivables, cases, evidence, documents and bundles of the "
                "Arrears Portal. Authenticate with `Authorization: Bearer <token>`."
            },
            "extra_plugins": [SchemaExtrasPlugin()],
        },
    )
    # Amounts and rates are decimal strings (floats are refused), of a documented form.
    api.register_field(MoneyString, "string", None)
    api.register_field(RateString, "string", None)
    api.ma_plugin.converter.add_attribute_function(money_field_properties)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "API token"}
    )
    from ..imports.api import blp as imports_blp
    from .bundles import blp as bundles_blp
    from .cases import blp as cases_blp
    from .documents import blp as documents_blp
    from .evidence import blp as evidence_blp
    from .ledger import blp as ledger_blp
    from .review import blp as review_blp
    from .views import blp as core_blp

    blueprints = (core_blp, ledger_blp, imports_blp, cases_blp, evidence_blp, documents_blp)
    for blp in (*blueprints, review_blp, bundles_blp):
        # Bearer tokens, not cookies, authenticate the API, so CSRF does not apply to it.
        csrf.exempt(blp)
        api.register_blueprint(blp)
    return api
