"""Lifecycle API: BANT, manual moves, sales acceptance and rejection, stage durations, reason codes."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ANSWERED = {"budget": "confirmed", "authority": "decision_maker", "need": "confirmed", "timeline": "under_3_months"}




def _fields(r) -> list[str]:
    return [e["field"] for e in r.json()["errors"]]


def test_reasons_list_codes_and_bant_values(client):
    body = client.get("/api/v1/lifecycle/reasons").json()
    assert [r["code"] for r in body["disqualified"]] == ["not_a_fit", "no_budget", "competitor",
                                                        "student_or_job_seeker", "spam_or_fake", "duplicate",
                                                        "unreachable", "other"]
    assert [r["code"] for r in body["recycled"]] == ["not_ready", "no_response", "bad_timing",
                                                    "lost_to_status_quo", "other"]
    assert all(r["label"] for r in body["disqualified"] + body["recycled"])
    assert [f["field"] for f in body["bant"]] == ["budget", "authority", "need", "timeline"]
    assert [v["value"] for v in body["bant"][0]["values"]] == ["confirmed", "planned", "none"]


def test_bant_get_and_put_change_only_the_keys_sent(client, lead_id):
    url = f"/api/v1/leads/{lead_id}/bant"
    assert client.get(url).json() == {"budget": None, "authority": None, "need": None, "timeline": None,
                                      "answered": False, "qualified": False, "updated_at": None}
    r = client.put(url, json={"budget": "confirmed", "need": "possible"})
    assert r.status_code == 200, r.text
    assert (r.json()["budget"], r.json()["need"], r.json()["authority"]) == ("confirmed", "possible", None)
    assert r.json()["updated_at"].endswith("Z")
    r = client.put(url, json={"authority": "influencer", "timeline": "3_to_12_months"})
    assert (r.json()["answered"], r.json()["qualified"], r.json()["budget"]) == (True, True, "confirmed")
    r = client.put(url, json={"need": None, "budget": ""})
    assert (r.json()["need"], r.json()["budget"], r.json()["answered"]) == (None, None, False)
    changes = [e for e in client.get(f"/api/v1/leads/{lead_id}/events").json() if e["type"] == "property_change"]
    assert len(changes) == 3


@pytest.mark.parametrize(("body", "field"), [
    ({"budget": "huge"}, "budget"), ({"authority": "ceo"}, "authority"), ({"need": "yes"}, "need"),
    ({"timeline": "soon"}, "timeline"), ({"budget": "confirmed", "colour": "red"}, "colour"),
    ({"timeline": "x" * 33}, "timeline"),
])
def test_bant_put_refuses_bad_values_naming_the_field(client, lead_id, body, field):
    r = client.put(f"/api/v1/leads/{lead_id}/bant", json=body)
    assert r.status_code == 422, r.text
    assert _fields(r) == [field]
    assert client.get(f"/api/v1/leads/{lead_id}/bant").json()["budget"] is None


def test_move_with_a_reason_code(client, lead_id, admin):
    r = client.post(f"/api/v1/leads/{lead_id}/stage",
                    json={"to": "disqualified", "reason_code": "competitor", "note": "uses HubSpot"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["lead_id"], body["stage"], body["outcome"]) == (lead_id, "disqualified", "lost")
    assert (body["change"]["from_stage"], body["change"]["to_stage"]) == ("prospect", "disqualified")
    assert (body["change"]["reason"], body["change"]["actor_type"], body["change"]["actor_id"]) == (
        "competitor: uses HubSpot", "user", admin["id"])
    assert client.get(f"/api/v1/leads/{lead_id}").json()["lost_reason"] == "competitor"


@pytest.mark.parametrize(("body", "field", "status"), [
    ({"to": "disqualified"}, "reason_code", 422),
    ({"to": "recycled", "reason_code": "no_budget"}, "reason_code", 422),
    ({"to": "recycled", "reason_code": "other"}, "note", 422),
    ({"to": "mql", "reason_code": "not_ready"}, "reason_code", 422),
    ({"to": "warm"}, "to", 422),
    ({"reason_code": "other"}, "to", 422),
    ({"to": "prospect"}, "to", 409),
    ({"to": "sql"}, "bant", 422),
    ({"to": "mql", "note": "x" * 1001}, "note", 422),
    ({"to": "mql", "extra": 1}, "extra", 422),
])
def test_move_refusals_name_the_field(client, lead_id, body, field, status):
    r = client.post(f"/api/v1/leads/{lead_id}/stage", json=body)
    assert r.status_code == status, r.text
    assert _fields(r) == [field]
    assert client.get(f"/api/v1/leads/{lead_id}").json()["stage"] == "prospect"


def test_accept_needs_bant_then_moves_mql_to_sql(client, mql_id):
    r = client.post(f"/api/v1/leads/{mql_id}/accept")
    assert r.status_code == 422 and _fields(r) == ["bant"]
    assert "budget, authority, need, timeline are not answered" in r.json()["detail"]
    client.put(f"/api/v1/leads/{mql_id}/bant", json=ANSWERED)
    r = client.post(f"/api/v1/leads/{mql_id}/accept", json={"note": "demo booked"})
    assert r.status_code == 200, r.text
    assert (r.json()["stage"], r.json()["change"]["reason"]) == ("sql", "accepted by sales: demo booked")
    r = client.post(f"/api/v1/leads/{mql_id}/accept")
    assert r.status_code == 409 and _fields(r) == ["stage"]


def test_reject_recycles_an_mql_with_a_code(client, mql_id, lead_id):
    r = client.post(f"/api/v1/leads/{mql_id}/reject", json={})
    assert r.status_code == 422 and _fields(r) == ["reason_code"]
    r = client.post(f"/api/v1/leads/{mql_id}/reject", json={"reason_code": "no_response"})
    assert r.status_code == 200, r.text
    assert (r.json()["stage"], r.json()["change"]["reason"]) == ("recycled", "no_response: rejected by sales")
    r = client.post(f"/api/v1/leads/{lead_id}/reject", json={"reason_code": "no_response"})
    assert r.status_code == 409 and _fields(r) == ["stage"]


def test_stages_lists_history_durations_and_time_to(client, mql_id):
    client.put(f"/api/v1/leads/{mql_id}/bant", json=ANSWERED)
    client.post(f"/api/v1/leads/{mql_id}/accept")
    body = client.get(f"/api/v1/leads/{mql_id}/stages").json()
    assert body["stage"] == "sql"
    assert [(h["from_stage"], h["to_stage"]) for h in body["history"]] == [(None, "prospect"), ("prospect", "mql"),
                                                                         ("mql", "sql")]
    assert [d["stage"] for d in body["durations"]] == ["prospect", "mql", "sql"]
    assert body["durations"][-1]["left_at"] is None and body["durations"][0]["left_at"].endswith("Z")
    assert all(d["seconds"] >= 0 for d in body["durations"])
    assert body["seconds_in_stage"] == body["durations"][-1]["seconds"]
    reached = {t["stage"]: t for t in body["time_to"]}
    assert list(reached) == ["suspect", "prospect", "mql", "sql", "customer"]
    assert reached["suspect"]["reached_at"] is None and reached["customer"]["seconds"] is None
    assert reached["sql"]["seconds"] >= 0


@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", "/bant", None), ("put", "/bant", {"budget": "none"}), ("post", "/stage", {"to": "mql"}),
    ("post", "/accept", None), ("post", "/reject", {"reason_code": "other"}), ("get", "/stages", None),
])
def test_unknown_lead_is_404_and_anonymous_is_401_first(client, anon_client, method, path, body):
    for lead in (987654, 2**70):
        r = client.request(method, f"/api/v1/leads/{lead}{path}", json=body)
        assert r.status_code == 404, (path, r.text)
    assert anon_client.request(method, f"/api/v1/leads/987654{path}", json=body).status_code == 401
    assert anon_client.request(method, f"/api/v1/leads/987654{path}", json={"to": 5}).status_code == 401


def test_anonymous_cannot_read_the_reasons(anon_client):
    assert anon_client.get("/api/v1/lifecycle/reasons").status_code == 401


_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
                     st.sampled_from(["", " ", "\x00", "other", "disqualified", "recycled", "sql", "mql", "none",
                                      "confirmed", "no_budget", "not_ready", "x" * 2000]))
_bodies = st.one_of(_scalars, st.lists(_scalars, max_size=3), st.dictionaries(
    st.sampled_from(["to", "reason_code", "note", "budget", "authority", "need", "timeline", "extra"]),
    st.one_of(_scalars, st.lists(_scalars, max_size=2)), max_size=5))


@pytest.fixture
def fuzz_client(app, admin):
    """A client that reports server errors as responses, so a 500 is seen as a status code."""
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {admin['token']}"
        yield c


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_bodies, path=st.sampled_from(["bant", "stage", "accept", "reject"]))
def test_lifecycle_writes_never_answer_5xx(fuzz_client, mql_id, body, path):
    method = "put" if path == "bant" else "post"
    r = fuzz_client.request(method, f"/api/v1/leads/{mql_id}/{path}", content=json.dumps(body),
                            headers={"content-type": "application/json"})
    assert r.status_code < 500, (body, r.text)
    if r.status_code >= 400:
        assert r.json()["errors"][0]["field"]
