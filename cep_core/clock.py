"""Time, injected: rules take dates as arguments, and the kit reads the clock in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def today_in_france(clock: Clock) -> date:
    """The civil date in France (a request at 23:30 UTC in winter is already tomorrow)."""
    return clock().astimezone(PARIS).date()
