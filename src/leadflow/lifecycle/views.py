"""The lifecycle panel of the lead page, and the forms it posts: BANT, moves, sales acceptance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from leadflow.auth.deps import DB, UiUser
from leadflow.auth.sessions import csrf_ok
from leadflow.leads.models import Lead
from leadflow.leads.service import get_lead
from leadflow.lifecycle.bant import (
    BANT_BY_KEY,
    BANT_FIELDS,
    BantField,
    bant_answered,
    bant_qualified,
    missing_bant,
)
from leadflow.lifecycle.reasons import DISQUALIFY_REASONS, RECYCLE_REASONS, ReasonCode
from leadflow.lifecycle.service import (
    LifecycleError,
    StageReach,
    accept_lead,
    get_stage_summary,
    move_lead,
    reject_lead,
    set_bant,
)
from leadflow.lifecycle.stages import STAGE_BY_KEY, STAGES, StageDef
from leadflow.web.render import PageError, csrf_failed, redirect

router = APIRouter(include_in_schema=False)

MAX_LEAD_ID = 2**63 - 1  # lead ids are 64-bit; a larger number names no lead
# How the panel's form fields are called on screen, to name them in error messages.
FIELD_LABELS = {"to": "Stage", "reason_code": "Reason", "note": "Note", "stage": "Stage", "bant": "BANT",
                **{f.key: f.label for f in BANT_FIELDS}}


@dataclass(frozen=True, slots=True)
class BantRow:
    field: BantField
    value: str | None


@dataclass(frozen=True, slots=True)
class LeadPanel:
    """What the lifecycle panel of one lead shows."""

    entered_at: datetime | None
    time_in_stage: timedelta | None
    reached: list[StageReach]
    bant: list[BantRow]
    bant_answered: bool
    bant_qualified: bool
    bant_missing: list[str]
    bant_updated_at: datetime | None
    sales_review: bool
    move_targets: list[StageDef]
    disqualify_reasons: tuple[ReasonCode, ...] = DISQUALIFY_REASONS
    recycle_reasons: tuple[ReasonCode, ...] = RECYCLE_REASONS


def lead_panel_context(db: Session, *, lead: Lead, now: datetime) -> LeadPanel:
    """The lifecycle panel of LEAD's page (one query: its stage history)."""
    summary = get_stage_summary(db, lead_id=lead.id, created_at=lead.created_at, now=now)
    current = summary.current
    return LeadPanel(
        entered_at=current.entered_at if current else None,
        time_in_stage=current.duration if current else None,
        reached=summary.reached,
        bant=[BantRow(field=f, value=getattr(lead, f.column)) for f in BANT_FIELDS],
        bant_answered=bant_answered(lead),
        bant_qualified=bant_qualified(lead),
        bant_missing=[BANT_BY_KEY[k].label for k in missing_bant(lead)],
        bant_updated_at=lead.bant_updated_at,
        sales_review=lead.stage == "mql",
        move_targets=[s for s in sorted(STAGES, key=lambda s: s.position) if s.key != lead.stage],
    )



def lead_or_404(lead_id: int, db: DB) -> Lead:
    lead = get_lead(db, lead_id=lead_id) if 1 <= lead_id <= MAX_LEAD_ID else None
    if lead is None:
        raise PageError(404, "Lead not found", f"There is no lead with id {lead_id}. It may have been deleted.")
    return lead


LeadDep = Annotated[Lead, Depends(lead_or_404)]


def _refused(db: Session, back: str, exc: LifecycleError) -> RedirectResponse:
    db.rollback()
    label = FIELD_LABELS.get(exc.field or "", "")
    return redirect(back, f"{label}: {exc}" if label else str(exc), "error")


@router.post("/leads/{lead_id:int}/bant", response_model=None)
def bant_save(
    request: Request, user: UiUser, lead: LeadDep, db: DB, csrf_token: str = Form(""),
    budget: str = Form(""), authority: str = Form(""), need: str = Form(""), timeline: str = Form(""),
) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    back = f"/leads/{lead.id}"
    try:
        changes = set_bant(db, lead=lead, budget=budget, authority=authority, need=need, timeline=timeline,
                           actor_type="user", actor_id=user.id)
    except LifecycleError as exc:
        return _refused(db, back, exc)
    return redirect(back, "BANT saved." if changes else "BANT unchanged.")


@router.post("/leads/{lead_id:int}/move", response_model=None)
def stage_move(
    request: Request, user: UiUser, lead: LeadDep, db: DB, csrf_token: str = Form(""),
    to: str = Form(""), reason_code: str = Form(""), note: str = Form(""),
) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    back = f"/leads/{lead.id}"
    try:
        move_lead(db, lead=lead, to_stage=to, reason_code=reason_code, note=note, actor_type="user",
                  actor_id=user.id)
    except LifecycleError as exc:
        return _refused(db, back, exc)
    return redirect(back, f"Moved to {STAGE_BY_KEY[lead.stage].label}.")


@router.post("/leads/{lead_id:int}/accept", response_model=None)
def sales_accept(
    request: Request, user: UiUser, lead: LeadDep, db: DB, csrf_token: str = Form(""), note: str = Form(""),
) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    back = f"/leads/{lead.id}"
    try:
        accept_lead(db, lead=lead, actor_id=user.id, note=note)
    except LifecycleError as exc:
        return _refused(db, back, exc)
    return redirect(back, "Accepted: the lead is Sales-ready.")


@router.post("/leads/{lead_id:int}/reject", response_model=None)
def sales_reject(
    request: Request, user: UiUser, lead: LeadDep, db: DB, csrf_token: str = Form(""),
    reason_code: str = Form(""), note: str = Form(""),
) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    back = f"/leads/{lead.id}"
    try:
        reject_lead(db, lead=lead, reason_code=reason_code, note=note, actor_id=user.id)
    except LifecycleError as exc:
        return _refused(db, back, exc)
    return redirect(back, "Rejected: the lead is back in nurture (Recycled).")
