"""GET /api/v1/kpi/...: JSON and CSV, status codes and the fields errors name."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadflow.db.session import get_sessionmaker
from leadflow.kpi.service import KPIS
from tests.factories import make_campaign
from tests.kpi.conftest import add_lead, move, spend

RANGE = "date_from=2026-05-01&date_to=2026-05-31"


@pytest.fixture
def leads(client):
    """Ten May leads of campaign "Search" (5.00 spent a day in May), one a customer; two without a source."""
    with get_sessionmaker()() as s, s.begin():
        campaign = make_campaign(s, name="Search", channel="paid_search")
        spend(s, campaign, {date(2026, 5, 1) + timedelta(days=i): "5.00" for i in range(31)})
        for i in range(10):
            lead = add_lead(s, created_at=datetime(2026, 5, 3 + i, 12), channel="paid_search" if i > 1 else None,
                            campaign_id=campaign.id)
            if i == 5:
                move(s, lead, "customer", datetime(2026, 5, 20))
        return campaign.id


def test_summary_has_the_headline_keys(client, leads):
    r = client.get(f"/api/v1/kpi/summary?{RANGE}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"leads", "conversion_rate", "cost_per_lead", "median_days_to_convert"} <= set(body)
    assert (body["leads"], body["customers"], body["conversion_rate"]) == (10, 1, 0.1)
    assert (body["spend"], body["cost_per_lead"], body["cost_per_customer"]) == (155.0, 15.5, 155.0)
    assert (body["date_from"], body["date_to"], body["timezone"]) == ("2026-05-01", "2026-05-31", "UTC")


def test_every_kpi_answers(client, leads):
    for name in KPIS:
        r = client.get(f"/api/v1/kpi/{name}?{RANGE}&period=week&by=channel")
        assert r.status_code == 200, (name, r.text)


def test_breakdown_and_repeated_filters(client, leads):
    r = client.get(f"/api/v1/kpi/leads?{RANGE}&period=week&by=channel&channel=paid_search&channel=none")
    body = r.json()
    assert body["total"] == 10
    assert {(row["group"], row["period"]) for row in body["rows"] if row["leads"]} >= {("(no source)", "2026-04-27")}
    r = client.get(f"/api/v1/kpi/leads?{RANGE}&campaign_id={leads}&channel=none")
    assert r.json()["total"] == 2
    assert client.get(f"/api/v1/kpi/leads?{RANGE}&campaign_id={leads + 1}").json()["total"] == 0


BAD = [
    ("date_from=2026-02-30", "date_from"),
    ("date_from=2026-05-02&date_to=2026-05-01", "date_to"),
    ("date_from=2000-01-01&date_to=2026-05-01", "date_from"),
    ("period=year", "period"),
    ("by=owner", "by"),
    ("campaign_id=abc", "campaign_id"),
    ("campaign_id=1&campaign_id=0", "campaign_id"),
    ("form_id=99999999999", "form_id"),
    ("channel=%00", "channel"),
]


def test_bad_parameters_are_422_naming_the_parameter(client):
    for params, field in BAD:
        for path in ("conversion", "summary", "leads.csv"):
            r = client.get(f"/api/v1/kpi/{path}?{params}")
            assert r.status_code == 422, (params, r.text)
            assert [e["field"] for e in r.json()["errors"]] == [field], params


def test_an_unknown_kpi_is_404_naming_it(client):
    for path in ("/api/v1/kpi/vanity", "/api/v1/kpi/vanity.csv"):
        r = client.get(path)
        assert r.status_code == 404
        assert r.json()["errors"][0]["field"] == "name"
        assert "vanity" in r.json()["detail"]


def test_reading_needs_a_token(anon_client):
    assert anon_client.get("/api/v1/kpi/summary").status_code == 401
    assert anon_client.get("/api/v1/kpi/leads.csv").status_code == 401


def _csv(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_csv_exports_the_main_table_or_the_one_named(client, leads):
    rows = _csv(client.get(f"/api/v1/kpi/leads.csv?{RANGE}&period=week"))
    assert list(rows[0]) == ["period", "group", "leads"]
    assert sum(int(r["leads"]) for r in rows) == 10 and rows[0]["group"] == ""
    funnel = _csv(client.get(f"/api/v1/kpi/conversion.csv?{RANGE}&table=funnel"))
    assert [r["stage"] for r in funnel] == ["suspect", "prospect", "mql", "sql", "customer"]
    cost = _csv(client.get(f"/api/v1/kpi/cost.csv?{RANGE}"))
    assert cost[0]["group"] == "Search" and float(cost[0]["cost_per_lead"]) == 15.5
    (stl,) = _csv(client.get(f"/api/v1/kpi/speed_to_lead.csv?{RANGE}"))
    assert set(stl) == {"sql_leads", "contacted", "median_hours", "p90_hours"}
    (summary,) = _csv(client.get(f"/api/v1/kpi/summary.csv?{RANGE}"))
    assert summary["leads"] == "10"
    assert 'filename="kpi-leads.csv"' in client.get(f"/api/v1/kpi/leads.csv?{RANGE}").headers["content-disposition"]


def test_csv_refuses_a_table_the_kpi_does_not_have(client):
    r = client.get("/api/v1/kpi/conversion.csv?table=nope")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "table"
    assert "funnel" in r.json()["detail"]


_values = st.one_of(st.text(max_size=12), st.sampled_from(
    ["", "0", "-1", "2147483648", "2026-02-29", "0001-01-01", "9999-12-31", "none", "week", "campaign", "\x00"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["date_from", "date_to", "period", "by", "channel", "campaign_id",
                                               "form_id", "table"]), _values, max_size=5),
       name=st.sampled_from(["summary", "leads", "cost", "time_to_convert", "speed_to_lead.csv", "conversion.csv"]))
def test_no_query_makes_a_server_error(client, params, name):
    r = client.get(f"/api/v1/kpi/{name}", params=params)  # a server error would raise here
    assert r.status_code in (200, 422), (params, r.text)
