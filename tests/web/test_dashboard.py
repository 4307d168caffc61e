"""The dashboard page over HTTP: filters in the form and the links, the KPI service's numbers, CSV exports."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from leadflow.db.session import get_sessionmaker
from leadflow.kpi.schemas import KpiQuery
from leadflow.kpi.service import conversion, cost, leads_generated, score_effectiveness, summary
from leadflow.web.dashboard import Filters, auto_period, parse_filters
from leadflow.web.render import local_today, money, num, pct

TODAY = date(2026, 3, 31)


def _kpi(r, name: str) -> str:
    m = re.search(rf'data-kpi="{name}">\s*([^<]*?)\s*<', r.text)
    assert m, name
    return m.group(1)


def _links(r) -> dict[str, dict[str, list[str]]]:
    """{KPI name: query of its Export CSV link}."""
    out = {}
    for href in re.findall(r'href="(/api/v1/kpi/[a-z_]+\.csv\?[^"]*)"', r.text):
        url = urlsplit(html.unescape(href))
        out[url.path.rsplit("/", 1)[1].removesuffix(".csv")] = parse_qs(url.query)
    return out


def _chart(r, chart_id: str) -> str:
    m = re.search(rf'<svg class="chart [^"]*"[^>]*aria-labelledby="{chart_id}-title.*?</svg>', r.text, re.S)
    assert m, chart_id
    return m.group(0)


# ---- reading the filters (pure) --------------------------------------------------------------

def test_no_filters_is_the_last_90_days_by_week():
    f = parse_filters({}, today=TODAY)
    assert (f.range, f.date_from, f.date_to, f.period, f.period_choice) == ("90", date(2026, 1, 1), TODAY, "week", "")
    assert f.errors == () and f.page_link() == "/"


@pytest.mark.parametrize(("days", "period"), [(30, "day"), (45, "day"), (46, "week"), (200, "week"), (201, "month")])
def test_the_automatic_period_follows_the_length_of_the_range(days, period):
    assert auto_period(TODAY - timedelta(days=days - 1), TODAY) == period


def test_dates_that_are_a_presets_are_that_preset_and_others_are_custom():
    f = parse_filters({"date_from": "2026-03-02", "date_to": "2026-03-31"}, today=TODAY)
    assert (f.range, f.days) == ("30", 30)
    f = parse_filters({"date_from": "2026-03-02", "date_to": "2026-03-30"}, today=TODAY)
    assert (f.range, f.days, f.period) == ("custom", 29, "day")
    assert f.page_link(channel="email") == "/?range=custom&channel=email&date_from=2026-03-02&date_to=2026-03-30"
    # A preset link drops the dates and keeps the other filters.
    f = parse_filters({"range": "365", "period": "month", "channel": "email", "campaign_id": "4"}, today=TODAY)
    assert (f.date_from, f.period, f.channel, f.campaign_id) == (date(2025, 4, 1), "month", "email", 4)
    assert f.page_link(range="30") == "/?range=30&period=month&channel=email&campaign_id=4"


@pytest.mark.parametrize(("params", "error"), [
    ({"date_from": "2026-02-30"}, "YYYY-MM-DD"),
    ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "ends (2026-03-01) before it starts"),
    ({"date_from": "1990-01-01"}, "at most 3660 days"),
    ({"period": "year"}, "period 'year'"),
    ({"campaign_id": "abc"}, "campaign_id 'abc'"),
    ({"range": "7"}, "range '7'"),
])
def test_a_filter_that_cannot_be_used_is_reported_and_left_at_its_default(params, error):
    f = parse_filters(params, today=TODAY)
    assert len(f.errors) == 1 and error in f.errors[0]
    assert (f.date_to, f.campaign_id) == (TODAY, None)


def test_the_query_and_the_csv_link_carry_the_same_filters():
    f = Filters(range="custom", date_from=date(2026, 3, 1), date_to=date(2026, 3, 9), period="day", period_choice="day",
                channel="paid_search", campaign_id=7)
    assert f.query("channel") == KpiQuery(date_from=date(2026, 3, 1), date_to=date(2026, 3, 9), period="day",
                                          by="channel", channel=["paid_search"], campaign_id=[7])
    assert f.csv_link("leads") == ("/api/v1/kpi/leads.csv?date_from=2026-03-01&date_to=2026-03-09&period=day"
                                   "&channel=paid_search&campaign_id=7&by=channel")
    assert "by=" not in f.csv_link("cost")


# ---- the page --------------------------------------------------------------------------------

def test_the_filters_are_reflected_in_the_form_the_scope_and_every_link(ui, seeded):
    with get_sessionmaker()() as s:
        from leadflow.campaigns.service import list_campaigns

        campaign = next(c for c in list_campaigns(s) if c.name == "Spring search")
    r = ui.get(f"/?range=30&period=day&channel=paid_search&campaign_id={campaign.id}")
    assert r.status_code == 200
    today = local_today()
    start = today - timedelta(days=29)
    assert re.search(r'<a class="seg-item" href="[^"]*range=30[^"]*" aria-current="true">30 days</a>', r.text)
    assert f'name="date_from" value="{start.isoformat()}"' in r.text
    assert '<option value="day" selected>Day</option>' in r.text
    assert '<option value="paid_search" selected>Paid search</option>' in r.text
    assert f'<option value="{campaign.id}" selected>Spring search</option>' in r.text
    assert "30 days · by day" in r.text and "Paid search" in r.text and "Spring search" in r.text
    links = _links(r)
    assert set(links) == {"leads", "conversion", "cost", "time_to_convert", "score_effectiveness"}
    for name, q in links.items():
        assert q["date_from"] == [start.isoformat()] and q["date_to"] == [today.isoformat()], name
        assert q["period"] == ["day"] and q["channel"] == ["paid_search"] and q["campaign_id"] == [str(campaign.id)]
    assert links["leads"]["by"] == ["channel"] and "by" not in links["cost"]
    assert links["conversion"]["table"] == ["funnel"]
    leads_link = html.unescape(re.search(r'href="(/leads\?[^"]*)" data-leads-link', r.text).group(1))
    assert parse_qs(urlsplit(leads_link).query) == {
        "channel": ["paid_search"], "campaign_id": [str(campaign.id)], "created_from": [start.isoformat()],
        "created_to": [today.isoformat()]}
    # Another preset keeps the channel and campaign.
    preset = html.unescape(re.search(r'<a class="seg-item" href="([^"]*)"[^>]*>365 days', r.text).group(1))
    assert parse_qs(urlsplit(preset).query) == {"range": ["365"], "period": ["day"], "channel": ["paid_search"],
                                                "campaign_id": [str(campaign.id)]}


@pytest.mark.parametrize("params", ["", "?range=365&period=month", "?channel=paid_search&range=30"])
def test_the_numbers_on_the_page_are_the_kpi_services(ui, seeded, params):
    r = ui.get("/" + params)
    assert r.status_code == 200
    f = parse_filters({k: v[0] for k, v in parse_qs(params.lstrip("?")).items()}, today=local_today())
    with get_sessionmaker()() as s:
        top = summary(s, query=f.query())
        by_channel = leads_generated(s, query=f.query("channel"))
        funnel = conversion(s, query=f.query())["funnel"]
        per_campaign = cost(s, query=f.query())["rows"]
        grades = score_effectiveness(s, query=f.query())["by_grade"]
    assert top["leads"] > 0
    assert _kpi(r, "leads") == num(top["leads"])
    assert _kpi(r, "conversion_rate") == pct(top["conversion_rate"])
    assert _kpi(r, "cost_per_lead") == money(top["cost_per_lead"])
    assert _kpi(r, "median_days_to_convert") == num(top["median_days_to_convert"], 1)
    assert _kpi(r, "icp_share") == pct(top["icp_share"])

    # The time chart: one column per period, its total the service's leads of that period.
    totals: dict[str, int] = {}
    for row in by_channel["rows"]:
        totals[row["period"]] = totals.get(row["period"], 0) + row["leads"]
    chart = _chart(r, "ch-leads")
    drawn = {p: float(t) for p, t in re.findall(r'data-period="([^"]+)" data-total="([^"]+)"', chart)}
    assert drawn == {p: float(n) for p, n in totals.items()}
    # The funnel, the grades, the cost bars.
    reached = re.findall(r'data-stage="([a-z]+)" data-reached="([^"]+)"', _chart(r, "ch-funnel"))
    assert [(st, float(n)) for st, n in reached] == [(x["stage"], float(x["reached"])) for x in funnel]
    rates = [float(x) for x in re.findall(r'data-rate="([^"]+)"', _chart(r, "ch-grades"))]
    expected = [g["rate"] or 0.0 for g in grades if g["leads"] or g["grade"] != "ungraded"]
    assert rates == pytest.approx(expected)
    bars = [float(v) for v in re.findall(r'class="chart-row" data-value="([^"]+)"', _chart(r, "ch-cost"))]
    costs = sorted((x["cost_per_lead"] for x in per_campaign
                    if x["campaign_id"] is not None and x["cost_per_lead"] is not None), reverse=True)
    assert bars == pytest.approx(costs[:10])  # the costliest lead first


def test_the_export_links_answer_csv_to_the_logged_in_user(ui, seeded):
    r = ui.get("/?range=365&channel=paid_search")
    links = re.findall(r'href="(/api/v1/kpi/[a-z_]+\.csv\?[^"]*)"', r.text)
    assert len(links) == 5
    for href in links:
        answer = ui.get(html.unescape(href))
        assert answer.status_code == 200, (href, answer.text)
        assert answer.headers["content-type"].startswith("text/csv")
        assert answer.text.strip()
    funnel = ui.get(html.unescape(next(h for h in links if "/conversion.csv" in h))).text.splitlines()
    assert funnel[0].startswith("stage,reached") and len(funnel) == 6  # header and the five funnel stages


def test_an_empty_workspace_says_there_is_no_data(ui):
    r = ui.get("/")
    assert r.status_code == 200
    assert r.text.count("chart-is-empty") == 5 and "No leads in this range" in r.text
    assert _kpi(r, "leads") == "0" and _kpi(r, "conversion_rate") == "—"


def test_unusable_filters_are_named_and_the_page_still_answers(ui):
    r = ui.get("/?date_from=2026-02-30&period=year&campaign_id=abc")
    assert r.status_code == 200
    alert = re.search(r'<div class="alert alert-error" role="alert">.*?</div>', r.text, re.S).group(0)
    assert "YYYY-MM-DD" in alert and "period &#39;year&#39;" in alert and "campaign_id &#39;abc&#39;" in alert
    assert re.search(r'aria-current="true">90 days', r.text)


def test_the_dashboard_needs_a_login(anon_client):
    r = anon_client.get("/?range=30", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/%3Frange%3D30"
