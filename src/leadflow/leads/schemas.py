"""API shapes for leads, events and consent (pydantic), separate from the ORM models."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from leadflow.leads.normalize import (
    InvalidValue,
    clean_name,
    clean_text,
    normalize_country,
    normalize_email,
)
from leadflow.schemas import MAX_ID, DbId, InputDatetime, InputModel, UtcDatetime, check_storable

Stage = Literal["suspect", "prospect", "mql", "sql", "customer", "disqualified", "recycled"]
Consent = Literal["granted", "denied", "unknown"]
Outcome = Literal["won", "lost"]


def _wrap(fn):
    def check(v):
        try:
            return fn(v)
        except InvalidValue as exc:
            raise ValueError(str(exc)) from None

    return check


class Touch(InputModel):
    """Where a visit came from: UTM fields, referrer, landing page."""

    channel: str | None = Field(None, max_length=32)
    source: str | None = Field(None, max_length=200, description="utm_source")
    medium: str | None = Field(None, max_length=200, description="utm_medium")
    campaign: str | None = Field(None, max_length=200, description="utm_campaign")
    content: str | None = Field(None, max_length=200, description="utm_content")
    term: str | None = Field(None, max_length=200, description="utm_term")
    referrer: str | None = Field(None, max_length=2000)
    landing_page: str | None = Field(None, max_length=2000)


class LeadFields(InputModel):
    """Contact and company fields shared by create, upsert and update."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    first_name: Annotated[str | None, AfterValidator(_wrap(clean_name))] = Field(None, max_length=120)
    last_name: Annotated[str | None, AfterValidator(_wrap(clean_name))] = Field(None, max_length=120)
    phone: str | None = Field(None, max_length=64, description="Any format; stored as E.164 (needs country for national numbers).")
    job_title: str | None = Field(None, max_length=200)
    company_name: str | None = Field(None, max_length=255)
    industry: str | None = Field(None, max_length=120)
    company_size: str | None = Field(None, max_length=32)
    country: Annotated[str | None, AfterValidator(_wrap(normalize_country))] = Field(
        None, max_length=100, description="ISO 3166 code or English/Spanish name."
    )
    city: str | None = Field(None, max_length=120)
    website: str | None = Field(None, max_length=255)
    owner_id: DbId | None = None
    deal_value: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    lost_reason: str | None = Field(None, max_length=200)
    consent_email: Consent | None = None
    consent_tracking: Consent | None = None
    properties: dict[str, Any] | None = Field(None, description="Custom properties, set (overwrite) per key.")
    properties_set_once: dict[str, Any] | None = Field(None, description="Custom properties set only when absent.")

    @field_validator("job_title", "company_name", "industry", "company_size", "city", "website", "lost_reason")
    @classmethod
    def _clean(cls, v: str | None) -> str | None:
        return clean_text(v)

    @field_validator("properties", "properties_set_once")
    @classmethod
    def _props(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is None:
            return v
        if len(v) > 200:
            raise ValueError("at most 200 custom properties")
        for key, val in v.items():
            if not key or len(key) > 100:
                raise ValueError(f"property name {key!r} must be 1-100 characters")
            if isinstance(val, (dict, list)):
                raise ValueError(f"property {key!r} must be a string, number, boolean or null")
            if isinstance(val, str) and len(val) > 10_000:
                raise ValueError(f"property {key!r} is longer than 10000 characters")
        return v


class LeadCreate(LeadFields):
    """A new lead; email or external_id identifies it."""

    email: Annotated[str | None, AfterValidator(_wrap(normalize_email))] = Field(None, max_length=320)
    external_id: str | None = Field(None, max_length=200, description="A stable id from another system.")
    stage: Stage | None = None
    outcome: Outcome | None = None
    first_touch: Touch | None = None
    last_touch: Touch | None = None
    campaign_id: DbId | None = None
    created_at: InputDatetime | None = Field(None, description="When the lead first appeared (default now).")


class LeadUpdate(LeadFields):
    """Fields to change on an existing lead; a stage change needs a reason."""

    email: Annotated[str | None, AfterValidator(_wrap(normalize_email))] = Field(None, max_length=320)
    stage: Stage | None = None
    stage_reason: str | None = Field(None, max_length=500)
    outcome: Outcome | None = None
    last_touch: Touch | None = None
    campaign_id: DbId | None = None


class LeadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str | None
    external_id: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None
    job_title: str | None
    company_name: str | None
    company_id: int | None
    industry: str | None
    company_size: str | None
    country: str | None
    city: str | None
    website: str | None
    properties: dict[str, Any]
    first_channel: str | None
    first_source: str | None
    first_medium: str | None
    first_campaign: str | None
    first_content: str | None
    first_term: str | None
    first_referrer: str | None
    first_landing_page: str | None
    last_channel: str | None
    last_source: str | None
    last_medium: str | None
    last_campaign: str | None
    last_content: str | None
    last_term: str | None
    last_referrer: str | None
    last_landing_page: str | None
    campaign_id: int | None
    form_id: int | None
    consent_email: str
    consent_tracking: str
    stage: str
    owner_id: int | None
    fit_grade: str | None
    engagement_score: float | None
    conversion_probability: float | None
    score: float | None
    fit_points: float | None
    intent_score: float | None
    score_version: int | None
    scored_at: UtcDatetime | None
    outcome: str | None
    deal_value: Decimal | None
    lost_reason: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    converted_at: UtcDatetime | None
    last_activity_at: UtcDatetime | None


class LeadPage(BaseModel):
    total: int = Field(description="All leads matching the filter.")
    page: int
    page_size: int
    items: list[LeadOut]


class UpsertResult(BaseModel):
    created: bool
    changed_fields: list[str]
    lead: LeadOut


EVENT_TYPES = (
    "page_view", "form_submit", "download", "email_open", "email_click", "email_sent", "webinar",
    "trial_usage", "call", "meeting", "unsubscribe", "bounce", "note", "property_change", "import",
    "merge", "consent",
)


class EventFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$", description="e.g. page_view, download, webinar")
    occurred_at: InputDatetime | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    external_id: str | None = Field(None, max_length=200, description="Idempotency key: a repeated id is stored once.")

    @field_validator("properties")
    @classmethod
    def _size(cls, v: dict[str, Any]) -> dict[str, Any]:
        if len(v) > 100:
            raise ValueError("at most 100 event properties")
        return v


class EventIn(InputModel, EventFields):
    """One event for one lead's timeline."""


MAX_BATCH_EVENTS = 1_000


class BatchEventIn(EventFields):
    """An event of a batch, naming its lead (id, email or external id) or an anonymous visitor.

    Unlike InputModel, which checks every field for unstorable values (NUL, NaN) one by one, the
    whole event is checked in one walk: a request carries up to 1,000 of them.
    """

    @model_validator(mode="before")
    @classmethod
    def _storable_event(cls, data: Any) -> Any:
        return check_storable(data)

    lead_id: DbId | None = None
    email: Annotated[str | None, AfterValidator(_wrap(normalize_email))] = Field(None, max_length=320)
    lead_external_id: str | None = Field(None, max_length=200)
    visitor_id: str | None = Field(None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _identified(self) -> BatchEventIn:
        if not (self.lead_id or self.email or self.lead_external_id or self.visitor_id):
            raise ValueError("an event needs lead_id, email, lead_external_id or visitor_id")
        return self


class EventBatchIn(InputModel):
    events: list[BatchEventIn] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


class RejectedEvent(BaseModel):
    index: int
    field: str
    message: str


class EventBatchOut(BaseModel):
    stored: int = Field(description="Events written by this request.")
    duplicates: int = Field(description="Events whose external_id was already stored (or repeated in the batch).")
    rejected: list[RejectedEvent] = Field(description="Events not stored, with why (e.g. no such lead).")


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    lead_id: int | None
    type: str
    occurred_at: UtcDatetime
    properties: dict[str, Any]
    external_id: str | None
    source: str


class StageChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    from_stage: str | None
    to_stage: str
    reason: str
    actor_type: str
    actor_id: int | None
    changed_at: UtcDatetime


class ConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    purpose: str
    state: str
    text_version: str | None
    source: str
    form_id: int | None
    ip: str | None
    recorded_at: UtcDatetime


SORTS = (
    "created_at", "-created_at", "last_activity_at", "-last_activity_at", "last_name", "-last_name",
    "company_name", "-company_name", "email", "-email", "engagement_score", "-engagement_score",
    "updated_at", "-updated_at", "stage", "-stage", "score", "-score", "intent_score", "-intent_score",
    "fit_grade", "-fit_grade", "conversion_probability", "-conversion_probability",
    # probability x deal value; leads without a deal value sort after those with one.
    "expected_value", "-expected_value",
)
Grade = Literal["A", "B", "C", "D"]
# Score bounds a filter may give: finite, and far beyond anything a model can produce.
ScoreBound = Annotated[float, Field(ge=-1e9, le=1e9, allow_inf_nan=False)]


class LeadFilter(InputModel):
    """The filters of the leads list, identical in the UI, the API, the CLI and exports."""

    q: str | None = Field(None, max_length=200, description="Words that start a name, email, company or external id.")
    stage: list[Stage] | None = None
    channel: list[str] | None = Field(None, description="First-touch channel (the lead's source).")
    campaign_id: list[DbId] | None = None
    owner_id: list[Annotated[int, Field(ge=0, le=MAX_ID)]] | None = Field(None, description="0 means unassigned.")
    outcome: list[Literal["won", "lost", "open"]] | None = None
    country: list[str] | None = None
    created_from: date | None = None
    created_to: date | None = None
    grade: list[Grade] | None = Field(None, description="Fit grade, A (best) to D.")
    min_score: ScoreBound | None = Field(None, description="Score at least this (the cached score).")
    max_score: ScoreBound | None = Field(None, description="Score at most this.")
    min_intent: ScoreBound | None = Field(None, description="Intent score at least this.")
    min_probability: float | None = Field(None, ge=0, le=1, allow_inf_nan=False,
                                          description="Conversion probability at least this (0 to 1).")
    sort: Literal[SORTS] = "-created_at"  # type: ignore[valid-type]

    @field_validator("grade", mode="before")
    @classmethod
    def _upper_grades(cls, v: Any) -> Any:
        return [g.strip().upper() if isinstance(g, str) else g for g in v] if isinstance(v, list) else v

    @field_validator("max_score")
    @classmethod
    def _score_range(cls, v: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("min_score")
        if v is not None and low is not None and v < low:
            raise ValueError(f"{v:g} is below min_score {low:g}")
        return v
