"""Jinja2 environment and the helper every HTML view renders through."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from leadflow import __version__
from leadflow.auth.sessions import csrf_token, set_csrf_cookie
from leadflow.config import get_settings

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


def local_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC datetime shown in the workspace's time zone."""
    if value is None:
        return "—"
    tz = ZoneInfo(get_settings().timezone)
    return value.replace(tzinfo=UTC).astimezone(tz).strftime(fmt)


templates.env.filters["local_dt"] = local_dt


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200,
           active: str | None = None) -> HTMLResponse:
    """Render TEMPLATE inside the layout, with the user, CSRF token and navigation."""
    ctx = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "csrf_token": csrf_token(request),
        "nav": NAV,
        "active": active,
        "workspace_name": get_settings().workspace_name,
        "version": __version__,
    }
    ctx.update(context or {})
    response = templates.TemplateResponse(request, template, ctx, status_code=status)
    if getattr(request.state, "new_csrf", None) and not request.cookies.get("leadflow_csrf"):
        set_csrf_cookie(request, response, request.state.new_csrf)
    return response
