"""Login, logout, the dashboard and the areas still to come."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from leadflow.auth.deps import DB, UiUser
from leadflow.auth.service import authenticate
from leadflow.auth.sessions import csrf_ok, end_session, read_session, start_session
from leadflow.web.render import NAV, csrf_failed, local_today, render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing tool.
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    if read_session(request):
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request, db: DB, email: str = Form(""), password: str = Form(""),
    csrf_token: str = Form(""), next: str = Form("/"),
) -> HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return render(request, "login.html", {"next": _safe_next(next), "email": email,
                      "error": "Your session form expired. Please try again."}, status=400)
    user = authenticate(db, email=email, password=password)
    if user is None:
        return render(request, "login.html", {"next": _safe_next(next), "email": email,
                      "error": "Wrong email or password."}, status=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_session(request, response, user_id=user.id)
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, csrf_token: str = Form("")) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    response = RedirectResponse("/login", status_code=303)
    end_session(response)
    return response


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, user: UiUser, db: DB) -> HTMLResponse:
    from leadflow.web.dashboard import dashboard_context, parse_filters

    filters = parse_filters(request.query_params, today=local_today())
    return render(request, "dashboard.html", dashboard_context(db, filters=filters), active="dashboard")


_COMING = {
    "sales": ("The sales-ready inbox, assignment and SLAs arrive with the sales handoff.",
              ["A prioritized inbox of sales-ready leads", "Round-robin and rule-based assignment",
               "SLA timers and escalations"]),
    "nurture": ("Nurture sequences and re-engagement arrive with nurturing.",
                ["Email sequences with steps and exits", "Re-engagement of leads that went quiet",
                 "Opens, clicks and bounces on the timeline"]),
}


def _coming_soon(key: str):
    label = dict((k, lbl) for k, lbl, _ in NAV)[key]

    def view(request: Request, user: UiUser) -> HTMLResponse:
        message, items = _COMING[key]
        return render(request, "coming_soon.html", {"title": label, "message": message, "items": items},
                      active=key)

    return view


for _key in _COMING:
    router.add_api_route(f"/{_key}", _coming_soon(_key), methods=["GET"], response_class=HTMLResponse)
