"""HTML pages for lead capture: the forms, their editor and embed codes, and the submissions they received."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import escape
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from leadflow.auth.deps import DB, UiUser
from leadflow.auth.service import get_user
from leadflow.auth.sessions import csrf_ok
from leadflow.campaigns.service import get_campaign, list_campaigns
from leadflow.capture.labels import FIELD_LABELS, LANGUAGES, field_label, text
from leadflow.capture.magnets import MAX_MAGNET_BYTES, MagnetError, store_magnet
from leadflow.capture.models import SUBMISSION_STATUSES, Submission
from leadflow.capture.models import Form as CaptureForm
from leadflow.capture.schemas import CUSTOM_FIELDS, STANDARD_FIELDS, FormIn, FormSettings
from leadflow.capture.service import (
    CaptureError,
    count_submissions_by_form,
    create_form,
    get_form,
    get_submission,
    list_forms,
    list_submissions,
    release_submission,
    update_form,
)
from leadflow.leads.normalize import InvalidValue, normalize_email
from leadflow.leads.service import find_lead
from leadflow.schemas import MAX_ID as MAX_FORM_ID
from leadflow.web.render import PageError, csrf_failed, redirect, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE = 100_000
MAX_SUBMISSION_ID = 2**63 - 1  # submissions have 64-bit keys; a larger number names nothing
RECENT_SUBMISSIONS = 10
SPARE_ROWS = 3  # empty field rows for browsers without JavaScript (ignored when left blank)
MAX_ROWS = 100  # more rows than a form may have fields, so the schema still names the excess
RELEASABLE = ("quarantined", "failed")
STATUS_LABELS = {"pending": "Pending", "processed": "Processed", "quarantined": "Quarantined",
                 "invalid": "Invalid", "failed": "Failed"}
TYPE_LABELS = {**FIELD_LABELS["en"], "text": "Text", "textarea": "Long text", "select": "Choice (select)",
               "checkbox": "Checkbox", "hidden": "Hidden value"}
# Types offered for a new row: every type but email, which has its own fixed row.
ROW_TYPES = [t for t in (*STANDARD_FIELDS, *CUSTOM_FIELDS) if t != "email"]
SETTING_LABELS = {
    "name": "Name", "slug": "Slug", "language": "Language", "title": "Title", "description": "Description",
    "submit_label": "Submit button", "campaign_id": "Campaign", "success_action": "After submitting",
    "success_message": "Success message", "redirect_url": "Redirect URL", "consent_enabled": "Consent checkbox",
    "consent_required": "Consent required", "consent_text": "Consent text", "double_opt_in": "Double opt-in",
    "allowed_origins": "Allowed origins",
    "min_submit_seconds": "Minimum seconds", "is_active": "Active", "fields": "Fields",
}
_TEXT_SETTINGS = ("name", "slug", "title", "description", "submit_label", "success_message", "redirect_url",
                  "consent_text", "allowed_origins", "min_submit_seconds", "campaign_id", "language",
                  "success_action")
_CHECK_SETTINGS = ("consent_enabled", "consent_required", "double_opt_in", "is_active")
_ROW_KEY = re.compile(r"^f-(\d{1,6})-[a-z]+$")


# ---- the editor's values -------------------------------------------------------------------

@dataclass
class Editor:
    """What the form editor shows: the values (as typed), the field rows and the errors next to them."""

    values: dict[str, Any]
    rows: list[dict[str, Any]]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def next_index(self) -> int:
        return max((r["index"] for r in self.rows), default=-1) + 1

    def with_spares(self) -> Editor:
        start = self.next_index
        spares = [_row(start + i, {}, spare=True) for i in range(SPARE_ROWS)]
        return Editor(values=self.values, rows=[*self.rows, *spares], errors=self.errors)


def _row(index: int, f: dict[str, Any], *, spare: bool = False) -> dict[str, Any]:
    return {"index": index, "type": f.get("type", ""), "key": f.get("key", ""), "label": f.get("label", ""),
            "required": bool(f.get("required")), "options": ", ".join(f.get("options") or []),
            "value": f.get("value") or "", "placeholder": f.get("placeholder", ""), "spare": spare}


def _new_editor() -> Editor:
    values = {k: "" for k in _TEXT_SETTINGS} | {"language": "en", "success_action": "message",
                                                "min_submit_seconds": "2", "is_active": True,
                                                "consent_enabled": False, "consent_required": False,
                                                "double_opt_in": False}
    fields = [{"type": "email", "key": "email", "required": True}, {"type": "first_name", "key": "first_name"},
              {"type": "last_name", "key": "last_name"}, {"type": "company_name", "key": "company_name"}]
    return Editor(values=values, rows=[_row(i, f) for i, f in enumerate(fields)])


def _form_editor(form: CaptureForm) -> Editor:
    values = {k: getattr(form, k) for k in ("name", "slug", "language", "title", "description", "submit_label",
                                            "success_action", "success_message", "consent_text",
                                            "consent_enabled", "consent_required", "double_opt_in",
                                            "is_active")}
    values |= {"redirect_url": form.redirect_url or "", "allowed_origins": "\n".join(form.allowed_origins or []),
               "min_submit_seconds": str(form.min_submit_seconds),
               "campaign_id": str(form.campaign_id) if form.campaign_id else ""}
    return Editor(values=values, rows=[_row(i, f) for i, f in enumerate(form.fields or [])])


def _slugify(value: str, sep: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", sep, ascii_text.lower()).strip(sep)


def _posted_editor(posted: FormData, *, slug: str | None = None) -> Editor:
    """The editor exactly as the user filled it in (rows left without a type are dropped)."""
    values: dict[str, Any] = {k: str(posted.get(k) or "") for k in _TEXT_SETTINGS}
    values |= {k: posted.get(k) is not None for k in _CHECK_SETTINGS}
    if slug is not None:
        values["slug"] = slug
    elif not values["slug"].strip():
        values["slug"] = _slugify(values["name"], "-")[:100].strip("-")
    indices = sorted({int(m.group(1)) for k in posted if (m := _ROW_KEY.match(k))})[:MAX_ROWS]
    rows = []
    for i in indices:
        kind = str(posted.get(f"f-{i}-type") or "").strip()
        if not kind:
            continue
        row = {name: str(posted.get(f"f-{i}-{name}") or "").strip()
               for name in ("key", "label", "options", "value", "placeholder")}
        rows.append({"index": i, "type": kind, "required": posted.get(f"f-{i}-required") is not None,
                     "spare": False, **row})
    return Editor(values=values, rows=rows)


def _settings_data(editor: Editor) -> dict[str, Any]:
    """The editor's values shaped for FormIn / FormSettings."""
    v = editor.values
    data: dict[str, Any] = {k: v[k] for k in ("name", "language", "title", "description", "submit_label",
                                             "success_action", "success_message", "consent_text",
                                             *_CHECK_SETTINGS)}
    data["redirect_url"] = v["redirect_url"].strip() or None
    data["campaign_id"] = v["campaign_id"].strip() or None
    data["min_submit_seconds"] = v["min_submit_seconds"].strip() or 2
    data["allowed_origins"] = [line.strip() for line in v["allowed_origins"].splitlines() if line.strip()]
    fields = []
    for r in editor.rows:
        # A standard field's key is its type; a custom one without a key is named after its label.
        key = r["type"] if r["type"] in STANDARD_FIELDS else r["key"] or _slugify(r["label"], "_")[:63]
        f: dict[str, Any] = {"key": key, "type": r["type"], "label": r["label"], "required": r["required"]}
        if r["type"] == "select" or r["options"]:
            f["options"] = [o.strip() for o in r["options"].split(",") if o.strip()]
        if r["type"] == "hidden" and r["value"]:
            f["value"] = r["value"]
        if r["placeholder"]:
            f["placeholder"] = r["placeholder"]
        fields.append(f)
    data["fields"] = fields
    return data


def _message(err: dict) -> str:
    if err.get("type") == "string_pattern_mismatch" and err["loc"] == ("slug",):
        return "use lowercase letters, digits and hyphens, e.g. spring-ebook"
    return str(err.get("msg", "invalid")).removeprefix("Value error, ")


def _whole_form_target(message: str) -> str:
    """The input a FormSettings-wide rule is about."""
    for name in ("redirect_url", "consent_text"):
        if name in message:
            return name
    return "fields" if "field" in message else "form"


def _errors(exc: ValidationError, editor: Editor) -> dict[str, str]:
    """Error messages keyed by the input they belong to: setting names, or f-{row}[-{part}] for field rows."""
    out: dict[str, str] = {}
    for err in exc.errors():
        loc, message = tuple(err.get("loc", ())), _message(err)
        if not loc:
            target = _whole_form_target(message)
        elif loc[0] == "fields" and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(editor.rows):
            row = editor.rows[loc[1]]["index"]
            part = str(loc[2]) if len(loc) > 2 else ("options" if "options" in message
                                                     else "key" if "key" in message else "")
            out.setdefault(f"f-{row}", message)
            target = f"f-{row}-{part}" if part else f"f-{row}"
        else:
            target = str(loc[0])
        out.setdefault(target, message)
    return out


def _error_list(errors: dict[str, str], editor: Editor) -> list[dict[str, str]]:
    """The summary at the top of the editor: one line per problem, linking to its input."""
    rows = {f"f-{r['index']}": n for n, r in enumerate(editor.rows, start=1)}
    out = []
    for target, message in errors.items():
        if target in rows:
            out.append({"label": f"Field {rows[target]}", "message": message, "anchor": f"{target}-type"})
        elif not target.startswith("f-"):
            anchor = {"fields": "fields-h", "form": "form-name"}.get(target, f"form-{target}")
            out.append({"label": SETTING_LABELS.get(target, target), "message": message, "anchor": anchor})
    return out


def _editor_page(request: Request, db: DB, editor: Editor, *, form: CaptureForm | None = None,
                 status: int = 200) -> HTMLResponse:
    lang = editor.values.get("language") if editor.values.get("language") in LANGUAGES else "en"
    return render(request, "capture/form_edit.html", {
        "form": form, "ed": editor.with_spares(), "errors": editor.errors,
        "error_list": _error_list(editor.errors, editor), "campaigns": list_campaigns(db),
        "row_types": ROW_TYPES, "type_labels": TYPE_LABELS, "standard": STANDARD_FIELDS,
        "lang": lang, "builtin": FIELD_LABELS[lang],
        # The built-in texts of each language, for the placeholders JavaScript updates when it changes.
        "lang_texts": {code: {"submit": text(code, "submit"), "thanks": text(code, "thanks"),
                              "labels": FIELD_LABELS[code]} for code in LANGUAGES},
    }, active="forms", status=status)


async def _posted(request: Request) -> FormData:
    return await request.form()


Posted = Annotated[FormData, Depends(_posted)]


# ---- the forms list -----------------------------------------------------------------------

@router.get("/forms", response_class=HTMLResponse)
def forms_page(request: Request, user: UiUser, db: DB) -> HTMLResponse:
    forms = list_forms(db)
    counts = count_submissions_by_form(db)
    campaigns = {c.id: c.name for c in list_campaigns(db)}
    by_status = {s: sum(c.get(s, 0) for c in counts.values()) for s in SUBMISSION_STATUSES}
    return render(request, "capture/forms_list.html", {
        "rows": [{"f": f, "n": counts.get(f.id, {})} for f in forms],
        "campaigns": campaigns, "total": sum(by_status.values()), "quarantined": by_status["quarantined"],
    }, active="forms")


# ---- create and edit ----------------------------------------------------------------------

@router.get("/forms/new", response_class=HTMLResponse)
def form_new(request: Request, user: UiUser, db: DB) -> HTMLResponse:
    return _editor_page(request, db, _new_editor())


@router.post("/forms/new", response_model=None)
def form_create(request: Request, user: UiUser, db: DB, posted: Posted,
                csrf_token: str = Form("")) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    editor = _posted_editor(posted)
    try:
        data = FormIn(slug=editor.values["slug"], **_settings_data(editor))
        form = create_form(db, data=data)
        _save_magnet(db, form, posted)
    except ValidationError as exc:
        editor.errors = _errors(exc, editor)
        return _editor_page(request, db, editor, status=422)
    except CaptureError as exc:
        db.rollback()
        editor.errors = {exc.field or "form": str(exc)}
        return _editor_page(request, db, editor, status=422)
    return redirect(f"/forms/{form.id}", f"Form “{form.name}” created. Its page is live at /f/{form.slug}.")


def _save_magnet(db, form: CaptureForm, posted: FormData) -> None:
    """Store an uploaded lead magnet; a form set to deliver one must have one (CaptureError names the input)."""
    upload = posted.get("magnet_file")
    if isinstance(upload, UploadFile) and upload.filename:
        try:
            store_magnet(db, form=form, filename=upload.filename, content=upload.file.read(MAX_MAGNET_BYTES + 1),
                         content_type=upload.content_type)
        except MagnetError as exc:
            raise CaptureError(str(exc), field="magnet_file") from None
    elif form.success_action == "magnet" and not form.magnet_stored:
        raise CaptureError("choose the file to deliver (or another action after submitting)", field="magnet_file")


def form_or_404(form_id: int, db: DB) -> CaptureForm:
    form = get_form(db, form_id=form_id) if 1 <= form_id <= MAX_FORM_ID else None
    if form is None:
        raise PageError(404, "Form not found", f"There is no form with id {form_id}. It may have been deleted.")
    return form


FormDep = Annotated[CaptureForm, Depends(form_or_404)]


@router.get("/forms/{form_id:int}/edit", response_class=HTMLResponse)
def form_edit(request: Request, user: UiUser, db: DB, form: FormDep) -> HTMLResponse:
    return _editor_page(request, db, _form_editor(form), form=form)


@router.post("/forms/{form_id:int}/edit", response_model=None)
def form_update(request: Request, user: UiUser, db: DB, form: FormDep, posted: Posted,
                csrf_token: str = Form("")) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    editor = _posted_editor(posted, slug=form.slug)
    version = form.consent_version
    try:
        update_form(db, form=form, data=FormSettings(**_settings_data(editor)))
        _save_magnet(db, form, posted)
    except ValidationError as exc:
        editor.errors = _errors(exc, editor)
        return _editor_page(request, db, editor, form=form, status=422)
    except CaptureError as exc:
        db.rollback()
        editor.errors = {exc.field or "form": str(exc)}
        return _editor_page(request, db, editor, form=form, status=422)
    note = f" The consent text is now version {form.consent_version}." if form.consent_version != version else ""
    return redirect(f"/forms/{form.id}", f"Form “{form.name}” saved.{note}")


# ---- one form -----------------------------------------------------------------------------

def _attrs(**attrs: Any) -> str:
    """HTML attributes, escaped; True is a bare attribute, None and False are left out."""
    out = []
    for name, value in attrs.items():
        name = name.rstrip("_").replace("_", "-")
        if value is True:
            out.append(f" {name}")
        elif value is not None and value is not False:
            out.append(f' {name}="{escape(value)}"')
    return "".join(out)


def plain_html_embed(form: CaptureForm, base: str) -> str:
    """A self-contained HTML form posting to the hosted endpoint, for sites that cannot run our script."""
    lang = form.language
    lines = [f'<form method="post" action="{escape(base)}/f/{escape(form.slug)}/submit" accept-charset="utf-8">']
    for f in form.fields:
        key, kind, label = f["key"], f["type"], escape(field_label(f, lang))
        required = bool(f.get("required")) or kind == "email"
        ph = f.get("placeholder") or None
        if kind == "hidden":
            lines.append(f'  <input{_attrs(type="hidden", name=key, value=f.get("value") or "")}>')
        elif kind == "checkbox":
            lines.append(f'  <label><input{_attrs(type="checkbox", name=key, value="yes", required=required)}>'
                         f" {label}</label>")
        elif kind == "textarea":
            lines.append(f'  <label>{label}<br><textarea{_attrs(name=key, rows="4", required=required, placeholder=ph)}>'
                         "</textarea></label>")
        elif kind == "select":
            options = "".join(f"<option>{escape(o)}</option>" for o in f.get("options", []))
            lines.append(f'  <label>{label}<br><select{_attrs(name=key, required=required)}>'
                         f'<option value="">{escape(text(lang, "choose"))}</option>{options}</select></label>')
        else:
            kind_attr = {"email": "email", "phone": "tel"}.get(kind, "text")
            auto = {"email": "email", "first_name": "given-name", "last_name": "family-name", "phone": "tel",
                    "company_name": "organization", "job_title": "organization-title",
                    "country": "country-name"}.get(kind)
            lines.append(f"  <label>{label}<br><input"
                         f"{_attrs(type=kind_attr, name=key, required=required, autocomplete=auto, placeholder=ph)}>"
                         "</label>")
    if form.consent_enabled:
        lines.append(f'  <label><input{_attrs(type="checkbox", name="consent", value="yes", required=form.consent_required)}>'
                     f" {escape(form.consent_text)}</label>")
    # The honeypot: off-screen for people, filled in by bots that fill every input.
    lines.append('  <div style="position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden" '
                 'aria-hidden="true"><label>Leave this empty <input type="text" name="_hp" tabindex="-1" '
                 'autocomplete="off"></label></div>')
    lines.append(f'  <button type="submit">{escape(form.submit_label or text(lang, "submit"))}</button>')
    lines.append("</form>")
    return "\n".join(lines)


def script_embed(form: CaptureForm, base: str) -> str:
    return (f'<div data-leadflow-form="{escape(form.slug)}"></div>\n'
            f'<script src="{escape(base)}/static/forms.js" async></script>')


@router.get("/forms/{form_id:int}", response_class=HTMLResponse)
def form_detail(request: Request, user: UiUser, db: DB, form: FormDep) -> HTMLResponse:
    base = str(request.base_url).rstrip("/")
    _, recent = list_submissions(db, form_id=form.id, limit=RECENT_SUBMISSIONS)
    return render(request, "capture/form_detail.html", {
        "form": form, "base": base,
        "campaign": get_campaign(db, campaign_id=form.campaign_id) if form.campaign_id else None,
        "counts": count_submissions_by_form(db).get(form.id, {}),
        "fields": [{**f, "shown": field_label(f, form.language)} for f in form.fields],
        "type_labels": TYPE_LABELS, "status_labels": STATUS_LABELS,
        "default_submit": text(form.language, "submit"), "default_thanks": text(form.language, "thanks"),
        "versions": list(reversed(form.consent_versions or [])),
        "script_embed": script_embed(form, base), "html_embed": plain_html_embed(form, base),
        "recent": recent, "releasable": RELEASABLE, "back": f"/forms/{form.id}",
    }, active="forms")


# ---- submissions --------------------------------------------------------------------------

@dataclass
class SubmissionQuery:
    """The submissions list's filter and page, and links that keep them."""

    status: str | None
    form_id: int | None
    page: int

    def link(self, **changes: Any) -> str:
        """This list's URL with some parameters changed (None drops one); the page resets unless given."""
        params = {"status": self.status, "form_id": self.form_id, "page": None} | changes
        query = urlencode([(k, v) for k, v in params.items() if v is not None and not (k == "page" and v == 1)])
        return f"/submissions?{query}" if query else "/submissions"


def submission_query(request: Request) -> SubmissionQuery:
    """The filter from the query string; values that name nothing are ignored rather than refused."""
    qp = request.query_params
    status = qp.get("status") if qp.get("status") in SUBMISSION_STATUSES else None
    raw_form = (qp.get("form_id") or "").strip()
    form_id = int(raw_form) if raw_form.isdigit() and 1 <= int(raw_form) <= MAX_FORM_ID else None
    raw_page = (qp.get("page") or "").strip()
    page = min(int(raw_page), MAX_PAGE) if raw_page.isdigit() and int(raw_page) >= 1 else 1
    return SubmissionQuery(status=status, form_id=form_id, page=page)


@router.get("/submissions", response_class=HTMLResponse)
def submissions_page(request: Request, user: UiUser, db: DB,
                     sq: Annotated[SubmissionQuery, Depends(submission_query)]) -> HTMLResponse:
    forms = list_forms(db)
    counts = count_submissions_by_form(db)
    scope = [counts.get(sq.form_id, {})] if sq.form_id else list(counts.values())
    by_status = {s: sum(c.get(s, 0) for c in scope) for s in SUBMISSION_STATUSES}
    total, items = list_submissions(db, status=sq.status, form_id=sq.form_id, limit=PAGE_SIZE,
                                    offset=(sq.page - 1) * PAGE_SIZE)
    first = (sq.page - 1) * PAGE_SIZE + 1 if items else 0
    return render(request, "capture/submissions.html", {
        "sq": sq, "forms": forms, "form_names": {f.id: f.name for f in forms},
        "by_status": by_status, "all_count": sum(by_status.values()), "status_labels": STATUS_LABELS,
        "total": total, "items": items, "first": first, "last": first + len(items) - 1 if items else 0,
        "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), "releasable": RELEASABLE,
        "back": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    }, active="forms")


def submission_or_404(submission_id: int, db: DB) -> Submission:
    sub = get_submission(db, submission_id=submission_id) if 1 <= submission_id <= MAX_SUBMISSION_ID else None
    if sub is None:
        raise PageError(404, "Submission not found", f"There is no submission with id {submission_id}.")
    return sub


SubmissionDep = Annotated[Submission, Depends(submission_or_404)]


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@router.get("/submissions/{submission_id:int}", response_class=HTMLResponse)
def submission_page(request: Request, user: UiUser, db: DB, sub: SubmissionDep) -> HTMLResponse:
    released_by = get_user(db, user_id=sub.released_by) if sub.released_by else None
    return render(request, "capture/_submission.html", {
        "sub": sub, "form": get_form(db, form_id=sub.form_id), "released_by": released_by,
        "payload_json": _pretty(sub.payload), "context_json": _pretty(sub.context),
        "status_labels": STATUS_LABELS, "releasable": RELEASABLE, "back": f"/submissions/{sub.id}",
    }, active="forms")


def _safe_back(target: str, default: str) -> str:
    # Only our own capture pages: the target comes from a form field, and an open redirect is a phishing tool.
    if re.match(r"^/(submissions|forms)(/|\?|$)", target or "") and "//" not in target and "\\" not in target:
        return target
    return default


def _existing_lead(db: DB, sub: Submission) -> bool:
    try:
        email = normalize_email(str(sub.payload.get("email") or ""))
    except InvalidValue:
        return False
    return email is not None and find_lead(db, email=email, external_id=None) is not None


@router.post("/submissions/{submission_id:int}/release", response_model=None)
def submission_release(request: Request, user: UiUser, db: DB, sub: SubmissionDep, csrf_token: str = Form(""),
                       back: str = Form("")) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    target = _safe_back(back, f"/submissions/{sub.id}")
    existed = _existing_lead(db, sub)
    try:
        release_submission(db, submission=sub, user_id=user.id)
    except CaptureError as exc:
        db.rollback()
        return redirect(target, str(exc), "error")
    if sub.status != "processed":
        return redirect(target, f"Submission #{sub.id} could not become a lead: {sub.error}", "error")
    return redirect(target, f"Released: lead #{sub.lead_id} {'updated' if existed else 'created'}.")
