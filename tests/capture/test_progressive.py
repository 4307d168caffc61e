"""Progressive profiling: a visitor we already know is not asked again for what we know."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadflow.capture.schemas import FormIn
from leadflow.capture.service import create_form, form_token, process_pending_submissions
from leadflow.db.base import utcnow
from leadflow.db.session import get_sessionmaker, unit_of_work
from leadflow.leads.models import Lead

VISITOR = "0123456789abcdef0123456789abcdef"
SITE = "https://shop.example"


@pytest.fixture
def forms(engine_clean) -> dict[str, int]:
    """A short first form and a longer second one that asks again for the name and company."""
    with unit_of_work() as s:
        first = create_form(s, data=FormIn(
            slug="ebook", name="Ebook", consent_enabled=True, consent_text="Email me.", allowed_origins=[SITE],
            fields=[{"key": "email", "type": "email"}, {"key": "first_name", "type": "first_name", "required": True},
                    {"key": "company_name", "type": "company_name", "required": True}]))
        second = create_form(s, data=FormIn(
            slug="demo", name="Demo", consent_enabled=True, consent_text="Email me.", allowed_origins=[SITE],
            fields=[{"key": "email", "type": "email"}, {"key": "first_name", "type": "first_name", "required": True},
                    {"key": "company_name", "type": "company_name", "required": True},
                    {"key": "job_title", "type": "job_title", "required": True},
                    {"key": "budget", "type": "select", "options": ["<10k", "10k+"], "required": True}]))
        return {"ebook": first.id, "demo": second.id}


def _ts(form_id: int) -> str:
    return form_token(form_id=form_id, now=utcnow() - timedelta(seconds=30))


def _labels(html: str) -> list[str]:
    return re.findall(r'<label for="lf-\w+-(\w+)"', html)


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def _process() -> None:
    with unit_of_work() as s:
        process_pending_submissions(s)


def test_known_visitor_of_the_script_embed_is_asked_only_what_is_new(anon_client, forms) -> None:
    anon_client.post("/f/ebook/submit", json={"email": "ana@acme.io", "first_name": "Ana", "company_name": "Acme",
                                              "visitor_id": VISITOR, "_ts": _ts(forms["ebook"])},
                     headers={"origin": SITE})
    _process()
    fresh = anon_client.get("/f/demo/fragment", headers={"origin": SITE}).text
    assert _labels(fresh) == ["email", "first_name", "company_name", "job_title", "budget", "consent", "hp"]
    known = anon_client.get(f"/f/demo/fragment?visitor_id={VISITOR}", headers={"origin": SITE}).text
    assert _labels(known) == ["email", "job_title", "budget", "consent", "hp"]
    assert 'value="ana@acme.io"' in known  # shown filled in, so it can be corrected
    hidden = _hidden(known)
    assert (hidden["first_name"], hidden["company_name"], hidden["visitor_id"]) == ("Ana", "Acme", VISITOR)
    # Submitting what the page holds satisfies the required fields it no longer shows.
    r = anon_client.post("/f/demo/submit", json={**hidden, "email": "ana@acme.io", "job_title": "CTO", "budget": "10k+",
                                                 "_ts": _ts(forms["demo"])}, headers={"origin": SITE})
    assert r.status_code == 200, r.text
    _process()
    with get_sessionmaker()() as s:
        [lead] = s.scalars(select(Lead)).all()
    assert (lead.first_name, lead.company_name, lead.job_title, lead.properties["budget"]) == ("Ana", "Acme", "CTO", "10k+")


def test_unknown_or_malformed_visitor_ids_get_the_whole_form(anon_client, forms) -> None:
    for vid in ("ffffffffffffffffffffffffffffffff", "<script>", "x" * 200):
        html = anon_client.get(f"/f/demo/fragment?visitor_id={vid}", headers={"origin": SITE}).text
        assert "first_name" in _labels(html)
        assert "<script>" not in html


def test_hosted_pages_remember_a_consenting_visitor(anon_client, forms) -> None:
    page = anon_client.get("/f/ebook").text
    vid = _hidden(page)["visitor_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", vid)
    r = anon_client.post("/f/ebook/submit", data={"email": "bo@corp.io", "first_name": "Bo", "company_name": "Corp",
                                                  "consent": "true", "visitor_id": vid, "_ts": _ts(forms["ebook"])})
    assert r.status_code == 200 and r.cookies.get("leadflow_vid") == vid
    _process()
    again = anon_client.get("/f/demo").text  # the client sends the cookie back
    assert _labels(again) == ["email", "job_title", "budget", "consent", "hp"]


def test_no_cookie_without_consent(anon_client, forms) -> None:
    vid = _hidden(anon_client.get("/f/ebook").text)["visitor_id"]
    r = anon_client.post("/f/ebook/submit", data={"email": "cy@corp.io", "first_name": "Cy", "company_name": "Corp",
                                                  "visitor_id": vid, "_ts": _ts(forms["ebook"])})
    assert r.status_code == 200 and "leadflow_vid" not in r.cookies
