"""The in-app inbox: notifications of submissions, decisions and signatures."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import func, select, update

from ..accounts.models import User
from ..db import utcnow
from ..domain import NotFound
from ..extensions import db
from .models import Notification


def notify(user: User | None, message: str, link: str | None = None) -> None:
    """Put a line in ``user``'s inbox; ``link`` must be a path inside the portal."""
    if user is not None and user.active:
        db.session.add(
            Notification(user_id=user.id, message=message[:500], link=internal_link(link))
        )


def recent(user: User, limit: int) -> list[Notification]:
    """The user's newest notifications."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(user: User) -> int:
    """How many notifications the user has not opened."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_all_read(user: User) -> None:
    """Every notification of the user counts as read."""
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )


def open_notification(user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read.

    :raises NotFound: no such notification of this user.
    """
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification


def internal_link(link: str | None) -> str | None:
    """``link`` if it is a path on this site (``/documents/3``), else None: no open redirects."""
    if not link or not link.startswith("/") or link.startswith("//") or "\\" in link:
        return None
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or any(ord(char) < 32 for char in link):
        return None
    return link
