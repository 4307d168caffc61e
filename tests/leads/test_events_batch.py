"""POST /api/v1/events: batches of server-side events on the real database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from leadflow.db.session import get_sessionmaker
from leadflow.leads.models import ConsentRecord, Event, Lead


def _leads(client, n: int = 3) -> list[dict]:
    out = []
    for i in range(n):
        r = client.post("/api/v1/leads", json={"email": f"p{i}@corp.io", "external_id": f"crm-{i}"})
        assert r.status_code == 201, r.text
        out.append(r.json())
    return out


def _count(**where) -> int:
    with get_sessionmaker()() as s:
        q = select(func.count()).select_from(Event)
        for k, v in where.items():
            q = q.where(getattr(Event, k) == v)
        return s.scalar(q)


def test_batch_by_id_email_external_id_and_visitor(client) -> None:
    a, b, c = _leads(client)
    events = [
        {"type": "trial_usage", "lead_id": a["id"], "occurred_at": "2026-11-20T10:00:00Z", "properties": {"feature": "export"}},
        {"type": "webinar", "email": "P1@corp.io", "occurred_at": "2026-11-21T16:00:00+01:00"},
        {"type": "call", "lead_external_id": "crm-2", "properties": {"minutes": 12}},
        {"type": "page_view", "visitor_id": "v-123", "properties": {"url": "https://x.example/pricing"}},
    ]
    r = client.post("/api/v1/events", json={"events": events})
    assert r.status_code == 200, r.text
    assert r.json() == {"stored": 4, "duplicates": 0, "rejected": []}
    with get_sessionmaker()() as s:
        rows = {e.type: e for e in s.scalars(select(Event))}
        leads = {lead.id: lead for lead in s.scalars(select(Lead))}
    assert rows["webinar"].lead_id == b["id"] and rows["webinar"].occurred_at == datetime(2026, 11, 21, 15, 0)
    assert rows["call"].lead_id == c["id"] and rows["page_view"].lead_id is None
    assert rows["page_view"].visitor_id == "v-123"
    assert leads[a["id"]].last_activity_at == datetime(2026, 11, 20, 10, 0)
    assert leads[b["id"]].last_activity_at == datetime(2026, 11, 21, 15, 0)


def test_batch_is_idempotent_by_external_id(client) -> None:
    [a] = _leads(client, 1)
    batch = {"events": [{"type": "call", "lead_id": a["id"], "external_id": f"call-{i}"} for i in range(5)]
             + [{"type": "call", "lead_id": a["id"], "external_id": "call-0"}]}
    assert client.post("/api/v1/events", json=batch).json() == {"stored": 5, "duplicates": 1, "rejected": []}
    assert client.post("/api/v1/events", json=batch).json() == {"stored": 0, "duplicates": 6, "rejected": []}
    assert _count(type="call") == 5


def test_unknown_leads_are_rejected_with_the_reason_and_the_rest_stored(client) -> None:
    [a] = _leads(client, 1)
    r = client.post("/api/v1/events", json={"events": [
        {"type": "call", "lead_id": a["id"]},
        {"type": "call", "email": "ghost@corp.io"},
        {"type": "call", "lead_id": 999999},
        {"type": "call", "lead_external_id": "nope"},
    ]})
    body = r.json()
    assert r.status_code == 200 and body["stored"] == 1
    assert [(x["index"], x["field"]) for x in body["rejected"]] == [(1, "email"), (2, "lead_id"), (3, "lead_external_id")]
    assert "ghost@corp.io" in body["rejected"][0]["message"]


def test_unsubscribe_in_a_batch_withdraws_email_consent(client) -> None:
    [a] = _leads(client, 1)
    client.patch(f"/api/v1/leads/{a['id']}", json={"consent_email": "granted"})
    client.post("/api/v1/events", json={"events": [{"type": "unsubscribe", "lead_id": a["id"]}]})
    with get_sessionmaker()() as s:
        assert s.get(Lead, a["id"]).consent_email == "denied"
        states = s.scalars(select(ConsentRecord.state).order_by(ConsentRecord.id)).all()
    assert states == ["granted", "denied"]


def test_bad_batches_get_422_naming_the_event_and_store_nothing(client) -> None:
    [a] = _leads(client, 1)
    cases = [
        ({"events": []}, "events"),
        ({"events": [{"type": "call", "lead_id": a["id"]}] * 1001}, "events"),
        ({"events": [{"type": "call"}]}, "events.0"),
        ({"events": [{"type": "call", "lead_id": a["id"]}, {"type": "Bad Type", "lead_id": a["id"]}]}, "events.1.type"),
        ({"events": [{"type": "call", "email": "not an email"}]}, "events.0.email"),
        ({"events": [{"type": "call", "lead_id": a["id"], "surprise": 1}]}, "events.0.surprise"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/events", json=body)
        assert r.status_code == 422, (field, r.text)
        assert any(e["field"].startswith(field) for e in r.json()["errors"]), (field, r.json())
    assert _count() == 0


def test_events_need_a_token(anon_client) -> None:
    assert anon_client.post("/api/v1/events", json={"events": [{"type": "call", "visitor_id": "v1"}]}).status_code == 401
