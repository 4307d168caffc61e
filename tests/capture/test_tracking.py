"""Page-view beacons, visitor → lead stitching, and signed email open/click links, over HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadflow.capture.schemas import FormIn
from leadflow.capture.service import create_form, form_token, process_pending_submissions
from leadflow.capture.tracking import email_token
from leadflow.db.base import utcnow
from leadflow.db.session import get_sessionmaker, unit_of_work
from leadflow.leads.models import Event, Lead

VISITOR = "a1b2c3d4e5f6a7b8"
SITE = "https://shop.example"


@pytest.fixture
def form(engine_clean) -> int:
    with unit_of_work() as s:
        return create_form(s, data=FormIn(slug="demo", name="Demo", fields=[{"key": "email", "type": "email"}],
                                          allowed_origins=[SITE])).id


def _beacon(client, views, *, visitor=VISITOR, origin=SITE, ctype="text/plain"):
    return client.post("/t/collect", content=json.dumps({"visitor_id": visitor, "views": views}),
                       headers={"content-type": ctype, "origin": origin})


def _events(**where) -> list[Event]:
    with get_sessionmaker()() as s:
        q = select(Event).order_by(Event.id)
        for k, v in where.items():
            q = q.where(getattr(Event, k) == v)
        return list(s.scalars(q))


def test_page_views_stay_anonymous_until_the_visitor_fills_a_form(anon_client, form) -> None:
    r = _beacon(anon_client, [{"url": "https://shop.example/pricing?utm_source=google&utm_medium=cpc", "title": "Pricing"}])
    assert r.status_code == 204 and r.headers["access-control-allow-origin"] == SITE
    _beacon(anon_client, [{"url": "https://shop.example/features", "referrer": "https://shop.example/pricing"}])
    views = _events(type="page_view")
    assert [v.lead_id for v in views] == [None, None]
    assert views[0].properties == {"url": "https://shop.example/pricing?utm_source=google&utm_medium=cpc",
                                   "title": "Pricing", "utm_source": "google", "utm_medium": "cpc"}
    anon_client.post("/f/demo/submit", json={"email": "vi@corp.io", "visitor_id": VISITOR,
                                             "_ts": form_token(form_id=form, now=utcnow() - timedelta(seconds=9))},
                     headers={"origin": SITE})
    with unit_of_work() as s:
        process_pending_submissions(s)
    with get_sessionmaker()() as s:
        lead = s.scalar(select(Lead))
    assert {v.lead_id for v in _events(type="page_view")} == {lead.id}
    assert lead.last_activity_at is not None
    # The tracker only ran after the site's consent: the ledger now says so for this lead.
    assert lead.consent_tracking == "granted"
    with get_sessionmaker()() as s:
        from leadflow.leads.models import ConsentRecord

        [grant] = s.scalars(select(ConsentRecord).where(ConsentRecord.purpose == "tracking")).all()
    assert (grant.state, grant.source, grant.form_id) == ("granted", "tracker", form)
    # Once known, the visitor's next views go straight to the lead.
    _beacon(anon_client, [{"url": "https://shop.example/contact"}])
    assert _events(type="page_view")[-1].lead_id == lead.id


@pytest.mark.parametrize(("body", "status", "field"), [
    ("{oops", 400, "body"),
    (json.dumps({"visitor_id": "short", "views": [{"url": "https://x"}]}), 422, "visitor_id"),
    (json.dumps({"visitor_id": VISITOR, "views": []}), 422, "views"),
    (json.dumps({"visitor_id": VISITOR, "views": [{"url": "x" * 2001}]}), 422, "views.0.url"),
    (json.dumps({"visitor_id": "<script>alert(1)</script>", "views": [{"url": "https://x"}]}), 422, "visitor_id"),
])
def test_bad_beacons_get_a_clear_4xx(anon_client, form, body, status, field) -> None:
    r = anon_client.post("/t/collect", content=body, headers={"content-type": "text/plain", "origin": SITE})
    assert r.status_code == status and r.json()["errors"][0]["field"] == field
    assert _events() == []


def test_beacons_from_unknown_sites_are_refused(anon_client, form) -> None:
    r = _beacon(anon_client, [{"url": "https://evil.example/"}], origin="https://evil.example")
    assert r.status_code == 403 and _events() == []


def _lead(client) -> int:
    with unit_of_work() as s:
        lead = Lead(email="eo@corp.io", stage="prospect", properties={}, created_at=utcnow(), updated_at=utcnow())
        s.add(lead)
        s.flush()
        return lead.id


def test_email_open_pixel_and_click_redirect_are_recorded_once(anon_client, form) -> None:
    lead_id = _lead(anon_client)
    pixel = email_token(lead_id=lead_id, message="welcome-1")
    for _ in range(2):  # a replay (the mail client opened it twice) is not a second open
        r = anon_client.get(f"/e/o/{pixel}.gif")
        assert r.status_code == 200 and r.headers["content-type"] == "image/gif" and r.content.startswith(b"GIF89a")
    link = email_token(lead_id=lead_id, message="welcome-1", url="https://shop.example/pricing")
    r = anon_client.get(f"/e/c/{link}", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "https://shop.example/pricing"
    anon_client.get(f"/e/c/{link}", follow_redirects=False)
    opens, clicks = _events(type="email_open"), _events(type="email_click")
    assert len(opens) == 1 and len(clicks) == 1
    assert clicks[0].lead_id == lead_id and clicks[0].properties["url"] == "https://shop.example/pricing"


def test_forged_wrong_kind_and_expired_email_tokens_are_refused(anon_client, form, monkeypatch) -> None:
    lead_id = _lead(anon_client)
    link = email_token(lead_id=lead_id, message="m", url="https://shop.example/")
    forged = link[:-2] + ("AA" if not link.endswith("AA") else "BB")
    r = anon_client.get(f"/e/c/{forged}", follow_redirects=False)
    assert r.status_code == 404 and "location" not in r.headers  # never an open redirect
    assert anon_client.get(f"/e/o/{link}.gif").status_code == 400  # a click token is not a pixel
    import leadflow.capture.tracking as tracking

    monkeypatch.setattr(tracking, "EMAIL_TOKEN_MAX_AGE_S", -1)
    assert anon_client.get(f"/e/c/{link}", follow_redirects=False).status_code == 410
    assert _events() == []
