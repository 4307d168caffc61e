"""The public form endpoints over HTTP on the real database: hosted page, submit, CORS, spam quarantine, processing."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadflow.campaigns.models import Campaign
from leadflow.capture.models import Submission
from leadflow.capture.processor import SubmissionProcessor
from leadflow.capture.schemas import FormIn, FormSettings
from leadflow.capture.service import (
    create_form,
    form_token,
    process_pending_submissions,
    update_form,
)
from leadflow.config import get_settings
from leadflow.db.base import utcnow
from leadflow.db.session import get_sessionmaker, unit_of_work
from leadflow.leads.models import ConsentRecord, Event, Lead

FIELDS = [
    {"key": "email", "type": "email"},
    {"key": "first_name", "type": "first_name", "required": True},
    {"key": "last_name", "type": "last_name"},
    {"key": "phone", "type": "phone"},
    {"key": "country", "type": "country"},
    {"key": "interest", "type": "select", "options": ["Demo", "Pricing"]},
    {"key": "newsletter", "type": "checkbox"},
    {"key": "partner", "type": "hidden"},
]


@pytest.fixture
def form(engine_clean):
    """An English contact form with consent, tied to a campaign, embeddable on https://shop.example."""
    with unit_of_work() as s:
        campaign = Campaign(name="Spring webinar", channel="webinar", utm_campaign="spring-24", description="")
        other = Campaign(name="Default", channel="content", description="")
        s.add_all([campaign, other])
        s.flush()
        form = create_form(s, data=FormIn(
            slug="contact", name="Contact", title="Talk to us", fields=FIELDS, campaign_id=other.id,
            consent_enabled=True, consent_text="Send me news by email.", allowed_origins=["https://shop.example"],
            success_message="Thanks, we'll be in touch.", min_submit_seconds=2))
        return {"id": form.id, "campaign_id": campaign.id, "default_campaign_id": other.id}


def _token(form_id: int, seconds_ago: float = 30) -> str:
    return form_token(form_id=form_id, now=utcnow() - timedelta(seconds=seconds_ago))


def _process() -> int:
    with unit_of_work() as s:
        return process_pending_submissions(s)


def _subs() -> list[Submission]:
    with get_sessionmaker()() as s:
        return list(s.scalars(select(Submission).order_by(Submission.id)))


def test_hosted_page_renders_the_form_with_tracking_and_token(anon_client, form) -> None:
    r = anon_client.get("/f/contact?utm_source=newsletter&utm_campaign=spring-24",
                        headers={"referer": "https://news.example/issue-4"})
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    html = r.text
    assert "<h1>Talk to us</h1>" in html and 'lang="en"' in html
    assert re.search(r'<label for="lf-contact-email">Email <span class="lf-req"', html)
    assert 'name="_hp"' in html and 'tabindex="-1"' in html
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    assert hidden["utm_source"] == "newsletter" and hidden["utm_campaign"] == "spring-24"
    assert hidden["referrer"] == "https://news.example/issue-4" and hidden["page_url"].startswith("http://testserver/f/contact")
    assert hidden["_ts"]
    assert "Send me news by email." in html
    assert "<script" not in html and "http://" not in html.split("<body>")[1].replace(hidden["page_url"], "")


def test_spanish_form_uses_spanish_labels(anon_client, form) -> None:
    with unit_of_work() as s:
        create_form(s, data=FormIn(slug="contacto", name="Contacto", language="es",
                                   fields=[{"key": "email", "type": "email"}, {"key": "company_name", "type": "company_name"}]))
    html = anon_client.get("/f/contacto").text
    assert 'lang="es"' in html and "Correo electrónico" in html and "Empresa" in html and ">Enviar<" in html


def test_form_post_becomes_a_lead_with_source_campaign_consent_and_event(anon_client, form) -> None:
    r = anon_client.post("/f/contact/submit", data={
        "email": " Ana@Acme.io ", "first_name": "Ana", "last_name": "García", "phone": "612 345 678", "country": "España",
        "interest": "Demo", "newsletter": "true", "consent": "true", "_ts": _token(form["id"]),
        "utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring-24",
        "page_url": "https://shop.example/webinar", "referrer": "https://news.example/",
    }, headers={"user-agent": "pytest-browser/1.0"})
    assert r.status_code == 200 and "Thanks, we&#39;ll be in touch." in r.text
    [sub] = _subs()
    assert sub.status == "pending" and sub.payload["email"] == " Ana@Acme.io "  # stored raw, as sent
    assert _process() == 1
    with get_sessionmaker()() as s:
        lead = s.scalar(select(Lead))
        consent = s.scalar(select(ConsentRecord))
        events = s.scalars(select(Event).where(Event.type == "form_submit")).all()
        sub = s.scalar(select(Submission))
    assert (lead.email, lead.first_name, lead.last_name, lead.phone, lead.country) == (
        "ana@acme.io", "Ana", "García", "+34612345678", "ES")
    assert (lead.first_source, lead.first_medium, lead.first_campaign, lead.first_channel) == (
        "newsletter", "email", "spring-24", "email")
    assert lead.first_landing_page == "https://shop.example/webinar" and lead.first_referrer == "https://news.example/"
    assert lead.campaign_id == form["campaign_id"]  # utm_campaign wins over the form's own campaign
    assert lead.form_id == form["id"]
    assert lead.properties == {"interest": "Demo", "newsletter": True}
    assert lead.consent_email == "granted"
    assert (consent.purpose, consent.state, consent.text_version, consent.form_id, consent.ip, consent.user_agent) == (
        "marketing_email", "granted", "contact@v1", form["id"], "testclient", "pytest-browser/1.0")
    assert len(events) == 1 and events[0].properties["submission_id"] == sub.id
    assert (sub.status, sub.lead_id) == ("processed", lead.id)


def test_second_submission_updates_last_touch_keeps_first_and_uses_form_campaign(anon_client, form) -> None:
    base = {"first_name": "Ana", "_ts": _token(form["id"])}
    anon_client.post("/f/contact/submit", json={**base, "email": "ana@acme.io", "utm_source": "google", "utm_medium": "cpc"})
    anon_client.post("/f/contact/submit", json={**base, "email": "ANA@acme.io", "utm_source": "linkedin",
                                                "utm_medium": "paid_social", "partner": "p-7"})
    assert _process() == 2
    with get_sessionmaker()() as s:
        [lead] = s.scalars(select(Lead)).all()
        assert s.scalar(select(func.count()).select_from(Event).where(Event.type == "form_submit")) == 2
    assert (lead.first_source, lead.last_source, lead.last_channel) == ("google", "linkedin", "paid_social")
    assert lead.campaign_id == form["default_campaign_id"] and lead.properties["partner"] == "p-7"


def test_processing_twice_applies_nothing_twice(anon_client, form) -> None:
    anon_client.post("/f/contact/submit", json={"email": "bo@corp.io", "first_name": "Bo", "_ts": _token(form["id"])})
    assert _process() == 1
    assert _process() == 0
    with get_sessionmaker()() as s:
        assert s.scalar(select(func.count()).select_from(Lead)) == 1
        assert s.scalar(select(func.count()).select_from(Event).where(Event.type == "form_submit")) == 1


def test_bad_optional_values_are_kept_not_lost(anon_client, form) -> None:
    anon_client.post("/f/contact/submit", json={"email": "cy@corp.io", "first_name": "Cy", "phone": "12",
                                                "country": "Narnia", "_ts": _token(form["id"])})
    _process()
    [sub] = _subs()
    with get_sessionmaker()() as s:
        lead = s.scalar(select(Lead))
    assert sub.status == "processed" and lead.phone is None and lead.country is None
    assert lead.properties["phone_raw"] == "12" and lead.properties["country_raw"] == "Narnia"
    assert any("phone" in r for r in sub.reasons)


@pytest.mark.parametrize(("payload", "field"), [
    ({"first_name": "Ana"}, "email"),
    ({"email": "not-an-email", "first_name": "Ana"}, "email"),
    ({"email": "ana@acme.io"}, "first_name"),
    ({"email": "ana@acme.io", "first_name": "Ana", "interest": "Free lunch"}, "interest"),
    ({"email": "ana@acme.io", "first_name": "x" * 10_001}, "first_name"),
])
def test_invalid_submission_gets_422_naming_the_field_and_is_kept(anon_client, form, payload, field) -> None:
    r = anon_client.post("/f/contact/submit", json={**payload, "_ts": _token(form["id"])})
    assert r.status_code == 422
    assert field in [e["field"] for e in r.json()["errors"]]
    [sub] = _subs()
    assert sub.status == "invalid" and sub.id == r.json()["submission_id"] and any(field in x for x in sub.reasons)
    assert _process() == 0


def test_invalid_html_post_re_renders_the_form_with_values_and_errors(anon_client, form) -> None:
    r = anon_client.post("/f/contact/submit", data={"email": "ana@acme", "first_name": "Ana", "_ts": _token(form["id"])})
    assert r.status_code == 422
    assert 'value="Ana"' in r.text and 'aria-invalid="true"' in r.text and "not a valid email address" in r.text


@pytest.mark.parametrize(("extra", "reason"), [
    ({"_hp": "http://buy.example"}, "honeypot"),
    ({"_ts": "forged.token"}, "token"),
    ({"email": "temp@mailinator.com"}, "disposable"),
    ({"first_name": "Visit https://spam.example"}, "link or HTML in first_name"),
    ({"last_name": "<b>Boss</b>"}, "link or HTML in last_name"),
])
def test_spam_is_quarantined_answered_like_success_and_releasable(anon_client, client, form, extra, reason) -> None:
    body = {"email": "dan@corp.io", "first_name": "Dan", "_ts": _token(form["id"]), **extra}
    r = anon_client.post("/f/contact/submit", json=body)
    assert r.status_code == 200 and r.json()["ok"] is True
    [sub] = _subs()
    assert sub.status == "quarantined" and any(reason in x for x in sub.reasons)
    assert _process() == 0  # never a lead until released
    with unit_of_work() as s:
        from leadflow.capture.service import get_submission, release_submission

        released = release_submission(s, submission=get_submission(s, submission_id=sub.id), user_id=None)
        assert released.status == "processed" and released.lead_id is not None


def test_too_fast_submission_is_quarantined(anon_client, form) -> None:
    page = anon_client.get("/f/contact").text
    token = re.search(r'name="_ts" value="([^"]+)"', page).group(1)
    anon_client.post("/f/contact/submit", data={"email": "eve@corp.io", "first_name": "Eve", "_ts": token})
    [sub] = _subs()
    assert sub.status == "quarantined" and "minimum 2 s" in sub.reasons[0]


def test_rate_limit_answers_429_and_still_keeps_the_submission(anon_client, form, monkeypatch) -> None:
    monkeypatch.setattr(get_settings(), "submit_rate_limit", "3/minute")
    codes = [anon_client.post("/f/contact/submit", json={"email": f"p{i}@corp.io", "first_name": "P",
                                                          "_ts": _token(form["id"])}).status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    statuses = [s.status for s in _subs()]
    assert statuses == ["pending"] * 3 + ["quarantined"] * 2


def test_cors_is_limited_to_allowed_origins(anon_client, form) -> None:
    ok = {"origin": "https://shop.example"}
    pre = anon_client.options("/f/contact/submit", headers={**ok, "access-control-request-method": "POST"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "https://shop.example"
    r = anon_client.post("/f/contact/submit", json={"email": "f@corp.io", "first_name": "F", "_ts": _token(form["id"])},
                         headers=ok)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://shop.example"
    frag = anon_client.get("/f/contact/fragment", headers=ok)
    assert frag.status_code == 200 and frag.text.lstrip().startswith("{#") is False and "<form" in frag.text
    bad = {"origin": "https://evil.example"}
    assert anon_client.options("/f/contact/submit", headers=bad).status_code == 403
    r = anon_client.post("/f/contact/submit", json={"email": "g@corp.io", "first_name": "G"}, headers=bad)
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "origin"
    assert "access-control-allow-origin" not in r.headers
    assert anon_client.get("/f/contact/fragment", headers=bad).status_code == 403
    assert len(_subs()) == 1


@pytest.mark.parametrize(("content", "ctype", "status", "field"), [
    (b"{not json", "application/json", 400, "body"),
    (b"[1, 2]", "application/json", 400, "body"),
    (b'{"email": {"a": 1}}', "application/json", 422, "email"),
    (b"email=a@b.io", "text/plain", 415, "content-type"),
    (b"\xff\xfe", "application/json", 400, "body"),
    (b'{"email": "a\\u0000b@corp.io"}', "application/json", 422, "email"),
])
def test_malformed_bodies_get_a_clear_4xx(anon_client, form, content, ctype, status, field) -> None:
    r = anon_client.post("/f/contact/submit", content=content, headers={"content-type": ctype})
    assert r.status_code == status and r.json()["errors"][0]["field"] == field
    assert _subs() == []


def test_unknown_or_closed_form_is_404(anon_client, form) -> None:
    assert anon_client.post("/f/nope/submit", json={"email": "a@b.io"}).status_code == 404
    assert anon_client.get("/f/nope").status_code == 404
    with unit_of_work() as s:
        from leadflow.capture.service import get_form

        f = get_form(s, form_id=form["id"])
        data = FormSettings.model_validate({**{k: getattr(f, k) for k in FormSettings.model_fields}, "is_active": False})
        update_form(s, form=f, data=data)
    assert anon_client.get("/f/contact").status_code == 404
    assert anon_client.post("/f/contact/submit", json={"email": "a@b.io"}).status_code == 404


def test_oversized_body_is_refused(anon_client, form) -> None:
    r = anon_client.post("/f/contact/submit", json={"email": "a@b.io", "first_name": "x" * 3_000_000})
    assert r.status_code == 413


def test_consent_text_change_is_a_new_version_for_later_grants(anon_client, form) -> None:
    with unit_of_work() as s:
        from leadflow.capture.service import get_form

        f = get_form(s, form_id=form["id"])
        data = FormSettings.model_validate({**{k: getattr(f, k) for k in FormSettings.model_fields},
                                            "consent_text": "Send me news and offers by email."})
        update_form(s, form=f, data=data)
        assert f.consent_version == 2 and [v["version"] for v in f.consent_versions] == [1, 2]
    anon_client.post("/f/contact/submit", json={"email": "h@corp.io", "first_name": "H", "consent": True,
                                                "_ts": _token(form["id"])})
    _process()
    with get_sessionmaker()() as s:
        assert s.scalar(select(ConsentRecord.text_version)) == "contact@v2"


def test_the_server_processor_turns_submissions_into_leads(app, form) -> None:
    from fastapi.testclient import TestClient

    processor = SubmissionProcessor(idle_wait=0.05)
    processor.start()
    try:
        with TestClient(app) as c:
            app.state.submission_processor = processor
            r = c.post("/f/contact/submit", json={"email": "ivy@corp.io", "first_name": "Ivy", "_ts": _token(form["id"])})
            assert r.status_code == 200
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _subs()[0].status == "pending":
                time.sleep(0.05)
    finally:
        processor.stop()
    assert _subs()[0].status == "processed"


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.dictionaries(st.sampled_from(["email", "first_name", "last_name", "phone", "country", "interest",
                                                "newsletter", "partner", "_hp", "consent", "utm_source", "zzz"]),
                               st.one_of(_text, st.booleans(), st.integers(), st.none()), max_size=8))
def test_any_json_payload_gets_an_answer_and_is_never_lost(anon_client, form, payload) -> None:
    before = len(_subs())
    r = anon_client.post("/f/contact/submit", json={**payload, "_ts": _token(form["id"])})
    assert r.status_code in (200, 422, 429), r.text
    after = _subs()
    if any(isinstance(v, str) and "\x00" in v for v in payload.values()):
        # Unstorable text is refused outright, naming the field.
        assert r.status_code == 422 and "NUL" in r.json()["errors"][0]["message"] and len(after) == before
        return
    assert len(after) == before + 1  # stored whatever the verdict
    assert after[-1].status in ("pending", "invalid", "quarantined")
    if r.status_code == 422:
        assert after[-1].status == "invalid" and r.json()["errors"]
    _process()
    assert all(s.status != "failed" for s in _subs()), [s.error for s in _subs() if s.error]


def test_plain_html_post_takes_the_page_from_referer_never_the_referrer(anon_client, form) -> None:
    anon_client.post("/f/contact/submit", data={"email": "jo@corp.io", "first_name": "Jo", "_ts": _token(form["id"])},
                     headers={"referer": "https://shop.example/landing?utm_source=x"})
    [sub] = _subs()
    assert sub.context["page_url"] == "https://shop.example/landing?utm_source=x"
    assert "referrer" not in sub.context
