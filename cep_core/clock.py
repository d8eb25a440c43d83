"""Time, injected: rules take dates as arguments, and the kit reads the clock in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def date_in_france(moment: datetime) -> date:
    """The civil date in France of `moment` (23:30 UTC in winter is already tomorrow)."""
    return moment.astimezone(PARIS).date()


def today_in_france(clock: Clock) -> date:
    """The civil date in France now."""
    return date_in_france(clock())
