"""Local days, weeks and months as UTC instants, at DST changes and odd offsets (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.kpi import periods as P

MADRID = ZoneInfo("Europe/Madrid")
# A +05:45 zone; one whose DST changes at local midnight (Santiago: 24:00 -> 01:00 in September,
# 24:00 -> 23:00 in April); one with a 30-minute DST shift (Lord Howe Island); and one far west.
ZONES = ("UTC", "Europe/Madrid", "Asia/Kathmandu", "America/Santiago", "Australia/Lord_Howe", "Pacific/Pago_Pago")


def _local(value: datetime, tz: ZoneInfo) -> date:
    return value.replace(tzinfo=UTC).astimezone(tz).date()


def test_madrid_days_around_both_dst_changes():
    # CET is UTC+1, CEST UTC+2: the 29th of March has 23 hours, the 25th of October 25.
    assert P.day_start(date(2026, 3, 29), MADRID) == datetime(2026, 3, 28, 23)
    assert P.day_start(date(2026, 3, 30), MADRID) == datetime(2026, 3, 29, 22)
    assert P.day_start(date(2026, 10, 25), MADRID) == datetime(2026, 10, 24, 22)
    assert P.day_start(date(2026, 10, 26), MADRID) == datetime(2026, 10, 25, 23)
    assert P.range_bounds(date(2026, 3, 29), date(2026, 3, 29), MADRID) == (
        datetime(2026, 3, 28, 23), datetime(2026, 3, 29, 22))


def test_a_quarter_hour_offset():
    kathmandu = ZoneInfo("Asia/Kathmandu")
    assert P.day_start(date(2026, 1, 1), kathmandu) == datetime(2025, 12, 31, 18, 15)
    assert P.local_date(datetime(2025, 12, 31, 18, 14, 59, 999999), kathmandu) == date(2025, 12, 31)
    assert P.local_date(datetime(2025, 12, 31, 18, 15), kathmandu) == date(2026, 1, 1)


def test_a_day_without_a_midnight_starts_when_the_clock_jumps():
    santiago = ZoneInfo("America/Santiago")
    start = P.day_start(date(2026, 9, 6), santiago)  # 00:00 does not exist: the day starts at 01:00 -03
    assert start == datetime(2026, 9, 6, 4)
    assert start.replace(tzinfo=UTC).astimezone(santiago).strftime("%H:%M") == "01:00"


@pytest.mark.parametrize("name", ZONES)
def test_each_day_of_a_year_starts_at_its_first_instant(name):
    """The start of every local day of 2026 has that date, and the instant before it the day before."""
    tz = ZoneInfo(name)
    d = date(2026, 1, 1)
    while d.year == 2026:
        start = P.day_start(d, tz)
        assert _local(start, tz) == d, (name, d)
        assert _local(start - timedelta(microseconds=1), tz) < d, (name, d)
        d += timedelta(days=1)


def test_periods_start_on_mondays_and_firsts():
    assert P.periods(date(2026, 3, 25), date(2026, 4, 7), "week") == [
        date(2026, 3, 23), date(2026, 3, 30), date(2026, 4, 6)]
    assert P.periods(date(2026, 1, 31), date(2026, 4, 1), "month") == [
        date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    assert P.periods(date(2026, 12, 30), date(2027, 1, 2), "day") == [
        date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2)]
    assert P.periods(date(2026, 3, 3), date(2026, 3, 3), "month") == [date(2026, 3, 1)]


def test_period_edges_clip_the_first_and_last_periods_to_the_range():
    edges = P.period_edges(date(2026, 3, 25), date(2026, 4, 7), "week", MADRID)
    assert edges == [datetime(2026, 3, 24, 23), datetime(2026, 3, 29, 22), datetime(2026, 4, 5, 22),
                     datetime(2026, 4, 7, 22)]


@given(st.datetimes(min_value=datetime(2025, 10, 1), max_value=datetime(2027, 3, 31)),
       st.sampled_from(("day", "week", "month")), st.sampled_from(ZONES))
def test_an_instant_falls_in_the_period_of_its_local_date(instant, period, name):
    """Row i of a breakdown holds [edges[i], edges[i + 1]): the period of the instant's local date."""
    tz = ZoneInfo(name)
    date_from, date_to = date(2025, 9, 20), date(2027, 4, 10)
    edges = P.period_edges(date_from, date_to, period, tz)
    starts = P.periods(date_from, date_to, period)
    i = next(i for i in range(len(starts)) if edges[i] <= instant < edges[i + 1])
    assert starts[i] == P.period_start(_local(instant, tz), period)


def test_percentiles_interpolate_linearly():
    assert P.percentile([1, 2, 3, 4], 50) == 2.5
    assert P.percentile(list(range(1, 11)), 90) == pytest.approx(9.1)
    assert P.percentile([7.0], 90) == 7.0
    assert P.percentile([], 50) is None


def test_an_unknown_zone_is_named():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        P.zone("Mars/Olympus")
    with pytest.raises(ValueError, match="unknown time zone"):
        P.zone("../etc/passwd")
