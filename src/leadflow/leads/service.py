"""Lead services: create, upsert by identity, update, delete, list, timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, delete, func, or_, select
from sqlalchemy.orm import Session

from leadflow.auth.service import get_user
from leadflow.campaigns.service import find_campaign_by_utm, get_campaign
from leadflow.db.base import utcnow
from leadflow.leads.attribution import classify_channel
from leadflow.leads.merge import merge_fields, merge_properties
from leadflow.leads.models import TOUCH_FIELDS, Company, ConsentRecord, Event, Lead
from leadflow.leads.normalize import (
    FREE_EMAIL_DOMAINS,
    InvalidValue,
    email_domain,
    normalize_phone,
)
from leadflow.leads.schemas import EventIn, LeadCreate, LeadFilter, LeadUpdate, Touch
from leadflow.leads.search import WALK_SORT_INDEX_ABOVE, count_matches, search_condition
from leadflow.lifecycle.service import move_to_stage, record_initial_stage
from leadflow.lifecycle.stages import STAGE_BY_KEY


class LeadError(ValueError):
    """A request about leads that cannot be carried out; `field` names the culprit."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(slots=True)
class UpsertOutcome:
    lead: Lead
    created: bool
    changed_fields: list[str]


def get_lead(session: Session, *, lead_id: int) -> Lead | None:
    return session.get(Lead, lead_id)


def find_lead(session: Session, *, email: str | None, external_id: str | None) -> Lead | None:
    """The lead with this normalized email, else with this external id."""
    if email:
        lead = session.scalar(select(Lead).where(Lead.email == email))
        if lead is not None:
            return lead
    if external_id:
        return session.scalar(select(Lead).where(Lead.external_id == external_id))
    return None


def _touch_columns(prefix: str, touch: Touch | None) -> dict[str, Any]:
    if touch is None:
        return {}
    data = touch.model_dump()
    data["channel"] = classify_channel(
        medium=touch.medium, source=touch.source, referrer=touch.referrer, explicit=touch.channel
    )
    return {f"{prefix}_{k}": data[k] for k in TOUCH_FIELDS if data.get(k) is not None}


def _company_for(session: Session, *, email: str | None, name: str | None, industry: str | None,
                 size: str | None, country: str | None) -> int | None:
    domain = email_domain(email)
    if not domain or domain in FREE_EMAIL_DOMAINS:
        return None
    company = session.scalar(select(Company).where(Company.domain == domain))
    if company is None:
        company = Company(domain=domain, name=name or domain, industry=industry, size=size, country=country)
        session.add(company)
        session.flush()
    return company.id


def _incoming(session: Session, data: LeadCreate | LeadUpdate, country: str | None) -> dict[str, Any]:
    raw = data.model_dump(
        exclude_unset=True,
        exclude={"properties", "properties_set_once", "stage", "stage_reason", "outcome",
                 "first_touch", "last_touch", "created_at"},
    )
    if raw.get("phone"):
        try:
            raw["phone"] = normalize_phone(raw["phone"], raw.get("country") or country)
        except InvalidValue as exc:
            raise LeadError(str(exc), field="phone") from None
    if raw.get("owner_id") is not None and get_user(session, user_id=raw["owner_id"]) is None:
        raise LeadError(f"no user with id {raw['owner_id']}", field="owner_id")
    if raw.get("campaign_id") is not None and get_campaign(session, campaign_id=raw["campaign_id"]) is None:
        raise LeadError(f"no campaign with id {raw['campaign_id']}", field="campaign_id")
    return raw


def _resolve_campaign(session: Session, touch: Touch | None) -> int | None:
    if touch is None or not touch.campaign:
        return None
    campaign = find_campaign_by_utm(session, utm_campaign=touch.campaign)
    return campaign.id if campaign else None


def _record_changes(session: Session, *, lead: Lead, changes: dict[str, tuple[Any, Any]], source: str) -> None:
    """One property_change event listing every value that changed (old values are never lost)."""
    if not changes:
        return
    payload = [
        {"field": k, "from": _jsonable(old), "to": _jsonable(new)} for k, (old, new) in sorted(changes.items())
    ]
    session.add(Event(lead_id=lead.id, type="property_change", source=source,
                      properties={"changes": payload}, occurred_at=utcnow()))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _apply_stage_and_outcome(
    session: Session, *, lead: Lead, stage: str | None, outcome: str | None, reason: str | None,
    actor_type: str, actor_id: int | None,
) -> None:
    if outcome is not None and outcome != lead.outcome:
        lead.outcome = outcome
        if outcome == "won" and stage is None:
            stage = "customer"
    if stage is not None and stage != lead.stage:
        try:
            move_to_stage(session, lead=lead, to_stage=stage, reason=reason or f"set by {actor_type}",
                          actor_type=actor_type, actor_id=actor_id)
        except ValueError as exc:
            raise LeadError(str(exc), field="stage") from None


def create_lead(
    session: Session, *, data: LeadCreate, actor_type: str = "api", actor_id: int | None = None
) -> Lead:
    """A new lead; LeadError (409) when its email or external id is taken."""
    if not data.email and not data.external_id:
        raise LeadError("a lead needs an email or an external_id", field="email")
    existing = find_lead(session, email=data.email, external_id=data.external_id)
    if existing is not None:
        field = "email" if data.email and existing.email == data.email else "external_id"
        raise LeadError(f"a lead with this {field} exists; use upsert", field=field, status=409)
    return upsert_lead(session, data=data, actor_type=actor_type, actor_id=actor_id).lead


def upsert_lead(
    session: Session, *, data: LeadCreate, actor_type: str = "api", actor_id: int | None = None,
    source: str | None = None, form_id: int | None = None,
) -> UpsertOutcome:
    """Create the lead or merge DATA into the existing one by email, else external id.

    FORM_ID (set once) is the capture form the lead came through; callers pass a form they checked.
    """
    if not data.email and not data.external_id:
        raise LeadError("a lead needs an email or an external_id", field="email")
    lead = find_lead(session, email=data.email, external_id=data.external_id)
    created = lead is None
    if lead is not None and data.external_id and lead.external_id is None:
        owner = find_lead(session, email=None, external_id=data.external_id)
        if owner is not None and owner.id != lead.id:
            raise LeadError(f"external_id {data.external_id!r} belongs to another lead (id {owner.id})",
                            field="external_id", status=409)
    now = utcnow()
    fields = _incoming(session, data, lead.country if lead else None)
    fields.update(_touch_columns("first", data.first_touch or data.last_touch))
    fields.update(_touch_columns("last", data.last_touch or data.first_touch))
    if form_id is not None:
        fields["form_id"] = form_id
    if fields.get("campaign_id") is None:
        campaign_id = _resolve_campaign(session, data.first_touch or data.last_touch)
        if campaign_id is not None:
            fields["campaign_id"] = campaign_id
    if created:
        lead = Lead(stage="prospect" if (data.email or data.external_id) else "suspect",
                    properties={}, created_at=data.created_at or now, updated_at=now)
        if data.stage and data.stage in ("suspect", "prospect"):
            lead.stage = data.stage
        session.add(lead)
    current = {k: getattr(lead, k) for k in fields}
    changes = merge_fields(current, fields)
    for field, (_, new) in changes.items():
        setattr(lead, field, new)
    props, prop_changes = merge_properties(lead.properties or {}, data.properties, data.properties_set_once)
    lead.properties = props
    if created or "email" in changes or "company_name" in changes:
        company_id = _company_for(session, email=lead.email, name=lead.company_name, industry=lead.industry,
                                  size=lead.company_size, country=lead.country)
        if company_id is not None:
            lead.company_id = company_id
    session.flush()
    if created:
        record_initial_stage(session, lead=lead, reason="created", actor_type=actor_type, actor_id=actor_id,
                             at=lead.created_at)
    else:
        all_changes = dict(changes)
        all_changes.update({f"properties.{k}": v for k, v in prop_changes.items()})
        _record_changes(session, lead=lead, changes=all_changes, source=source or actor_type)
        lead.updated_at = now
    _apply_consent(session, lead=lead, changes=changes, source=source or actor_type)
    _apply_stage_and_outcome(session, lead=lead, stage=data.stage, outcome=data.outcome, reason=None,
                             actor_type=actor_type, actor_id=actor_id)
    session.flush()
    changed = [] if created else sorted([*changes, *(f"properties.{k}" for k in prop_changes)])
    return UpsertOutcome(lead=lead, created=created, changed_fields=changed)


CONSENT_PURPOSES = {"marketing_email": "consent_email", "tracking": "consent_tracking"}


@dataclass(slots=True, frozen=True)
class ConsentProof:
    """Where a consent decision was given: the channel, the text version shown, the form, IP and browser."""

    source: str
    text_version: str | None = None
    form_id: int | None = None
    ip: str | None = None
    user_agent: str | None = None


def record_consent(session: Session, *, lead: Lead, purpose: str, state: str, proof: ConsentProof,
                   at: datetime | None = None) -> ConsentRecord:
    """Add a grant or withdrawal to LEAD's consent ledger, with its proof, and make it the current state.

    Every decision is recorded, also one that repeats the current state (a renewed grant under a
    new text version is evidence of its own).
    """
    if purpose not in CONSENT_PURPOSES or state not in ("granted", "denied"):
        raise LeadError(f"unknown consent purpose or state: {purpose!r} {state!r}", field="consent")
    setattr(lead, CONSENT_PURPOSES[purpose], state)
    record = ConsentRecord(lead_id=lead.id, purpose=purpose, state=state, source=proof.source[:64],
                           text_version=proof.text_version, form_id=proof.form_id, ip=proof.ip,
                           user_agent=proof.user_agent, recorded_at=at or utcnow())
    session.add(record)
    session.flush()
    return record


def _apply_consent(session: Session, *, lead: Lead, changes: dict[str, tuple[Any, Any]], source: str) -> None:
    for field, purpose in (("consent_email", "marketing_email"), ("consent_tracking", "tracking")):
        if field in changes and changes[field][1] in ("granted", "denied"):
            session.add(ConsentRecord(lead_id=lead.id, purpose=purpose, state=changes[field][1], source=source))


def update_lead(
    session: Session, *, lead: Lead, data: LeadUpdate, actor_type: str = "api", actor_id: int | None = None
) -> list[str]:
    """Apply DATA to LEAD (explicit edits overwrite any field); the changed field names."""
    fields = _incoming(session, data, lead.country)
    fields.update(_touch_columns("last", data.last_touch))
    for name in ("consent_email", "consent_tracking"):
        if name in fields and fields[name] is None:
            raise LeadError("consent cannot be emptied; send granted, denied or unknown", field=name)
    if "email" in fields and fields["email"] is None and not lead.external_id:
        raise LeadError("a lead needs an email or an external_id; this one has no external_id", field="email")
    if data.email and data.email != lead.email:
        other = find_lead(session, email=data.email, external_id=None)
        if other is not None and other.id != lead.id:
            raise LeadError("another lead has this email", field="email", status=409)
    changes: dict[str, tuple[Any, Any]] = {}
    for field, new in fields.items():
        old = getattr(lead, field)
        if old != new:
            changes[field] = (old, new)
            setattr(lead, field, new)
    props, prop_changes = merge_properties(lead.properties or {}, data.properties, data.properties_set_once)
    lead.properties = props
    all_changes = dict(changes)
    all_changes.update({f"properties.{k}": v for k, v in prop_changes.items()})
    _record_changes(session, lead=lead, changes=all_changes, source=actor_type)
    _apply_consent(session, lead=lead, changes=changes, source=actor_type)
    if data.stage is not None and data.stage != lead.stage and not (data.stage_reason or "").strip() \
            and data.stage in ("disqualified", "recycled"):
        raise LeadError(f"moving to {data.stage} needs a stage_reason", field="stage_reason")
    _apply_stage_and_outcome(session, lead=lead, stage=data.stage, outcome=data.outcome,
                             reason=data.stage_reason, actor_type=actor_type, actor_id=actor_id)
    if all_changes or data.stage or data.outcome:
        lead.updated_at = utcnow()
    session.flush()
    return sorted(all_changes)


def delete_lead(session: Session, *, lead: Lead) -> None:
    """Delete the lead and its timeline (right to erasure)."""
    session.execute(delete(Event).where(Event.lead_id == lead.id))
    session.delete(lead)
    session.flush()


# ---- listing ---------------------------------------------------------------------------------

def _filtered(session: Session, f: LeadFilter, *, walk_sort_index: bool = False) -> Select:
    stmt = select(Lead)
    cond = []
    if f.q:
        c = search_condition(session.get_bind().dialect.name, f.q, Lead.id, walk_sort_index=walk_sort_index)
        if c is not None:
            cond.append(c)
    if f.stage:
        cond.append(Lead.stage.in_(f.stage))
    if f.channel:
        cond.append(Lead.first_channel.in_(f.channel))
    if f.campaign_id:
        cond.append(Lead.campaign_id.in_(f.campaign_id))
    if f.owner_id:
        owners = [o for o in f.owner_id if o]
        parts = []
        if owners:
            parts.append(Lead.owner_id.in_(owners))
        if 0 in f.owner_id:
            parts.append(Lead.owner_id.is_(None))
        cond.append(or_(*parts))
    if f.outcome:
        parts = [Lead.outcome.in_([o for o in f.outcome if o != "open"])]
        if "open" in f.outcome:
            parts.append(Lead.outcome.is_(None))
        cond.append(or_(*parts))
    if f.country:
        cond.append(Lead.country.in_([c.upper() for c in f.country]))
    if f.grade:
        # Scoring writes the grade and the score together: a graded lead has a score. Saying so
        # lets a grade filter sorted by score walk the score index (see _order).
        cond.extend((Lead.fit_grade.in_(f.grade), Lead.score.is_not(None)))
    if f.min_score is not None:
        cond.append(Lead.score >= f.min_score)
    if f.max_score is not None:
        cond.append(Lead.score <= f.max_score)
    if f.min_intent is not None:
        cond.append(Lead.intent_score >= f.min_intent)
    if f.min_probability is not None:
        cond.append(Lead.conversion_probability >= f.min_probability)
    if f.created_from:
        cond.append(Lead.created_at >= datetime.combine(f.created_from, time.min))
    # The last representable day has no next day to compare with, and needs no bound anyway.
    if f.created_to and f.created_to < date.max:
        cond.append(Lead.created_at < datetime.combine(f.created_to + timedelta(days=1), time.min))
    return stmt.where(*cond) if cond else stmt


def _order(f: LeadFilter):
    desc = f.sort.startswith("-")
    key = f.sort.lstrip("-")
    if key == "last_name":
        cols = [Lead.last_name, Lead.first_name]
    elif key == "expected_value":
        # Not indexed: meant for short lists (the sales-ready leads), where it orders what sales calls first.
        value = Lead.conversion_probability * Lead.deal_value
        ordered = [value.desc().nulls_last() if desc else value.asc().nulls_first()]
        return [*ordered, *(_direction(c, desc=desc) for c in (Lead.conversion_probability, Lead.id))]
    elif key == "stage":
        # Stages sort in funnel order (their position), not alphabetically.
        cols = [case({k: d.position for k, d in STAGE_BY_KEY.items()}, value=Lead.stage, else_=0)]
    else:
        cols = [getattr(Lead, key)]
    cols.append(Lead.id)
    # Empty values sort as the smallest on both engines (SQLite's native order): first going up,
    # last going down, so "latest activity first" never opens on leads that have none.
    # PostgreSQL's indexes on those columns are built NULLS FIRST to match (leads/search.py and,
    # for the score columns, migration 0006); on NOT NULL columns the clause is left out.
    return [_direction(c, desc=desc) for c in cols]


def _direction(column, *, desc: bool):
    """COLUMN in this direction, NULLs as the smallest value."""
    ordered = column.desc() if desc else column.asc()
    if not getattr(column, "nullable", False):
        return ordered
    return ordered.nulls_last() if desc else ordered.nulls_first()


def count_leads(session: Session, *, filter: LeadFilter) -> int:
    stmt = _filtered(session, filter).with_only_columns(func.count()).select_from(Lead).order_by(None)
    return int(session.scalar(stmt) or 0)


def list_leads(
    session: Session, *, filter: LeadFilter, page: int = 1, page_size: int = 50
) -> tuple[int, Sequence[Lead]]:
    """(all leads matching FILTER, the leads of PAGE) in FILTER's order."""
    matches = count_matches(session, filter.q) if filter.q else None
    search_only = not filter.model_dump(exclude={"q", "sort"}, exclude_none=True)
    total = matches if matches is not None and search_only else count_leads(session, filter=filter)
    walk = matches is not None and matches > WALK_SORT_INDEX_ABOVE
    stmt = (_filtered(session, filter, walk_sort_index=walk).order_by(*_order(filter))
            .offset((page - 1) * page_size).limit(page_size))
    return total, session.scalars(stmt).all()


def list_latest_leads(session: Session, *, filter: LeadFilter, limit: int = 10) -> Sequence[Lead]:
    """The newest LIMIT leads matching FILTER (no count: for a short list beside other figures)."""
    return session.scalars(_filtered(session, filter).order_by(Lead.created_at.desc(), Lead.id.desc()).limit(limit)).all()


# ---- timeline --------------------------------------------------------------------------------

def append_event(session: Session, *, lead: Lead, data: EventIn, source: str = "api") -> tuple[Event, bool]:
    """Store one event on LEAD's timeline; (event, False) when its external_id was already stored."""
    if data.external_id:
        existing = session.scalar(select(Event).where(Event.external_id == data.external_id))
        if existing is not None:
            if existing.lead_id != lead.id:
                raise LeadError("this external_id belongs to another lead's event", field="external_id", status=409)
            return existing, False
    occurred = data.occurred_at or utcnow()
    event = Event(lead_id=lead.id, type=data.type, occurred_at=occurred, properties=data.properties,
                  external_id=data.external_id, source=source)
    session.add(event)
    if data.type not in ("property_change", "note") and (lead.last_activity_at is None or occurred > lead.last_activity_at):
        lead.last_activity_at = occurred
    if data.type == "unsubscribe" and lead.consent_email != "denied":
        lead.consent_email = "denied"
        session.add(ConsentRecord(lead_id=lead.id, purpose="marketing_email", state="denied", source=source))
    session.flush()
    return event, True


def list_events(session: Session, *, lead_id: int, limit: int = 200, before_id: int | None = None) -> list[Event]:
    """A lead's timeline, newest first."""
    stmt = select(Event).where(Event.lead_id == lead_id)
    if before_id is not None:
        stmt = stmt.where(Event.id < before_id)
    return list(session.scalars(stmt.order_by(Event.occurred_at.desc(), Event.id.desc()).limit(limit)))


def list_consent(session: Session, *, lead_id: int) -> list[ConsentRecord]:
    return list(session.scalars(
        select(ConsentRecord).where(ConsentRecord.lead_id == lead_id).order_by(ConsentRecord.recorded_at.desc())
    ))


def count_leads_by_grade(session: Session) -> dict[str | None, int]:
    """{fit grade (None: not graded yet): leads} in one grouped query."""
    rows = session.execute(select(Lead.fit_grade, func.count()).group_by(Lead.fit_grade))
    return {grade: int(n) for grade, n in rows}


def count_leads_by_campaign(session: Session) -> dict[int, int]:
    """{campaign id: leads} in one grouped query."""
    rows = session.execute(
        select(Lead.campaign_id, func.count()).where(Lead.campaign_id.is_not(None)).group_by(Lead.campaign_id)
    )
    return {cid: int(n) for cid, n in rows}
