"""HTML pages for scoring: the active model, its versions, the model editor, backtests, activation,
and the "Why this score" panel of the lead page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from leadflow.auth.deps import DB, UiUser
from leadflow.auth.models import User
from leadflow.auth.service import list_users
from leadflow.auth.sessions import csrf_ok
from leadflow.db.base import utcnow
from leadflow.db.session import get_engine
from leadflow.leads.service import count_leads_by_grade
from leadflow.scoring.api import MAX_DOCUMENT_CHARS, MODEL_EDITORS
from leadflow.scoring.engine import LINE_RULE, Line
from leadflow.scoring.models import ScoringModel
from leadflow.scoring.schemas import (
    GRADES,
    EngagementRule,
    FitRule,
    ModelError,
    ScoringModelDoc,
    Threshold,
    default_model_text,
    model_to_data,
)
from leadflow.scoring.service import (
    ScoringError,
    activate_model_version,
    backtest_model,
    create_model_version,
    explain_lead,
    from_epoch,
    get_active_version,
    get_model_version,
    list_model_versions,
    model_of,
    rescore_everyone,
)
from leadflow.web.render import PageError, csrf_failed, redirect, render, templates

router = APIRouter(include_in_schema=False)

MAX_VERSION = 2**31 - 1  # versions are 32-bit; a larger number names nothing
MAX_NOTES = 2000
# Ledger lines shown per part of the lead page panel; the smaller ones fold into one row that
# keeps the table adding up, and a disclosure lists them (at most LINES_LISTED; the API has all).
LINES_SHOWN = 8
LINES_LISTED = 500
FIELD_NAMES = {"email": "Email", "first_name": "First name", "last_name": "Last name", "job_title": "Job title",
               "company_name": "Company", "industry": "Industry", "company_size": "Company size",
               "country": "Country", "city": "City", "website": "Website", "phone": "Phone"}


# ---- access ----------------------------------------------------------------------------------

def can_edit(user: User) -> bool:
    """Whether USER may change what every lead's score means (as the API's MODEL_EDITORS)."""
    return user.role in MODEL_EDITORS


def _require_editor(user: User) -> None:
    if not can_edit(user):
        raise PageError(403, "Only admin and marketing users can do this",
                        "Changing the scoring model or rescoring every lead changes what sales sees. "
                        "Ask an admin or a marketing user.")


def version_or_404(version: int, db: DB) -> ScoringModel:
    row = get_model_version(db, version=version) if 1 <= version <= MAX_VERSION else None
    if row is None:
        raise PageError(404, "Version not found", f"There is no scoring model version {version}.")
    return row


VersionDep = Annotated[ScoringModel, Depends(version_or_404)]


# ---- describing a model ----------------------------------------------------------------------

def field_name(field: str) -> str:
    if field.startswith("properties."):
        return f"Property “{field.removeprefix('properties.')}”"
    return FIELD_NAMES.get(field, field.replace("_", " ").capitalize())


def condition_text(rule: FitRule) -> str:
    """A fit rule's condition in words ("is one of Software, Healthcare")."""
    match rule.condition:
        case "equals":
            return f"is “{rule.equals}”"
        case "in_":
            return "is one of " + ", ".join(rule.in_ or ())
        case "contains_any":
            return "contains " + " or ".join(f"“{w}”" for w in rule.contains_any or ())
        case "regex":
            return f"matches {rule.regex}"
        case "range":
            low, high = rule.range.min, rule.range.max  # type: ignore[union-attr]
            if low is not None and high is not None:
                return f"is between {low:g} and {high:g}"
            return f"is at least {low:g}" if low is not None else f"is at most {high:g}"
        case "exists":
            return "is filled in" if rule.exists else "is empty"
        case "free_email":
            return "is at a free email provider" if rule.free_email else "is at a company domain"
    return rule.condition  # pragma: no cover - the schema allows no other condition


def event_text(rule: EngagementRule) -> str:
    """What an engagement rule counts ("page_view with url ~ /pricing")."""
    parts = [" or ".join(rule.types)]
    if rule.url is not None:
        parts.append(f"url ~ {rule.url}")
    parts.extend(f"{k} = {v}" for k, v in rule.where.items())
    return " · ".join(parts)


def threshold_parts(t: Threshold) -> list[str]:
    parts = []
    if t.min_grade:
        parts.append(f"grade {t.min_grade} or better" if t.min_grade != "A" else "grade A")
    if t.min_engagement is not None:
        parts.append(f"engagement + intent ≥ {t.min_engagement:g}")
    if t.min_intent is not None:
        parts.append(f"intent ≥ {t.min_intent:g}")
    if t.min_score is not None:
        parts.append(f"score ≥ {t.min_score:g}")
    if t.min_probability is not None:
        parts.append(f"chance to convert ≥ {t.min_probability:.0%}")
    return parts


@dataclass(frozen=True, slots=True)
class GradeTile:
    grade: str
    rule: str
    leads: int


def grade_tiles(doc: ScoringModelDoc, counts: dict[str | None, int]) -> list[GradeTile]:
    g = doc.fit.grades
    rules = {"A": f"≥ {g.A:g} fit points", "B": f"≥ {g.B:g} fit points", "C": f"≥ {g.C:g} fit points",
             "D": f"below {g.C:g}"}
    return [GradeTile(grade, rules[grade], counts.get(grade, 0)) for grade in GRADES]


# ---- the lift chart --------------------------------------------------------------------------

CHART_W, CHART_H = 560, 260
TIMES, MINUS = "\u00d7", "\u2212"  # the multiplication and minus signs, for lifts and negative points
PAD_L, PAD_R, PAD_T, PAD_B = 52, 14, 44, 46


def _nice_step(top: float) -> float:
    """A round tick step giving about four ticks up to TOP (a fraction)."""
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude  # pragma: no cover


def _pct(x: float) -> str:
    text = f"{x * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text} %"


def lift_chart(deciles: list[dict], base_rate: float | None) -> Markup | None:
    """An inline SVG bar chart: conversion rate per score decile (1 = highest scores), base rate line."""
    rates = [d.get("rate") or 0.0 for d in deciles]
    if not deciles or base_rate is None:
        return None
    highest = max([*rates, base_rate])
    step = _nice_step(highest * 1.1 or 0.1)
    # Rates never pass 100 %: the axis stops there (the labels above the bars have the padding).
    top = min(math.ceil((highest * 1.1 or 0.1) / step) * step, max(1.0, highest))
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    slot = inner_w / len(deciles)

    def y(v: float) -> float:
        return PAD_T + inner_h * (1 - v / top)

    out = [f'<svg class="lift-chart" viewBox="0 0 {CHART_W} {CHART_H}" role="img" '
           'aria-labelledby="lift-title lift-desc" xmlns="http://www.w3.org/2000/svg">',
           '<title id="lift-title">Conversion by score decile</title>',
           f'<desc id="lift-desc">Conversion rate of each tenth of the leads with a known outcome, highest scores '
           f'first, against the base rate of {_pct(base_rate)}.</desc>']
    ticks = math.floor(top / step + 1e-9)
    for i in range(ticks + 1):
        v = i * step
        out.append(f'<line class="lift-grid" x1="{PAD_L}" x2="{CHART_W - PAD_R}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>')
        out.append(f'<text class="lift-tick" x="{PAD_L - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{_pct(v)}</text>')
    for i, d in enumerate(deciles):
        rate = d.get("rate") or 0.0
        lift = d.get("lift")
        x = PAD_L + i * slot + slot * 0.18
        w = slot * 0.64
        h = max(inner_h * rate / top, 1.5 if d.get("leads") else 0)
        cls = "lift-bar is-above" if lift is not None and lift >= 1 else "lift-bar"
        label = (f'Decile {escape(d["label"])}: {d["converted"]:,} of {d["leads"]:,} converted '
                 f'({_pct(rate)}), lift {lift:.2f}{TIMES}' if lift is not None else f'Decile {escape(d["label"])}: no leads')
        out.append(f'<g class="lift-col"><title>{label}</title>'
                   f'<rect class="{cls}" x="{x:.1f}" y="{PAD_T + inner_h - h:.1f}" width="{w:.1f}" height="{h:.1f}" rx="3"/>')
        if lift is not None:
            out.append(f'<text class="lift-value" x="{x + w / 2:.1f}" y="{PAD_T + inner_h - h - 6:.1f}" '
                       f'text-anchor="middle">{lift:.1f}{TIMES}</text>')
        out.append(f'<text class="lift-tick" x="{x + w / 2:.1f}" y="{CHART_H - PAD_B + 17}" '
                   f'text-anchor="middle">{escape(d["label"])}</text></g>')
    base_y = y(base_rate)
    out.append(f'<line class="lift-base" x1="{PAD_L}" x2="{CHART_W - PAD_R}" y1="{base_y:.1f}" y2="{base_y:.1f}"/>')
    # The legend, top left: what the bars are and what the dashed line is.
    out.append(f'<g class="lift-legend"><rect class="lift-key" x="{PAD_L}" y="6" width="12" height="12" rx="2"/>'
               f'<text class="lift-tick" x="{PAD_L + 18}" y="16">conversion rate</text>'
               f'<line class="lift-base" x1="{PAD_L + 130}" x2="{PAD_L + 154}" y1="12" y2="12"/>'
               f'<text class="lift-base-label" x="{PAD_L + 160}" y="16">base rate {_pct(base_rate)}</text></g>')
    out.append(f'<text class="lift-axis" x="{PAD_L + inner_w / 2:.1f}" y="{CHART_H - 6}" text-anchor="middle">'
               'Score decile (1 = highest scores)</text>')
    out.append("</svg>")
    return Markup("".join(out))


def _tidy(value: Any) -> Any:
    """VALUE with whole numbers written as integers (40, not 40.0)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    return value


def document_yaml(row: ScoringModel) -> str:
    """A version's document as YAML to read and edit: the same model, without empty keys.

    The stored document spells out every default; an empty description, `where: {}` and
    `intent: false` on every rule only make it longer. (As stored when it no longer validates.)
    """
    try:
        data = model_to_data(model_of(row))
    except ModelError:
        return yaml.safe_dump(row.document, sort_keys=False, allow_unicode=True)
    if not data.get("description"):
        data.pop("description", None)
    for rule in data.get("engagement", {}).get("rules", []):
        if not rule.get("where"):
            rule.pop("where", None)
        if rule.get("intent") is False:
            rule.pop("intent")
    return yaml.safe_dump(_tidy(data), sort_keys=False, allow_unicode=True, width=10_000)


def parsed(row: ScoringModel) -> ScoringModelDoc | None:
    try:
        return model_of(row)
    except ModelError:
        return None


# ---- the overview ----------------------------------------------------------------------------

@router.get("/scoring", response_class=HTMLResponse)
def scoring_page(request: Request, user: UiUser, db: DB) -> HTMLResponse:
    active = get_active_version(db)
    doc = parsed(active) if active is not None else None
    counts = count_leads_by_grade(db)
    return render(request, "scoring/index.html", {
        "active_row": active, "doc": doc, "versions": list_model_versions(db),
        "tiles": grade_tiles(doc, counts) if doc else [], "ungraded": counts.get(None, 0),
        "users": {u.id: u.name for u in list_users(db)}, "can_edit": can_edit(user),
        "field_name": field_name, "condition_text": condition_text, "event_text": event_text,
        "threshold_parts": threshold_parts,
    }, active="scoring")


@router.post("/scoring/rescore", response_model=None)
def rescore_page(request: Request, user: UiUser, db: DB,
                 csrf_token: str = Form("")) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    _require_editor(user)
    active = get_active_version(db)
    if active is None:
        return redirect("/scoring", "No scoring model is active: activate a version first.", "error")
    db.commit()
    scored = rescore_everyone(get_engine())
    return redirect("/scoring", f"Rescored {scored:,} lead{'s' if scored != 1 else ''} with version {active.version}.")


# ---- the editor ------------------------------------------------------------------------------

def _editor(request: Request, *, text: str, notes: str, source: ScoringModel | None,
            errors: list[tuple[str, str]] | None = None, status: int = 200) -> HTMLResponse:
    return render(request, "scoring/edit.html", {
        "text": text, "notes": notes, "source": source, "errors": errors or [],
        "checked": errors is not None, "max_chars": MAX_DOCUMENT_CHARS, "max_notes": MAX_NOTES,
    }, active="scoring", status=status)


@router.get("/scoring/new", response_class=HTMLResponse)
def new_version_page(request: Request, user: UiUser, db: DB,
                     source_version: str | None = Query(None, alias="from")) -> HTMLResponse:
    _require_editor(user)
    if source_version:
        try:
            number = int(source_version)
        except ValueError:
            number = 0
        source = version_or_404(number, db)
    else:
        source = get_active_version(db)
    text = document_yaml(source) if source is not None else default_model_text()
    return _editor(request, text=text, notes="", source=source)


@router.post("/scoring/new", response_model=None)
def save_version(request: Request, user: UiUser, db: DB, csrf_token: str = Form(""), text: str = Form(""),
                 notes: str = Form(""), source_version: str = Form("", alias="from")) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    _require_editor(user)
    source = get_model_version(db, version=int(source_version)) if source_version.isdigit() and \
        int(source_version) <= MAX_VERSION else None
    errors: list[tuple[str, str]] = []
    if not text.strip():
        errors.append(("", "the model is empty: start from the active model or the default one"))
    elif len(text) > MAX_DOCUMENT_CHARS:
        errors.append(("", f"the model is longer than {MAX_DOCUMENT_CHARS:,} characters"))
    if len(notes) > MAX_NOTES:
        errors.append(("notes", f"at most {MAX_NOTES:,} characters"))
    if not errors:
        try:
            row = create_model_version(db, text=text, notes=notes.strip(), user_id=user.id)
        except ModelError as exc:
            errors = exc.errors
    if errors:
        return _editor(request, text=text, notes=notes, source=source, errors=errors, status=422)
    return redirect(f"/scoring/models/{row.version}",
                    f"Version {row.version} saved as a draft. Run its backtest, then activate it.")


# ---- one version -----------------------------------------------------------------------------

@router.get("/scoring/models/{version:int}", response_class=HTMLResponse)
def version_page(request: Request, user: UiUser, db: DB, row: VersionDep) -> HTMLResponse:
    active = get_active_version(db)
    report = row.backtest
    compared = (report or {}).get("compared_to")
    # A comparison is current while the version it was made with is still the active one.
    stale = bool(report) and row.status != "active" and active is not None and \
        (compared or {}).get("version") != active.version
    users = {u.id: u.name for u in list_users(db)}
    return render(request, "scoring/version.html", {
        "row": row, "doc": parsed(row), "yaml": document_yaml(row), "active_row": active,
        "report": report, "compared": compared, "stale": stale,
        "ran_at": datetime.fromisoformat(report["ran_at"]) if report and report.get("ran_at") else None,
        "chart": lift_chart(report.get("by_decile") or [], report.get("base_rate")) if report else None,
        "author": users.get(row.created_by) if row.created_by else None, "can_edit": can_edit(user),
        # The "worse" warning has its own red flag on the page.
        "warnings": [w for w in (report or {}).get("warnings", []) if not w.startswith("worse than")],
        "threshold_parts": threshold_parts,
    }, active="scoring")


@router.post("/scoring/models/{version:int}/backtest", response_model=None)
def run_backtest(request: Request, user: UiUser, db: DB, row: VersionDep,
                 csrf_token: str = Form("")) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    doc = parsed(row)
    if doc is None:
        return redirect(f"/scoring/models/{row.version}", "This version is no longer valid: it cannot be backtested.",
                        "error")
    report = backtest_model(db, doc=doc, version=row.version).to_dict()
    report["ran_at"] = utcnow().isoformat()
    row.backtest = report
    if report["roc_auc"] is None:
        summary = f"Backtest done on {report['leads_with_outcome']:,} leads with a known outcome."
    else:
        summary = (f"Backtest done: ROC AUC {report['roc_auc']:.3f} on {report['leads_with_outcome']:,} "
                   "leads with a known outcome.")
    return redirect(f"/scoring/models/{row.version}", summary, "error" if report["worse"] else "ok")


@router.post("/scoring/models/{version:int}/activate", response_model=None)
def activate_page(request: Request, user: UiUser, db: DB, row: VersionDep, csrf_token: str = Form(""),
                  confirm_worse: str = Form("")) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    _require_editor(user)
    back = f"/scoring/models/{row.version}"
    if row.status == "active":
        return redirect(back, f"Version {row.version} already is the active model.", "error")
    if row.backtest and row.backtest.get("worse") and not confirm_worse:
        return redirect(back, "The backtest says this version ranks leads worse than the active model: "
                              "tick “Activate anyway” to activate it all the same.", "error")
    try:
        activate_model_version(db, version=row.version, rescore=False)
    except ScoringError as exc:
        db.rollback()
        return redirect(back, str(exc), "error")
    db.commit()  # the full rescore runs as its own batch (bulk on a large workspace)
    scored = rescore_everyone(get_engine())
    return redirect("/scoring", f"Version {row.version} is now the active model: "
                                f"{scored:,} lead{'s' if scored != 1 else ''} rescored.")


# ---- "Why this score" on the lead page -------------------------------------------------------

TENTH = 10  # ledger values are shown to a tenth of a point


@dataclass(frozen=True, slots=True)
class LedgerLine:
    label: str
    rule: str
    is_cap: bool
    points: float
    value: float  # exact
    shown: float  # rounded so that the shown lines add up to the shown total
    at: datetime | None
    note: str


@dataclass(frozen=True, slots=True)
class LedgerPart:
    kind: str
    title: str
    total: float  # as shown
    lines: list[LedgerLine]
    folded: list[LedgerLine]  # the smaller lines, summed in one row
    folded_total: float
    listed: list[LedgerLine]  # every line, up to LINES_LISTED

    @property
    def count(self) -> int:
        return len(self.lines) + len(self.folded)


@dataclass(frozen=True, slots=True)
class LeadScoreView:
    """What the "Why this score" panel shows: the score now, its parts and their ledger lines."""

    version: int
    at: datetime
    score: float
    grade: str
    parts: list[LedgerPart]
    exact_score: float


def apportion(values: list[float], total: float) -> list[int]:
    """VALUES in tenths, rounded so that they add up to TOTAL rounded (largest remainders first)."""
    scaled = [v * TENTH for v in values]
    base = [math.floor(s) for s in scaled]
    missing = round(total * TENTH) - sum(base)
    order = sorted(range(len(values)), key=lambda i: scaled[i] - base[i], reverse=missing > 0)
    for k in range(abs(missing) if values else 0):
        base[order[k % len(order)]] += 1 if missing > 0 else -1
    return base


def _part(kind: str, title: str, lines: list[Line], total_tenths: int) -> LedgerPart:
    shown = apportion([x.value for x in lines], total_tenths / TENTH) if lines else []
    ledger = [LedgerLine(x.label, x.rule, x.line != LINE_RULE, x.points, x.value, s / TENTH,
                         from_epoch(x.occurred_at) if x.occurred_at is not None else None, x.note)
              for x, s in zip(lines, shown, strict=True)]
    head, rest = ledger[:LINES_SHOWN], ledger[LINES_SHOWN:]
    folded_total = sum(round(x.shown * TENTH) for x in rest) / TENTH
    return LedgerPart(kind, title, total_tenths / TENTH, head, rest, folded_total, ledger[:LINES_LISTED])


def lead_score_context(db: Session, *, lead_id: int) -> LeadScoreView | None:
    """The "Why this score" panel of a lead's page, computed now; None when no model is active."""
    try:
        found = explain_lead(db, lead_id=lead_id)
    except ModelError:  # the active version no longer validates: the scoring page says so
        return None
    if found is None:
        return None
    version, e = found
    totals = apportion([e.fit_points, e.intent, e.engagement], e.score)
    parts = [_part("fit", "Fit", e.part("fit"), totals[0]),
             _part("intent", "Intent", e.part("intent"), totals[1]),
             _part("engagement", "Engagement", e.part("engagement"), totals[2])]
    return LeadScoreView(version=version, at=from_epoch(e.at), score=sum(totals) / TENTH, grade=e.fit_grade,
                         parts=parts, exact_score=e.score)


def signed(value: Any, digits: int = 1) -> str:
    """A number with its sign: +3.5, 0.0, and a true minus sign for negatives."""
    if value is None:
        return "—"
    if abs(value) < 0.5 * 10 ** -digits:
        return f"{0:.{digits}f}"
    return f"{'+' if value > 0 else MINUS}{abs(value):,.{digits}f}"


templates.env.filters["signed"] = signed
