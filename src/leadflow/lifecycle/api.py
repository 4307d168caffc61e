"""HTTP API for lifecycle actions on a lead: BANT, manual moves, sales acceptance, stage durations."""

from __future__ import annotations

from fastapi import APIRouter

from leadflow.auth.deps import DB, ApiUser
from leadflow.db.base import utcnow
from leadflow.leads.api import LeadDep
from leadflow.leads.models import Lead
from leadflow.leads.schemas import StageChangeOut
from leadflow.lifecycle.bant import BANT_FIELDS, bant_answered, bant_qualified
from leadflow.lifecycle.models import StageChange
from leadflow.lifecycle.reasons import DISQUALIFY_REASONS, RECYCLE_REASONS
from leadflow.lifecycle.schemas import (
    AcceptIn,
    BantFieldOut,
    BantIn,
    BantOut,
    BantValueOut,
    CodeOut,
    MoveIn,
    MoveOut,
    ReasonsOut,
    RejectIn,
    StageReachOut,
    StagesOut,
    StageSpanOut,
)
from leadflow.lifecycle.service import (
    accept_lead,
    get_stage_summary,
    move_lead,
    reject_lead,
    set_bant,
)

router = APIRouter(prefix="/api/v1", tags=["lifecycle"])


def _bant_out(lead: Lead) -> BantOut:
    return BantOut(budget=lead.bant_budget, authority=lead.bant_authority, need=lead.bant_need,
                   timeline=lead.bant_timeline, answered=bant_answered(lead), qualified=bant_qualified(lead),
                   updated_at=lead.bant_updated_at)


def _move_out(lead: Lead, change: StageChange) -> MoveOut:
    return MoveOut(lead_id=lead.id, stage=lead.stage, outcome=lead.outcome,
                   change=StageChangeOut.model_validate(change))


@router.get("/lifecycle/reasons", response_model=ReasonsOut, summary="Reason codes and BANT answers")
def api_reasons(user: ApiUser) -> ReasonsOut:
    return ReasonsOut(
        disqualified=[CodeOut(code=r.code, label=r.label) for r in DISQUALIFY_REASONS],
        recycled=[CodeOut(code=r.code, label=r.label) for r in RECYCLE_REASONS],
        bant=[BantFieldOut(field=f.key, label=f.label, question=f.question,
                           values=[BantValueOut(value=v.value, label=v.label) for v in f.values])
              for f in BANT_FIELDS],
    )


@router.get("/leads/{lead_id}/bant", response_model=BantOut, summary="A lead's BANT answers")
def api_get_bant(lead: LeadDep, user: ApiUser) -> BantOut:
    return _bant_out(lead)


@router.put("/leads/{lead_id}/bant", response_model=BantOut, summary="Change a lead's BANT answers")
def api_set_bant(lead: LeadDep, data: BantIn, db: DB, user: ApiUser) -> BantOut:
    """Only the keys sent change; null or "" clears an answer. 422 names the field and lists its values."""
    set_bant(db, lead=lead, **data.model_dump(exclude_unset=True), actor_type="user", actor_id=user.id)
    return _bant_out(lead)


@router.post("/leads/{lead_id}/stage", response_model=MoveOut, summary="Move a lead to a stage by hand")
def api_move(lead: LeadDep, data: MoveIn, db: DB, user: ApiUser) -> MoveOut:
    """`disqualified` and `recycled` need a `reason_code` (`other` also a `note`); `sql` needs BANT answered."""
    change = move_lead(db, lead=lead, to_stage=data.to, reason_code=data.reason_code, note=data.note,
                       actor_type="user", actor_id=user.id)
    return _move_out(lead, change)


@router.post("/leads/{lead_id}/accept", response_model=MoveOut, summary="Sales accepts a marketing-qualified lead")
def api_accept(lead: LeadDep, db: DB, user: ApiUser, data: AcceptIn | None = None) -> MoveOut:
    """mql → sql; 409 for a lead in another stage, 422 (field `bant`) until BANT is answered."""
    change = accept_lead(db, lead=lead, actor_id=user.id, note=data.note if data else "")
    return _move_out(lead, change)


@router.post("/leads/{lead_id}/reject", response_model=MoveOut, summary="Sales rejects a marketing-qualified lead")
def api_reject(lead: LeadDep, data: RejectIn, db: DB, user: ApiUser) -> MoveOut:
    """mql → recycled, with a recycle `reason_code`; 409 for a lead in another stage."""
    change = reject_lead(db, lead=lead, reason_code=data.reason_code, note=data.note, actor_id=user.id)
    return _move_out(lead, change)


@router.get("/leads/{lead_id}/stages", response_model=StagesOut, summary="Stage history, time in stage, time to stage")
def api_stages(lead: LeadDep, db: DB, user: ApiUser) -> StagesOut:
    summary = get_stage_summary(db, lead_id=lead.id, created_at=lead.created_at, now=utcnow())
    current = summary.current
    return StagesOut(
        stage=lead.stage,
        seconds_in_stage=int(current.duration.total_seconds()) if current else None,
        history=[StageChangeOut.model_validate(c) for c in summary.history],
        durations=[StageSpanOut(stage=s.stage, entered_at=s.entered_at, left_at=s.left_at,
                                seconds=int(s.duration.total_seconds())) for s in summary.spans],
        time_to=[StageReachOut(stage=r.stage, reached_at=r.reached_at,
                               seconds=int(r.elapsed.total_seconds()) if r.elapsed is not None else None)
                 for r in summary.reached],
    )
