"""Capture services: forms, receiving submissions (stored raw first), spam quarantine, turning them into leads."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from leadflow.campaigns.service import find_campaign_by_utm, get_campaign
from leadflow.capture.labels import field_label
from leadflow.capture.models import Form, Submission
from leadflow.capture.optin import request_confirmation
from leadflow.capture.schemas import STANDARD_FIELDS, FormIn, FormSettings
from leadflow.capture.spam import RateLimiter, spam_reasons
from leadflow.config import get_settings
from leadflow.db.base import utcnow
from leadflow.db.session import begin_writing
from leadflow.leads.events import lead_of_visitor, stitch_visitor
from leadflow.leads.normalize import InvalidValue, email_domain, normalize_email
from leadflow.leads.schemas import EventIn, LeadCreate, Touch
from leadflow.leads.service import (
    ConsentProof,
    LeadError,
    append_event,
    record_consent,
    upsert_lead,
)
from leadflow.lifecycle.bant import bant_from_answers
from leadflow.lifecycle.service import set_bant

MAX_VALUE_CHARS = 10_000
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
TRUTHY = frozenset({"1", "true", "on", "yes", "y", "si", "sí", "checked"})


class CaptureError(ValueError):
    """A request about forms or submissions that cannot be carried out; `field` names the culprit."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.field = field
        self.status = status


# ---------------------------------------------------------------- forms

# Bumped by every form change in this process, so the public endpoint's cache of forms
# (capture.public) drops a stale entry at once; other processes' changes show within its TTL.
FORMS_CHANGED = [0]


@dataclass(frozen=True, slots=True)
class PublicForm:
    """What the public endpoints need of a form, detached from any session (cacheable)."""

    id: int
    slug: str
    name: str
    title: str
    description: str
    language: str
    fields: list
    submit_label: str
    success_action: str
    success_message: str
    redirect_url: str | None
    consent_enabled: bool
    consent_required: bool
    consent_text: str
    consent_version: int
    allowed_origins: list
    min_submit_seconds: int
    is_active: bool
    magnet_filename: str | None
    magnet_stored: str | None

    @classmethod
    def of(cls, form: Form) -> PublicForm:
        return cls(**{name: getattr(form, name) for name in cls.__slots__})



def get_form(session: Session, *, form_id: int) -> Form | None:
    return session.get(Form, form_id)


def get_form_by_slug(session: Session, *, slug: str) -> Form | None:
    return session.scalar(select(Form).where(Form.slug == slug))


def list_forms(session: Session) -> list[Form]:
    """Every form, active first, by name."""
    return list(session.scalars(select(Form).order_by(Form.is_active.desc(), Form.name, Form.id)))


def count_submissions_by_form(session: Session) -> dict[int, dict[str, int]]:
    """{form id: {status: submissions}}."""
    rows = session.execute(select(Submission.form_id, Submission.status, func.count())
                           .group_by(Submission.form_id, Submission.status)).all()
    out: dict[int, dict[str, int]] = {}
    for form_id, status, n in rows:
        out.setdefault(form_id, {})[status] = int(n)
    return out


def _apply_settings(session: Session, form: Form, data: FormSettings, now: datetime) -> None:
    if data.campaign_id is not None and get_campaign(session, campaign_id=data.campaign_id) is None:
        raise CaptureError(f"no campaign with id {data.campaign_id}", field="campaign_id")
    values = data.model_dump()
    values["fields"] = [f.model_dump(exclude_none=True) for f in data.fields]
    text = values.pop("consent_text")
    for key, value in values.items():
        setattr(form, key, value)
    if text and text != (form.consent_text or ""):
        # A new consent text is a new version; earlier grants keep pointing at the text they saw.
        form.consent_version = (form.consent_version or 0) + 1
        form.consent_versions = [*(form.consent_versions or []),
                                 {"version": form.consent_version, "text": text, "at": now.isoformat() + "Z"}]
    form.consent_text = text
    form.updated_at = now


def create_form(session: Session, *, data: FormIn) -> Form:
    """A new form; CaptureError (409) when the slug is taken."""
    if get_form_by_slug(session, slug=data.slug) is not None:
        raise CaptureError(f"a form with slug {data.slug!r} exists", field="slug", status=409)
    now = utcnow()
    form = Form(slug=data.slug, created_at=now, consent_version=0, consent_versions=[], consent_text="")
    _apply_settings(session, form, data, now)
    session.add(form)
    session.flush()
    FORMS_CHANGED[0] += 1
    return form


def update_form(session: Session, *, form: Form, data: FormSettings) -> Form:
    """Replace FORM's settings (its slug stays: published pages and embeds use it)."""
    _apply_settings(session, form, data, utcnow())
    session.flush()
    FORMS_CHANGED[0] += 1
    return form


# ---------------------------------------------------------------- progressive profiling

VISITOR_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


def known_values(session: Session, *, visitor_id: str | None) -> dict[str, str]:
    """What is already known about the lead behind VISITOR_ID, by form field key (standard fields
    by name, custom ones from its properties); empty for an unknown visitor."""
    if not visitor_id or not re.match(VISITOR_ID_PATTERN, visitor_id):
        return {}
    lead = lead_of_visitor(session, visitor_id=visitor_id)
    if lead is None:
        return {}
    known = {name: getattr(lead, name) for name in STANDARD_FIELDS}
    known.update({k: v for k, v in (lead.properties or {}).items() if isinstance(v, (str, int, float))
                  and not isinstance(v, bool)})
    return {k: str(v) for k, v in known.items() if v not in (None, "")}


# ---------------------------------------------------------------- the render token


def _token_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key.get_secret_value(), salt="leadflow.form-render")


def form_token(*, form_id: int, now: datetime) -> str:
    """A signed stamp of when FORM was shown, sent back with the submission (minimum-time check)."""
    return _token_serializer().dumps([form_id, now.timestamp()])


def read_form_token(token: str | None, *, form_id: int) -> float | None:
    """The render time in a valid token for FORM_ID, else None."""
    if not token:
        return None
    try:
        fid, ts = _token_serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return float(ts) if fid == form_id and isinstance(ts, (int, float)) else None


# ---------------------------------------------------------------- receiving


@dataclass(slots=True)
class SubmissionContext:
    """What the request says about where a submission came from."""

    ip: str | None = None
    user_agent: str | None = None
    origin: str | None = None
    referrer: str | None = None
    page_url: str | None = None
    content_type: str | None = None
    utm: dict[str, str] = field(default_factory=dict)
    channel: str = "form"  # form | api

    def as_json(self) -> dict[str, Any]:
        """The context as stored: values cut to the widths the lead's source columns hold, NULs removed."""
        utm = {k: _clip(v, 200) for k, v in self.utm.items() if k in UTM_KEYS and _clip(v, 200)}
        return {k: v for k, v in {
            "ip": _clip(self.ip, 64), "user_agent": _clip(self.user_agent, 1000), "origin": _clip(self.origin, 500),
            "referrer": _clip(self.referrer, 2000), "page_url": _clip(self.page_url, 2000),
            "content_type": _clip(self.content_type, 200), "utm": utm or None, "channel": self.channel,
        }.items() if v is not None}


def _clip(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    text = "".join(ch for ch in str(value) if ch >= " " or ch == "\t").strip()[:limit]
    return text or None


@dataclass(slots=True)
class Received:
    submission: Submission
    errors: list[tuple[str, str]]  # (field, message): the submission was refused (status invalid)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if v is not None) or None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None


def _validate(form: Form | PublicForm, payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for key, value in payload.items():
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            errors.append((key, f"longer than {MAX_VALUE_CHARS} characters"))
    for f in form.fields:
        value = _as_text(payload.get(f["key"]))
        if f["type"] == "email":
            if value is None:
                errors.append(("email", "an email address is required"))
                continue
            try:
                normalize_email(value)
            except InvalidValue as exc:
                errors.append(("email", f"not a valid email address: {exc}"))
        elif f.get("required") and value is None and f["type"] != "hidden":
            errors.append((f["key"], f"{field_label(f, form.language)} is required"))
        elif f["type"] == "select" and value is not None and value not in f.get("options", []):
            errors.append((f["key"], f"{value[:100]!r} is not one of the choices"))
    if form.consent_enabled and form.consent_required and not _checked(payload.get("consent")):
        errors.append(("consent", "consent is required"))
    return errors


def _checked(value: Any) -> bool:
    text = _as_text(value)
    return text is not None and text.lower() in TRUTHY


@dataclass(slots=True)
class Assessed:
    """A submission judged but not yet stored: the submissions row, and the errors that refuse it."""

    row: dict[str, Any]
    errors: list[tuple[str, str]]

    @property
    def status(self) -> str:
        return self.row["status"]


def assess_submission(
    *, form: Form | PublicForm, payload: Mapping[str, Any], context: SubmissionContext,
    limiter: RateLimiter | None = None, now: datetime | None = None,
) -> Assessed:
    """Judge PAYLOAD for FORM (valid? spam?) without touching the database: the row to store."""
    now = now or utcnow()
    raw = {str(k)[:200]: v for k, v in payload.items()}
    errors = _validate(form, raw) if form.is_active else [("form", "this form is closed")]
    reasons: list[str] = [f"{f}: {m}" for f, m in errors]
    status = "invalid" if errors else "pending"
    if not errors:
        email = normalize_email(_as_text(raw.get("email")))
        rendered = read_form_token(_as_text(raw.get("_ts")), form_id=form.id)
        # API intake and the plain-HTML embed carry no render token; only a token that is present
        # and forged counts against the submission.
        token_valid = rendered is not None or not raw.get("_ts")
        elapsed = now.timestamp() - rendered if rendered is not None else None
        limited = limiter is not None and context.ip is not None and not limiter.hit(context.ip)
        reasons = spam_reasons(payload=raw, email_domain=email_domain(email), elapsed_seconds=elapsed,
                               min_seconds=form.min_submit_seconds, token_valid=token_valid, rate_limited=limited,
                               rate=limiter.rate if limiter else "")
        status = "quarantined" if reasons else "pending"
    ctx = context.as_json()
    ctx["consent_version"] = form.consent_version if form.consent_enabled else None
    row = {"form_id": form.id, "received_at": now, "status": status, "reasons": reasons, "payload": raw,
           "context": ctx, "visitor_id": (_as_text(raw.get("visitor_id")) or "")[:64] or None}
    return Assessed(row=row, errors=errors)


def receive_submission(
    session: Session, *, form: Form | PublicForm, payload: Mapping[str, Any], context: SubmissionContext,
    limiter: RateLimiter | None = None, now: datetime | None = None,
) -> Received:
    """Store PAYLOAD as a submission of FORM: pending, quarantined (spam) or invalid (with the errors).

    Nothing here writes anything else, so the raw submission is durable once the caller commits;
    `process_pending_submissions` turns pending ones into leads. (The public endpoint stores
    through capture.intake's group-committing writer instead, with the same assessment.)
    """
    assessed = assess_submission(form=form, payload=payload, context=context, limiter=limiter, now=now)
    sub = Submission(**assessed.row)
    session.add(sub)
    session.flush()
    return Received(submission=sub, errors=assessed.errors)


# ---------------------------------------------------------------- turning submissions into leads


def _submitted_values(form: Form, sub: Submission) -> tuple[dict[str, Any], dict[str, Any]]:
    """(lead fields, custom properties) a submission fills."""
    data: dict[str, Any] = {}
    props: dict[str, Any] = {}
    for f in form.fields:
        key, kind = f["key"], f["type"]
        value = f.get("value") if kind == "hidden" and f.get("value") else _as_text(sub.payload.get(key))
        if value is None:
            continue
        if kind in STANDARD_FIELDS:
            data[kind] = value
        elif kind == "checkbox":
            props[key] = _checked(value)
        else:
            props[key] = value
    return data, props


def _touch(sub: Submission) -> Touch:
    utm = sub.context.get("utm") or {}
    return Touch(source=utm.get("utm_source"), medium=utm.get("utm_medium"), campaign=utm.get("utm_campaign"),
                 content=utm.get("utm_content"), term=utm.get("utm_term"),
                 referrer=sub.context.get("referrer") or None, landing_page=sub.context.get("page_url") or None)


def _keep_raw(data: dict[str, Any], props: dict[str, Any], name: str, notes: list[str]) -> None:
    props[f"{name}_raw"] = data.pop(name)
    notes.append(f"{name}: not a valid value, kept in properties.{name}_raw")


def _upsert(session: Session, *, form: Form, sub: Submission, campaign_id: int | None) -> tuple[Any, list[str]]:
    """Upsert the submission's lead; a value a lead field cannot hold (a bad phone, an unknown
    country) moves to properties with a note instead of losing the lead."""
    data, props = _submitted_values(form, sub)
    touch = _touch(sub)
    notes: list[str] = []
    while True:
        try:
            lead_in = LeadCreate(**data, properties=props or None, first_touch=touch, last_touch=touch,
                                 campaign_id=campaign_id)
        except ValidationError as exc:
            bad = [str(e["loc"][0]) for e in exc.errors() if e["loc"] and str(e["loc"][0]) in data]
            if not bad or "email" in bad:
                raise
            for name in set(bad):
                _keep_raw(data, props, name, notes)
            continue
        try:
            with session.begin_nested():
                return upsert_lead(session, data=lead_in, actor_type="form", source=f"form:{form.slug}",
                                   form_id=form.id), notes
        except LeadError as exc:
            if exc.field not in data or exc.field == "email":
                raise
            _keep_raw(data, props, exc.field, notes)


def _convert(session: Session, *, form: Form, sub: Submission) -> int:
    utm_campaign = (sub.context.get("utm") or {}).get("utm_campaign")
    campaign = find_campaign_by_utm(session, utm_campaign=utm_campaign) if utm_campaign else None
    outcome, notes = _upsert(session, form=form, sub=sub, campaign_id=campaign.id if campaign else form.campaign_id)
    lead = outcome.lead
    # Form questions about budget, authority, need or timeline answer BANT, without overwriting
    # what sales already set.
    answers = {k: v for k, v in bant_from_answers(sub.payload).items() if getattr(lead, f"bant_{k}") is None}
    if answers:
        set_bant(session, lead=lead, **answers, actor_type="form", at=sub.received_at)
    if form.consent_enabled and _checked(sub.payload.get("consent")) and form.double_opt_in:
        # The grant waits for the emailed link (capture.optin); the email goes out after this commits.
        request_confirmation(session, form=form, sub=sub, lead=lead,
                             version=sub.context.get("consent_version") or form.consent_version)
    elif form.consent_enabled and _checked(sub.payload.get("consent")):
        version = sub.context.get("consent_version") or form.consent_version
        record_consent(session, lead=lead, purpose="marketing_email", state="granted", at=sub.received_at,
                       proof=ConsentProof(source=f"form:{form.slug}", text_version=f"{form.slug}@v{version}",
                                          form_id=form.id, ip=sub.context.get("ip"),
                                          user_agent=sub.context.get("user_agent")))
    event, _ = append_event(session, lead=lead, source="form", data=EventIn(
        type="form_submit", occurred_at=sub.received_at, external_id=f"submission:{sub.id}",
        properties={"form": form.slug, "form_id": form.id, "submission_id": sub.id,
                    "page_url": sub.context.get("page_url"), "created_lead": outcome.created},
    ))
    if sub.visitor_id:
        # The submit itself ties the visitor id to the lead (progressive profiling looks it up).
        event.visitor_id = sub.visitor_id
        # The visitor's page views from before the form join the lead's timeline.
        moved = stitch_visitor(session, visitor_id=sub.visitor_id, lead_id=lead.id)
        if moved and lead.consent_tracking != "granted":
            # The tracker sends nothing before the site's consent banner says yes: its views are
            # that consent's evidence, now that we know whose it was.
            record_consent(session, lead=lead, purpose="tracking", state="granted", at=sub.received_at,
                           proof=ConsentProof(source="tracker", form_id=form.id, ip=sub.context.get("ip"),
                                              user_agent=sub.context.get("user_agent")))
    if notes:
        sub.reasons = [*(sub.reasons or []), *notes]
    return lead.id


def process_pending_submissions(session: Session, *, limit: int = 200) -> int:
    """Turn up to LIMIT pending submissions into leads, oldest first; how many were handled.

    Each submission's lead, consent and event are written in the same transaction that marks it
    processed, so a crash leaves it pending (done again later) and never applies it twice. On
    PostgreSQL concurrent processors skip each other's rows (FOR UPDATE SKIP LOCKED).
    """
    begin_writing(session)
    query = select(Submission).where(Submission.status == "pending").order_by(Submission.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    subs = list(session.scalars(query))
    if not subs:
        return 0
    forms = {f.id: f for f in session.scalars(select(Form).where(Form.id.in_({s.form_id for s in subs})))}
    for sub in subs:
        _convert_one(session, form=forms[sub.form_id], sub=sub)
    session.flush()
    return len(subs)


def _convert_one(session: Session, *, form: Form, sub: Submission) -> None:
    """Make SUB processed (with its lead) or failed (with the error); never lost either way."""
    try:
        with session.begin_nested():
            lead_id = _convert(session, form=form, sub=sub)
    except OperationalError:
        raise  # the database, not the submission (a lock timeout): the batch is retried later
    except Exception as exc:
        sub.status, sub.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        return
    sub.status, sub.lead_id, sub.processed_at, sub.error = "processed", lead_id, utcnow(), None


def convert_now(session: Session, *, submission: Submission) -> Submission:
    """Turn one pending submission into its lead at once (a magnet download cannot wait for the processor)."""
    if submission.status == "pending":
        begin_writing(session)
        session.refresh(submission)  # the processor may have converted it since it was read
    if submission.status == "pending":
        _convert_one(session, form=session.get(Form, submission.form_id), sub=submission)
        session.flush()
    return submission


# ---------------------------------------------------------------- reviewing


def get_submission(session: Session, *, submission_id: int) -> Submission | None:
    return session.get(Submission, submission_id)


def list_submissions(session: Session, *, status: str | None = None, form_id: int | None = None,
                     limit: int = 50, offset: int = 0) -> tuple[int, Sequence[Submission]]:
    """(matching submissions, the newest LIMIT of them after OFFSET)."""
    query = select(Submission)
    if status is not None:
        query = query.where(Submission.status == status)
    if form_id is not None:
        query = query.where(Submission.form_id == form_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Submission.id.desc()).limit(limit).offset(offset)).all()
    return int(total or 0), rows


def release_submission(session: Session, *, submission: Submission, user_id: int | None) -> Submission:
    """Let a quarantined (or failed) submission through: it becomes a lead now, with who released it recorded."""
    if submission.status not in ("quarantined", "failed"):
        raise CaptureError(f"submission {submission.id} is {submission.status}; only quarantined or failed ones "
                           "can be released", field="status", status=409)
    submission.released_by, submission.released_at = user_id, utcnow()
    _convert_one(session, form=session.get(Form, submission.form_id), sub=submission)
    session.flush()
    return submission
