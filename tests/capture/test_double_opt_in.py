"""Double opt-in over a real SMTP server (aiosmtpd on a free local port): the email, the link, the ledger, the outbox."""

from __future__ import annotations

import email
import json
import re
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from itsdangerous import TimestampSigner
from sqlalchemy import func, select, update

from leadflow.capture.mailer import send_pending_emails
from leadflow.capture.models import OutboxEmail, Submission
from leadflow.capture.optin import confirmation_token
from leadflow.capture.processor import SubmissionProcessor
from leadflow.capture.schemas import FormIn
from leadflow.capture.service import create_form, form_token, process_pending_submissions
from leadflow.config import get_settings
from leadflow.db.base import utcnow
from leadflow.db.session import get_sessionmaker, unit_of_work
from leadflow.leads.models import ConsentRecord, Event, Lead
from tests.capture.conftest import csrf

PUBLIC_URL = "https://leads.example"
FIELDS = [{"key": "email", "type": "email"}, {"key": "first_name", "type": "first_name"}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_port(monkeypatch) -> int:
    """Settings pointing at 127.0.0.1 on a free port (nothing listening yet) and PUBLIC_URL for links."""
    port = _free_port()
    settings = get_settings()
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", port)
    monkeypatch.setattr(settings, "public_url", PUBLIC_URL)
    return port


def _start_smtp(port: int) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox


@pytest.fixture
def inbox(smtp_port) -> Iterator[Inbox]:
    """A real SMTP server listening where the settings point."""
    controller, box = _start_smtp(smtp_port)
    yield box
    controller.stop()


def _make_form(slug: str, **settings) -> int:
    with unit_of_work() as s:
        form = create_form(s, data=FormIn(slug=slug, name=settings.pop("name", f"Form {slug}"), fields=FIELDS,
                                          consent_enabled=True, **settings))
        return form.id


@pytest.fixture
def doi_form(engine_clean) -> int:
    """An English double opt-in form with a consent text (version 1)."""
    return _make_form("news", title="Our newsletter", consent_text="Send me the newsletter.", double_opt_in=True)


def _submit(client, slug: str, form_id: int, email_address: str = "ana@acme.io", consent: bool = True) -> None:
    body = {"email": email_address, "first_name": "Ana",
            "_ts": form_token(form_id=form_id, now=utcnow() - timedelta(seconds=30)),
            **({"consent": "yes"} if consent else {})}
    r = client.post(f"/f/{slug}/submit", data=body, headers={"user-agent": "pytest-browser/1.0"})
    assert r.status_code == 200, r.text


def _process() -> int:
    with unit_of_work() as s:
        return process_pending_submissions(s)


def _send() -> int:
    return send_pending_emails(get_sessionmaker())


def _link(message: EmailMessage) -> str:
    text = message.get_body(("plain",)).get_content()
    [link] = re.findall(r"https?://\S+/f/confirm/\S+", text)
    return link


def _path(link: str) -> str:
    assert link.startswith(PUBLIC_URL + "/f/confirm/")
    return link.removeprefix(PUBLIC_URL)


def _grants() -> list[ConsentRecord]:
    with get_sessionmaker()() as s:
        return list(s.scalars(select(ConsentRecord).where(ConsentRecord.state == "granted")))


def _lead() -> Lead:
    with get_sessionmaker()() as s:
        return s.scalar(select(Lead))


def _outbox() -> list[OutboxEmail]:
    with get_sessionmaker()() as s:
        return list(s.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_consent_waits_for_the_emailed_link_then_is_granted_once(anon_client, doi_form, inbox) -> None:
    _submit(anon_client, "news", doi_form)
    assert _process() == 1
    lead = _lead()
    assert lead.consent_email != "granted" and _grants() == []
    assert inbox.messages == []  # queued in the conversion's transaction, sent only after it
    [queued] = _outbox()
    assert (queued.to_address, queued.kind, queued.lead_id, queued.sent_at) == ("ana@acme.io", "double_opt_in",
                                                                              lead.id, None)

    assert _send() == 1
    [message] = inbox.messages
    assert message["To"] == "ana@acme.io" and message["From"] == get_settings().mail_from
    assert message["Subject"] == "Please confirm your subscription"
    body = message.get_body(("plain",)).get_content()
    assert "Send me the newsletter." in body and "Our newsletter" in body
    link = _link(message)
    assert f'href="{link}"' in message.get_body(("html",)).get_content()
    assert _outbox()[0].sent_at is not None and _send() == 0  # never sent twice

    # Opening the link (a person, or a mail system's link checker) only shows the button.
    page = anon_client.get(_path(link), headers={"user-agent": "link-scanner/1.0"})
    assert page.status_code == 200 and "Confirm my subscription</button>" in page.text and _grants() == []
    r = anon_client.post(_path(link), headers={"user-agent": "mail-reader/2.0"})
    assert r.status_code == 200 and "your subscription is confirmed" in r.text
    [grant] = _grants()
    assert (grant.purpose, grant.text_version, grant.form_id, grant.ip, grant.user_agent, grant.source) == (
        "marketing_email", "news@v1", doi_form, "testclient", "mail-reader/2.0", "form:news")
    assert _lead().consent_email == "granted"

    again = anon_client.post(_path(link))
    assert again.status_code == 200 and "already confirmed" in again.text
    assert len(_grants()) == 1
    with get_sessionmaker()() as s:
        types = sorted(s.scalars(select(Event.type).where(Event.lead_id == lead.id)))
        sub_id = s.scalar(select(Submission.id))
        requested = s.scalar(select(Event).where(Event.type == "consent_requested"))
    assert types == ["consent_confirmed", "consent_requested", "form_submit"]
    assert requested.properties["submission_id"] == sub_id and requested.properties["text_version"] == "news@v1"


def test_the_processor_sends_the_emails_its_batch_queued(anon_client, doi_form, inbox) -> None:
    _submit(anon_client, "news", doi_form)
    assert SubmissionProcessor().drain() == 1
    [message] = inbox.messages
    assert _link(message).startswith(PUBLIC_URL)


def test_a_forged_or_mangled_link_is_404(anon_client, doi_form) -> None:
    assert anon_client.get("/f/confirm/not-a-token").status_code == 404
    forged = confirmation_token(lead_id=1, form_id=doi_form, submission_id=1, consent_version=1)[:-2] + "xx"
    r = anon_client.get(f"/f/confirm/{forged}")
    assert r.status_code == 404 and "not valid" in r.text
    assert anon_client.post(f"/f/confirm/{forged}").status_code == 404
    # Well signed, but for a lead that does not exist (erased since): nothing to confirm.
    ghost = confirmation_token(lead_id=987654, form_id=doi_form, submission_id=1, consent_version=1)
    assert anon_client.get(f"/f/confirm/{ghost}").status_code == 404
    assert anon_client.post(f"/f/confirm/{ghost}").status_code == 404
    assert _grants() == []


def test_an_expired_link_is_410_and_the_max_age_is_a_setting(anon_client, doi_form, inbox, monkeypatch) -> None:
    _submit(anon_client, "news", doi_form)
    _process()
    _send()
    path = _path(_link(inbox.messages[0]))
    # Fifteen days later: past the default 14 days.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) + 15 * 24 * 3600)
    r = anon_client.get(path)
    assert r.status_code == 410 and "expired" in r.text
    assert anon_client.post(path).status_code == 410
    assert _grants() == []
    monkeypatch.setattr(get_settings(), "double_opt_in_max_age_days", 30)
    assert anon_client.post(path).status_code == 200
    assert len(_grants()) == 1


def test_a_form_without_double_opt_in_grants_at_once_and_sends_nothing(anon_client, engine_clean, inbox) -> None:
    form_id = _make_form("contact", consent_text="Send me news.")
    _submit(anon_client, "contact", form_id)
    _process()
    assert [g.text_version for g in _grants()] == ["contact@v1"]
    assert _outbox() == [] and _send() == 0 and inbox.messages == []


def test_no_consent_ticked_means_no_email(anon_client, doi_form, inbox) -> None:
    _submit(anon_client, "news", doi_form, consent=False)
    _process()
    assert _outbox() == [] and _grants() == []


def test_smtp_down_keeps_the_email_queued_with_the_error_and_retries_later(anon_client, doi_form, smtp_port) -> None:
    _submit(anon_client, "news", doi_form)
    _process()
    assert _send() == 0  # nothing listens on the port
    [queued] = _outbox()
    assert (queued.sent_at, queued.attempts) == (None, 1) and queued.last_error
    assert _send() == 0 and _outbox()[0].attempts == 1  # the next attempt waits a minute

    controller, box = _start_smtp(smtp_port)
    try:
        with unit_of_work() as s:
            s.execute(update(OutboxEmail).values(created_at=utcnow() - timedelta(minutes=2)))
        assert _send() == 1
    finally:
        controller.stop()
    [message] = box.messages
    assert message["To"] == "ana@acme.io"
    [sent] = _outbox()
    assert sent.sent_at is not None and sent.last_error is None and sent.attempts == 1


def test_without_an_smtp_host_emails_stay_queued(anon_client, doi_form, monkeypatch) -> None:
    monkeypatch.setattr(get_settings(), "smtp_host", None)
    _submit(anon_client, "news", doi_form)
    _process()
    assert _send() == 0
    [queued] = _outbox()
    assert (queued.sent_at, queued.attempts) == (None, 0)


def test_a_spanish_form_sends_a_spanish_email_and_page(anon_client, engine_clean, inbox) -> None:
    form_id = _make_form("boletin", language="es", title="Nuestro boletín", consent_text="Quiero el boletín.",
                         double_opt_in=True)
    _submit(anon_client, "boletin", form_id, email_address="eva@acme.es")
    _process()
    _send()
    [message] = inbox.messages
    assert message["Subject"] == "Confirma tu suscripción"
    body = message.get_body(("plain",)).get_content()
    assert body.startswith("Hola") and "«Quiero el boletín.»" in body and "«Nuestro boletín»" in body
    assert "Confirmar mi suscripción</button>" in anon_client.get(_path(_link(message))).text
    r = anon_client.post(_path(_link(message)))
    assert r.status_code == 200 and 'lang="es"' in r.text and "tu suscripción está confirmada" in r.text


def test_the_editor_sets_double_opt_in_and_the_api_shows_it(ui, client, engine_clean) -> None:
    data = {
        "csrf_token": csrf(ui), "name": "Newsletter", "slug": "letter", "language": "en", "title": "", "description": "",
        "submit_label": "", "campaign_id": "", "success_action": "message", "success_message": "", "redirect_url": "",
        "consent_enabled": "on", "consent_text": "Send me the newsletter.", "double_opt_in": "on",
        "allowed_origins": "", "min_submit_seconds": "2", "is_active": "on",
        "f-0-type": "email", "f-0-key": "email", "f-0-label": "", "f-0-required": "on",
    }
    r = ui.post("/forms/new", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    detail = ui.get(r.headers["location"])
    assert "double opt-in (confirmed by email)" in detail.text
    edit = ui.get(r.headers["location"] + "/edit")
    assert re.search(r'name="double_opt_in" checked', edit.text)
    with get_sessionmaker()() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEmail)) == 0
    [out] = [f for f in client.get("/api/v1/forms").json() if f["slug"] == "letter"]
    assert out["double_opt_in"] is True


def test_cli_send_emails_sends_the_queue_and_refuses_without_a_host(anon_client, doi_form, inbox, monkeypatch) -> None:
    from typer.testing import CliRunner

    from leadflow.cli import app

    _submit(anon_client, "news", doi_form)
    _process()
    r = CliRunner().invoke(app, ["submissions", "send-emails", "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"sent": 1}
    assert len(inbox.messages) == 1
    monkeypatch.setattr(get_settings(), "smtp_host", None)
    r = CliRunner().invoke(app, ["submissions", "send-emails"], catch_exceptions=False)
    assert r.exit_code == 1 and "LEADFLOW_SMTP_HOST" in r.output
