"""HTTP API for leads and their events under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.responses import StreamingResponse

from leadflow.auth.deps import DB, ApiUser
from leadflow.db.session import get_engine, serialized_writes, unit_of_work
from leadflow.leads.events import append_events
from leadflow.leads.exporting import iter_csv
from leadflow.leads.models import Lead
from leadflow.leads.schemas import (
    EventBatchIn,
    EventBatchOut,
    EventIn,
    EventOut,
    LeadCreate,
    LeadFilter,
    LeadOut,
    LeadPage,
    LeadUpdate,
    StageChangeOut,
    UpsertResult,
)
from leadflow.leads.service import (
    append_event,
    create_lead,
    delete_lead,
    get_lead,
    list_events,
    list_leads,
    update_lead,
    upsert_lead,
)
from leadflow.lifecycle.service import list_stage_changes

router = APIRouter(prefix="/api/v1", tags=["leads"])


# Lead ids are 64-bit; a larger number in the path names no lead (and would overflow the query).
_MAX_LEAD_ID = 2**63 - 1


def lead_or_404(lead_id: int, db: DB, user: ApiUser) -> Lead:
    lead = get_lead(db, lead_id=lead_id) if 1 <= lead_id <= _MAX_LEAD_ID else None
    if lead is None:
        raise HTTPException(404, f"lead_id: no lead with id {lead_id}")
    return lead


LeadDep = Annotated[Lead, Depends(lead_or_404)]


def lead_filter(
    q: str | None = Query(None, max_length=200, description="Words starting a name, email, company or external id"),
    stage: list[str] | None = Query(None),
    channel: list[str] | None = Query(None, description="First-touch channel"),
    campaign_id: list[int] | None = Query(None),
    owner_id: list[int] | None = Query(None, description="0 for unassigned"),
    outcome: list[str] | None = Query(None),
    country: list[str] | None = Query(None),
    created_from: str | None = Query(None, description="YYYY-MM-DD"),
    created_to: str | None = Query(None, description="YYYY-MM-DD, inclusive"),
    grade: list[str] | None = Query(None, description="Fit grade A-D"),
    min_score: str | None = Query(None, description="Score at least this"),
    max_score: str | None = Query(None, description="Score at most this"),
    min_intent: str | None = Query(None, description="Intent score at least this"),
    min_probability: str | None = Query(None, description="Conversion probability at least this (0 to 1)"),
    sort: str = Query("-created_at"),
) -> LeadFilter:
    """The list filter from query parameters, validated by LeadFilter (422 names the field)."""
    from fastapi.exceptions import RequestValidationError
    from pydantic import ValidationError

    try:
        return LeadFilter(q=q, stage=stage, channel=channel, campaign_id=campaign_id, owner_id=owner_id,
                          outcome=outcome, country=country, created_from=created_from or None,
                          created_to=created_to or None, grade=grade, min_score=min_score or None,
                          max_score=max_score or None, min_intent=min_intent or None,
                          min_probability=min_probability or None, sort=sort)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from None


FilterDep = Annotated[LeadFilter, Depends(lead_filter)]


@router.get("/leads", response_model=LeadPage, summary="List leads")
def api_list_leads(
    db: DB, user: ApiUser, f: FilterDep,
    page: int = Query(1, ge=1, le=100_000), page_size: int = Query(50, ge=1, le=500),
) -> LeadPage:
    total, items = list_leads(db, filter=f, page=page, page_size=page_size)
    return LeadPage(total=total, page=page, page_size=page_size,
                    items=[LeadOut.model_validate(i) for i in items])


@router.get("/leads.csv", summary="Export the filtered leads as CSV", response_class=StreamingResponse)
def api_export_leads(user: ApiUser, f: FilterDep) -> StreamingResponse:
    return StreamingResponse(iter_csv(get_engine(), f), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="leads.csv"'})


@router.post("/leads", response_model=LeadOut, status_code=201, summary="Create a lead")
def api_create_lead(data: LeadCreate, db: DB, user: ApiUser) -> LeadOut:
    return LeadOut.model_validate(create_lead(db, data=data, actor_type="api", actor_id=user.id))


@router.put("/leads", response_model=UpsertResult, summary="Create or merge a lead by email (else external_id)")
def api_upsert_lead(data: LeadCreate, db: DB, user: ApiUser, response: Response) -> UpsertResult:
    result = upsert_lead(db, data=data, actor_type="api", actor_id=user.id)
    response.status_code = 201 if result.created else 200
    return UpsertResult(created=result.created, changed_fields=result.changed_fields,
                        lead=LeadOut.model_validate(result.lead))


@router.get("/leads/{lead_id}", response_model=LeadOut, summary="Read a lead")
def api_get_lead(lead: LeadDep, user: ApiUser) -> LeadOut:
    return LeadOut.model_validate(lead)


@router.patch("/leads/{lead_id}", response_model=LeadOut, summary="Change a lead")
def api_update_lead(lead: LeadDep, data: LeadUpdate, db: DB, user: ApiUser) -> LeadOut:
    update_lead(db, lead=lead, data=data, actor_type="user", actor_id=user.id)
    return LeadOut.model_validate(lead)


@router.delete("/leads/{lead_id}", status_code=204, summary="Delete a lead and its timeline")
def api_delete_lead(lead: LeadDep, db: DB, user: ApiUser) -> Response:
    delete_lead(db, lead=lead)
    return Response(status_code=204)


@router.post("/leads/{lead_id}/events", response_model=EventOut, status_code=201, summary="Append an event")
def api_append_event(lead: LeadDep, data: EventIn, db: DB, user: ApiUser, response: Response) -> EventOut:
    event, created = append_event(db, lead=lead, data=data, source="api")
    if not created:
        response.status_code = 200
    return EventOut.model_validate(event)


@router.post("/events", response_model=EventBatchOut, summary="Append a batch of events (up to 1,000)")
def api_append_events(data: EventBatchIn, db: DB, user: ApiUser) -> EventBatchOut:
    """Server-side events (trial usage, webinar attendance, calls, ...) for leads named by id, email or
    external id, or for anonymous visitors. Idempotent by each event's optional `external_id`; events
    naming no known lead are listed in `rejected` with the reason, the others are stored."""
    with serialized_writes(), unit_of_work() as session:
        result = append_events(session, events=data.events, source="api")
    return EventBatchOut(stored=result.stored, duplicates=result.duplicates,
                         rejected=[{"index": i, "field": f, "message": m} for i, f, m in result.rejected])


@router.get("/leads/{lead_id}/events", response_model=list[EventOut], summary="A lead's timeline, newest first")
def api_list_events(
    lead: LeadDep, db: DB, user: ApiUser,
    limit: int = Query(200, ge=1, le=1000), before_id: int | None = Query(None, ge=1, le=_MAX_LEAD_ID),
) -> list[EventOut]:
    return [EventOut.model_validate(e) for e in list_events(db, lead_id=lead.id, limit=limit, before_id=before_id)]


@router.get("/leads/{lead_id}/stage-changes", response_model=list[StageChangeOut], summary="A lead's stage history")
def api_stage_changes(lead: LeadDep, db: DB, user: ApiUser) -> list[StageChangeOut]:
    return [StageChangeOut.model_validate(c) for c in list_stage_changes(db, lead_id=lead.id)]
