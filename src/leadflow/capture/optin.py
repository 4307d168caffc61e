"""Double opt-in: a ticked consent box on such a form queues a confirmation email; the grant is recorded on the click.

The link carries a signed, timed token of (lead, form, submission, consent text version), so the
grant recorded on confirmation names the text the visitor ticked, even if the form's text has
changed since. A confirmation is recorded once per submission (a `consent_confirmed` event keyed
by it); following the link again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadflow.capture.labels import text
from leadflow.capture.mailer import queue_email
from leadflow.capture.models import Form, Submission
from leadflow.config import get_settings
from leadflow.leads.schemas import EventIn
from leadflow.leads.service import ConsentProof, append_event, get_lead, record_consent

if TYPE_CHECKING:
    from leadflow.leads.models import Lead

SALT = "leadflow.double-opt-in"


class OptInError(ValueError):
    """A confirmation link that cannot confirm anything: 404 (forged, or its lead or form is gone) or 410 (expired)."""

    def __init__(self, status: int, key: str):
        super().__init__(key)
        self.status, self.key = status, key


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What following a link came to: newly confirmed or already confirmed, on which form."""

    already: bool
    language: str
    form_title: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key.get_secret_value(), salt=SALT)


def confirmation_token(*, lead_id: int, form_id: int, submission_id: int, consent_version: int) -> str:
    """A signed, timed token for the confirmation link of one submission's consent."""
    return _serializer().dumps({"lead_id": lead_id, "form_id": form_id, "submission_id": submission_id,
                                "consent_version": consent_version})


def read_confirmation_token(token: str) -> dict[str, int]:
    """The token's data; OptInError 404 when forged or malformed, 410 when older than the configured maximum."""
    max_age = get_settings().double_opt_in_max_age_days * 24 * 3600
    try:
        data: Any = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise OptInError(410, "doi_expired") from None
    except BadSignature:
        raise OptInError(404, "doi_invalid") from None
    keys = ("lead_id", "form_id", "submission_id", "consent_version")
    if not isinstance(data, dict) or not all(type(data.get(k)) is int for k in keys):
        raise OptInError(404, "doi_invalid")
    return {k: data[k] for k in keys}


def _consent_text(form: Form, version: int) -> str:
    for v in form.consent_versions or []:
        if v.get("version") == version:
            return v.get("text", "")
    return form.consent_text


def request_confirmation(session: Session, *, form: Form, sub: Submission, lead: Lead, version: int) -> None:
    """Queue the confirmation email for SUB's ticked consent (sent after the caller commits) and note it on the timeline."""
    token = confirmation_token(lead_id=lead.id, form_id=form.id, submission_id=sub.id, consent_version=version)
    link = f"{get_settings().public_url.rstrip('/')}/f/confirm/{token}"
    lang, title = form.language, form.title or form.name
    body = text(lang, "doi_body", consent=_consent_text(form, version), form=title, link=link)
    paragraphs = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n") if p != link)
    html = (f'<!doctype html><html lang="{lang}"><body>{paragraphs}'
            f'<p><a href="{escape(link)}">{escape(text(lang, "doi_button"))}</a></p></body></html>')
    queue_email(session, to_address=lead.email, subject=text(lang, "doi_subject"), body_text=body, body_html=html,
                kind="double_opt_in", lead_id=lead.id)
    append_event(session, lead=lead, source="form", data=EventIn(
        type="consent_requested", occurred_at=sub.received_at, external_id=f"consent_requested:{sub.id}",
        properties={"form": form.slug, "form_id": form.id, "submission_id": sub.id,
                    "text_version": f"{form.slug}@v{version}"}))


def check_confirmation(session: Session, *, token: str) -> Confirmation:
    """What a confirmation link stands for, recording nothing (the page a GET shows); OptInError like confirm."""
    data = read_confirmation_token(token)
    form = session.get(Form, data["form_id"])
    if form is None or get_lead(session, lead_id=data["lead_id"]) is None:
        raise OptInError(404, "doi_invalid")
    return Confirmation(already=False, language=form.language, form_title=form.title or form.name)


def confirm_consent(session: Session, *, token: str, ip: str | None, user_agent: str | None) -> Confirmation:
    """Record the email consent grant a confirmation link stands for, once; OptInError when it stands for nothing."""
    data = read_confirmation_token(token)
    form = session.get(Form, data["form_id"])
    lead = get_lead(session, lead_id=data["lead_id"])
    if form is None or lead is None:
        raise OptInError(404, "doi_invalid")
    done = Confirmation(already=True, language=form.language, form_title=form.title or form.name)
    version = f"{form.slug}@v{data['consent_version']}"
    try:
        with session.begin_nested():
            # The event's unique external id is the once-only guard, also against two clicks at once.
            _, created = append_event(session, lead=lead, source="form", data=EventIn(
                type="consent_confirmed", external_id=f"consent_confirmed:{data['submission_id']}",
                properties={"form": form.slug, "form_id": form.id, "submission_id": data["submission_id"],
                            "text_version": version}))
            if not created:
                return done
            record_consent(session, lead=lead, purpose="marketing_email", state="granted", proof=ConsentProof(
                source=f"form:{form.slug}", text_version=version, form_id=form.id, ip=ip,
                user_agent=user_agent[:1000] if user_agent else None))
    except IntegrityError:
        return done  # a concurrent click on the same link recorded it first
    return Confirmation(already=False, language=form.language, form_title=done.form_title)
