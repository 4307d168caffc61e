"""Forms and submissions API: form settings, server-to-server intake, review and release."""

import time

import pytest

FIELDS = [{"key": "email", "type": "email", "required": True}, {"key": "first_name", "type": "first_name"},
          {"key": "company_name", "type": "company_name"}]
UTM = {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring"}


def _form(client, **body):
    body.setdefault("slug", "demo")
    body.setdefault("name", "Demo form")
    body.setdefault("fields", FIELDS)
    r = client.post("/api/v1/forms", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _submit(client, form_id, fields, **context):
    return client.post(f"/api/v1/forms/{form_id}/submissions", json={"fields": fields, "context": context})


def _fields(r):
    return {e["field"] for e in r.json()["errors"]}


def _process(client):
    r = client.post("/api/v1/submissions/process")
    assert r.status_code == 200, r.text
    return r.json()["processed"]


def test_form_crud_round_trip(client):
    f = _form(client, slug="spring-offer", name=" Spring offer ", language="es",
              allowed_origins=["https://Example.com/"])
    assert (f["slug"], f["name"], f["language"], f["url"]) == ("spring-offer", "Spring offer", "es", "/f/spring-offer")
    assert f["allowed_origins"] == ["https://example.com"]
    assert [x["key"] for x in f["fields"]] == ["email", "first_name", "company_name"]
    assert client.get(f"/api/v1/forms/{f['id']}").json() == f
    assert [x["slug"] for x in client.get("/api/v1/forms").json()] == ["spring-offer"]

    fields = [*FIELDS, {"key": "topic", "type": "select", "options": ["Pricing", "Demo"], "required": True}]
    r = client.put(f"/api/v1/forms/{f['id']}", json={"name": "Renamed", "fields": fields, "is_active": False})
    assert r.status_code == 200, r.text
    changed = r.json()
    assert (changed["name"], changed["slug"], changed["is_active"], changed["url"]) == (
        "Renamed", "spring-offer", False, "/f/spring-offer")
    assert changed["fields"][-1]["options"] == ["Pricing", "Demo"]
    assert client.get(f"/api/v1/forms/{f['id']}").json() == changed


def test_slug_cannot_be_changed(client):
    f = _form(client)
    r = client.put(f"/api/v1/forms/{f['id']}", json={"name": "X", "fields": FIELDS, "slug": "other"})
    assert (r.status_code, _fields(r)) == (422, {"slug"})
    assert client.get(f"/api/v1/forms/{f['id']}").json()["slug"] == "demo"


def test_unknown_form_is_404_naming_form_id(client):
    for form_id in (4242, 2**40):
        r = client.get(f"/api/v1/forms/{form_id}")
        assert r.status_code == 404
        assert "form_id" in r.json()["detail"]
    assert client.put("/api/v1/forms/4242", json={"name": "X", "fields": FIELDS}).status_code == 404
    assert _submit(client, 4242, {"email": "a@b.com"}).status_code == 404


def test_duplicate_slug_is_409_naming_slug(client):
    _form(client)
    r = client.post("/api/v1/forms", json={"slug": "demo", "name": "Other", "fields": FIELDS})
    assert (r.status_code, _fields(r)) == (409, {"slug"})
    assert len(client.get("/api/v1/forms").json()) == 1


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"fields": [{"key": "first_name", "type": "first_name"}]}, "fields", "email field"),
    ({"allowed_origins": ["https://example.com/page"]}, "allowed_origins", "origin"),
    ({"fields": [*FIELDS, {"key": "topic", "type": "select"}]}, "fields.3", "options"),
    ({"fields": [{"key": "email", "type": "text"}]}, "fields.0", "standard field"),
    ({"fields": [*FIELDS, {"key": "_hp", "type": "hidden"}]}, "fields.3", "reserved"),
    ({"campaign_id": 999}, "campaign_id", "campaign"),
    ({"slug": "Not A Slug"}, "slug", ""),
    ({"success_action": "redirect"}, "redirect_url", "redirect_url"),
    ({"consent_enabled": True}, "consent_text", "consent_text"),
    ({"colour": "red"}, "colour", ""),
])
def test_bad_form_is_refused_naming_the_field(client, change, field, words):
    body = {"slug": "demo", "name": "Demo", "fields": FIELDS, **change}
    r = client.post("/api/v1/forms", json=body)
    assert r.status_code == 422, r.text
    assert field in _fields(r)
    assert words in r.json()["detail"]
    assert client.get("/api/v1/forms").json() == []


def test_form_linked_to_a_campaign(client):
    c = client.post("/api/v1/campaigns", json={"name": "Spring", "channel": "email"}).json()
    f = _form(client, campaign_id=c["id"])
    assert f["campaign_id"] == c["id"]


def test_consent_text_change_bumps_the_version_and_keeps_history(client):
    f = _form(client, consent_enabled=True, consent_text="You may email me.")
    assert (f["consent_version"], [v["text"] for v in f["consent_versions"]]) == (1, ["You may email me."])
    settings = {"name": "Demo", "fields": FIELDS, "consent_enabled": True, "consent_text": "You may email me."}
    same = client.put(f"/api/v1/forms/{f['id']}", json={**settings, "name": "Renamed"}).json()
    assert same["consent_version"] == 1
    changed = client.put(f"/api/v1/forms/{f['id']}", json={**settings, "consent_text": "Email me monthly."}).json()
    assert changed["consent_version"] == 2
    assert [(v["version"], v["text"]) for v in changed["consent_versions"]] == [
        (1, "You may email me."), (2, "Email me monthly.")]
    assert changed["consent_text"] == "Email me monthly."


def test_intake_is_stored_pending_and_processing_makes_the_lead(client):
    f = _form(client)
    r = _submit(client, f["id"], {"email": "Ana@Acme.io", "first_name": "Ana", "company_name": "Acme"},
                ip="203.0.113.7", user_agent="crm-sync/1.0", referrer="https://www.google.com/",
                page_url="https://acme.io/offer", utm=UTM)
    assert r.status_code == 202, r.text
    body = r.json()
    sub = body["submission"]
    assert (body["status"], sub["status"], sub["lead_id"], sub["form_id"]) == ("pending", "pending", None, f["id"])
    assert sub["context"]["channel"] == "api"
    assert (sub["context"]["ip"], sub["context"]["utm"]) == ("203.0.113.7", UTM)
    assert sub["payload"]["email"] == "Ana@Acme.io"

    assert _process(client) == 1
    assert _process(client) == 0
    done = client.get(f"/api/v1/submissions/{sub['id']}").json()
    assert (done["status"], done["error"]) == ("processed", None)
    assert done["processed_at"] is not None
    lead = client.get(f"/api/v1/leads/{done['lead_id']}").json()
    assert (lead["email"], lead["first_name"], lead["company_name"]) == ("ana@acme.io", "Ana", "Acme")
    assert (lead["first_source"], lead["first_medium"], lead["first_campaign"]) == ("newsletter", "email", "spring")
    assert (lead["first_referrer"], lead["first_landing_page"]) == ("https://www.google.com/", "https://acme.io/offer")
    events = client.get(f"/api/v1/leads/{lead['id']}/events").json()
    submits = [e for e in events if e["type"] == "form_submit"]
    assert len(submits) == 1
    assert submits[0]["properties"]["submission_id"] == sub["id"]
    assert submits[0]["properties"]["form"] == "demo"


def test_second_submission_merges_into_the_same_lead_keeping_first_touch(client):
    f = _form(client)
    _submit(client, f["id"], {"email": "ana@acme.io"}, utm=UTM)
    _submit(client, f["id"], {"email": "ANA@acme.io", "first_name": "Ana"}, utm={"utm_source": "linkedin"})
    assert _process(client) == 2
    page = client.get("/api/v1/submissions", params={"status": "processed"}).json()
    assert len({s["lead_id"] for s in page["items"]}) == 1
    lead = client.get(f"/api/v1/leads/{page['items'][0]['lead_id']}").json()
    assert (lead["first_source"], lead["last_source"], lead["first_name"]) == ("newsletter", "linkedin", "Ana")
    events = client.get(f"/api/v1/leads/{lead['id']}/events").json()
    assert len([e for e in events if e["type"] == "form_submit"]) == 2


@pytest.mark.parametrize(("fields", "field"), [
    ({"email": "not-an-email", "first_name": "Ana"}, "email"),
    ({"first_name": "Ana"}, "email"),
])
def test_invalid_intake_is_422_naming_the_field_and_kept(client, fields, field):
    f = _form(client)
    r = _submit(client, f["id"], fields)
    assert r.status_code == 422, r.text
    assert field in _fields(r)
    assert field in r.json()["detail"]
    # Read back in new requests: the refused submission was committed, not rolled back.
    stored = client.get(f"/api/v1/submissions/{r.json()['submission_id']}").json()
    assert (stored["status"], stored["payload"], stored["lead_id"]) == ("invalid", fields, None)
    assert any(reason.startswith(f"{field}:") for reason in stored["reasons"])
    assert _process(client) == 0
    assert client.get("/api/v1/leads").json()["total"] == 0


def test_required_field_and_bad_choice_are_named(client):
    fields = [*FIELDS, {"key": "topic", "type": "select", "options": ["Pricing", "Demo"], "required": True}]
    f = _form(client, fields=fields)
    r = _submit(client, f["id"], {"email": "ana@acme.io"})
    assert (r.status_code, _fields(r)) == (422, {"topic"})
    r = _submit(client, f["id"], {"email": "ana@acme.io", "topic": "Free lunch"})
    assert (r.status_code, _fields(r)) == (422, {"topic"})
    assert client.get("/api/v1/submissions", params={"status": "invalid"}).json()["total"] == 2


def test_closed_form_refuses_naming_form_and_keeps_the_submission(client):
    f = _form(client, is_active=False)
    r = _submit(client, f["id"], {"email": "ana@acme.io"})
    assert (r.status_code, _fields(r)) == (422, {"form"})
    assert client.get(f"/api/v1/submissions/{r.json()['submission_id']}").json()["status"] == "invalid"


def test_required_consent_and_its_proof(client):
    f = _form(client, consent_enabled=True, consent_required=True, consent_text="You may email me.")
    r = _submit(client, f["id"], {"email": "ana@acme.io"})
    assert (r.status_code, _fields(r)) == (422, {"consent"})
    r = _submit(client, f["id"], {"email": "ana@acme.io", "consent": True}, ip="203.0.113.7")
    assert r.status_code == 202, r.text
    assert r.json()["submission"]["context"]["consent_version"] == 1
    _process(client)
    lead_id = client.get(f"/api/v1/submissions/{r.json()['submission']['id']}").json()["lead_id"]
    assert client.get(f"/api/v1/leads/{lead_id}").json()["consent_email"] == "granted"


@pytest.mark.parametrize(("body", "field"), [
    ({"fields": {"email": "a@b.com"}, "context": {"ip": "not-an-ip"}}, "context.ip"),
    ({"fields": {"email": "a@b.com"}, "context": {"utm": {"utm_colour": "red"}}}, "context.utm.utm_colour"),
    ({"fields": {"email": "a@b.com"}, "extra": 1}, "extra"),
    ({"fields": {"email": "a@b\x00.com"}}, "fields"),
    ({"context": {}}, "fields"),
])
def test_malformed_intake_is_refused_before_storing(client, body, field):
    f = _form(client)
    r = client.post(f"/api/v1/forms/{f['id']}/submissions", json=body)
    assert r.status_code == 422, r.text
    assert field in _fields(r)
    assert client.get("/api/v1/submissions").json()["total"] == 0


def test_disposable_domain_is_quarantined_until_released(client, admin):
    f = _form(client)
    r = _submit(client, f["id"], {"email": "bot@mailinator.com", "first_name": "Bob"})
    assert r.status_code == 202, r.text
    sub = r.json()["submission"]
    assert r.json()["status"] == sub["status"] == "quarantined"
    assert any("disposable" in reason for reason in sub["reasons"])
    assert _process(client) == 0
    listed = client.get("/api/v1/submissions", params={"status": "quarantined"}).json()
    assert [s["id"] for s in listed["items"]] == [sub["id"]]

    r = client.post(f"/api/v1/submissions/{sub['id']}/release")
    assert r.status_code == 200, r.text
    released = r.json()
    assert (released["status"], released["released_by"]) == ("processed", admin["id"])
    assert released["released_at"] is not None
    assert client.get(f"/api/v1/leads/{released['lead_id']}").json()["email"] == "bot@mailinator.com"

    r = client.post(f"/api/v1/submissions/{sub['id']}/release")
    assert (r.status_code, _fields(r)) == (409, {"status"})
    assert "processed" in r.json()["detail"]


def test_honeypot_quarantines(client):
    f = _form(client)
    r = _submit(client, f["id"], {"email": "ana@acme.io", "_hp": "gotcha"})
    assert r.json()["status"] == "quarantined"


def test_pending_and_invalid_cannot_be_released(client):
    f = _form(client)
    pending = _submit(client, f["id"], {"email": "ana@acme.io"}).json()["submission"]["id"]
    invalid = _submit(client, f["id"], {"email": "nope"}).json()["submission_id"]
    for sub_id in (pending, invalid):
        r = client.post(f"/api/v1/submissions/{sub_id}/release")
        assert (r.status_code, _fields(r)) == (409, {"status"})
    assert client.get(f"/api/v1/submissions/{pending}").json()["status"] == "pending"


def test_unknown_submission_is_404(client):
    for sub_id in (4242, 2**63, 2**70):
        r = client.get(f"/api/v1/submissions/{sub_id}")
        assert r.status_code == 404
        assert "submission_id" in r.json()["detail"]
    assert client.post("/api/v1/submissions/4242/release").status_code == 404


def test_submission_list_filters_and_total(client):
    a = _form(client, slug="a")
    b = _form(client, slug="b")
    for i in range(3):
        _submit(client, a["id"], {"email": f"a{i}@acme.io"})
    _submit(client, a["id"], {"email": "x@mailinator.com"})
    _submit(client, b["id"], {"email": "b@acme.io"})
    _submit(client, b["id"], {"email": "broken"})

    page = client.get("/api/v1/submissions").json()
    assert page["total"] == 6
    assert [s["id"] for s in page["items"]] == sorted((s["id"] for s in page["items"]), reverse=True)
    assert client.get("/api/v1/submissions", params={"form_id": a["id"]}).json()["total"] == 4
    assert client.get("/api/v1/submissions", params={"status": "pending"}).json()["total"] == 4
    both = client.get("/api/v1/submissions", params={"status": "pending", "form_id": b["id"]}).json()
    assert [s["payload"]["email"] for s in both["items"]] == ["b@acme.io"]
    first = client.get("/api/v1/submissions", params={"limit": 2}).json()
    rest = client.get("/api/v1/submissions", params={"limit": 2, "offset": 2}).json()
    assert (first["total"], len(first["items"]), rest["total"]) == (6, 2, 6)
    assert not {s["id"] for s in first["items"]} & {s["id"] for s in rest["items"]}
    assert client.get("/api/v1/submissions", params={"form_id": 4242}).json() == {"total": 0, "items": []}


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "spam"}, "status"),
    ({"limit": 0}, "limit"),
    ({"limit": 501}, "limit"),
    ({"offset": -1}, "offset"),
    ({"form_id": 2**40}, "form_id"),
])
def test_bad_submission_list_parameters_name_the_field(client, params, field):
    r = client.get("/api/v1/submissions", params=params)
    assert (r.status_code, _fields(r)) == (422, {field})


def test_process_respects_its_limit(client):
    f = _form(client)
    for i in range(3):
        _submit(client, f["id"], {"email": f"p{i}@acme.io"})
    assert client.post("/api/v1/submissions/process", params={"limit": 2}).json() == {"processed": 2}
    assert client.get("/api/v1/submissions", params={"status": "pending"}).json()["total"] == 1
    assert client.post("/api/v1/submissions/process", params={"limit": 0}).status_code == 422


def test_intake_wakes_the_background_processor(client):
    """With the real processor running (idle wait long), a pending intake becomes a lead soon after."""
    from leadflow.capture.processor import SubmissionProcessor

    processor = SubmissionProcessor(idle_wait=60)
    processor.start()
    client.app.state.submission_processor = processor
    try:
        f = _form(client)
        sub_id = _submit(client, f["id"], {"email": "ana@acme.io"}).json()["submission"]["id"]
        deadline = time.monotonic() + 10
        while client.get(f"/api/v1/submissions/{sub_id}").json()["status"] == "pending":
            assert time.monotonic() < deadline, "the processor was not woken"
            time.sleep(0.05)
        assert client.get(f"/api/v1/submissions/{sub_id}").json()["status"] == "processed"
    finally:
        client.app.state.submission_processor = None
        processor.stop()


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/forms"),
    ("post", "/api/v1/forms"),
    ("get", "/api/v1/forms/1"),
    ("put", "/api/v1/forms/1"),
    ("post", "/api/v1/forms/1/submissions"),
    ("get", "/api/v1/submissions"),
    ("get", "/api/v1/submissions/1"),
    ("post", "/api/v1/submissions/1/release"),
    ("post", "/api/v1/submissions/process"),
])
def test_unauthenticated_is_401(anon_client, method, path):
    r = anon_client.request(method, path, json=None if method == "get" else {})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


def test_unauthenticated_intake_stores_nothing(client, anon_client):
    f = _form(client)
    assert anon_client.post(f"/api/v1/forms/{f['id']}/submissions",
                            json={"fields": {"email": "a@b.com"}}).status_code == 401
    assert client.get("/api/v1/submissions").json()["total"] == 0


def test_form_answers_about_budget_and_timeline_fill_bant_without_overwriting_sales(client):
    fields = [*FIELDS, {"key": "presupuesto", "type": "select", "options": ["Sí", "No"]},
              {"key": "timeline", "type": "select", "options": ["Under 3 months", "Later"]},
              {"key": "authority", "type": "text"}]
    f = _form(client, fields=fields)
    _submit(client, f["id"], {"email": "ana@acme.io", "presupuesto": "Sí", "timeline": "Under 3 months"})
    assert _process(client) == 1
    lead_id = client.get("/api/v1/leads", params={"q": "ana@acme.io"}).json()["items"][0]["id"]
    bant = client.get(f"/api/v1/leads/{lead_id}/bant").json()
    assert (bant["budget"], bant["timeline"], bant["authority"]) == ("confirmed", "under_3_months", None)
    # Sales corrects the budget; a later form answer does not undo it.
    assert client.put(f"/api/v1/leads/{lead_id}/bant", json={"budget": "none"}).status_code == 200
    _submit(client, f["id"], {"email": "ana@acme.io", "presupuesto": "Sí"})
    assert _process(client) == 1
    assert client.get(f"/api/v1/leads/{lead_id}/bant").json()["budget"] == "none"
