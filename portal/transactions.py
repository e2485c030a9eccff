"""One transaction boundary per request: commit when the view succeeds, roll back otherwise.

Every view (pages and ``/api/v1``) is wrapped once, when the app is built: a response below 400
commits the request's session, anything else — an error response, an exception, a failed
commit — rolls it back, so no view has to remember either. A commit that fails (the database
went away, a constraint a parallel request won) reaches the error handlers like any other error
(503, 409). Code that must commit earlier for a reason says so where it does (work handed to
the job queue only after its rows are committed; a failed attempt kept on record although the
request fails).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from .domain import Conflict
from .extensions import db


def transactional(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view, committing its session on success and rolling it back on failure."""

    @functools.wraps(view)
    def within_transaction(*args: Any, **kwargs: Any) -> Any:
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            db.session.rollback()
            raise
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except IntegrityError as error:
            db.session.rollback()
            raise Conflict(
                "A parallel request changed the same record first; nothing was changed. Look "
                "again and repeat if it is still needed."
            ) from error
        except BaseException:
            db.session.rollback()
            raise
        return response

    return within_transaction


def init_app(app: Flask) -> None:
    """Wrap every registered view (call after all blueprints are registered)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static" and not getattr(view, "_transactional", False):
            wrapped = transactional(view)
            wrapped._transactional = True  # type: ignore[attr-defined]
            app.view_functions[endpoint] = wrapped


def on_every_session(listeners: dict[str, Callable[..., Any]]) -> None:
    """Attach session event listeners (``{"before_commit": fn, …}``) to every session of the
    app's database, once however many apps are built."""
    session_class = db.session.session_factory.class_
    for name, listener in listeners.items():
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)
