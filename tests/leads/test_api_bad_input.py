"""Bad input to the leads API: every refusal is a 4xx naming the field, and nothing is written."""

import pytest


def _field_names(r):
    return {e["field"] for e in r.json()["errors"]}


@pytest.fixture
def no_rows_written(client):
    """Asserts, after the test, that the database still holds no lead."""
    yield
    assert client.get("/api/v1/leads").json()["total"] == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@b.com", "country": "Narnia"}, "country"),
    ({"email": "a@b.com", "phone": "12", "country": "ES"}, "phone"),
    ({"email": "a@b.com", "phone": "612 345 678"}, "phone"),                 # national, no country
    ({"email": "a@b.com", "shoe_size": 44}, "shoe_size"),                    # extra=forbid
    ({"email": "a@b.com", "first_touch": {"utm_source": "x"}}, "first_touch.utm_source"),
    ({"email": "a@b.com", "owner_id": "abc"}, "owner_id"),
    ({"email": "a@b.com", "owner_id": 999_999}, "owner_id"),
    ({"email": "a@b.com", "owner_id": 2**70}, "owner_id"),
    ({"email": "a@b.com", "campaign_id": 2**40}, "campaign_id"),
    ({"email": "a@b.com", "campaign_id": 777}, "campaign_id"),
    ({"email": "a@b.com", "deal_value": -5}, "deal_value"),
    ({"email": "a@b.com", "deal_value": "NaN"}, "deal_value"),
    ({"email": "a@b.com", "stage": "hot"}, "stage"),
    ({"email": "a@b.com", "consent_email": "yes"}, "consent_email"),
    ({"email": "a@b.com", "first_name": ["Ana"]}, "first_name"),
    ({"email": 42}, "email"),
    ({"email": "a@b.com", "first_name": "Ana http://spam.example"}, "first_name"),
    ({"email": "a@b.com", "last_name": "<script>alert(1)</script>"}, "last_name"),
    ({"email": "a@b.com", "properties": {"address": {"city": "Madrid"}}}, "properties"),
    ({"email": "a@b.com", "properties": {"tags": ["a", "b"]}}, "properties"),
    ({"email": "a@b.com", "properties_set_once": {"x": {"y": 1}}}, "properties_set_once"),
    ({"email": "a@b.com", "properties": {"": 1}}, "properties"),
    ({"email": "a@b.com", "external_id": "a\x00b"}, "external_id"),
    ({"email": "a@b.com", "first_touch": {"source": "x\x00"}}, "first_touch.source"),
    ({"email": "a@b.com", "properties": {"k": "v\x00"}}, "properties"),
    ({"email": "a@b.com", "created_at": "yesterday"}, "created_at"),
    ({"email": "a@b.com", "created_at": "0001-01-01T00:00:00+05:00"}, "created_at"),
    ({"email": "a@b.com", "job_title": "x" * 201}, "job_title"),
])
def test_create_refuses_and_names_the_field(client, no_rows_written, body, field):
    for method in ("post", "put"):
        r = getattr(client, method)("/api/v1/leads", json=body)
        assert 400 <= r.status_code < 500, r.text
        assert field in _field_names(r), r.text
        assert field in r.json()["detail"]


@pytest.mark.parametrize("raw", [b'{"email": "a@b.com", "properties": {"x": NaN}}',
                                 b'{"email": "a@b.com", "properties": {"x": Infinity}}'])
def test_non_finite_numbers_are_refused(client, no_rows_written, raw):
    r = client.post("/api/v1/leads", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert _field_names(r) == {"properties"}


def test_malformed_json_is_422_on_body(client, no_rows_written):
    r = client.post("/api/v1/leads", content=b'{"email": "a@b.com",', headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert _field_names(r) == {"body"}
    assert "malformed JSON" in r.json()["detail"]


def test_json_that_is_not_an_object_is_refused(client, no_rows_written):
    r = client.post("/api/v1/leads", json=["a@b.com"])
    assert r.status_code == 422
    assert _field_names(r) == {"body"}


def test_text_plain_body_is_refused(client, no_rows_written):
    r = client.post("/api/v1/leads", content=b'{"email": "a@b.com"}', headers={"content-type": "text/plain"})
    assert 400 <= r.status_code < 500


def test_ten_megabyte_field_is_413(client, no_rows_written):
    r = client.post("/api/v1/leads", json={"email": "a@b.com", "first_name": "a" * 10_000_000})
    assert r.status_code == 413
    assert _field_names(r) == {"body"}


def test_oversized_streamed_body_without_content_length_is_413(client, no_rows_written):
    def chunks():
        yield b'{"email": "a@b.com", "first_name": "'
        for _ in range(12):
            yield b"a" * 262_144
        yield b'"}'

    r = client.post("/api/v1/leads", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert _field_names(r) == {"body"}


def test_small_streamed_body_is_accepted(client):
    def chunks():
        yield b'{"email": "stream@b.com",'
        yield b' "first_name": "Sam"}'

    r = client.post("/api/v1/leads", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(("params", "field"), [
    ({"stage": "hot"}, "stage"),
    ({"sort": "password"}, "sort"),
    ({"outcome": "maybe"}, "outcome"),
    ({"created_from": "2026-13-01"}, "created_from"),
    ({"owner_id": "me"}, "owner_id"),
    ({"campaign_id": 2**40}, "campaign_id"),
    ({"q": "x" * 201}, "q"),
    ({"channel": "a\x00b"}, "channel"),
])
def test_list_and_export_refuse_bad_query_and_name_the_parameter(client, params, field):
    for path in ("/api/v1/leads", "/api/v1/leads.csv"):
        r = client.get(path, params=params)
        assert r.status_code == 422, (path, r.text)
        assert any(f.split(".")[0] == field for f in _field_names(r)), r.text


@pytest.mark.parametrize(("params", "field"), [({"page": 0}, "page"), ({"page_size": 501}, "page_size"),
                                               ({"page": "two"}, "page")])
def test_list_refuses_bad_paging(client, params, field):
    r = client.get("/api/v1/leads", params=params)
    assert r.status_code == 422
    assert _field_names(r) == {field}


def test_event_with_bad_type_or_nested_nul_is_refused(client):
    lead = client.post("/api/v1/leads", json={"email": "a@b.com"}).json()
    bad = [({"type": "Page View"}, "type"), ({"type": "page_view", "extra": 1}, "extra"),
           ({"type": "page_view", "properties": {"a": {"b": "\x00"}}}, "properties"),
           ({"type": "page_view", "occurred_at": "soon"}, "occurred_at")]
    for body, field in bad:
        r = client.post(f"/api/v1/leads/{lead['id']}/events", json=body)
        assert r.status_code == 422
        assert field in _field_names(r)
    assert client.get(f"/api/v1/leads/{lead['id']}/events").json() == []


def test_rejected_patch_changes_nothing(client):
    lead = client.post("/api/v1/leads", json={"email": "a@b.com", "job_title": "CTO"}).json()
    for body, field in (({"job_title": "CEO", "country": "Narnia"}, "country"),
                        ({"job_title": "CEO", "owner_id": 4242}, "owner_id"),
                        ({"job_title": "CEO", "stage": "recycled"}, "stage_reason"),
                        ({"job_title": "CEO", "external_id": "x"}, "external_id"),
                        ({"job_title": "CEO", "consent_email": None}, "consent_email"),
                        ({"job_title": "CEO", "consent_tracking": None}, "consent_tracking"),
                        ({"job_title": "CEO", "email": None}, "email")):
        r = client.patch(f"/api/v1/leads/{lead['id']}", json=body)
        assert r.status_code == 422, r.text
        assert field in _field_names(r)
    after = client.get(f"/api/v1/leads/{lead['id']}").json()
    assert after["job_title"] == "CTO"
    assert after["updated_at"] == lead["updated_at"]
    assert [e for e in client.get(f"/api/v1/leads/{lead['id']}/events").json()] == []


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer lf_not-a-real-token"},
                                     {"Authorization": "Basic YWRtaW46cGFzcw=="}, {"Authorization": "Bearer "}])
def test_missing_or_invalid_token_is_401(anon_client, engine_clean, headers):
    for method, path in (("get", "/api/v1/leads"), ("post", "/api/v1/leads"), ("get", "/api/v1/campaigns")):
        kwargs = {"json": {"email": "a@b.com"}} if method == "post" else {}
        r = getattr(anon_client, method)(path, headers=headers, **kwargs)
        assert r.status_code == 401, (path, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
