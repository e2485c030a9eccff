"""The audit trail's daily checkpoint, run by the worker."""

from __future__ import annotations

from huey import crontab

from ..jobs import periodic
from .checkpoint import write_checkpoint


@periodic(crontab(hour="0", minute="5"))
def daily_checkpoint() -> None:
    """Checkpoint the chain's head once a day (00:05 UTC), whatever else happened."""
    write_checkpoint("daily")
