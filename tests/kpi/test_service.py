"""The KPI definitions on small worlds with known answers: the article's example and each edge case.

These build their leads in one uncommitted session: nothing rescored them, so stages and scores
are exactly what the test set.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import event

from leadflow.db.session import get_engine, get_sessionmaker
from leadflow.kpi import service as S
from leadflow.kpi.schemas import KpiError, KpiQuery
from leadflow.leads.importing import import_csv
from tests.factories import make_campaign
from tests.kpi.conftest import add_lead, contact, move, spend, workspace_timezone

MAY = {"date_from": date(2026, 5, 1), "date_to": date(2026, 5, 31)}


def q(**kwargs) -> KpiQuery:
    return KpiQuery(**{**MAY, **kwargs})


def test_the_articles_example_100_customers_from_1000_leads_is_10_percent(engine_clean, tmp_path):
    """1,000 leads imported from a CRM export, 100 of them won: a 10 % conversion rate."""
    export = tmp_path / "crm.csv"
    rows = ["email,created,won"] + [
        f"buyer{i}@example{i % 7}.com,{datetime(2026, 5, 1) + timedelta(minutes=40 * i):%Y-%m-%d %H:%M},"
        f"{'yes' if i % 10 == 0 else 'no'}" for i in range(1000)]
    export.write_text("\n".join(rows) + "\n")
    result = import_csv(export)
    assert (result.created, result.rejected) == (1000, 0)
    with get_sessionmaker()() as s:
        assert S.conversion(s, query=q())["cohort"] == {"leads": 1000, "customers": 100, "rate": 0.1}
        summary = S.summary(s, query=q())
    assert (summary["leads"], summary["customers"], summary["conversion_rate"]) == (1000, 100, 0.1)


def test_an_empty_range_divides_by_nothing(db):
    make_campaign(db, name="Idle", channel="email")
    query = q(period="week")
    leads = S.leads_generated(db, query=query)
    assert leads["total"] == 0
    assert [r["period"] for r in leads["rows"]] == ["2026-04-27", "2026-05-04", "2026-05-11", "2026-05-18",
                                                    "2026-05-25"]
    assert {r["leads"] for r in leads["rows"]} == {0}
    quality = S.lead_quality(db, query=query)
    assert quality["grades"] == {"A": 0, "B": 0, "C": 0, "D": 0, "ungraded": 0}
    assert quality["icp_share"] is quality["avg_score"] is quality["avg_probability"] is None
    assert {r["icp_share"] for r in quality["rows"]} == {None}
    conv = S.conversion(db, query=query)
    assert conv["cohort"] == {"leads": 0, "customers": 0, "rate": None}
    assert [(f["reached"], f["rate_from_previous"], f["rate_from_start"]) for f in conv["funnel"]] == \
        [(0, None, None)] * 5
    assert S.cost(db, query=query) == {"rows": [], "total": {"spend": 0.0, "leads": 0, "customers": 0,
                                                            "cost_per_lead": None, "cost_per_customer": None}}
    ttc = S.time_to_convert(db, query=query)
    assert (ttc["customers"], ttc["median_days"], ttc["p90_days"]) == (0, None, None)
    assert {h["customers"] for h in ttc["histogram"]} == {0}
    assert {(s["entered"], s["median_days"]) for s in ttc["stages"]} == {(0, None)}
    assert S.speed_to_lead(db, query=query) == {"sql_leads": 0, "contacted": 0, "median_hours": None,
                                                "p90_hours": None}
    assert S.score_effectiveness(db, query=query)["by_decile"] == []
    summary = S.summary(db, query=query)
    assert summary["leads"] == 0 and summary["spend"] == 0.0
    assert all(summary[k] is None for k in ("conversion_rate", "cost_per_lead", "cost_per_customer",
                                            "median_days_to_convert", "icp_share", "avg_score",
                                            "median_hours_to_first_contact"))
    assert S.leads_generated(db, query=q(by="channel"))["rows"] == []  # no group has a lead


def test_zero_spend_costs_nothing_per_lead_but_no_spend_and_no_leads_is_unknown(db):
    free = make_campaign(db, name="Free", channel="email")
    unrecorded = make_campaign(db, name="Unrecorded", channel="email")
    paid = make_campaign(db, name="Paid", channel="paid_search")
    spend(db, free, {date(2026, 5, 3): "0.00"})
    spend(db, paid, {date(2026, 5, 3): "100.10", date(2026, 5, 4): "0.20", date(2026, 6, 1): "999.00"})
    for campaign, n in ((free, 3), (unrecorded, 2)):
        for i in range(n):
            add_lead(db, created_at=datetime(2026, 5, 10, i), channel="email", campaign_id=campaign.id)
    rows = {r["group"]: r for r in S.cost(db, query=q())["rows"]}
    assert rows["Free"] | {} == {"group": "Free", "campaign_id": free.id, "channel": "email", "spend": 0.0,
                                 "leads": 3, "customers": 0, "cost_per_lead": 0.0, "cost_per_customer": None}
    assert (rows["Unrecorded"]["spend"], rows["Unrecorded"]["cost_per_lead"]) == (0.0, 0.0)
    assert rows["Paid"]["spend"] == 100.3  # June's spend is outside the range
    assert (rows["Paid"]["leads"], rows["Paid"]["cost_per_lead"]) == (0, None)
    by_channel = {r["group"]: r for r in S.cost(db, query=q(by="channel"))["rows"]}
    assert (by_channel["email"]["leads"], by_channel["email"]["spend"], by_channel["email"]["cost_per_lead"]) == \
        (5, 0.0, 0.0)
    assert S.cost(db, query=q())["total"]["cost_per_lead"] == pytest.approx(100.3 / 5)


def test_cost_per_lead_and_customer_per_campaign_and_channel(db):
    a = make_campaign(db, name="Search A", channel="paid_search")
    b = make_campaign(db, name="Search B", channel="paid_search")
    spend(db, a, {date(2026, 5, d): "10.00" for d in range(1, 11)})  # 100.00
    spend(db, b, {date(2026, 5, 1): "50.00"})
    for i in range(4):
        lead = add_lead(db, created_at=datetime(2026, 5, 2, i), channel="paid_search", campaign_id=a.id)
        if i == 0:
            move(db, lead, "customer", datetime(2026, 7, 1))
    add_lead(db, created_at=datetime(2026, 5, 2), channel="paid_search", campaign_id=b.id)
    add_lead(db, created_at=datetime(2026, 5, 2), channel="direct")
    out = S.cost(db, query=q())
    rows = {r["group"]: r for r in out["rows"]}
    assert (rows["Search A"]["cost_per_lead"], rows["Search A"]["cost_per_customer"]) == (25.0, 100.0)
    assert (rows["Search B"]["cost_per_lead"], rows["Search B"]["cost_per_customer"]) == (50.0, None)
    assert rows["(no campaign)"] == {"group": "(no campaign)", "campaign_id": None, "channel": None, "spend": 0.0,
                                     "leads": 1, "customers": 0, "cost_per_lead": 0.0, "cost_per_customer": None}
    assert out["total"] == {"spend": 150.0, "leads": 6, "customers": 1, "cost_per_lead": 25.0,
                            "cost_per_customer": 150.0}
    channel = {r["group"]: r for r in S.cost(db, query=q(by="channel"))["rows"]}
    assert channel["paid_search"] | {} == {"group": "paid_search", "campaign_id": None, "channel": "paid_search",
                                           "spend": 150.0, "leads": 5, "customers": 1, "cost_per_lead": 30.0,
                                           "cost_per_customer": 150.0}
    assert S.cost(db, query=q(campaign_id=[b.id]))["total"]["spend"] == 50.0


def test_leads_without_a_source_are_a_group_and_a_filter(db):
    add_lead(db, created_at=datetime(2026, 5, 5), channel="webinar")
    add_lead(db, created_at=datetime(2026, 5, 6))
    add_lead(db, created_at=datetime(2026, 5, 7))
    rows = S.leads_generated(db, query=q(by="channel"))["rows"]
    assert [(r["group"], r["group_key"], r["leads"]) for r in rows] == [("(no source)", None, 2),
                                                                        ("webinar", "webinar", 1)]
    assert S.leads_generated(db, query=q(channel=["none"]))["total"] == 2
    assert S.leads_generated(db, query=q(channel=["none", "webinar"]))["total"] == 3
    assert S.leads_generated(db, query=q(channel=["email"]))["total"] == 0
    rows = S.leads_generated(db, query=q(by="form"))["rows"]
    assert [(r["group"], r["leads"]) for r in rows] == [("(no form)", 3)]


def test_periods_follow_the_workspace_time_zone_across_dst(db):
    # In Madrid 2026-03-28 23:00 UTC is already Sunday the 29th, and 2026-03-29 22:00 UTC Monday the
    # 30th (summer time), a new ISO week; 2026-10-25 has two 02:30s, both on the 25th.
    instants = [datetime(2026, 3, 28, 22, 59, 59), datetime(2026, 3, 28, 23), datetime(2026, 3, 29, 21, 59, 59),
                datetime(2026, 3, 29, 22), datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 1, 30),
                datetime(2026, 10, 25, 23)]
    for at in instants:
        add_lead(db, created_at=at)
    spring = {"date_from": date(2026, 3, 28), "date_to": date(2026, 3, 30)}
    autumn = {"date_from": date(2026, 10, 25), "date_to": date(2026, 10, 26)}

    def counts(period: str, dates: dict) -> list[tuple[str, int]]:
        return [(r["period"], r["leads"]) for r in
                S.leads_generated(db, query=KpiQuery(**dates, period=period))["rows"]]

    with workspace_timezone("Europe/Madrid"):
        assert counts("day", spring) == [("2026-03-28", 1), ("2026-03-29", 2), ("2026-03-30", 1)]
        assert counts("week", spring) == [("2026-03-23", 3), ("2026-03-30", 1)]
        assert counts("day", autumn) == [("2026-10-25", 2), ("2026-10-26", 1)]
    with workspace_timezone("UTC"):
        assert counts("day", spring) == [("2026-03-28", 2), ("2026-03-29", 2), ("2026-03-30", 0)]
        assert counts("day", autumn) == [("2026-10-25", 3), ("2026-10-26", 0)]
    with workspace_timezone("Asia/Kathmandu"):  # UTC+05:45: the 30th starts at 18:15 UTC on the 29th
        assert counts("day", spring) == [("2026-03-28", 0), ("2026-03-29", 2), ("2026-03-30", 2)]


def test_leads_converted_after_the_range_count_for_their_cohort_not_for_time_to_convert(db):
    lead = add_lead(db, created_at=datetime(2026, 5, 20))
    move(db, lead, "customer", datetime(2026, 7, 4, 12))
    add_lead(db, created_at=datetime(2026, 5, 21))
    assert S.conversion(db, query=q())["cohort"] == {"leads": 2, "customers": 1, "rate": 0.5}
    assert S.time_to_convert(db, query=q())["customers"] == 0
    july = S.time_to_convert(db, query=KpiQuery(date_from=date(2026, 7, 1), date_to=date(2026, 7, 31)))
    assert (july["customers"], july["median_days"]) == (1, 45.5)
    assert [h["customers"] for h in july["histogram"]] == [0, 0, 0, 1, 0, 0, 0]
    assert S.conversion(db, query=KpiQuery(date_from=date(2026, 7, 1), date_to=date(2026, 7, 31)))["cohort"][
        "leads"] == 0


def test_recycled_and_reopened_leads_count_once_per_stage(db):
    t0 = datetime(2026, 5, 2, 9)
    looping = add_lead(db, created_at=t0)  # prospect -> mql -> recycled -> mql -> sql -> customer -> sql
    for hours, stage in ((24, "mql"), (48, "recycled"), (72, "mql"), (96, "sql"), (120, "customer"), (144, "sql")):
        move(db, looping, stage, t0 + timedelta(hours=hours))
    recycled = add_lead(db, created_at=t0)  # prospect -> mql -> recycled: reached mql, no further
    move(db, recycled, "mql", t0 + timedelta(days=1))
    move(db, recycled, "recycled", t0 + timedelta(days=2))
    jumper = add_lead(db, created_at=t0)  # prospect -> customer: reached mql and sql on the way
    move(db, jumper, "customer", t0 + timedelta(days=3))
    backwards = add_lead(db, created_at=t0)  # prospect -> sql -> mql by hand: reached sql
    move(db, backwards, "sql", t0 + timedelta(days=1))
    move(db, backwards, "mql", t0 + timedelta(days=2))
    conv = S.conversion(db, query=q())
    assert [f["reached"] for f in conv["funnel"]] == [4, 4, 4, 3, 2]
    assert [f["rate_from_previous"] for f in conv["funnel"]] == [None, 1.0, 1.0, 0.75, 2 / 3]
    assert conv["cohort"] == {"leads": 4, "customers": 2, "rate": 0.5}
    ttc = S.time_to_convert(db, query=q())
    assert (ttc["customers"], sorted([ttc["median_days"]])) == (2, [4.0])  # 5 days and 3 days
    stages = {s["stage"]: s for s in ttc["stages"]}
    # mql was entered 4 times (twice by the looping lead); each stay ends at the next move, and the
    # backwards lead, still in mql, has no stay yet.
    assert (stages["mql"]["entered"], stages["mql"]["median_days"]) == (4, 1.0)
    # The reopened customer stayed one day; the jumper is still a customer: not counted.
    assert (stages["customer"]["entered"], stages["customer"]["median_days"]) == (2, 1.0)
    assert (stages["sql"]["entered"], stages["sql"]["median_days"]) == (3, 1.0)


def test_speed_to_lead_counts_the_first_sql_entry_and_the_first_contact_after_it(db):
    t0 = datetime(2026, 5, 10, 8)
    fast = add_lead(db, created_at=t0)
    contact(db, fast, t0 + timedelta(hours=1))  # before sql: prospecting, not speed to lead
    move(db, fast, "sql", t0 + timedelta(hours=2))
    contact(db, fast, t0 + timedelta(hours=2, minutes=10), kind="property_change")  # an edit
    contact(db, fast, t0 + timedelta(hours=2, minutes=20), source="api")  # a CRM sync
    contact(db, fast, t0 + timedelta(hours=5), kind="meeting")
    contact(db, fast, t0 + timedelta(hours=9))
    waiting = add_lead(db, created_at=t0)
    move(db, waiting, "sql", t0 + timedelta(days=1))
    earlier = add_lead(db, created_at=datetime(2026, 4, 1))  # first sql in April; back to sql in May
    move(db, earlier, "sql", datetime(2026, 4, 2))
    move(db, earlier, "recycled", datetime(2026, 4, 3))
    move(db, earlier, "sql", datetime(2026, 5, 3))
    contact(db, earlier, datetime(2026, 5, 3, 1))
    assert S.speed_to_lead(db, query=q()) == {"sql_leads": 2, "contacted": 1, "median_hours": 3.0,
                                              "p90_hours": 3.0}
    assert S.summary(db, query=q())["median_hours_to_first_contact"] == 3.0


def test_quality_shares_and_averages_skip_missing_values(db):
    for _ in range(3):
        add_lead(db, created_at=datetime(2026, 5, 4))
    quality = S.lead_quality(db, query=q())
    assert quality["grades"]["ungraded"] == 3 and quality["icp_share"] == 0.0
    assert quality["avg_score"] is None
    assert S.score_effectiveness(db, query=q())["by_grade"][-1] == {"grade": "ungraded", "leads": 3,
                                                                      "customers": 0, "rate": 0.0}


def test_defaults_are_the_last_90_local_days(db):
    with workspace_timezone("Europe/Madrid"):
        summary = S.summary(db, query=KpiQuery(), now=datetime(2026, 5, 10, 21, 30))  # 23:30 in Madrid
        assert (summary["date_from"], summary["date_to"], summary["timezone"]) == (
            "2026-02-10", "2026-05-10", "Europe/Madrid")
        summary = S.summary(db, query=KpiQuery(), now=datetime(2026, 5, 10, 22, 30))  # already the 11th
        assert (summary["date_from"], summary["date_to"]) == ("2026-02-11", "2026-05-11")
        summary = S.summary(db, query=KpiQuery(date_from=date(2026, 6, 1)), now=datetime(2026, 5, 10))
        assert (summary["date_from"], summary["date_to"]) == ("2026-06-01", "2026-06-01")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"date_from": date(2026, 5, 2), "date_to": date(2026, 5, 1)}, "date_to"),
    ({"date_from": date(2016, 1, 1), "date_to": date(2026, 5, 1)}, "date_from"),
    ({"date_from": "2026-13-01"}, "date_from"),
    ({"period": "year"}, "period"),
    ({"by": "owner"}, "by"),
    ({"campaign_id": [0]}, "campaign_id"),
    ({"form_id": ["x"]}, "form_id"),
    ({"channel": ["a\x00b"]}, "channel"),
    ({"channel": [""]}, "channel"),
    ({"stage": ["mql"]}, "stage"),
])
def test_a_bad_query_names_the_field(kwargs, field):
    with pytest.raises(ValidationError) as exc:
        KpiQuery(**kwargs)
    assert exc.value.errors()[0]["loc"][0] == field


def test_a_range_of_exactly_3660_days_is_allowed_and_a_default_beyond_it_refused(db):
    KpiQuery(date_from=date(2016, 1, 1), date_to=date(2026, 1, 7))
    with pytest.raises(KpiError) as exc:
        S.summary(db, query=KpiQuery(date_from=date(2000, 1, 1)), now=datetime(2026, 5, 1))
    assert exc.value.field == "date_from"


def test_an_unknown_workspace_time_zone_is_named(db):
    with workspace_timezone("Mars/Olympus"), pytest.raises(KpiError) as exc:
        S.summary(db, query=q())
    assert (exc.value.field, exc.value.status) == ("timezone", 500)
    assert "Mars/Olympus" in str(exc.value)


def test_the_dashboard_runs_a_fixed_number_of_queries_whatever_the_leads(db):
    """Grouped queries only: ten leads or a hundred, by day or by month, the same statements."""
    campaign = make_campaign(db, name="C", channel="email")
    counted: list[str] = []

    def count(*args) -> None:
        counted.append(args[2])

    statements = []
    for n in (10, 100):
        for i in range(n - (10 if n == 100 else 0)):
            lead = add_lead(db, created_at=datetime(2026, 5, 1) + timedelta(hours=7 * i), campaign_id=campaign.id)
            move(db, lead, "sql", datetime(2026, 5, 1) + timedelta(hours=7 * i + 1))
        db.flush()
        event.listen(get_engine(), "before_cursor_execute", count)
        try:
            counted.clear()
            S.dashboard(db, query=q(period="day", by="campaign"))
            statements.append(len(counted))
        finally:
            event.remove(get_engine(), "before_cursor_execute", count)
    assert statements[0] == statements[1] <= 12


def test_dashboard_refuses_an_unknown_kpi(db):
    with pytest.raises(KpiError) as exc:
        S.dashboard(db, query=q(), names=("leads", "vanity"))
    assert (exc.value.field, exc.value.status) == ("name", 404)
    assert set(S.DASHBOARD) == set(S.KPIS)


@pytest.mark.parametrize(("zone", "kwargs", "field"), [
    ("America/New_York", {"date_to": date(1, 1, 5)}, "date_to"),
    ("America/New_York", {"date_from": date(9999, 12, 31), "date_to": date(9999, 12, 31)}, "date_from"),
    ("Asia/Tokyo", {"date_from": date(1, 1, 1), "date_to": date(1, 1, 1)}, "date_from"),
])
def test_dates_at_the_ends_of_the_calendar_are_refused_naming_the_field(db, zone, kwargs, field):
    with workspace_timezone(zone), pytest.raises(KpiError) as exc:
        S.summary(db, query=KpiQuery(**kwargs))
    assert exc.value.field == field
