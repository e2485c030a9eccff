"""The worker's daily refresh of the stored aging."""

from __future__ import annotations

from huey import crontab

from ..business_time import today as business_today
from ..extensions import db
from ..jobs import periodic
from .aging import refresh_if_due


@periodic(crontab(minute="*/5"))
def refresh_aging() -> None:
    """Every five minutes: store the day's aging unless it already is (the first run of a day
    does the work, the others one query)."""
    if refresh_if_due(business_today()):
        db.session.commit()
