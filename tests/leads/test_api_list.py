"""The leads list over HTTP: search, filters, sorting, pagination and the CSV export of the same filter."""

import csv
import io
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from leadflow.auth.service import create_user
from leadflow.db.session import get_sessionmaker
from leadflow.leads import schemas
from leadflow.lifecycle.stages import STAGE_BY_KEY
from tests.factories import make_campaign, make_lead


@pytest.fixture
def world(client, admin):
    """Ten leads over two months: a paid-search campaign (3), email newsletter (2), untracked (5);
    stages across the funnel; two won and one lost; owners admin (2), sales rep (1), none (7);
    countries ES, DE, US; names, companies and email domains chosen for search."""
    with get_sessionmaker()() as s, s.begin():
        s: Session
        rep = create_user(s, email="rep@example.com", password="long-enough-pw", name="Rita Rep", role="sales")
        spring = make_campaign(s, name="Spring", channel="paid_search", utm_campaign="spring")
        cpc = {"source": "google", "medium": "cpc", "campaign": "spring"}
        mail = {"source": "newsletter", "medium": "email"}
        rows = [
            dict(email="ana.garcia@acme.es", first_name="Ana", last_name="García", company_name="Acme Iberia",
                 country="ES", first_touch=cpc, stage="mql", owner_id=admin["id"], created_at=datetime(2026, 1, 1, 0, 0)),
            dict(email="bo@beta.de", first_name="Bo", last_name="Berg", company_name="Beta GmbH", country="DE",
                 first_touch=cpc, outcome="won", owner_id=admin["id"], created_at=datetime(2026, 1, 15, 12, 0)),
            dict(email="cy@acme.es", first_name="Cy", last_name="Cole", company_name="Acme Iberia", country="ES",
                 first_touch=cpc, stage="sql", owner_id=rep.id, created_at=datetime(2026, 1, 31, 23, 59, 59)),
            dict(email="di@delta.com", first_name="Di", last_name="Diaz", company_name="Delta Corp", country="US",
                 first_touch=mail, outcome="lost", created_at=datetime(2026, 2, 1, 0, 0)),
            dict(email="ed@echo.com", first_name="Ed", last_name="Evans", company_name="Echo", country="US",
                 first_touch=mail, outcome="won", created_at=datetime(2026, 2, 10, 8, 0)),
            dict(email="fay@gmail.com", first_name="Fay", last_name="Fox", country="ES", stage="disqualified",
                 created_at=datetime(2026, 2, 11, 8, 0)),
            dict(email="gil@golf.io", first_name="Gil", last_name="Green", company_name="Golf Ltd",
                 created_at=datetime(2026, 2, 12, 8, 0)),
            dict(email="hal@hotel.io", first_name="Hal", last_name="Hill", company_name="Hotel Group",
                 stage="recycled", created_at=datetime(2026, 2, 13, 8, 0)),
            dict(email="ivy@india.in", first_name="Ivy", last_name="Ito", company_name="India Tech",
                 created_at=datetime(2026, 2, 14, 8, 0)),
            dict(external_id="crm-10", first_name="Jo", last_name="Jones", created_at=datetime(2026, 2, 28, 8, 0)),
        ]
        ids = {}
        for row in rows:
            lead = make_lead(s, **row)
            ids[row.get("email") or row["external_id"]] = lead.id
        out = {"ids": ids, "rep": rep.id, "spring": spring.id, "admin": admin["id"]}
    return out


def _ids(client, **params):
    r = client.get("/api/v1/leads", params={"page_size": 500, **params})
    assert r.status_code == 200, r.text
    return {item["id"] for item in r.json()["items"]}


def _by(world, *keys):
    return {world["ids"][k] for k in keys}


def test_world_has_ten_leads(client, world):
    assert client.get("/api/v1/leads").json()["total"] == 10


@pytest.mark.parametrize(("q", "expected"), [
    ("acme", ["ana.garcia@acme.es", "cy@acme.es"]),          # company word and email domain
    ("iber", ["ana.garcia@acme.es", "cy@acme.es"]),          # prefix of the second company word
    ("gmail", ["fay@gmail.com"]),                            # email domain word only
    ("garc", ["ana.garcia@acme.es"]),                        # last name prefix
    ("ana acme", ["ana.garcia@acme.es"]),                    # every word must match
    ("BERG", ["bo@beta.de"]),                                # case-insensitive
    ("jones", ["crm-10"]),
    ("nobody", []),
])
def test_search_q_matches_word_prefixes(client, world, q, expected):
    assert _ids(client, q=q) == _by(world, *expected)


def test_search_q_of_only_punctuation_matches_everything(client, world):
    assert len(_ids(client, q="@@ ..")) == 10


def test_filter_stage(client, world):
    assert _ids(client, stage="mql") == _by(world, "ana.garcia@acme.es")
    assert _ids(client, stage=["disqualified", "recycled"]) == _by(world, "fay@gmail.com", "hal@hotel.io")
    assert _ids(client, stage="customer") == _by(world, "bo@beta.de", "ed@echo.com")


def test_filter_channel_is_first_touch(client, world):
    assert _ids(client, channel="paid_search") == _by(world, "ana.garcia@acme.es", "bo@beta.de", "cy@acme.es")
    assert _ids(client, channel=["email", "paid_search"]) == _by(
        world, "ana.garcia@acme.es", "bo@beta.de", "cy@acme.es", "di@delta.com", "ed@echo.com")


def test_filter_campaign(client, world):
    assert _ids(client, campaign_id=world["spring"]) == _by(world, "ana.garcia@acme.es", "bo@beta.de", "cy@acme.es")


def test_filter_owner_with_zero_for_unassigned(client, world):
    assert _ids(client, owner_id=world["admin"]) == _by(world, "ana.garcia@acme.es", "bo@beta.de")
    assert _ids(client, owner_id=world["rep"]) == _by(world, "cy@acme.es")
    assert len(_ids(client, owner_id=0)) == 7
    assert _ids(client, owner_id=[0, world["rep"]]) == _ids(client) - _by(world, "ana.garcia@acme.es", "bo@beta.de")


def test_filter_outcome(client, world):
    assert _ids(client, outcome="won") == _by(world, "bo@beta.de", "ed@echo.com")
    assert _ids(client, outcome="lost") == _by(world, "di@delta.com")
    assert len(_ids(client, outcome="open")) == 7
    assert len(_ids(client, outcome=["open", "lost"])) == 8


def test_filter_country_by_code_any_case(client, world):
    assert _ids(client, country="es") == _by(world, "ana.garcia@acme.es", "cy@acme.es", "fay@gmail.com")
    assert _ids(client, country=["DE", "US"]) == _by(world, "bo@beta.de", "di@delta.com", "ed@echo.com")


def test_created_from_and_to_are_inclusive_days(client, world):
    january = _ids(client, created_from="2026-01-01", created_to="2026-01-31")
    assert january == _by(world, "ana.garcia@acme.es", "bo@beta.de", "cy@acme.es")
    assert _ids(client, created_from="2026-02-01", created_to="2026-02-01") == _by(world, "di@delta.com")
    assert len(_ids(client, created_from="2026-02-01")) == 7
    assert _ids(client, created_to="9999-12-31") == _ids(client)


def test_filters_combine_with_and(client, world):
    assert _ids(client, q="acme", stage="sql", country="ES") == _by(world, "cy@acme.es")


def _sort_key(item, field):
    if field == "stage":
        return STAGE_BY_KEY[item["stage"]].position
    if field == "last_name":
        return (item["last_name"], item["first_name"])
    if field == "expected_value":
        known = item["conversion_probability"] is not None and item["deal_value"] is not None
        return item["conversion_probability"] * float(item["deal_value"]) if known else None
    return item[field]


@pytest.mark.parametrize("sort", schemas.SORTS)
def test_every_sort_orders_the_list(client, world, sort):
    # Events give most leads a last activity; engagement scores stay empty (scoring comes later).
    for n, lead_id in enumerate(sorted(world["ids"].values())[:6]):
        client.post(f"/api/v1/leads/{lead_id}/events", json={"type": "page_view",
                                                             "occurred_at": f"2026-03-{10 - n:02d}T00:00:00Z"})
    r = client.get("/api/v1/leads", params={"sort": sort, "page_size": 500})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 10
    field, desc = sort.lstrip("-"), sort.startswith("-")
    # Where NULLs go differs between SQLite and PostgreSQL; the known values must be in order,
    # with the id breaking ties in the same direction.
    known = [(_sort_key(i, field), i["id"]) for i in items if _sort_key(i, field) is not None]
    assert known == sorted(known, reverse=desc)


def test_pagination_keeps_total_and_pages_cover_everything(client, world):
    seen = []
    for page in (1, 2, 3, 4):
        body = client.get("/api/v1/leads", params={"page": page, "page_size": 3, "sort": "created_at"}).json()
        assert (body["total"], body["page"], body["page_size"]) == (10, page, 3)
        seen += [i["id"] for i in body["items"]]
    assert len(seen) == 10 == len(set(seen))
    assert client.get("/api/v1/leads", params={"page": 5, "page_size": 3}).json()["items"] == []


def _csv_ids(client, **params):
    r = client.get("/api/v1/leads.csv", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    return [int(row["id"]) for row in rows], rows


@pytest.mark.parametrize("params", [
    {}, {"q": "acme"}, {"stage": ["customer", "mql"]}, {"channel": "email"}, {"owner_id": 0},
    {"outcome": "open", "sort": "last_name"}, {"created_from": "2026-02-01", "country": "US"},
])
def test_csv_export_has_the_same_leads_in_the_same_order_as_the_list(client, world, params):
    listed = [i["id"] for i in client.get("/api/v1/leads", params={**params, "page_size": 500}).json()["items"]]
    exported, _ = _csv_ids(client, **params)
    assert exported == listed


def test_csv_export_values(client, world):
    _, rows = _csv_ids(client, q="garc")
    assert len(rows) == 1
    row = rows[0]
    assert (row["email"], row["last_name"], row["country"], row["stage"]) == (
        "ana.garcia@acme.es", "García", "ES", "mql")
    assert row["first_channel"] == "paid_search"
    assert row["created_at"] == "2026-01-01T00:00:00Z"


def test_csv_export_of_nothing_has_the_header(client, world):
    ids, _ = _csv_ids(client, q="nobody")
    r = client.get("/api/v1/leads.csv", params={"q": "nobody"})
    assert ids == []
    assert r.text.startswith("id,email,")


def test_csv_export_needs_authentication(anon_client, world):
    assert anon_client.get("/api/v1/leads.csv").status_code == 401


def test_csv_export_keeps_each_leads_properties_as_they_are(client):
    import json

    client.post("/api/v1/leads", json={"email": "p1@x.io", "properties": {"a": 1, "n": "x"}})
    client.post("/api/v1/leads", json={"email": "p2@x.io", "properties": {"b": "y", "n": 2.5, "ok": True}})
    client.post("/api/v1/leads", json={"email": "p3@x.io"})
    _, rows = _csv_ids(client, sort="email")
    assert [json.loads(r["properties"]) for r in rows] == [{"a": 1, "n": "x"}, {"b": "y", "n": 2.5, "ok": True}, {}]


def test_empty_values_sort_first_going_up_and_last_going_down_on_both_engines(client):
    """Latest activity first never opens on leads without activity, on SQLite and PostgreSQL alike."""
    ids = {}
    for name, when in (("never", None), ("old", "2026-01-05T10:00:00Z"), ("new", "2026-06-05T10:00:00Z")):
        lead = client.post("/api/v1/leads", json={"email": f"{name}@sort.io", "last_name": name.title()}).json()
        ids[name] = lead["id"]
        if when:
            assert client.post(f"/api/v1/leads/{lead['id']}/events", json={"type": "page_view", "occurred_at": when}).status_code == 201
    nameless = client.post("/api/v1/leads", json={"email": "anon@sort.io"}).json()["id"]

    def order(sort):
        return [lead["id"] for lead in client.get("/api/v1/leads", params={"q": "sort", "sort": sort}).json()["items"]]

    down = order("-last_activity_at")
    assert down[:2] == [ids["new"], ids["old"]]
    up = order("last_activity_at")
    assert up[-2:] == [ids["old"], ids["new"]]
    assert order("last_name")[0] == nameless
    assert order("-last_name")[-1] == nameless
