"""Jinja2 environment and the helper every HTML view renders through."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, unquote, urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from leadflow import __version__
from leadflow.auth.sessions import csrf_token, set_csrf_cookie
from leadflow.config import get_settings
from leadflow.lifecycle.stages import STAGE_BY_KEY, STAGES

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

NAV = (
    ("dashboard", "Dashboard", "/"),
    ("leads", "Leads", "/leads"),
    ("forms", "Forms", "/forms"),
    ("campaigns", "Campaigns", "/campaigns"),
    ("scoring", "Scoring", "/scoring"),
    ("sales", "Sales", "/sales"),
    ("nurture", "Nurture", "/nurture"),
    ("settings", "Settings", "/settings"),
)

FLASH_COOKIE = "leadflow_flash"

CHANNEL_LABELS = {
    "organic_search": "Organic search",
    "paid_search": "Paid search",
    "social": "Social",
    "paid_social": "Paid social",
    "email": "Email",
    "webinar": "Webinar",
    "trade_show": "Trade show",
    "referral": "Referral",
    "direct": "Direct",
    "display": "Display",
    "content": "Content",
    "other": "Other",
}


def _naive_utc_to_local(value: datetime) -> datetime:
    tz = ZoneInfo(get_settings().timezone)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz)


def local_today() -> date:
    """Today's date in the workspace's time zone."""
    return datetime.now(UTC).astimezone(ZoneInfo(get_settings().timezone)).date()


def local_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC datetime shown in the workspace's time zone."""
    if value is None:
        return "—"
    return _naive_utc_to_local(value).strftime(fmt)


def iso_dt(value: datetime | None) -> str:
    if value is None:
        return ""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def duration(delta: timedelta | None) -> str:
    """A span as the two largest units ("3 d 4 h", "12 min")."""
    if delta is None:
        return "—"
    secs = max(int(delta.total_seconds()), 0)
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days >= 365:
        return f"{days // 365} y {(days % 365) // 30} mo"
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return "< 1 min"


def reltime(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago (or ahead) VALUE is, in words."""
    if value is None:
        return "—"
    now = now or datetime.now(UTC).replace(tzinfo=None)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    delta = now - value
    future = delta.total_seconds() < 0
    delta = abs(delta)
    secs = int(delta.total_seconds())
    if secs < 60:
        return "just now"
    for size, unit in ((365 * 86400, "year"), (30 * 86400, "month"), (7 * 86400, "week"), (86400, "day"),
                       (3600, "hour"), (60, "minute")):
        if secs >= size:
            n = secs // size
            text = f"{n} {unit}{'s' if n != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"


def num(value: int | float | Decimal | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def pct(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f} %"


def money(value: Decimal | float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f}"


def country_name(code: str | None) -> str:
    if not code:
        return "—"
    import pycountry

    country = pycountry.countries.get(alpha_2=code.upper())
    return getattr(country, "common_name", None) or (country.name if country else code)


def stage_label(key: str | None) -> str:
    if not key:
        return "—"
    stage = STAGE_BY_KEY.get(key)
    return stage.label if stage else key


def channel_label(key: str | None) -> str:
    if not key:
        return "—"
    return CHANNEL_LABELS.get(key, key.replace("_", " ").capitalize())


def lead_name(lead: Any) -> str:
    """First and last name, else the email, else the external id."""
    name = " ".join(p for p in (getattr(lead, "first_name", None), getattr(lead, "last_name", None)) if p)
    return name or getattr(lead, "email", None) or getattr(lead, "external_id", None) or f"Lead {lead.id}"


def initials(text: str | None) -> str:
    parts = [p for p in (text or "").replace("@", " ").replace(".", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


templates.env.filters.update(
    local_dt=local_dt, iso_dt=iso_dt, duration=duration, reltime=reltime, num=num, pct=pct, money=money,
    country_name=country_name, stage_label=stage_label, channel_label=channel_label, initials=initials,
)
templates.env.globals.update(STAGES=STAGES, lead_name=lead_name, urlencode=urlencode)


def set_flash(response: RedirectResponse, message: str, kind: str = "ok") -> RedirectResponse:
    """Show MESSAGE once on the next page rendered (after a redirect)."""
    response.set_cookie(FLASH_COOKIE, quote(f"{kind}:{message}"[:600]), max_age=60, httponly=True,
                        samesite="lax", path="/")
    return response


def redirect(url: str, message: str | None = None, kind: str = "ok") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    return set_flash(response, message, kind) if message else response


def _read_flash(request: Request) -> dict | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    kind, _, text = unquote(raw).partition(":")
    if kind not in ("ok", "error") or not text:
        return None
    return {"kind": kind, "text": text}


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200,
           active: str | None = None) -> HTMLResponse:
    """Render TEMPLATE inside the layout, with the user, CSRF token and navigation."""
    flash = _read_flash(request)
    ctx = {
        "request": request,
        "user": _current_user(request),
        "csrf_token": csrf_token(request),
        "nav": NAV,
        "active": active,
        "workspace_name": get_settings().workspace_name,
        "version": __version__,
        "flash": flash,
    }
    ctx.update(context or {})
    response = templates.TemplateResponse(request, template, ctx, status_code=status)
    if getattr(request.state, "new_csrf", None) and not request.cookies.get("leadflow_csrf"):
        set_csrf_cookie(request, response, request.state.new_csrf)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def _snapshot(user: Any) -> SimpleNamespace | None:
    try:
        return SimpleNamespace(id=user.id, name=user.name, email=user.email, role=user.role)
    except SQLAlchemyError:
        return None


def _current_user(request: Request) -> SimpleNamespace | None:
    """The logged-in user for the layout; reloaded when an error rolled its session back."""
    user = getattr(request.state, "user", None)
    if user is None:
        return None
    view = _snapshot(user)
    if view is None:
        from leadflow.auth.service import get_user
        from leadflow.db.session import get_sessionmaker

        with get_sessionmaker()() as session:
            fresh = get_user(session, user_id=inspect(user).identity[0])
            view = _snapshot(fresh) if fresh is not None else None
    return view


class PageError(Exception):
    """An error answered with a friendly HTML page (404, 400 on a stale form, …)."""

    def __init__(self, status: int, title: str, message: str):
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "title": title, "message": message}, status=status)


def csrf_failed(request: Request) -> HTMLResponse:
    """The 400 page for a form posted without a valid CSRF token."""
    return error_page(request, 400, "This form has expired",
                      "For your security the form could not be accepted. Go back, reload the page and try again.")


async def on_page_error(request: Request, exc: PageError) -> HTMLResponse:
    return error_page(request, exc.status, exc.title, exc.message)


# Stroke icons (24x24, feather-style), inlined so the UI needs no icon font or CDN.
ICONS = {
    "dashboard": '<rect x="3" y="3" width="7" height="9" rx="1"/><rect x="14" y="3" width="7" height="5" rx="1"/>'
                 '<rect x="14" y="12" width="7" height="9" rx="1"/><rect x="3" y="16" width="7" height="5" rx="1"/>',
    "leads": '<path d="M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2"/><circle cx="9" cy="7" r="4"/>'
             '<path d="M23 21v-2a4 4 0 0 0-3-3.87"/><path d="M16 3.13a4 4 0 0 1 0 7.75"/>',
    "forms": '<path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z"/><polyline points="14 2 14 8 20 8"/>'
             '<line x1="16" y1="13" x2="8" y2="13"/><line x1="16" y1="17" x2="8" y2="17"/>',
    "campaigns": '<path d="M4 15s1-1 4-1 5 2 8 2 4-1 4-1V3s-1 1-4 1-5-2-8-2-4 1-4 1z"/><line x1="4" y1="22" x2="4" y2="15"/>',
    "scoring": '<circle cx="12" cy="12" r="10"/><circle cx="12" cy="12" r="6"/><circle cx="12" cy="12" r="2"/>',
    "sales": '<rect x="2" y="7" width="20" height="14" rx="2"/><path d="M16 21V5a2 2 0 0 0-2-2h-4a2 2 0 0 0-2 2v16"/>',
    "nurture": '<line x1="22" y1="2" x2="11" y2="13"/><polygon points="22 2 15 22 11 13 2 9 22 2"/>',
    "settings": '<line x1="4" y1="21" x2="4" y2="14"/><line x1="4" y1="10" x2="4" y2="3"/><line x1="12" y1="21" x2="12" y2="12"/>'
                '<line x1="12" y1="8" x2="12" y2="3"/><line x1="20" y1="21" x2="20" y2="16"/><line x1="20" y1="12" x2="20" y2="3"/>'
                '<line x1="1" y1="14" x2="7" y2="14"/><line x1="9" y1="8" x2="15" y2="8"/><line x1="17" y1="16" x2="23" y2="16"/>',
    "page_view": '<path d="M1 12s4-8 11-8 11 8 11 8-4 8-11 8-11-8-11-8z"/><circle cx="12" cy="12" r="3"/>',
    "download": '<path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4"/><polyline points="7 10 12 15 17 10"/>'
                '<line x1="12" y1="15" x2="12" y2="3"/>',
    "upload": '<path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4"/><polyline points="17 8 12 3 7 8"/>'
              '<line x1="12" y1="3" x2="12" y2="15"/>',
    "email": '<path d="M4 4h16c1.1 0 2 .9 2 2v12c0 1.1-.9 2-2 2H4c-1.1 0-2-.9-2-2V6c0-1.1.9-2 2-2z"/><polyline points="22,6 12,13 2,6"/>',
    "click": '<path d="M3 3l7.07 16.97 2.51-7.39 7.39-2.51L3 3z"/><path d="M13 13l6 6"/>',
    "webinar": '<polygon points="23 7 16 12 23 17 23 7"/><rect x="1" y="5" width="15" height="14" rx="2"/>',
    "activity": '<polyline points="22 12 18 12 15 21 9 3 6 12 2 12"/>',
    "phone": '<path d="M22 16.92v3a2 2 0 0 1-2.18 2 19.79 19.79 0 0 1-8.63-3.07 19.5 19.5 0 0 1-6-6 19.79 19.79 0 0 1-3.07-8.67'
             'A2 2 0 0 1 4.11 2h3a2 2 0 0 1 2 1.72c.13.96.36 1.9.7 2.81a2 2 0 0 1-.45 2.11L8.09 9.91a16 16 0 0 0 6 6l1.27-1.27'
             'a2 2 0 0 1 2.11-.45c.91.34 1.85.57 2.81.7A2 2 0 0 1 22 16.92z"/>',
    "calendar": '<rect x="3" y="4" width="18" height="18" rx="2"/><line x1="16" y1="2" x2="16" y2="6"/>'
                '<line x1="8" y1="2" x2="8" y2="6"/><line x1="3" y1="10" x2="21" y2="10"/>',
    "edit": '<path d="M12 20h9"/><path d="M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4L16.5 3.5z"/>',
    "x-circle": '<circle cx="12" cy="12" r="10"/><line x1="15" y1="9" x2="9" y2="15"/><line x1="9" y1="9" x2="15" y2="15"/>',
    "alert": '<path d="M10.29 3.86L1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 1.71-3L13.71 3.86a2 2 0 0 0-3.42 0z"/>'
             '<line x1="12" y1="9" x2="12" y2="13"/><line x1="12" y1="17" x2="12.01" y2="17"/>',
    "dot": '<circle cx="12" cy="12" r="4"/>',
    "search": '<circle cx="11" cy="11" r="8"/><line x1="21" y1="21" x2="16.65" y2="16.65"/>',
    "menu": '<line x1="3" y1="12" x2="21" y2="12"/><line x1="3" y1="6" x2="21" y2="6"/><line x1="3" y1="18" x2="21" y2="18"/>',
    "logout": '<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/><polyline points="16 17 21 12 16 7"/>'
              '<line x1="21" y1="12" x2="9" y2="12"/>',
    "copy": '<rect x="9" y="9" width="13" height="13" rx="2"/><path d="M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1"/>',
    "check": '<polyline points="20 6 9 17 4 12"/>',
    "note": '<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/>',
    "key": '<circle cx="7.5" cy="15.5" r="5.5"/><path d="M11.4 11.6 21 2"/><path d="m15.5 7.5 3 3L22 7l-3-3"/>',
    "shield": '<path d="M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z"/>',
    "arrow-right": '<line x1="5" y1="12" x2="19" y2="12"/><polyline points="12 5 19 12 12 19"/>',
    "external": '<path d="M18 13v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h6"/><polyline points="15 3 21 3 21 9"/>'
                '<line x1="10" y1="14" x2="21" y2="3"/>',
    "layers": '<polygon points="12 2 2 7 12 12 22 7 12 2"/><polyline points="2 17 12 22 22 17"/><polyline points="2 12 12 17 22 12"/>',
    "merge": '<circle cx="18" cy="18" r="3"/><circle cx="6" cy="6" r="3"/><path d="M6 21V9a9 9 0 0 0 9 9"/>',
}


def icon(name: str, label: str | None = None, cls: str = "icon") -> Any:
    """An inline SVG icon; decorative (aria-hidden) unless LABEL is given."""
    from markupsafe import Markup, escape

    body = ICONS.get(name, ICONS["dot"])
    aria = f'role="img" aria-label="{escape(label)}"' if label else 'aria-hidden="true" focusable="false"'
    return Markup(f'<svg class="{cls}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" '
                  f'stroke-linecap="round" stroke-linejoin="round" {aria}>{body}</svg>')


templates.env.globals["icon"] = icon

