""" "Today" in business time: the creditor's time zone, by jurisdiction, never the server's.

A claim's interest accrues by the day and a reply period ends on a date, so the date a
computation calls "today" must not move with the server's ``TZ``: a PRC case is dated in
Asia/Shanghai, an English one in Europe/London, a US one in America/Chicago
(``BUSINESS_TIMEZONES``), and anything not tied to one case in ``BUSINESS_TIMEZONE``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

#: The defaults of ``BUSINESS_TIMEZONES`` and ``BUSINESS_TIMEZONE``.
DEFAULT_ZONES = {"cn": "Asia/Shanghai", "ew": "Europe/London", "us": "America/Chicago"}
DEFAULT_ZONE = "UTC"


def zone(jurisdiction: object = None) -> ZoneInfo:
    """The business time zone of a jurisdiction (an enum or its value), else the default."""
    zones, fallback = DEFAULT_ZONES, DEFAULT_ZONE
    if has_app_context():
        zones = {**DEFAULT_ZONES, **(current_app.config.get("BUSINESS_TIMEZONES") or {})}
        fallback = current_app.config.get("BUSINESS_TIMEZONE") or DEFAULT_ZONE
    key = getattr(jurisdiction, "value", jurisdiction)
    return ZoneInfo(zones.get(str(key), fallback) if key else fallback)


def today(jurisdiction: object = None) -> dt.date:
    """Today's date in the jurisdiction's business time zone."""
    return dt.datetime.now(dt.UTC).astimezone(zone(jurisdiction)).date()


def today_for(jurisdictions: Iterable[object]) -> dt.date:
    """Today for work on several cases: their shared jurisdiction's date, else the default's."""
    found = {getattr(item, "value", item) for item in jurisdictions}
    return today(found.pop() if len(found) == 1 else None)
