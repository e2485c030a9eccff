"""Jurisdiction packs: interest and limitation per jurisdiction, behind one interface.

``get_pack("cn" | "ew" | "us")`` returns a :class:`Pack`. Everything a pack needs is passed in
(invoice facts, events, rate rows, options); nothing here touches Flask or the database.
"""

from __future__ import annotations

from .base import (
    EVENT_KINDS,
    RATE_KINDS,
    SHIPPED_CONFIRMATIONS_CSV,
    SHIPPED_RATES_CSV,
    InterestOptions,
    InterestPeriod,
    InterestResult,
    InvoiceFacts,
    LimitationEvent,
    LimitationOptions,
    LimitationResult,
    MissingRate,
    Pack,
    RateRow,
    RateTable,
    Reduction,
    UnconfirmedRate,
    load_confirmations_csv,
    load_rates_csv,
)
from .cn import PrcPack
from .ew import EnglandWalesPack
from .interest import aggregate
from .us import UsPack

PACKS: dict[str, Pack] = {pack.code: pack for pack in (PrcPack(), EnglandWalesPack(), UsPack())}


def get_pack(code: str) -> Pack:
    """The pack for a jurisdiction code ("cn", "ew", "us"; case-insensitive).

    :raises ValueError: unknown code.
    """
    try:
        return PACKS[code.lower()]
    except (KeyError, AttributeError):
        raise ValueError(
            f"unknown jurisdiction {code!r}; expected one of {', '.join(sorted(PACKS))}"
        ) from None


__all__ = [
    "EVENT_KINDS",
    "PACKS",
    "RATE_KINDS",
    "SHIPPED_CONFIRMATIONS_CSV",
    "SHIPPED_RATES_CSV",
    "EnglandWalesPack",
    "InterestOptions",
    "InterestPeriod",
    "InterestResult",
    "InvoiceFacts",
    "LimitationEvent",
    "LimitationOptions",
    "LimitationResult",
    "MissingRate",
    "Pack",
    "PrcPack",
    "RateRow",
    "RateTable",
    "Reduction",
    "UnconfirmedRate",
    "UsPack",
    "aggregate",
    "get_pack",
    "load_confirmations_csv",
    "load_rates_csv",
]
