"""HTML pages for leads: the list, its CSV export, the lead page, stage changes and CSV import."""

from __future__ import annotations

import re
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, StreamingResponse
from pydantic import ValidationError

from leadflow.auth.deps import DB, UiUser
from leadflow.auth.service import list_users
from leadflow.auth.sessions import csrf_ok
from leadflow.campaigns.models import CHANNELS
from leadflow.campaigns.service import list_campaigns
from leadflow.config import get_settings
from leadflow.db.base import utcnow
from leadflow.db.session import get_engine
from leadflow.leads.api import lead_filter
from leadflow.leads.exporting import iter_csv
from leadflow.leads.importing import (
    LEAD_FIELDS,
    ImportFailed,
    count_rejections,
    get_import,
    import_csv,
    list_imports,
    list_rejections,
    preview_csv,
)
from leadflow.leads.models import Lead, LeadImport
from leadflow.leads.schemas import LeadFilter, LeadUpdate
from leadflow.leads.service import (
    LeadError,
    get_lead,
    list_consent,
    list_events,
    list_leads,
    update_lead,
)
from leadflow.lifecycle.service import list_stage_changes
from leadflow.lifecycle.stages import STAGE_BY_KEY, STAGES
from leadflow.lifecycle.views import lead_panel_context
from leadflow.web.errors import validation_errors
from leadflow.web.render import PageError, csrf_failed, redirect, render

router = APIRouter(include_in_schema=False)

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE = 100_000
# Column key -> (label, first sort direction when clicked): dates newest first, text A→Z.
SORTABLE = {
    "last_name": ("Name", ""),
    "email": ("Email", ""),
    "company_name": ("Company", ""),
    "created_at": ("Created", "-"),
    "last_activity_at": ("Last activity", "-"),
    "score": ("Score", "-"),
    "fit_grade": ("Grade", ""),  # A first
    "conversion_probability": ("Chance", "-"),
}
_LIST_PARAMS = ("stage", "channel", "campaign_id", "owner_id", "outcome", "country", "grade")
_ONE_PARAMS = ("q", "created_from", "created_to", "min_score", "max_score", "min_intent",
               "min_probability", "sort")
TIMELINE_LIMIT = 200
REJECTIONS_SHOWN = 20
NEEDS_REASON = ("disqualified", "recycled")
MAX_ID = 2**63 - 1  # a larger number in a path names nothing (and would overflow the query)
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


# ---- the list ------------------------------------------------------------------------------

@dataclass
class ListQuery:
    """The leads list's filter, page and the cleaned query parameters (for building links)."""

    filter: LeadFilter
    page: int
    page_size: int
    params: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None

    def link(self, **changes: object) -> str:
        """This list's URL with some parameters changed (None drops one); the page resets unless given."""
        params = {k: list(v) for k, v in self.params.items() if v}
        if "page" not in changes:
            params.pop("page", None)
        for key, value in changes.items():
            if value is None or value == "" or value == []:
                params.pop(key, None)
            else:
                params[key] = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
        query = urlencode([(k, v) for k, vs in params.items() for v in vs])
        return f"/leads?{query}" if query else "/leads"

    def sort_link(self, column: str) -> tuple[str, str]:
        """(URL, aria-sort) of the header of COLUMN."""
        current = self.filter.sort
        if current == column:
            return self.link(sort=f"-{column}"), "ascending"
        if current == f"-{column}":
            return self.link(sort=column), "descending"
        return self.link(sort=SORTABLE[column][1] + column), "none"

    @property
    def export_link(self) -> str:
        params = {k: v for k, v in self.params.items() if k not in ("page", "page_size") and v}
        query = urlencode([(k, v) for k, vs in params.items() for v in vs])
        return "/leads/export.csv" + (f"?{query}" if query else "")

    @property
    def active_filters(self) -> int:
        return sum(1 for k in (*_LIST_PARAMS, *_ONE_PARAMS) if k != "sort" and self.params.get(k))


def _bounded_int(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return min(max(value, low), high)


def list_query(request: Request) -> ListQuery:
    """The list filter from the query string, validated like the API; bad input becomes a message."""
    qp = request.query_params
    params: dict[str, list[str]] = {k: [v.strip() for v in qp.getlist(k) if v.strip()] for k in _LIST_PARAMS}
    params.update({k: [qp[k].strip()] for k in _ONE_PARAMS if (qp.get(k) or "").strip()})
    page = _bounded_int(qp.get("page"), 1, 1, MAX_PAGE)
    page_size = _bounded_int(qp.get("page_size"), DEFAULT_PAGE_SIZE, 1, max(PAGE_SIZES))
    if page != 1:
        params["page"] = [str(page)]
    if page_size != DEFAULT_PAGE_SIZE:
        params["page_size"] = [str(page_size)]
    one = {k: (params.get(k) or [None])[0] for k in _ONE_PARAMS}
    error = None
    try:
        ints = {k: [int(v) for v in params[k]] or None for k in ("campaign_id", "owner_id")}
    except ValueError:
        ints, error = {"campaign_id": None, "owner_id": None}, "campaign and owner must be numbers"
    try:
        f = lead_filter(q=one["q"], stage=params["stage"] or None, channel=params["channel"] or None,
                        outcome=params["outcome"] or None, country=params["country"] or None,
                        created_from=one["created_from"], created_to=one["created_to"], grade=params["grade"] or None,
                        min_score=one["min_score"], max_score=one["max_score"], min_intent=one["min_intent"],
                        min_probability=one["min_probability"], sort=one["sort"] or "-created_at", **ints)
    except RequestValidationError as exc:
        f = LeadFilter()
        error = "; ".join(f"{e['field']}: {e['message']}" for e in validation_errors(exc)[:3])
    if f.created_from and f.created_to and f.created_to < f.created_from:
        error = "created_to: the end date is before the start date"
    return ListQuery(filter=f, page=page, page_size=page_size, params=params, error=error)


ListQueryDep = Annotated[ListQuery, Depends(list_query)]


@router.get("/leads", response_class=HTMLResponse)
def leads_page(request: Request, user: UiUser, db: DB, lq: ListQueryDep) -> HTMLResponse:
    total, items = list_leads(db, filter=lq.filter, page=lq.page, page_size=lq.page_size)
    users = list_users(db)
    campaigns = list_campaigns(db)
    first = (lq.page - 1) * lq.page_size + 1 if items else 0
    return render(request, "leads/list.html", {
        "lq": lq, "f": lq.filter, "total": total, "leads": items,
        "first": first, "last": first + len(items) - 1 if items else 0,
        "pages": max((total + lq.page_size - 1) // lq.page_size, 1),
        "users": users, "owners": {u.id: u.name for u in users},
        "campaigns": campaigns, "campaign_names": {c.id: c.name for c in campaigns},
        "channels": CHANNELS, "sortable": SORTABLE, "page_sizes": PAGE_SIZES,
    }, active="leads", status=400 if lq.error else 200)


@router.get("/leads/export.csv", response_model=None)
def leads_export(request: Request, user: UiUser, lq: ListQueryDep) -> StreamingResponse | HTMLResponse:
    if lq.error:
        raise PageError(400, "This filter cannot be exported", lq.error)
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return StreamingResponse(iter_csv(get_engine(), lq.filter), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="leads-{stamp}.csv"'})


# ---- import ----------------------------------------------------------------------------------

def _uploads_dir() -> Path:
    return get_settings().data_dir / "imports" / "uploads"


def _upload_path(token: str) -> Path:
    """The saved upload for TOKEN; 404 when the token is malformed or the file is gone."""
    path = _uploads_dir() / f"{token}.csv"
    if not _TOKEN.match(token) or not path.is_file():
        raise PageError(404, "Upload not found",
                        "This upload does not exist any more. Upload the file again to import it.")
    return path


@router.get("/leads/import", response_class=HTMLResponse)
def import_page(request: Request, user: UiUser, db: DB) -> HTMLResponse:
    imports = [(i, _display_name(i.filename)) for i in list_imports(db, limit=8)]
    return render(request, "leads/import_upload.html", {"imports": imports}, active="leads")


@router.post("/leads/import", response_model=None)
def import_upload(
    request: Request, user: UiUser, file: UploadFile | None = File(None), csrf_token: str = Form(""),
) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    if file is None or not file.filename:
        return redirect("/leads/import", "Choose a CSV file to upload.", "error")
    token = secrets.token_hex(16)
    folder = _uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{token}.csv"
    with path.open("wb") as out:
        shutil.copyfileobj(file.file, out, 1 << 20)
    if path.stat().st_size == 0:
        path.unlink(missing_ok=True)
        return redirect("/leads/import", f"{file.filename} is empty.", "error")
    (folder / f"{token}.name").write_text(Path(file.filename).name[:200], encoding="utf-8")
    return redirect(f"/leads/import/{token}")


def _preview_context(token: str, path: Path, overrides: dict[str, str] | None) -> dict:
    preview = preview_csv(path, overrides=overrides, sample=10)
    name_file = path.with_suffix(".name")
    rows = []
    for i, header in enumerate(preview.headers):
        chosen = preview.mapping.get(header)
        custom = chosen if chosen and chosen.startswith("properties.") else f"properties.{_slug(header)}"
        rows.append({"index": i, "header": header, "chosen": chosen or "-", "custom": custom,
                     "samples": [r.get(header, "") for r in preview.sample_rows[:3]]})
    return {"token": token, "preview": preview, "columns": rows, "fields": LEAD_FIELDS,
            "filename": name_file.read_text(encoding="utf-8") if name_file.exists() else path.name}


def _slug(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")[:100] or "column"


@router.get("/leads/import/{token}", response_class=HTMLResponse)
def import_preview(request: Request, token: str, user: UiUser) -> HTMLResponse:
    path = _upload_path(token)
    try:
        ctx = _preview_context(token, path, None)
    except ImportFailed as exc:
        raise PageError(422, "This file cannot be imported", str(exc)) from None
    return render(request, "leads/import_preview.html", ctx, active="leads")


@router.post("/leads/import/{token}", response_model=None)
def import_run(
    request: Request, token: str, user: UiUser, csrf_token: str = Form(""), action: str = Form("preview"),
    header: list[str] = Form([]), target: list[str] = Form([]),
) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    path = _upload_path(token)
    overrides = {h: (t or "-") for h, t in zip(header, target, strict=False)}
    try:
        if action != "import":
            ctx = _preview_context(token, path, overrides)
            return render(request, "leads/import_preview.html", ctx, active="leads")
        reports = get_settings().data_dir / "imports" / "reports"
        reports.mkdir(parents=True, exist_ok=True)
        result = import_csv(path, overrides=overrides, report_path=reports / f"{token}-errors.csv", user_id=user.id)
        # Imports write leads set-based, without the per-lead rescoring: score them all now.
        from leadflow.db.session import get_engine
        from leadflow.scoring.service import rescore_everyone

        rescore_everyone(get_engine())
    except ImportFailed as exc:
        ctx = _preview_context(token, path, overrides)
        ctx["import_error"] = str(exc)
        return render(request, "leads/import_preview.html", ctx, active="leads", status=422)
    return redirect(f"/leads/imports/{result.import_id}",
                    f"Import finished: {result.created:,} created, {result.updated:,} updated, "
                    f"{result.rejected:,} rejected.", "ok" if result.status == "done" else "error")


def import_or_404(import_id: int, db: DB) -> LeadImport:
    row = get_import(db, import_id=import_id) if 1 <= import_id <= MAX_ID else None
    if row is None:
        raise PageError(404, "Import not found", f"There is no import with id {import_id}.")
    return row


ImportDep = Annotated[LeadImport, Depends(import_or_404)]


@router.get("/leads/imports/{import_id:int}", response_class=HTMLResponse)
def import_result(request: Request, user: UiUser, imp: ImportDep, db: DB) -> HTMLResponse:
    by_severity = count_rejections(db, import_id=imp.id)
    rejections = list_rejections(db, import_id=imp.id, limit=REJECTIONS_SHOWN)
    return render(request, "leads/import_result.html", {
        "imp": imp, "filename": _display_name(imp.filename), "rejections": rejections, "warnings": by_severity.get("warning", 0),
        "errors": by_severity.get("error", 0), "has_report": _report_file(imp) is not None,
    }, active="leads")


def _display_name(stored: str) -> str:
    """The name the user uploaded, when the import ran on one of our saved uploads."""
    path = Path(stored)
    token = path.stem
    name_file = _uploads_dir() / f"{token}.name"
    if _TOKEN.match(token) and name_file.is_file():
        return name_file.read_text(encoding="utf-8")
    return path.name


def _report_file(imp: LeadImport) -> Path | None:
    if not imp.report_path:
        return None
    path = Path(imp.report_path).resolve()
    root = get_settings().data_dir.resolve()
    return path if path.is_file() and path.is_relative_to(root) else None


@router.get("/leads/imports/{import_id:int}/report.csv")
def import_report(user: UiUser, imp: ImportDep) -> FileResponse:
    path = _report_file(imp)
    if path is None:
        raise PageError(404, "No error report", "This import has no error report.")
    return FileResponse(path, media_type="text/csv", filename=f"import-{imp.id}-errors.csv")


# ---- one lead ----------------------------------------------------------------------------

def lead_page_or_404(lead_id: int, db: DB) -> Lead:
    lead = get_lead(db, lead_id=lead_id) if 1 <= lead_id <= MAX_ID else None
    if lead is None:
        raise PageError(404, "Lead not found", f"There is no lead with id {lead_id}. It may have been deleted.")
    return lead


LeadPageDep = Annotated[Lead, Depends(lead_page_or_404)]


def _stage_history(changes: list, now: datetime) -> list[dict]:
    """Each change with the time the lead then spent in the stage it entered."""
    out = []
    for i, change in enumerate(changes):
        until = changes[i + 1].changed_at if i + 1 < len(changes) else now
        out.append({"change": change, "spent": until - change.changed_at, "current": i + 1 == len(changes)})
    return list(reversed(out))


@router.get("/leads/{lead_id:int}", response_class=HTMLResponse)
def lead_page(request: Request, user: UiUser, lead: LeadPageDep, db: DB) -> HTMLResponse:
    from leadflow.campaigns.service import get_campaign
    from leadflow.predict.views import (
        lead_prediction_context,  # predict imports leads: import it here
    )
    from leadflow.scoring.views import lead_score_context  # scoring imports leads: import it here

    users = {u.id: u for u in list_users(db)}
    consent = list_consent(db, lead_id=lead.id)
    return render(request, "leads/detail.html", {
        "lead": lead,
        "owner": users.get(lead.owner_id) if lead.owner_id else None,
        "users": users,
        "campaign": get_campaign(db, campaign_id=lead.campaign_id) if lead.campaign_id else None,
        "events": list_events(db, lead_id=lead.id, limit=TIMELINE_LIMIT),
        "timeline_limit": TIMELINE_LIMIT,
        "history": _stage_history(list_stage_changes(db, lead_id=lead.id), utcnow()),
        "consent": consent,
        "stages": STAGES,
        "needs_reason": NEEDS_REASON,
        "touches": _touches(lead),
        "lifecycle": lead_panel_context(db, lead=lead, now=utcnow()),
        "scoring": lead_score_context(db, lead_id=lead.id),
        "prediction": lead_prediction_context(db, lead_id=lead.id),
    }, active="leads")


def _touches(lead: Lead) -> list[tuple[str, str, str | None, str | None]]:
    from leadflow.leads.models import TOUCH_FIELDS

    labels = {"landing_page": "Landing page", "referrer": "Referrer", "campaign": "Campaign (utm)",
              "source": "Source", "medium": "Medium", "content": "Content", "term": "Term", "channel": "Channel"}
    return [(f, labels[f], getattr(lead, f"first_{f}"), getattr(lead, f"last_{f}")) for f in TOUCH_FIELDS]


@router.post("/leads/{lead_id:int}/stage", response_model=None)
def change_stage(
    request: Request, user: UiUser, lead: LeadPageDep, db: DB,
    stage: str = Form(""), reason: str = Form(""), csrf_token: str = Form(""),
) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    back = f"/leads/{lead.id}"
    if stage not in STAGE_BY_KEY:
        return redirect(back, "Choose a stage.", "error")
    if stage == lead.stage:
        return redirect(back, f"The lead already is {STAGE_BY_KEY[stage].label}.", "error")
    if stage in NEEDS_REASON and not reason.strip():
        return redirect(back, f"Moving a lead to {STAGE_BY_KEY[stage].label} needs a reason.", "error")
    try:
        data = LeadUpdate(stage=stage, stage_reason=reason.strip() or None)
        update_lead(db, lead=lead, data=data, actor_type="user", actor_id=user.id)
    except ValidationError as exc:
        db.rollback()
        return redirect(back, "; ".join(e["msg"] for e in exc.errors()[:2]), "error")
    except LeadError as exc:
        db.rollback()
        return redirect(back, str(exc), "error")
    return redirect(back, f"Moved to {STAGE_BY_KEY[stage].label}.")
