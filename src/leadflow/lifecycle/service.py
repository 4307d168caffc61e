"""The one place a lead changes stage (`move_to_stage`), and the manual lifecycle actions built on it:
moves with reason codes, sales acceptance and rejection, BANT answers, time in stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.db.base import utcnow
from leadflow.leads.events import append_events
from leadflow.leads.schemas import BatchEventIn
from leadflow.lifecycle.bant import BANT_BY_KEY, HasBant, missing_bant, parse_bant_value
from leadflow.lifecycle.models import StageChange
from leadflow.lifecycle.reasons import OTHER, reason_codes, reason_text
from leadflow.lifecycle.stages import FUNNEL, STAGE_BY_KEY, STAGE_KEYS

ACTOR_TYPES = ("user", "rule", "import", "api", "system", "demo", "form")
MAX_NOTE = 1000  # characters of free text kept with a manual move


class StageError(ValueError):
    """A stage move that is not allowed, with the reason."""


class LifecycleError(ValueError):
    """A lifecycle action that cannot be carried out; `field` names the culprit, `status` the HTTP answer."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.field = field
        self.status = status


class HasStage(Protocol):
    id: int
    stage: str
    converted_at: datetime | None


class ManagedLead(HasStage, HasBant, Protocol):
    """What the manual actions read and change on a lead."""

    outcome: str | None
    lost_reason: str | None
    bant_updated_at: datetime | None


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


# ---- manual moves, acceptance, rejection -------------------------------------------------------

def _label(stage: str) -> str:
    return STAGE_BY_KEY[stage].label if stage in STAGE_BY_KEY else stage


def _clean_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise LifecycleError(f"the note is {len(note)} characters long; at most {MAX_NOTE}", field="note")
    if "\x00" in note:
        raise LifecycleError("the note cannot contain NUL characters", field="note")
    return note


def _checked_reason_code(to_stage: str, reason_code: str | None, note: str) -> str | None:
    """The reason code TO_STAGE asks for (disqualified and recycled need one), checked."""
    codes = reason_codes(to_stage)
    code = (reason_code or "").strip().lower() or None
    if not codes:
        if code:
            raise LifecycleError(f"reason codes are for Disqualified and Recycled; moving to {_label(to_stage)} "
                                 "takes only a note", field="reason_code")
        return None
    if code is None:
        raise LifecycleError(f"moving to {_label(to_stage)} needs a reason code: one of {', '.join(codes)}",
                             field="reason_code")
    if code not in codes:
        raise LifecycleError(f"{code[:40]!r} is not a reason to move to {_label(to_stage)}; expected one of: "
                             f"{', '.join(codes)}", field="reason_code")
    if code == OTHER and not note:
        raise LifecycleError("reason code 'other' needs a note saying why", field="note")
    return code


def _require_bant(lead: ManagedLead) -> None:
    missing = missing_bant(lead)
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise LifecycleError(f"answer BANT first: {', '.join(missing)} {verb} not answered", field="bant")


def _move(session: Session, *, lead: ManagedLead, to_stage: str, reason: str, actor_type: str,
          actor_id: int | None, at: datetime | None) -> StageChange:
    try:
        change = move_to_stage(session, lead=lead, to_stage=to_stage, reason=reason, actor_type=actor_type,
                               actor_id=actor_id, at=at)
    except StageError as exc:
        raise LifecycleError(str(exc), field="to", status=409) from None
    if change is None:
        raise LifecycleError(f"the lead already is {_label(to_stage)}", field="to", status=409)
    session.flush()
    return change


def move_lead(
    session: Session,
    *,
    lead: ManagedLead,
    to_stage: str,
    reason_code: str | None = None,
    note: str = "",
    actor_type: str = "user",
    actor_id: int | None,
    at: datetime | None = None,
) -> StageChange:
    """Move LEAD by hand; Disqualified and Recycled need a reason code ("other" also a note), Sales-ready BANT.

    Disqualifying a lead without an outcome marks it lost, with the code as its lost reason.
    """
    to_stage = to_stage.strip().lower()
    if to_stage not in STAGE_BY_KEY:
        told = f"unknown stage {to_stage[:40]!r}" if to_stage else "choose a stage"
        raise LifecycleError(f"{told}; expected one of: {', '.join(STAGE_KEYS)}", field="to")
    if to_stage == lead.stage:
        raise LifecycleError(f"the lead already is {_label(to_stage)}", field="to", status=409)
    note = _clean_note(note)
    code = _checked_reason_code(to_stage, reason_code, note)
    if to_stage == "sql":
        _require_bant(lead)
    change = _move(session, lead=lead, to_stage=to_stage, reason=reason_text(code, note), actor_type=actor_type,
                   actor_id=actor_id, at=at)
    if to_stage == "disqualified" and lead.outcome is None:
        lead.outcome = "lost"
        lead.lost_reason = code
        session.flush()
    return change


def _require_mql(lead: ManagedLead, action: str) -> None:
    if lead.stage != "mql":
        raise LifecycleError(f"sales can only {action} a Marketing-qualified lead; this one is "
                             f"{_label(lead.stage)}", field="stage", status=409)


def accept_lead(session: Session, *, lead: ManagedLead, actor_id: int | None, note: str = "",
                at: datetime | None = None) -> StageChange:
    """Sales accepts a marketing-qualified LEAD: it becomes Sales-ready; refused until BANT is answered."""
    _require_mql(lead, "accept")
    note = _clean_note(note)
    _require_bant(lead)
    return _move(session, lead=lead, to_stage="sql", reason=reason_text("accepted by sales", note),
                 actor_type="user", actor_id=actor_id, at=at)


def reject_lead(session: Session, *, lead: ManagedLead, reason_code: str | None, note: str = "",
                actor_id: int | None, at: datetime | None = None) -> StageChange:
    """Sales rejects a marketing-qualified LEAD: back to nurture (Recycled) with a recycle reason code."""
    _require_mql(lead, "reject")
    note = _clean_note(note)
    code = _checked_reason_code("recycled", reason_code, note)
    said = f"rejected by sales — {note}" if note else "rejected by sales"
    return _move(session, lead=lead, to_stage="recycled", reason=reason_text(code, said), actor_type="user",
                 actor_id=actor_id, at=at)


# ---- BANT ---------------------------------------------------------------------------------------

class Keep(Enum):
    """The default of set_bant's answers: leave that answer as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


def set_bant(
    session: Session,
    *,
    lead: ManagedLead,
    budget: str | Keep | None = KEEP,
    authority: str | Keep | None = KEEP,
    need: str | Keep | None = KEEP,
    timeline: str | Keep | None = KEEP,
    actor_type: str,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> dict[str, tuple[str | None, str | None]]:
    """Change the BANT answers given (None or "" clears one); {field: (old, new)} of those that changed.

    Nothing changes unless every answer given is valid. Changes go on the lead's timeline.
    """
    if actor_type not in ACTOR_TYPES:
        raise LifecycleError(f"unknown actor type {actor_type!r}", field="actor_type")
    given = {"budget": budget, "authority": authority, "need": need, "timeline": timeline}
    wanted: dict[str, str | None] = {}
    for key, raw in given.items():
        if raw is KEEP:
            continue
        try:
            wanted[key] = parse_bant_value(key, raw)
        except ValueError as exc:
            raise LifecycleError(str(exc), field=key) from None
    changes: dict[str, tuple[str | None, str | None]] = {}
    for key, value in wanted.items():
        column = BANT_BY_KEY[key].column
        old = getattr(lead, column)
        if old != value:
            changes[key] = (old, value)
            setattr(lead, column, value)
    if changes:
        when = at or utcnow()
        lead.bant_updated_at = when
        _record_bant_changes(session, lead_id=lead.id, changes=changes, source=actor_type, actor_id=actor_id,
                             at=when)
        session.flush()
    return changes


def _record_bant_changes(session: Session, *, lead_id: int, changes: dict[str, tuple[str | None, str | None]],
                         source: str, actor_id: int | None, at: datetime) -> None:
    """One property_change event on the lead's timeline, as the leads domain records edited fields.

    Written through leads.events: leads.service imports this module, so it cannot be imported here.
    """
    properties: dict[str, object] = {"changes": [
        {"field": BANT_BY_KEY[k].column, "from": old, "to": new} for k, (old, new) in changes.items()
    ]}
    if actor_id is not None:
        properties["actor_id"] = actor_id
    event = BatchEventIn(lead_id=lead_id, type="property_change", occurred_at=at, properties=properties)
    append_events(session, events=[event], source=source, now=at)


# ---- time in stage --------------------------------------------------------------------------------

class HasChange(Protocol):
    to_stage: str
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class StageSpan:
    """One stay of a lead in a stage; `left_at` is None while it is still there."""

    stage: str
    entered_at: datetime
    left_at: datetime | None
    duration: timedelta


@dataclass(frozen=True, slots=True)
class StageReach:
    """When a lead first reached a funnel stage, and how long after its creation (None: not yet)."""

    stage: str
    reached_at: datetime | None
    elapsed: timedelta | None


def spans_from_history(changes: Sequence[HasChange], *, now: datetime) -> list[StageSpan]:
    """The stays a history (oldest first) describes; the last one runs until NOW."""
    spans = []
    for i, change in enumerate(changes):
        left = changes[i + 1].changed_at if i + 1 < len(changes) else None
        # A clock set back, or a move dated in the future, gives no negative stays.
        duration = max((left or now) - change.changed_at, timedelta(0))
        spans.append(StageSpan(stage=change.to_stage, entered_at=change.changed_at, left_at=left, duration=duration))
    return spans


def reach_from_history(changes: Sequence[HasChange], *, created_at: datetime) -> list[StageReach]:
    """For each funnel stage, when the history (oldest first) first reached it, counted from CREATED_AT."""
    first: dict[str, datetime] = {}
    for change in changes:
        first.setdefault(change.to_stage, change.changed_at)
    return [StageReach(stage=s, reached_at=first.get(s),
                       elapsed=max(first[s] - created_at, timedelta(0)) if s in first else None)
            for s in FUNNEL]


def stage_durations(session: Session, *, lead_id: int, now: datetime) -> list[StageSpan]:
    """Each stage the lead stayed in, oldest first, the current one open-ended (counted until NOW)."""
    return spans_from_history(list_stage_changes(session, lead_id=lead_id), now=now)


def time_to_stages(session: Session, *, lead_id: int, created_at: datetime) -> list[StageReach]:
    """Time from the lead's creation to the first time it reached each funnel stage."""
    return reach_from_history(list_stage_changes(session, lead_id=lead_id), created_at=created_at)


@dataclass(frozen=True, slots=True)
class StageSummary:
    """A lead's stage history with its stays and funnel times, from one read of the history."""

    history: list[StageChange]
    spans: list[StageSpan]
    reached: list[StageReach]

    @property
    def current(self) -> StageSpan | None:
        return self.spans[-1] if self.spans else None


def get_stage_summary(session: Session, *, lead_id: int, created_at: datetime, now: datetime) -> StageSummary:
    """History, time in each stage (until NOW) and time to each funnel stage of one lead."""
    history = list_stage_changes(session, lead_id=lead_id)
    return StageSummary(history=history, spans=spans_from_history(history, now=now),
                        reached=reach_from_history(history, created_at=created_at))
