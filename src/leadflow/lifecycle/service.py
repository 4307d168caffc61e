"""The one place a lead changes stage: checks it, writes the history row, fires what follows."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.db.base import utcnow
from leadflow.lifecycle.models import StageChange
from leadflow.lifecycle.stages import STAGE_KEYS

ACTOR_TYPES = ("user", "rule", "import", "api", "system", "demo")


class StageError(ValueError):
    """A stage move that is not allowed, with the reason."""


class HasStage(Protocol):
    id: int
    stage: str
    converted_at: datetime | None


def move_to_stage(
    session: Session,
    *,
    lead: HasStage,
    to_stage: str,
    reason: str,
    actor_type: str,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> StageChange | None:
    """Move LEAD to TO_STAGE and record it; None when it already is there."""
    if to_stage not in STAGE_KEYS:
        raise StageError(f"unknown stage {to_stage!r}; expected one of {', '.join(STAGE_KEYS)}")
    if actor_type not in ACTOR_TYPES:
        raise StageError(f"unknown actor type {actor_type!r}")
    from_stage = lead.stage
    if from_stage == to_stage:
        return None
    match (from_stage, to_stage):
        case (_, "disqualified" | "recycled") if not reason.strip():
            raise StageError(f"moving to {to_stage} needs a reason")
        case ("customer", _) if actor_type not in ("user", "import", "api") :
            raise StageError("only a person can move a customer out of the customer stage")
    when = at or utcnow()
    lead.stage = to_stage
    if to_stage == "customer" and lead.converted_at is None:
        lead.converted_at = when
    change = StageChange(
        lead_id=lead.id,
        from_stage=from_stage,
        to_stage=to_stage,
        reason=reason,
        actor_type=actor_type,
        actor_id=actor_id,
        changed_at=when,
    )
    session.add(change)
    return change


def record_initial_stage(
    session: Session, *, lead: HasStage, reason: str, actor_type: str, actor_id: int | None = None,
    at: datetime | None = None,
) -> StageChange:
    """The first history row of a new lead (from nothing to its first stage)."""
    change = StageChange(
        lead_id=lead.id, from_stage=None, to_stage=lead.stage, reason=reason,
        actor_type=actor_type, actor_id=actor_id, changed_at=at or utcnow(),
    )
    session.add(change)
    return change


def list_stage_changes(session: Session, *, lead_id: int) -> list[StageChange]:
    """The stage history of one lead, oldest first."""
    return list(
        session.scalars(
            select(StageChange).where(StageChange.lead_id == lead_id).order_by(StageChange.changed_at, StageChange.id)
        )
    )
