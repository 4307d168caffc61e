"""Local dates of the workspace time zone as UTC instants, periods, percentiles (pure: no database).

Timestamps are stored as naive UTC; a lead belongs to the local date of its creation. Rather than
converting every row in SQL, the few instants where a local period starts are computed here with
zoneinfo (DST included) and the database compares the stored timestamps with them: exact at any
transition, in any zone, the same on SQLite and PostgreSQL, and no per-row date arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from leadflow.kpi.schemas import Period


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo of an IANA name; ValueError naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def local_date(value: datetime, tz: ZoneInfo) -> date:
    """The local date in TZ of a naive UTC datetime."""
    return value.replace(tzinfo=UTC).astimezone(tz).date()


def day_start(d: date, tz: ZoneInfo) -> datetime:
    """The first instant (naive UTC) whose local date in TZ is D.

    Where local midnight does not exist (a DST gap at midnight) the day starts at the end of the
    gap: zoneinfo reads a missing time with the offset from before the gap, which lands there.
    Where it exists twice, the earlier one is the start.
    """
    starts = []
    for fold in (0, 1):
        utc = datetime.combine(d, time(0), tz).replace(fold=fold).astimezone(UTC)
        if utc.astimezone(tz).date() >= d:
            starts.append(utc)
    return min(starts).replace(tzinfo=None)


def range_bounds(date_from: date, date_to: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in naive UTC holding the local dates DATE_FROM..DATE_TO (inclusive)."""
    return day_start(date_from, tz), day_start(date_to + timedelta(days=1), tz)


def period_start(d: date, period: Period) -> date:
    """The first day of D's period: D itself, the Monday of its ISO week, the 1st of its month."""
    if period == "day":
        return d
    if period == "week":
        return d - timedelta(days=d.weekday())
    return d.replace(day=1)


def _next_period(d: date, period: Period) -> date:
    if period == "day":
        return d + timedelta(days=1)
    if period == "week":
        return d + timedelta(days=7)
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def periods(date_from: date, date_to: date, period: Period) -> list[date]:
    """The first day of every period holding a day of DATE_FROM..DATE_TO, in order.

    The first and last periods may be partial: they start before DATE_FROM or end after DATE_TO.
    """
    out = [period_start(date_from, period)]
    while (nxt := _next_period(out[-1], period)) <= date_to:
        out.append(nxt)
    return out


def period_edges(date_from: date, date_to: date, period: Period, tz: ZoneInfo) -> list[datetime]:
    """UTC instants [start, b1, ..., end]: row i of a breakdown holds the leads created in
    [edges[i], edges[i + 1]), the local days of periods()[i] within the range."""
    starts = periods(date_from, date_to, period)
    return [day_start(date_from, tz)] + [day_start(p, tz) for p in starts[1:]] + \
        [day_start(date_to + timedelta(days=1), tz)]


def percentile(values: Sequence[float] | np.ndarray, q: float) -> float | None:
    """The Q-th percentile (0-100) by linear interpolation between the closest ranks (NumPy's
    default, Hyndman & Fan type 7: the median of 1, 2, 3, 4 is 2.5); None without values."""
    if len(values) == 0:
        return None
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))
