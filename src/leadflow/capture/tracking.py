"""Behavioural tracking: the page-view collector behind /static/t.js, and signed email open/click links.

Page views arrive only after the customer's site reports consent (the script sends nothing
before `leadflow.consent()`), with a first-party visitor id; they stay anonymous until the
visitor submits a form (see capture.service: stitching) or is already known.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.capture.models import Form
from leadflow.config import get_settings
from leadflow.leads.events import append_events
from leadflow.leads.models import Event
from leadflow.leads.schemas import BatchEventIn
from leadflow.schemas import InputModel

EMAIL_TOKEN_MAX_AGE_S = 365 * 24 * 3600  # links in year-old emails still count; older ones are refused
MAX_PAGE_VIEWS = 20  # per beacon: a page view, plus any queued while offline


class PageView(InputModel):
    url: str = Field(min_length=1, max_length=2000)
    title: str | None = Field(None, max_length=500)
    referrer: str | None = Field(None, max_length=2000)
    occurred_at: datetime | None = None


class Beacon(InputModel):
    visitor_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    views: list[PageView] = Field(min_length=1, max_length=MAX_PAGE_VIEWS)


class TrackingError(ValueError):
    def __init__(self, status: int, field: str, message: str):
        super().__init__(message)
        self.status, self.field = status, field


def tracking_origins(session: Session) -> set[str]:
    """Origins allowed to send page views: every origin some form may be embedded on."""
    origins: set[str] = set()
    for allowed in session.scalars(select(Form.allowed_origins)):
        origins.update(allowed or [])
    return origins


def _utm(url: str) -> dict[str, str]:
    return {k: v[:200] for k, v in parse_qsl(urlsplit(url).query) if k.startswith("utm_") and v}


def record_page_views(session: Session, *, body: bytes, origin: str | None, own_origin: str) -> int:
    """Store a beacon's page views (anonymous, or on the visitor's lead when it is known); how many."""
    if origin and origin != own_origin and origin.lower() not in tracking_origins(session):
        raise TrackingError(403, "origin", f"{origin} is not an allowed origin of any form")
    try:
        beacon = Beacon.model_validate(json.loads(body))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrackingError(400, "body", f"malformed JSON: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise TrackingError(422, field, err["msg"].removeprefix("Value error, ")) from None
    lead_id = session.scalar(select(Event.lead_id).where(Event.visitor_id == beacon.visitor_id,
                                                         Event.lead_id.is_not(None)).limit(1))
    events = [BatchEventIn(type="page_view", visitor_id=beacon.visitor_id, lead_id=lead_id,
                           occurred_at=v.occurred_at,
                           properties={k: val for k, val in {"url": v.url, "title": v.title, "referrer": v.referrer,
                                                             **_utm(v.url)}.items() if val})
              for v in beacon.views]
    return append_events(session, events=events, source="tracker").stored


# ---------------------------------------------------------------- email open and click links


def _email_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key.get_secret_value(), salt="leadflow.email-track")


def email_token(*, lead_id: int, message: str, url: str | None = None) -> str:
    """A signed token for an open pixel (no URL) or a click link (URL) of MESSAGE sent to LEAD_ID."""
    return _email_serializer().dumps({"l": lead_id, "m": message[:200], **({"u": url} if url else {})})


def read_email_token(token: str, *, click: bool) -> dict[str, Any]:
    """The token's data; TrackingError 404 when forged, 410 when expired, 400 when the kind is wrong."""
    try:
        data = _email_serializer().loads(token, max_age=EMAIL_TOKEN_MAX_AGE_S)
    except SignatureExpired:
        raise TrackingError(410, "token", "this tracking link has expired") from None
    except BadSignature:
        raise TrackingError(404, "token", "unknown tracking link") from None
    if not isinstance(data, dict) or not isinstance(data.get("l"), int) or click != ("u" in data):
        raise TrackingError(400, "token", "not a tracking link of this kind")
    if click and urlsplit(data["u"]).scheme not in ("http", "https"):
        raise TrackingError(400, "token", "the link's target is not a web address")
    return data


def record_email_event(session: Session, *, token: str, click: bool, user_agent: str | None) -> dict:
    """An email_open or email_click event for the token's lead, once per token (a replay changes nothing)."""
    data = read_email_token(token, click=click)
    kind = "email_click" if click else "email_open"
    digest = hashlib.sha256(token.encode()).hexdigest()[:32]
    props = {"message": data["m"], **({"url": data["u"]} if click else {}),
             **({"user_agent": user_agent[:300]} if user_agent else {})}
    # A lead erased since the email was sent has nothing to record; the reader still gets the page.
    append_events(session, source="email", events=[BatchEventIn(
        type=kind, lead_id=data["l"], properties=props, external_id=f"{kind}:{digest}")])
    return data
