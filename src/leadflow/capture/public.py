"""Public form endpoints: the hosted landing page, the form fragment for the script embed, and submit.

No login here. Cross-origin use is limited to each form's allowed origins (CORS); the submit
endpoint stores every submission raw before anything else (see capture.service).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect

from leadflow.capture.intake import SubmissionWriter
from leadflow.capture.labels import field_label, text
from leadflow.capture.magnets import MagnetError, download_token, record_download
from leadflow.capture.optin import OptInError, check_confirmation, confirm_consent
from leadflow.capture.schemas import STANDARD_FIELDS
from leadflow.capture.service import (
    FORMS_CHANGED,
    TRUTHY,
    UTM_KEYS,
    VISITOR_ID_PATTERN,
    PublicForm,
    SubmissionContext,
    assess_submission,
    form_token,
    get_form_by_slug,
    known_values,
)
from leadflow.capture.spam import HONEYPOT_FIELD, RateLimiter
from leadflow.capture.tracking import TrackingError, record_email_event, record_page_views
from leadflow.config import get_settings
from leadflow.db.base import utcnow
from leadflow.db.session import unit_of_work
from leadflow.web.render import templates

router = APIRouter(include_in_schema=False)

AUTOCOMPLETE = {"email": "email", "first_name": "given-name", "last_name": "family-name", "phone": "tel",
                "company_name": "organization", "job_title": "organization-title", "country": "country-name"}
INPUT_TYPES = {"email": "email", "phone": "tel"}
COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+")
JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

def _limiter_of(state: Any) -> RateLimiter:
    """The app's limiter (one per application, so counters are shared by its requests)."""
    settings = get_settings()
    limiter = getattr(state, "rate_limiter", None)
    if limiter is None or limiter.rate != settings.submit_rate_limit:
        limiter = state.rate_limiter = RateLimiter(settings.submit_rate_limit, settings.rate_limit_storage)
    return limiter


# How long a form's public settings are reused before being read again. Changes made in this
# process are seen at once (FORMS_CHANGED); those made by another process within this delay.
FORM_CACHE_SECONDS = 2.0
_form_cache: dict[str, tuple[float, int, PublicForm | None]] = {}


_MISS = object()


def _cached_form(slug: str) -> PublicForm | object | None:
    """The cached answer of _load_form(SLUG), or _MISS (then the database must be asked, in a thread)."""
    hit = _form_cache.get(slug)
    if hit is not None and hit[0] > time.monotonic() and hit[1] == FORMS_CHANGED[0]:
        return hit[2]
    return _MISS


def _load_form(slug: str) -> PublicForm | None:
    """The open form SLUG (None when missing or closed), from a short-lived per-process cache."""
    if len(slug) > 100:
        return None
    now = time.monotonic()
    cached = _cached_form(slug)
    if cached is not _MISS:
        return cached
    generation = FORMS_CHANGED[0]
    with unit_of_work() as session:
        form = get_form_by_slug(session, slug=slug)
        public = PublicForm.of(form) if form is not None and form.is_active else None
    if len(_form_cache) > 10_000:  # unknown slugs probed by bots must not grow it forever
        _form_cache.clear()
    _form_cache[slug] = (now + FORM_CACHE_SECONDS, generation, public)
    return public


def _own_origin(request: Request) -> str:
    base = urlsplit(str(request.base_url))
    return f"{base.scheme}://{base.netloc}"


def _may_use(form: PublicForm, origin: str | None, own_origin: str) -> bool:
    """No Origin (server to server), our own, or one the form lists."""
    return not origin or origin == own_origin or origin.lower() in (form.allowed_origins or [])


def _origin_allowed(request: Request, form: PublicForm) -> tuple[bool, str | None]:
    """(allowed, the Origin header) for REQUEST."""
    origin = request.headers.get("origin")
    return _may_use(form, origin, _own_origin(request)), origin


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _in_unit_of_work(fn, /, **kwargs):
    """FN(session, **KWARGS) in its own transaction: what the async routes run in a worker thread."""
    with unit_of_work() as session:
        return fn(session, **kwargs)


def _cors(response: Response, origin: str | None, request: Request) -> Response:
    response.headers["Vary"] = "Origin"
    if origin and origin != _own_origin(request):
        response.headers["Access-Control-Allow-Origin"] = origin
    return response


def _not_found(request: Request, slug: str, wants_json: bool) -> Response:
    if wants_json:
        return JSONResponse({"detail": f"form: no open form {slug[:100]!r}",
                             "errors": [{"field": "form", "message": "no such form, or it is closed"}]}, status_code=404)
    return templates.TemplateResponse(request, "capture/public_page.html",
                                      {"form": None, "message": text("en", "not_found")}, status_code=404)


def _view_fields(form: PublicForm, values: dict[str, Any], errors: dict[str, str],
                 query: dict[str, str], known: dict[str, str]) -> list[dict[str, Any]]:
    """The inputs to render. Progressive profiling: what is already KNOWN about the visitor is not
    asked again (sent back unchanged in a hidden input, so required fields stay satisfied); the
    email is shown filled in, so a visitor can correct it."""
    out = []
    for f in form.fields:
        kind = f["type"]
        value = values.get(f["key"])
        if kind == "hidden":
            value = f.get("value") or query.get(f["key"], "")
        elif value is None and f["key"] in known:
            value = known[f["key"]]
            if kind != "email" and not errors.get(f["key"]):
                kind = "known"
        out.append({
            "key": f["key"], "type": kind, "label": field_label(f, form.language), "required": bool(f.get("required")),
            "options": list(COMPANY_SIZES) if kind == "company_size" else f.get("options", []),
            "placeholder": f.get("placeholder", ""), "value": "" if value is None else value,
            "input_type": INPUT_TYPES.get(kind, "text"), "autocomplete": AUTOCOMPLETE.get(kind, "off"),
            "error": errors.get(f["key"]), "standard": kind in STANDARD_FIELDS,
        })
    return out


def _page_context(request: Request, form: PublicForm, *, values: dict[str, Any] | None = None,
                  errors: dict[str, str] | None = None, embedded: bool = False,
                  visitor_id: str | None = None, known: dict[str, str] | None = None) -> dict[str, Any]:
    query = dict(request.query_params)
    values = values or {}
    lang = form.language
    tracking = {k: query[k] for k in UTM_KEYS if query.get(k)}
    if visitor_id:
        tracking["visitor_id"] = visitor_id
    if not embedded:
        tracking["page_url"] = str(request.url)
        if request.headers.get("referer"):
            tracking["referrer"] = request.headers["referer"]
    for key in (*UTM_KEYS, "page_url", "referrer"):
        if values.get(key):
            tracking[key] = values[key]
    return {
        "form": form, "lang": lang, "fields": _view_fields(form, values, errors or {}, query, known or {}),
        "errors": errors or {}, "token": form_token(form_id=form.id, now=utcnow()), "tracking": tracking,
        "honeypot": HONEYPOT_FIELD, "consent_checked": bool(values.get("consent")),
        "action": f"/f/{form.slug}/submit", "submit": form.submit_label or text(lang, "submit"),
        "t": lambda key, **kw: text(lang, key, **kw), "embedded": embedded,
    }


VISITOR_COOKIE = "leadflow_vid"
VISITOR_COOKIE_MAX_AGE_S = 365 * 24 * 3600


def _valid_visitor(value: str | None) -> str | None:
    return value if value and re.match(VISITOR_ID_PATTERN, value) else None


async def _known(visitor_id: str | None) -> dict[str, str]:
    if not visitor_id:
        return {}
    return await run_in_threadpool(_in_unit_of_work, known_values, visitor_id=visitor_id)


@router.get("/f/{slug}", response_class=HTMLResponse)
async def hosted_page(request: Request, slug: str) -> Response:
    form = await run_in_threadpool(_load_form, slug)
    if form is None:
        return _not_found(request, slug, wants_json=False)
    # A visitor who consented on an earlier hosted form carries our cookie; a new one gets an id
    # in the form (the cookie is only set when the form's consent box is ticked).
    returning = _valid_visitor(request.cookies.get(VISITOR_COOKIE))
    known = await _known(returning)
    ctx = _page_context(request, form, visitor_id=returning or secrets.token_hex(16), known=known)
    return templates.TemplateResponse(request, "capture/public_page.html", ctx)


@router.get("/f/{slug}/fragment", response_class=HTMLResponse)
async def form_fragment(request: Request, slug: str) -> Response:
    """The form alone, for forms.js to place inside the customer's page."""
    form = await run_in_threadpool(_load_form, slug)
    if form is None:
        return _not_found(request, slug, wants_json=True)
    allowed, origin = _origin_allowed(request, form)
    if not allowed:
        return _forbidden_origin(origin)
    # forms.js passes the visitor id of the page-view tracker (given only after consent).
    visitor = _valid_visitor(request.query_params.get("visitor_id"))
    known = await _known(visitor)
    response = templates.TemplateResponse(request, "capture/public_fields.html",
                                          _page_context(request, form, embedded=True, visitor_id=visitor, known=known))
    return _cors(response, origin, request)


def _forbidden_origin(origin: str | None) -> JSONResponse:
    message = f"{origin} may not use this form (add it to the form's allowed origins)"
    return JSONResponse({"detail": f"origin: {message}", "errors": [{"field": "origin", "message": message}]},
                        status_code=403)


@router.options("/f/{slug}/submit")
@router.options("/f/{slug}/fragment")
async def preflight(request: Request, slug: str) -> Response:
    form = await run_in_threadpool(_load_form, slug)
    if form is None:
        return Response(status_code=404)
    allowed, origin = _origin_allowed(request, form)
    if not allowed:
        return _forbidden_origin(origin)
    response = Response(status_code=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
    response.headers["Access-Control-Max-Age"] = "600"
    return _cors(response, origin, request)


class BadBody(ValueError):
    def __init__(self, status: int, field: str, message: str):
        super().__init__(message)
        self.status, self.field = status, field


def _form_values(data: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in data:
        items = [v for v in data.getlist(key) if isinstance(v, str)]
        if not items:
            raise BadBody(422, key, "files cannot be submitted to a form")
        values[key] = items[0] if len(items) == 1 else items
    return values


def _no_nul(payload: dict[str, Any]) -> dict[str, Any]:
    """PAYLOAD, refused when a name or value holds NUL (no database stores it in text or JSON)."""
    for key, value in payload.items():
        values = value if isinstance(value, list) else [value]
        if "\x00" in str(key) or any(isinstance(v, str) and "\x00" in v for v in values):
            raise BadBody(422, str(key).replace("\x00", "")[:100] or "body", "text cannot contain NUL (\\u0000) characters")
    return payload


def _context_of(headers: Mapping[str, str], client_ip: str | None, query: Mapping[str, str],
                payload: dict[str, Any], ctype: str) -> SubmissionContext:
    def value(key: str) -> str | None:
        v = payload.get(key)
        return v if isinstance(v, str) and v else None

    utm = {k: (value(k) or query.get(k)) for k in UTM_KEYS}
    return SubmissionContext(
        ip=client_ip, user_agent=headers.get("user-agent"), origin=headers.get("origin"),
        # The request's own Referer is the page holding the form (what the plain-HTML embed cannot
        # tell otherwise), never where the visitor came from: only the form says that.
        referrer=value("referrer"), page_url=value("page_url") or headers.get("referer"), content_type=ctype,
        utm={k: v for k, v in utm.items() if v}, channel="form",
    )


def _writer_of(state: Any) -> SubmissionWriter:
    """The app's submission writer, started on first use (closed with the app: see app.py)."""
    writer = getattr(state, "submission_writer", None)
    if writer is None:
        writer = state.submission_writer = SubmissionWriter()
    return writer


@dataclass(slots=True)
class SubmitResult:
    """What a submit request came to; the route turns it into HTML or JSON, the fast path into JSON."""

    kind: str  # not_found | forbidden | bad_body | invalid | rate_limited | ok
    status: int
    body: dict[str, Any]
    origin: str | None = None
    form: PublicForm | None = None
    payload: dict[str, Any] | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)


def _parse_body(ctype: str, body: bytes) -> dict[str, Any]:
    """A JSON object or an urlencoded form, as field name -> value (a list for repeated names)."""
    if ctype in JSON_TYPES:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadBody(400, "body", f"malformed JSON: {exc}") from None
        if not isinstance(data, dict):
            raise BadBody(400, "body", "the JSON body must be an object of field names to values")
        for key, value in data.items():
            scalar = value is None or isinstance(value, (str, int, float, bool))
            if not scalar and not (isinstance(value, list) and all(isinstance(v, (str, int, float, bool)) for v in value)):
                raise BadBody(422, str(key)[:100], "a field's value must be text, a number, a boolean or a list of them")
        return _no_nul(data)
    if ctype == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=1000)
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadBody(400, "body", f"malformed form body: {exc}") from None
        values: dict[str, Any] = {}
        for key, value in pairs:
            values[key] = [*values[key], value] if isinstance(values.get(key), list) else (
                [values[key], value] if key in values else value)
        return _no_nul(values)
    raise BadBody(415, "content-type", f"send application/json or a form (got {ctype or 'nothing'!r})")


async def handle_submit(*, state: Any, slug: str, ctype: str, body: bytes | dict[str, Any], headers: Mapping[str, str],
                        client_ip: str | None, query: Mapping[str, str], own_origin: str) -> SubmitResult:
    """Judge, store (waiting for the commit) and answer one submission; BODY is raw bytes or parsed fields."""
    form = _cached_form(slug)
    if form is _MISS:
        form = await run_in_threadpool(_load_form, slug)
    if form is None:
        return SubmitResult("not_found", 404, {"detail": f"form: no open form {slug[:100]!r}",
                                               "errors": [{"field": "form", "message": "no such form, or it is closed"}]})
    origin = headers.get("origin")
    if not _may_use(form, origin, own_origin):
        message = f"{origin} may not use this form (add it to the form's allowed origins)"
        return SubmitResult("forbidden", 403, {"detail": f"origin: {message}",
                                               "errors": [{"field": "origin", "message": message}]})
    try:
        payload = body if isinstance(body, dict) else _parse_body(ctype, body)
    except BadBody as exc:
        return SubmitResult("bad_body", exc.status, {"detail": f"{exc.field}: {exc}",
                                                     "errors": [{"field": exc.field, "message": str(exc)}]}, origin)
    # Judging is pure and quick (no database): done here; the row then goes to the group-committing
    # writer, and the answer waits for the commit that stored it.
    assessed = assess_submission(form=form, payload=payload, limiter=_limiter_of(state),
                                 context=_context_of(headers, client_ip, query, payload, ctype))
    sub_id = await asyncio.wrap_future(_writer_of(state).store(assessed.row))
    processor = getattr(state, "submission_processor", None)
    if processor is not None and assessed.status == "pending":
        processor.wake()
    if assessed.errors:
        return SubmitResult("invalid", 422, {
            "detail": "; ".join(f"{f}: {m}" for f, m in assessed.errors), "submission_id": sub_id,
            "errors": [{"field": f, "message": m} for f, m in assessed.errors]}, origin, form, payload, assessed.errors)
    if assessed.status == "quarantined" and any(r.startswith("too many submissions") for r in assessed.row["reasons"]):
        # Kept (quarantined) all the same; the sender is told to slow down.
        return SubmitResult("rate_limited", 429, {"detail": "too many submissions from this address; try again "
                                                            "in a minute", "submission_id": sub_id}, origin, form)
    # A quarantined submission is answered like an accepted one: a bot learns nothing.
    message = form.success_message or text(form.language, "thanks")
    redirect = form.redirect_url if form.success_action == "redirect" else None
    body = {"ok": True, "submission_id": sub_id, "message": message, "redirect_url": redirect}
    if form.success_action == "magnet" and form.magnet_stored:
        body["download_url"] = f"{own_origin}/d/{download_token(submission_id=sub_id, form_id=form.id)}"
        body["download_name"] = form.magnet_filename
    return SubmitResult("ok", 200, body, origin, form, payload)


@router.post("/f/{slug}/submit")
async def submit(request: Request, slug: str) -> Response:
    """The framework route: HTML answers for browsers posting the hosted page or the plain-HTML embed,
    JSON otherwise. (JSON-answer requests are usually taken earlier by SubmitFastPath.)"""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    wants_json = ctype in JSON_TYPES or "application/json" in request.headers.get("accept", "")
    try:
        body: bytes | dict[str, Any] = (_no_nul(_form_values(await request.form())) if ctype == "multipart/form-data"
                                        else await request.body())
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is left to answer; nothing was received whole
    except BadBody as exc:
        body_error = {"detail": f"{exc.field}: {exc}", "errors": [{"field": exc.field, "message": str(exc)}]}
        return _cors(JSONResponse(body_error, status_code=exc.status), request.headers.get("origin"), request)
    result = await handle_submit(state=request.app.state, slug=slug, ctype=ctype, body=body,
                                 headers=request.headers, client_ip=_client_ip(request),
                                 query=request.query_params, own_origin=_own_origin(request))
    if wants_json or result.kind in ("forbidden", "bad_body", "rate_limited"):
        if result.kind == "not_found":
            return _not_found(request, slug, wants_json=True)
        response = JSONResponse(result.body, status_code=result.status)
        return response if result.kind == "forbidden" else _cors(response, result.origin, request)
    if result.kind == "not_found":
        return _not_found(request, slug, wants_json=False)
    if result.kind == "invalid":
        ctx = _page_context(request, result.form, values=result.payload, errors=dict(result.errors))
        return templates.TemplateResponse(request, "capture/public_page.html", ctx, status_code=422)
    if result.body.get("redirect_url"):
        response: Response = RedirectResponse(result.body["redirect_url"], status_code=303)
    else:
        response = templates.TemplateResponse(request, "capture/public_page.html", {
            "form": result.form, "message": result.body["message"], "lang": result.form.language, "done": True,
            "download_url": result.body.get("download_url"),
            "download_label": text(result.form.language, "download", name=result.body.get("download_name") or "")})
    visitor = _valid_visitor(str(result.payload.get("visitor_id") or ""))
    if visitor and result.form.consent_enabled and str(result.payload.get("consent", "")).lower() in TRUTHY:
        # Remembered only with consent: the next hosted form this browser opens skips what is known.
        response.set_cookie(VISITOR_COOKIE, visitor, max_age=VISITOR_COOKIE_MAX_AGE_S, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https", path="/f/")
    return response


# ---------------------------------------------------------------- tracking

# The smallest transparent GIF: the open pixel.
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c000000000100010000020144003b")
NO_STORE = {"Cache-Control": "no-store, max-age=0"}


def _tracking_error(exc: TrackingError) -> JSONResponse:
    return JSONResponse({"detail": f"{exc.field}: {exc}", "errors": [{"field": exc.field, "message": str(exc)}]},
                        status_code=exc.status, headers=NO_STORE)


@router.post("/t/collect")
async def collect(request: Request) -> Response:
    """Page views from /static/t.js (sent as text/plain by navigator.sendBeacon, or JSON)."""
    body = await request.body()
    origin = request.headers.get("origin")

    try:
        await run_in_threadpool(_in_unit_of_work, record_page_views, body=body, origin=origin,
                                own_origin=_own_origin(request))
    except TrackingError as exc:
        return _tracking_error(exc)
    response = Response(status_code=204, headers=NO_STORE)
    return _cors(response, origin, request)


async def _email_event(token: str, *, click: bool, request: Request) -> dict:
    return await run_in_threadpool(_in_unit_of_work, record_email_event, token=token, click=click,
                                   user_agent=request.headers.get("user-agent"))


@router.get("/e/o/{token}.gif")
async def email_open(request: Request, token: str) -> Response:
    try:
        await _email_event(token, click=False, request=request)
    except TrackingError as exc:
        return _tracking_error(exc)
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/e/c/{token}")
async def email_click(request: Request, token: str) -> Response:
    try:
        data = await _email_event(token, click=True, request=request)
    except TrackingError as exc:
        return _tracking_error(exc)
    return RedirectResponse(data["u"], status_code=302, headers=NO_STORE)


# ---------------------------------------------------------------- double opt-in


def _optin_error(request: Request, exc: OptInError) -> Response:
    return templates.TemplateResponse(request, "capture/public_page.html", {"form": None, "message": text("en", exc.key)},
                                      status_code=exc.status, headers=NO_STORE)


@router.get("/f/confirm/{token}", response_class=HTMLResponse)
async def confirm_page(request: Request, token: str) -> Response:
    """The link of a double opt-in email: a page with the button that confirms. A GET records nothing,
    so the link checkers of mail systems, which open every link, cannot confirm in the person's place."""
    try:
        found = await run_in_threadpool(_in_unit_of_work, check_confirmation, token=token)
    except OptInError as exc:
        return _optin_error(request, exc)
    return templates.TemplateResponse(request, "capture/public_page.html", {
        "form": {"title": found.form_title, "name": found.form_title}, "lang": found.language,
        "confirm_action": f"/f/confirm/{token}", "confirm_label": text(found.language, "doi_button")},
        headers=NO_STORE)


@router.post("/f/confirm/{token}", response_class=HTMLResponse)
async def confirm_double_opt_in(request: Request, token: str) -> Response:
    """The button on that page: records the consent grant once, and says so."""
    try:
        done = await run_in_threadpool(_in_unit_of_work, confirm_consent, token=token, ip=_client_ip(request),
                                       user_agent=request.headers.get("user-agent"))
    except OptInError as exc:
        return _optin_error(request, exc)
    page = {"title": done.form_title, "name": done.form_title}
    return templates.TemplateResponse(request, "capture/public_page.html", {
        "form": page, "done": True, "lang": done.language,
        "message": text(done.language, "doi_already" if done.already else "doi_confirmed")}, headers=NO_STORE)


# ---------------------------------------------------------------- lead magnets


@router.get("/d/{token}")
async def magnet_download(request: Request, token: str) -> Response:
    """The form's lead magnet; each download is a `download` event on the lead."""
    try:
        download = await run_in_threadpool(_in_unit_of_work, record_download, token=token,
                                           user_agent=request.headers.get("user-agent"))
    except MagnetError as exc:
        return templates.TemplateResponse(request, "capture/public_page.html",
                                          {"form": None, "message": str(exc)}, status_code=exc.status)
    return FileResponse(download.path, media_type=download.content_type, filename=download.filename,
                        headers={"Cache-Control": "no-store"})
