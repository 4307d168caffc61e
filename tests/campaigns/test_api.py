"""Campaigns API: create, read, change, delete, and the daily spend ledger."""

import pytest


def _make(client, **body):
    body.setdefault("channel", "paid_search")
    r = client.post("/api/v1/campaigns", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _fields(r):
    return {e["field"] for e in r.json()["errors"]}


def test_campaign_crud_round_trip(client):
    c = _make(client, name=" Spring sale ", utm_campaign="spring", starts_on="2026-03-01",
              ends_on="2026-03-31", budget="5000.00")
    assert (c["name"], c["channel"], c["budget"]) == ("Spring sale", "paid_search", "5000.00")
    assert client.get(f"/api/v1/campaigns/{c['id']}").json() == c
    r = client.patch(f"/api/v1/campaigns/{c['id']}", json={"channel": "email", "description": "newsletter push"})
    assert r.status_code == 200
    assert (r.json()["channel"], r.json()["description"], r.json()["name"]) == ("email", "newsletter push", "Spring sale")
    assert [x["id"] for x in client.get("/api/v1/campaigns").json()] == [c["id"]]
    assert client.delete(f"/api/v1/campaigns/{c['id']}").status_code == 204
    assert client.get(f"/api/v1/campaigns/{c['id']}").status_code == 404
    assert client.get("/api/v1/campaigns").json() == []


def test_deleting_a_campaign_keeps_its_leads(client):
    c = _make(client, name="Spring", utm_campaign="spring")
    lead = client.post("/api/v1/leads", json={"email": "a@b.com", "first_touch": {"campaign": "spring"}}).json()
    assert lead["campaign_id"] == c["id"]
    client.delete(f"/api/v1/campaigns/{c['id']}")
    after = client.get(f"/api/v1/leads/{lead['id']}").json()
    assert after["campaign_id"] is None
    assert after["first_campaign"] == "spring"


def test_duplicate_name_or_utm_is_409_naming_the_field(client):
    _make(client, name="Spring", utm_campaign="spring")
    r = client.post("/api/v1/campaigns", json={"name": "Spring", "channel": "email"})
    assert (r.status_code, _fields(r)) == (409, {"name"})
    r = client.post("/api/v1/campaigns", json={"name": "Other", "channel": "email", "utm_campaign": "SPRING"})
    assert (r.status_code, _fields(r)) == (409, {"utm_campaign"})


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "X", "channel": "carrier_pigeon"}, "channel"),
    ({"name": "", "channel": "email"}, "name"),
    ({"name": "X", "channel": "email", "starts_on": "2026-03-10", "ends_on": "2026-03-01"}, "ends_on"),
    ({"name": "X", "channel": "email", "budget": -1}, "budget"),
    ({"name": "X", "channel": "email", "colour": "red"}, "colour"),
    ({"name": "X\x00", "channel": "email"}, "name"),
])
def test_bad_campaign_is_refused_naming_the_field(client, body, field):
    r = client.post("/api/v1/campaigns", json=body)
    assert r.status_code == 422, r.text
    assert field in _fields(r)
    assert client.get("/api/v1/campaigns").json() == []


def test_patch_making_ends_before_starts_is_refused_and_changes_nothing(client):
    c = _make(client, name="Spring", starts_on="2026-03-01", ends_on="2026-03-31")
    r = client.patch(f"/api/v1/campaigns/{c['id']}", json={"ends_on": "2026-02-01", "name": "Renamed"})
    assert (r.status_code, _fields(r)) == (422, {"ends_on"})
    assert client.get(f"/api/v1/campaigns/{c['id']}").json()["name"] == "Spring"


def test_spend_put_replaces_the_given_days_only(client):
    c = _make(client, name="Spring")
    url = f"/api/v1/campaigns/{c['id']}/spend"
    r = client.put(url, json=[{"day": "2026-03-01", "amount": "100.00"}, {"day": "2026-03-02", "amount": 50}])
    assert (r.status_code, r.json()) == (200, {"days": 2})
    client.put(url, json=[{"day": "2026-03-02", "amount": "75.25"}, {"day": "2026-03-03", "amount": "10"}])
    spend = client.get(url).json()
    assert [(s["day"], s["amount"]) for s in spend] == [
        ("2026-03-01", "100.00"), ("2026-03-02", "75.25"), ("2026-03-03", "10.00")]


def test_spend_repeated_day_in_one_request_keeps_the_last(client):
    c = _make(client, name="Spring")
    url = f"/api/v1/campaigns/{c['id']}/spend"
    client.put(url, json=[{"day": "2026-03-01", "amount": "1"}, {"day": "2026-03-01", "amount": "2"}])
    assert [s["amount"] for s in client.get(url).json()] == ["2.00"]


@pytest.mark.parametrize(("entries", "field"), [
    ([{"day": "2026-03-01", "amount": -1}], "amount"),
    ([{"day": "2026-03-01", "amount": "NaN"}], "amount"),
    ([{"day": "someday", "amount": 1}], "day"),
    ([{"day": "2026-03-01"}], "amount"),
])
def test_bad_spend_is_refused_and_nothing_stored(client, entries, field):
    c = _make(client, name="Spring")
    url = f"/api/v1/campaigns/{c['id']}/spend"
    r = client.put(url, json=[{"day": "2026-02-01", "amount": 5}, *entries])
    assert r.status_code == 422, r.text
    assert any(f.endswith(field) for f in _fields(r))
    assert client.get(url).json() == []


def test_spend_of_unknown_campaign_is_404(client):
    assert client.get("/api/v1/campaigns/4242/spend").status_code == 404
    assert client.put("/api/v1/campaigns/4242/spend", json=[]).status_code == 404
    assert client.get(f"/api/v1/campaigns/{2**40}").status_code == 404
