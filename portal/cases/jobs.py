"""The worker's refresh of stored case figures for what time alone changes."""

from __future__ import annotations

import logging

from huey import crontab

from ..jobs import periodic
from .figures import refresh_due

log = logging.getLogger(__name__)


@periodic(crontab(minute="*/5"))
def refresh_case_figures() -> None:
    """Every five minutes: figures missing, marked stale, or of open cases not as of today (the
    first run after midnight does the day's refresh; the others find nothing or little to do)."""
    done = refresh_due()
    if done:
        log.info("case figures refreshed for %d case(s)", done)
