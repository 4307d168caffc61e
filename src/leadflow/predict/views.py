"""HTML pages for predictive scoring: the models and their drift, one model's evaluation with its
charts and activation, training, and the "Chance to convert" panel of the lead page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from leadflow.auth.deps import DB, UiUser
from leadflow.auth.models import User
from leadflow.auth.sessions import csrf_ok
from leadflow.db.session import get_engine
from leadflow.lifecycle.stages import STAGE_BY_KEY
from leadflow.predict.api import MODEL_EDITORS
from leadflow.predict.dataset import DEFAULT_NEGATIVE_STAGES, DEFAULT_POSITIVE_STAGES, feature_name
from leadflow.predict.models import PredictionModel
from leadflow.predict.service import (
    COMPARED_METRICS,
    PredictServiceError,
    TrainOptions,
    activate_version,
    compare_versions,
    drift_report,
    explain_lead,
    get_active,
    get_version,
    list_versions,
    predict_everyone,
    recalibrate,
    train_workspace_model,
)
from leadflow.scoring.views import lift_chart
from leadflow.web.render import PageError, csrf_failed, redirect, render

router = APIRouter(include_in_schema=False)

MAX_VERSION = 2**31 - 1
METRICS = {
    "roc_auc": ("ROC AUC", "The chance that a lead that converted gets a higher probability than one that did not. 0.5 is chance, 1 is perfect."),
    "pr_auc": ("PR AUC", "Average precision: how pure the top of the list is. Compare it with the base conversion rate."),
    "log_loss": ("Log loss", "How surprised the model is by the outcomes; lower is better."),
    "brier": ("Brier score", "Mean squared error of the probabilities; lower is better."),
    "ece": ("Calibration error", "Expected calibration error over 10 bins: how far “30 %” is from 30 % of such leads converting. Lower is better; 0.01 is one point."),
}
# The reliability chart's size (SVG user units), as the scoring lift chart's.
REL_W, REL_H = 360, 300
REL_PAD = 44


def can_edit(user: User) -> bool:
    return user.role in MODEL_EDITORS


def _require_editor(user: User) -> None:
    if not can_edit(user):
        raise PageError(403, "Only admin and marketing users can do this",
                        "Training or activating a predictive model changes what sales sees. Ask an admin or a marketing user.")


def version_or_404(version: int, db: DB) -> PredictionModel:
    row = get_version(db, version=version) if 1 <= version <= MAX_VERSION else None
    if row is None:
        raise PageError(404, "No such model version", f"There is no predictive model version {version}.")
    return row


VersionDep = Annotated[PredictionModel, Depends(version_or_404)]


# ---- charts ----------------------------------------------------------------------------------

def _pct(x: float) -> str:
    return f"{x * 100:.0f} %"


def reliability_chart(bins: list[dict]) -> Markup | None:
    """An inline SVG: observed conversion against predicted probability per bin, with the diagonal of perfect calibration."""
    points = [b for b in bins if b.get("count")]
    if not points:
        return None
    inner = REL_W - 2 * REL_PAD

    def x(v: float) -> float:
        return REL_PAD + inner * v

    def y(v: float) -> float:
        return REL_H - REL_PAD - (REL_H - 2 * REL_PAD) * v

    biggest = max(b["count"] for b in points)
    out = [f'<svg class="rel-chart" viewBox="0 0 {REL_W} {REL_H}" role="img" aria-labelledby="rel-title rel-desc" '
           'xmlns="http://www.w3.org/2000/svg">', '<title id="rel-title">Reliability</title>',
           '<desc id="rel-desc">For each tenth of the probability range, the share of leads that converted against '
           'the probability the model gave them; on the diagonal, the model is exactly calibrated.</desc>']
    for i in range(0, 11, 2):
        v = i / 10
        out.append(f'<line class="lift-grid" x1="{x(0)}" x2="{x(1)}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>')
        out.append(f'<text class="lift-tick" x="{REL_PAD - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{_pct(v)}</text>')
        out.append(f'<text class="lift-tick" x="{x(v):.1f}" y="{REL_H - REL_PAD + 16}" text-anchor="middle">{_pct(v)}</text>')
    out.append(f'<line class="rel-diagonal" x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}"/>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(b['mean_predicted']):.1f},{y(b['observed']):.1f}"
                    for i, b in enumerate(points))
    out.append(f'<path class="rel-line" d="{path}"/>')
    for b in points:
        r = 3 + 5 * (b["count"] / biggest) ** 0.5
        label = (f"{b['count']:,} leads given {_pct(b['mean_predicted'])} on average; "
                 f"{b['observed'] * 100:.1f} % converted")
        out.append(f'<circle class="rel-dot" cx="{x(b["mean_predicted"]):.1f}" cy="{y(b["observed"]):.1f}" '
                   f'r="{r:.1f}"><title>{escape(label)}</title></circle>')
    out.append(f'<text class="lift-axis" x="{REL_PAD + inner / 2:.1f}" y="{REL_H - 8}" text-anchor="middle">'
               'Predicted probability</text>')
    out.append(f'<text class="lift-axis" transform="translate(12 {REL_H / 2:.0f}) rotate(-90)" text-anchor="middle">'
               'Converted</text>')
    out.append("</svg>")
    return Markup("".join(out))


def model_lift_chart(report: dict) -> Markup | None:
    """The scoring lift chart over the model's deciles (1 = highest probabilities)."""
    deciles = report.get("lift") or []
    rows, positives = report.get("rows"), report.get("positives")
    if not deciles or not rows:
        return None
    data = [{"label": str(d["decile"]), "leads": d["count"], "converted": d["positives"], "rate": d["rate"],
             "lift": d["lift"]} for d in deciles]
    chart = lift_chart(data, positives / rows)
    return Markup(str(chart).replace("Score decile (1 = highest scores)", "Probability decile (1 = highest)")
                  .replace("highest scores", "highest probabilities")) if chart else None


# ---- pages -----------------------------------------------------------------------------------

def _stage_choices() -> list[tuple[str, str]]:
    return [(k, d.label) for k, d in STAGE_BY_KEY.items()]


@router.get("/predict", response_class=HTMLResponse)
def predict_page(request: Request, user: UiUser, db: DB) -> HTMLResponse:
    active = get_active(db)
    drift, drift_error = None, None
    if active is not None:
        try:
            drift = drift_report(get_engine(), version=active.version)
        except PredictServiceError as exc:
            drift_error = exc.message
    return render(request, "predict/index.html", {
        "active_row": active, "versions": list_versions(db), "drift": drift, "drift_error": drift_error,
        "can_edit": can_edit(user), "metrics": METRICS, "stages": _stage_choices(),
        "default_positive": DEFAULT_POSITIVE_STAGES, "default_negative": DEFAULT_NEGATIVE_STAGES,
    }, active="scoring")


@router.post("/predict/train", response_model=None)
def train_page(request: Request, user: UiUser, db: DB, csrf_token: str = Form(""),
               positive_stages: list[str] = Form([]), negative_stages: list[str] = Form([]),
               exclude: str = Form(""), name: str = Form("")) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    _require_editor(user)
    positive = tuple(s for s in positive_stages if s in STAGE_BY_KEY) or DEFAULT_POSITIVE_STAGES
    negative = tuple(s for s in negative_stages if s in STAGE_BY_KEY and s not in positive) or DEFAULT_NEGATIVE_STAGES
    names = tuple(feature_name(n) for n in exclude.replace("\n", ",").split(",") if n.strip())
    db.commit()
    try:
        version = train_workspace_model(get_engine(), options=TrainOptions(
            positive_stages=positive, negative_stages=negative, exclude=names, name=name.strip()[:200]),
            user_id=user.id)
    except PredictServiceError as exc:
        return redirect("/predict", f"Could not train: {exc.message}", "error")
    return redirect(f"/predict/models/{version}", f"Version {version} trained. Compare it with the active model, then activate it.")


@router.get("/predict/models/{version:int}", response_class=HTMLResponse)
def version_page(request: Request, user: UiUser, db: DB, row: VersionDep) -> HTMLResponse:
    report = row.report or {}
    return render(request, "predict/version.html", {
        "row": row, "r": report, "active_row": get_active(db), "comparison": compare_versions(db, version=row.version),
        "metrics": METRICS, "reliability": reliability_chart(report.get("reliability") or []),
        "lift": model_lift_chart(report), "can_edit": can_edit(user), "compared_metrics": COMPARED_METRICS,
    }, active="scoring")


@router.post("/predict/models/{version:int}/activate", response_model=None)
def activate_page(request: Request, user: UiUser, db: DB, row: VersionDep, csrf_token: str = Form(""),
                  compared: str = Form("")) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    _require_editor(user)
    try:
        activate_version(db, version=row.version, compared=compared == "yes")
    except PredictServiceError as exc:
        return redirect(f"/predict/models/{row.version}", exc.message, "error")
    db.commit()
    priced = predict_everyone(get_engine())
    return redirect(f"/predict/models/{row.version}", f"Version {row.version} is active; {priced:,} leads priced.")


@router.post("/predict/rescore", response_model=None)
def rescore_page(request: Request, user: UiUser, db: DB, csrf_token: str = Form("")) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    _require_editor(user)
    db.commit()
    priced = predict_everyone(get_engine())
    return redirect("/predict", f"{priced:,} leads priced." if priced else "No predictive model is active.",
                    "ok" if priced else "error")


@router.post("/predict/recalibrate", response_model=None)
def recalibrate_page(request: Request, user: UiUser, db: DB, csrf_token: str = Form("")) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    _require_editor(user)
    db.commit()
    try:
        version = recalibrate(get_engine(), user_id=user.id)
    except PredictServiceError as exc:
        return redirect("/predict", f"Could not recalibrate: {exc.message}", "error")
    return redirect(f"/predict/models/{version}", f"Version {version}: recalibrated on recent outcomes. Compare, then activate it.")


# ---- the lead page panel ---------------------------------------------------------------------

def lead_prediction_context(db: Session, *, lead_id: int) -> dict | None:
    """The "Chance to convert" panel: probability now, by the active model, with its factors."""
    found = explain_lead(db, lead_id=lead_id)
    if found is None:
        return None
    top = max((abs(f["contribution"]) for f in found.factors), default=0) or 1.0
    return {"version": found.version, "probability": found.probability,
            "factors": [{**f, "width": round(abs(f["contribution"]) / top * 100, 1)} for f in found.factors]}
