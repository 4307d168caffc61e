"""The hosted page and the script embed in a real browser (Debian Chromium), cross-origin."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from leadflow.capture.models import Submission
from leadflow.capture.schemas import FormIn
from leadflow.capture.service import create_form
from leadflow.db.session import get_sessionmaker, unit_of_work
from tests.capture.conftest import shot
from tests.web_fixtures import _free_port


@pytest.fixture
def customer_site(tmp_path: Path, live_server: str) -> Iterator[str]:
    """Another origin: a customer's page embedding the form with the <script> snippet."""
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head><meta charset=utf-8><title>Customer</title></head><body style='font:16px sans-serif'>"
        "<h1>Acme webinars</h1><div data-leadflow-form='webinar'></div>"
        f"<script src='{live_server}/static/forms.js' async></script></body></html>", encoding="utf-8")
    port = _free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def _form(origin: str, *, language: str = "en") -> None:
    with unit_of_work() as s:
        create_form(s, data=FormIn(
            slug="webinar", name="Webinar", title="Save your seat", language=language, min_submit_seconds=0,
            description="45 minutes on lead scoring that sales trusts.",
            fields=[{"key": "email", "type": "email"}, {"key": "first_name", "type": "first_name", "required": True},
                    {"key": "company_name", "type": "company_name"},
                    {"key": "role", "type": "select", "options": ["Marketing", "Sales", "Other"]}],
            consent_enabled=True, consent_text="Email me about future webinars.", allowed_origins=[origin],
            success_message="You're in! Check your inbox."))


def _subs() -> list[Submission]:
    with get_sessionmaker()() as s:
        return list(s.scalars(select(Submission).order_by(Submission.id)))


def test_script_embed_on_another_origin_submits(page, customer_site) -> None:
    _form(customer_site)
    page.goto(f"{customer_site}/index.html?utm_source=partner&utm_campaign=q4")
    page.locator("input[name=email]").fill("ada@acme.io")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Role").select_option("Sales")
    page.get_by_label("Email me about future webinars.").check()
    shot(page, "capture-embed-filled")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("You're in! Check your inbox.").wait_for()
    [sub] = _subs()
    assert sub.status == "pending" and sub.payload["email"] == "ada@acme.io" and sub.payload["consent"] == "true"
    assert sub.context["origin"] == customer_site
    assert sub.context["page_url"].startswith(f"{customer_site}/index.html")
    assert sub.context["utm"] == {"utm_source": "partner", "utm_campaign": "q4"}


def test_script_embed_shows_field_errors_in_place(page, customer_site) -> None:
    _form(customer_site)
    page.goto(f"{customer_site}/index.html")
    page.locator("input[name=email]").fill("not-an-email")
    page.get_by_role("button", name="Send").click()
    page.locator(".lf-error").first.wait_for()
    assert "valid email" in page.locator(".lf-error").first.inner_text()
    assert [s.status for s in _subs()] == ["invalid"]


def test_hosted_page_is_usable_on_a_phone_and_by_keyboard(page, live_server) -> None:
    _form("https://example.com", language="es")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/f/webinar")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "email"
    page.keyboard.type("luz@acme.es")
    page.keyboard.press("Tab")
    page.keyboard.type("Luz")
    shot(page, "capture-hosted-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Enviar").click()
    page.get_by_text("You're in! Check your inbox.").wait_for()
    assert [s.payload.get("first_name") for s in _subs()] == ["Luz"]
