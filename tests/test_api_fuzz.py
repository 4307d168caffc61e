"""Random bodies and queries against the API: whatever arrives, the answer is never a 5xx."""

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadflow.leads.schemas import SORTS

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "ES", "España", "+34 612 345 678", "2026-01-01", "2026-01-01T10:00:00+14:00",
                     "0001-01-01T00:00:00-12:00", "9999-12-31T23:59:59-12:00", "a@b.com", "<b>x</b>", "NaN"]),
)
_json = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                     max_leaves=12)
_lead_keys = ["email", "external_id", "first_name", "last_name", "phone", "job_title", "company_name", "industry",
              "company_size", "country", "city", "website", "owner_id", "deal_value", "lost_reason", "consent_email",
              "consent_tracking", "properties", "properties_set_once", "stage", "outcome", "first_touch",
              "last_touch", "campaign_id", "created_at"]
_touch = st.dictionaries(st.sampled_from(["channel", "source", "medium", "campaign", "content", "term", "referrer",
                                          "landing_page"]), _scalars, max_size=4)
_valid_ish = st.fixed_dictionaries(
    {"email": st.one_of(st.emails(), st.sampled_from(["dup@example.com", "DUP@example.com "]))},
    optional={k: st.one_of(_scalars, _touch, st.dictionaries(st.text(max_size=8), _scalars, max_size=3))
              for k in _lead_keys if k != "email"},
)
_bodies = st.one_of(_json, st.dictionaries(st.sampled_from(_lead_keys), _json, max_size=6), _valid_ish)


def send(client, method, url, body):
    """Send BODY as JSON as Python writes it, NaN and Infinity included (httpx would refuse them)."""
    return client.request(method, url, content=json.dumps(body), headers={"content-type": "application/json"})


@pytest.fixture
def fuzz_client(app, admin):
    """A client that reports server errors as responses, so a 500 is seen as a status code."""
    with TestClient(app, raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {admin['token']}"
        yield c


@FUZZ
@given(body=_bodies, method=st.sampled_from(["post", "put"]))
def test_create_and_upsert_never_answer_5xx(fuzz_client, body, method):
    r = send(fuzz_client, method, "/api/v1/leads", body)
    assert r.status_code < 500, (body, r.text)
    if r.status_code >= 400:
        assert r.json()["errors"][0]["field"]


@FUZZ
@given(body=_bodies)
def test_patch_never_answers_5xx(fuzz_client, body):
    lead = fuzz_client.put("/api/v1/leads", json={"email": "target@example.com"}).json()["lead"]
    if isinstance(body, dict):
        body.pop("external_id", None)
    r = send(fuzz_client, "patch", f"/api/v1/leads/{lead['id']}", body)
    assert r.status_code < 500, (body, r.text)


@FUZZ
@given(body=_json, raw=st.binary(max_size=64))
def test_events_never_answer_5xx(fuzz_client, body, raw):
    lead = fuzz_client.put("/api/v1/leads", json={"email": "target@example.com"}).json()["lead"]
    url = f"/api/v1/leads/{lead['id']}/events"
    assert send(fuzz_client, "post", url, body).status_code < 500
    assert send(fuzz_client, "post", url, {"type": "page_view", "properties": body}).status_code < 500
    assert fuzz_client.post(url, content=raw, headers={"content-type": "application/json"}).status_code < 500


_param = st.one_of(st.text(max_size=12), st.integers(min_value=-(2**70), max_value=2**70).map(str),
                   st.sampled_from(["mql", "open", "0", "2026-02-30", "9999-12-31", "0001-01-01", *SORTS]))


@FUZZ
@given(params=st.dictionaries(
    st.sampled_from(["q", "stage", "channel", "campaign_id", "owner_id", "outcome", "country", "created_from",
                     "created_to", "sort", "page", "page_size"]),
    st.one_of(_param, st.lists(_param, max_size=3)), max_size=5))
def test_list_and_export_never_answer_5xx(fuzz_client, params):
    r = fuzz_client.get("/api/v1/leads", params=params)
    assert r.status_code < 500, (params, r.text)
    params.pop("page", None)
    params.pop("page_size", None)
    r = fuzz_client.get("/api/v1/leads.csv", params=params)
    assert r.status_code < 500, (params, r.text)


@FUZZ
@given(body=st.one_of(_json, st.fixed_dictionaries({"name": st.text(max_size=20), "channel": st.sampled_from(
    ["email", "social", "x"])}, optional={"starts_on": _scalars, "ends_on": _scalars, "budget": _scalars,
                                           "utm_campaign": _scalars})),
       spend=_json)
def test_campaigns_never_answer_5xx(fuzz_client, body, spend):
    r = send(fuzz_client, "post", "/api/v1/campaigns", body)
    assert r.status_code < 500, (body, r.text)
    if r.status_code == 201:
        r = send(fuzz_client, "put", f"/api/v1/campaigns/{r.json()['id']}/spend", spend)
        assert r.status_code < 500, (spend, r.text)
