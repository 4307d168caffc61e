"""Leads API on the real database: create, upsert, read, change, delete, timeline, stage history."""

from leadflow.lifecycle.models import StageChange


def _create(client, **body):
    r = client.post("/api/v1/leads", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_create_returns_201_and_the_stored_lead(client):
    lead = _create(client, email="ana@acme.es", first_name="Ana", last_name="García", company_name="Acme",
                   country="Spain", properties={"plan": "pro", "seats": 5})
    assert lead["id"] > 0
    assert lead["stage"] == "prospect"
    assert lead["properties"] == {"plan": "pro", "seats": 5}
    assert lead["company_id"] is not None
    assert lead["created_at"].endswith("Z")


def test_create_with_a_taken_email_is_409_naming_email(client):
    _create(client, email="ana@acme.es")
    r = client.post("/api/v1/leads", json={"email": "ANA@acme.es ", "first_name": "Other"})
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "email"
    assert client.get("/api/v1/leads").json()["total"] == 1


def test_create_with_a_taken_external_id_is_409_naming_external_id(client):
    _create(client, external_id="crm-1")
    r = client.post("/api/v1/leads", json={"external_id": "crm-1"})
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "external_id"


def test_create_without_email_or_external_id_is_refused(client):
    r = client.post("/api/v1/leads", json={"first_name": "Nobody"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "email"


def test_create_records_the_initial_stage(client):
    lead = _create(client, email="ana@acme.es")
    history = client.get(f"/api/v1/leads/{lead['id']}/stage-changes").json()
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [(None, "prospect")]


def test_upsert_creates_then_merges_by_email(client):
    first = client.put("/api/v1/leads", json={
        "email": "ana@acme.es", "first_name": "Ana", "job_title": "CTO",
        "first_touch": {"source": "google", "medium": "cpc", "campaign": "spring"},
    })
    assert first.status_code == 201
    assert first.json()["created"] is True
    assert first.json()["changed_fields"] == []
    lead = first.json()["lead"]
    assert (lead["first_channel"], lead["last_channel"]) == ("paid_search", "paid_search")

    second = client.put("/api/v1/leads", json={
        "email": "Ana@Acme.es", "job_title": "CEO", "first_name": "Ana",
        "last_touch": {"source": "newsletter", "medium": "email", "campaign": "autumn"},
    })
    assert second.status_code == 200
    body = second.json()
    assert body["created"] is False
    assert body["lead"]["id"] == lead["id"]
    assert set(body["changed_fields"]) == {"job_title", "last_source", "last_medium", "last_campaign",
                                           "last_channel"}
    merged = body["lead"]
    # First touch is kept, last touch follows the newest visit.
    assert (merged["first_source"], merged["first_campaign"], merged["first_channel"]) == ("google", "spring", "paid_search")
    assert (merged["last_source"], merged["last_campaign"], merged["last_channel"]) == ("newsletter", "autumn", "email")
    assert merged["job_title"] == "CEO"
    assert client.get("/api/v1/leads").json()["total"] == 1


def test_upsert_puts_every_changed_value_on_the_timeline(client):
    lead = client.put("/api/v1/leads", json={"email": "ana@acme.es", "job_title": "CTO",
                                             "properties": {"plan": "free"}}).json()["lead"]
    client.put("/api/v1/leads", json={"email": "ana@acme.es", "job_title": "CEO", "city": "Madrid",
                                      "properties": {"plan": "pro"}})
    events = client.get(f"/api/v1/leads/{lead['id']}/events").json()
    changes = [e for e in events if e["type"] == "property_change"]
    assert len(changes) == 1
    by_field = {c["field"]: (c["from"], c["to"]) for c in changes[0]["properties"]["changes"]}
    assert by_field == {"job_title": ("CTO", "CEO"), "city": (None, "Madrid"), "properties.plan": ("free", "pro")}


def test_upsert_with_nothing_new_changes_nothing(client):
    body = {"email": "ana@acme.es", "job_title": "CTO", "first_touch": {"source": "google"}}
    lead = client.put("/api/v1/leads", json=body).json()["lead"]
    again = client.put("/api/v1/leads", json=body).json()
    assert again["changed_fields"] == []
    events = client.get(f"/api/v1/leads/{lead['id']}/events").json()
    assert [e for e in events if e["type"] == "property_change"] == []


def test_upsert_by_external_id_when_there_is_no_email(client):
    first = client.put("/api/v1/leads", json={"external_id": "crm-77", "first_name": "Luis"})
    assert first.status_code == 201
    second = client.put("/api/v1/leads", json={"external_id": "crm-77", "company_name": "Bodegas Luis"})
    assert second.status_code == 200
    assert second.json()["lead"]["id"] == first.json()["lead"]["id"]
    assert second.json()["lead"]["first_name"] == "Luis"
    assert second.json()["lead"]["company_name"] == "Bodegas Luis"


def test_upsert_never_sets_consent_back_to_unknown(client):
    client.put("/api/v1/leads", json={"email": "ana@acme.es", "consent_email": "granted"})
    lead = client.put("/api/v1/leads", json={"email": "ana@acme.es", "consent_email": "unknown"}).json()["lead"]
    assert lead["consent_email"] == "granted"


def test_first_touch_campaign_joins_the_campaign_with_that_utm(client):
    campaign = client.post("/api/v1/campaigns", json={"name": "Spring", "channel": "paid_search",
                                                      "utm_campaign": "Spring-2026"}).json()
    lead = _create(client, email="ana@acme.es", first_touch={"source": "google", "medium": "cpc",
                                                             "campaign": "spring-2026"})
    assert lead["campaign_id"] == campaign["id"]
    other = _create(client, email="bo@acme.es", first_touch={"campaign": "unknown-one"})
    assert other["campaign_id"] is None


def test_read_unknown_lead_is_404(client):
    r = client.get("/api/v1/leads/999999")
    assert r.status_code == 404
    assert client.get(f"/api/v1/leads/{2**70}").status_code == 404


def test_patch_changes_fields_and_records_them(client):
    lead = _create(client, email="ana@acme.es", job_title="CTO", country="ES")
    r = client.patch(f"/api/v1/leads/{lead['id']}", json={"job_title": "CEO", "phone": "612 345 678",
                                                          "deal_value": "1250.50"})
    assert r.status_code == 200, r.text
    assert r.json()["job_title"] == "CEO"
    assert r.json()["phone"] == "+34612345678"
    assert r.json()["deal_value"] == "1250.50"
    events = client.get(f"/api/v1/leads/{lead['id']}/events").json()
    fields = {c["field"] for e in events if e["type"] == "property_change" for c in e["properties"]["changes"]}
    assert fields == {"job_title", "phone", "deal_value"}


def test_patch_stage_with_reason_writes_history(client, admin):
    lead = _create(client, email="ana@acme.es")
    r = client.patch(f"/api/v1/leads/{lead['id']}", json={"stage": "mql", "stage_reason": "downloaded the guide"})
    assert r.status_code == 200
    assert r.json()["stage"] == "mql"
    history = client.get(f"/api/v1/leads/{lead['id']}/stage-changes").json()
    last = history[-1]
    assert (last["from_stage"], last["to_stage"], last["reason"]) == ("prospect", "mql", "downloaded the guide")
    assert (last["actor_type"], last["actor_id"]) == ("user", admin["id"])


def test_patch_to_customer_sets_converted_at(client):
    lead = _create(client, email="ana@acme.es")
    assert lead["converted_at"] is None
    r = client.patch(f"/api/v1/leads/{lead['id']}", json={"stage": "customer", "stage_reason": "signed"})
    assert r.json()["converted_at"] is not None


def test_patch_outcome_won_makes_a_customer(client):
    lead = _create(client, email="ana@acme.es")
    r = client.patch(f"/api/v1/leads/{lead['id']}", json={"outcome": "won"})
    assert (r.json()["outcome"], r.json()["stage"]) == ("won", "customer")


def test_patch_disqualified_without_reason_is_422_and_changes_nothing(client):
    lead = _create(client, email="ana@acme.es", job_title="CTO")
    r = client.patch(f"/api/v1/leads/{lead['id']}", json={"stage": "disqualified", "job_title": "Intern"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "stage_reason"
    after = client.get(f"/api/v1/leads/{lead['id']}").json()
    assert (after["stage"], after["job_title"]) == ("prospect", "CTO")
    assert len(client.get(f"/api/v1/leads/{lead['id']}/stage-changes").json()) == 1


def test_patch_owner_that_does_not_exist_is_422_naming_owner_id(client):
    lead = _create(client, email="ana@acme.es")
    r = client.patch(f"/api/v1/leads/{lead['id']}", json={"owner_id": 4242})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "owner_id"


def test_patch_owner_that_exists_assigns(client, admin):
    lead = _create(client, email="ana@acme.es")
    r = client.patch(f"/api/v1/leads/{lead['id']}", json={"owner_id": admin["id"]})
    assert r.json()["owner_id"] == admin["id"]


def test_patch_email_to_another_leads_email_is_409(client):
    _create(client, email="ana@acme.es")
    bo = _create(client, email="bo@acme.es")
    r = client.patch(f"/api/v1/leads/{bo['id']}", json={"email": "ana@acme.es"})
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "email"


def test_delete_removes_the_lead_and_its_timeline(client, db):
    lead = _create(client, email="ana@acme.es")
    client.post(f"/api/v1/leads/{lead['id']}/events", json={"type": "download"})
    assert client.delete(f"/api/v1/leads/{lead['id']}").status_code == 204
    assert client.get(f"/api/v1/leads/{lead['id']}").status_code == 404
    assert client.get(f"/api/v1/leads/{lead['id']}/events").status_code == 404
    assert client.delete(f"/api/v1/leads/{lead['id']}").status_code == 404
    from sqlalchemy import func, select

    from leadflow.leads.models import Event

    assert db.scalar(select(func.count()).select_from(Event).where(Event.lead_id == lead["id"])) == 0
    assert db.scalar(select(func.count()).select_from(StageChange).where(StageChange.lead_id == lead["id"])) == 0


def test_events_append_and_list_newest_first(client):
    lead = _create(client, email="ana@acme.es")
    for t, at in (("page_view", "2026-01-01T10:00:00Z"), ("download", "2026-01-03T10:00:00Z"),
                  ("webinar", "2026-01-02T10:00:00+01:00")):
        r = client.post(f"/api/v1/leads/{lead['id']}/events", json={"type": t, "occurred_at": at,
                                                                     "properties": {"k": t}})
        assert r.status_code == 201, r.text
    events = client.get(f"/api/v1/leads/{lead['id']}/events").json()
    assert [e["type"] for e in events] == ["download", "webinar", "page_view"]
    assert events[1]["occurred_at"] == "2026-01-02T09:00:00Z"
    assert client.get(f"/api/v1/leads/{lead['id']}").json()["last_activity_at"] == "2026-01-03T10:00:00Z"


def test_event_with_same_external_id_is_stored_once(client):
    lead = _create(client, email="ana@acme.es")
    body = {"type": "webinar", "external_id": "zoom-123"}
    first = client.post(f"/api/v1/leads/{lead['id']}/events", json=body)
    second = client.post(f"/api/v1/leads/{lead['id']}/events", json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert len([e for e in client.get(f"/api/v1/leads/{lead['id']}/events").json() if e["type"] == "webinar"]) == 1


def test_event_external_id_of_another_lead_is_409(client):
    ana = _create(client, email="ana@acme.es")
    bo = _create(client, email="bo@acme.es")
    client.post(f"/api/v1/leads/{ana['id']}/events", json={"type": "call", "external_id": "call-1"})
    r = client.post(f"/api/v1/leads/{bo['id']}/events", json={"type": "call", "external_id": "call-1"})
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "external_id"


def test_unsubscribe_event_denies_email_consent(client):
    lead = _create(client, email="ana@acme.es", consent_email="granted")
    client.post(f"/api/v1/leads/{lead['id']}/events", json={"type": "unsubscribe"})
    assert client.get(f"/api/v1/leads/{lead['id']}").json()["consent_email"] == "denied"


def test_events_list_pages_with_before_id(client):
    lead = _create(client, email="ana@acme.es")
    ids = [client.post(f"/api/v1/leads/{lead['id']}/events",
                       json={"type": "page_view", "occurred_at": f"2026-01-0{i}T00:00:00Z"}).json()["id"]
           for i in range(1, 6)]
    page = client.get(f"/api/v1/leads/{lead['id']}/events", params={"limit": 2, "before_id": ids[3]}).json()
    assert [e["id"] for e in page] == [ids[2], ids[1]]


def test_upsert_matching_by_email_with_another_leads_external_id_is_409(client):
    ana = _create(client, email="ana@acme.es")
    crm = _create(client, external_id="crm-1")
    r = client.put("/api/v1/leads", json={"email": "ana@acme.es", "external_id": "crm-1"})
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "external_id"
    assert client.get(f"/api/v1/leads/{ana['id']}").json()["external_id"] is None
    assert client.get(f"/api/v1/leads/{crm['id']}").json()["email"] is None


def test_upsert_adds_an_external_id_nobody_has(client):
    ana = _create(client, email="ana@acme.es")
    r = client.put("/api/v1/leads", json={"email": "ana@acme.es", "external_id": "crm-9"})
    assert r.status_code == 200
    assert r.json()["changed_fields"] == ["external_id"]
    assert client.get(f"/api/v1/leads/{ana['id']}").json()["external_id"] == "crm-9"


def test_patch_can_drop_the_email_of_a_lead_known_by_external_id(client):
    lead = _create(client, email="ana@acme.es", external_id="crm-5")
    r = client.patch(f"/api/v1/leads/{lead['id']}", json={"email": None})
    assert r.status_code == 200
    assert (r.json()["email"], r.json()["external_id"]) == (None, "crm-5")


def test_anonymous_callers_cannot_probe_which_ids_exist(anon_client) -> None:
    for path in ("/api/v1/leads/1", "/api/v1/leads/999999", "/api/v1/campaigns/1", "/api/v1/campaigns/999999",
                 "/api/v1/leads/999999/events"):
        assert anon_client.get(path).status_code == 401, path
