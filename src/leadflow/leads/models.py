"""Leads, companies, the activity timeline, consent records and imports."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Float, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.db.base import Base, BigId, JSONType, utcnow

# BigInteger ids on PostgreSQL, INTEGER (the rowid alias) on SQLite.

TOUCH_FIELDS = (
    "channel",
    "source",
    "medium",
    "campaign",
    "content",
    "term",
    "referrer",
    "landing_page",
)


class Company(Base):
    """A company grouped by email domain (B2B account)."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    domain: Mapped[str | None] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    industry: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lead(Base):
    """A person who showed interest, with where they came from and where they stand."""

    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_created_at", "created_at"),
        Index("ix_leads_stage_created_at", "stage", "created_at"),
        # Stage and source together is the commonest combined filter; without it SQLite counts
        # by visiting every row of the channel (about 0.4 s on a million leads).
        Index("ix_leads_stage_channel_created_at", "stage", "first_channel", "created_at"),
        Index("ix_leads_channel_created_at", "first_channel", "created_at"),
        Index("ix_leads_campaign_created_at", "campaign_id", "created_at"),
        Index("ix_leads_owner_created_at", "owner_id", "created_at"),
        Index("ix_leads_last_activity_at", "last_activity_at"),
        Index("ix_leads_last_name", "last_name", "first_name"),
        Index("ix_leads_company_name", "company_name"),
        Index("ix_leads_engagement_score", "engagement_score"),
        Index("ix_leads_score", "score"),
        Index("ix_leads_fit_grade_score", "fit_grade", "score"),
        Index("ix_leads_intent_score", "intent_score"),
        Index("ix_leads_conversion_probability", "conversion_probability"),
        Index("ix_leads_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    job_title: Mapped[str | None] = mapped_column(String(200))
    company_name: Mapped[str | None] = mapped_column(String(255))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"), index=True)
    industry: Mapped[str | None] = mapped_column(String(120))
    company_size: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(120))
    website: Mapped[str | None] = mapped_column(String(255))
    properties: Mapped[dict] = mapped_column(JSONType, default=dict)

    # First touch is set once, last touch on every identified visit.
    first_channel: Mapped[str | None] = mapped_column(String(32))
    first_source: Mapped[str | None] = mapped_column(String(200))
    first_medium: Mapped[str | None] = mapped_column(String(200))
    first_campaign: Mapped[str | None] = mapped_column(String(200))
    first_content: Mapped[str | None] = mapped_column(String(200))
    first_term: Mapped[str | None] = mapped_column(String(200))
    first_referrer: Mapped[str | None] = mapped_column(Text)
    first_landing_page: Mapped[str | None] = mapped_column(Text)
    last_channel: Mapped[str | None] = mapped_column(String(32))
    last_source: Mapped[str | None] = mapped_column(String(200))
    last_medium: Mapped[str | None] = mapped_column(String(200))
    last_campaign: Mapped[str | None] = mapped_column(String(200))
    last_content: Mapped[str | None] = mapped_column(String(200))
    last_term: Mapped[str | None] = mapped_column(String(200))
    last_referrer: Mapped[str | None] = mapped_column(Text)
    last_landing_page: Mapped[str | None] = mapped_column(Text)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id", ondelete="SET NULL"), index=True)

    consent_email: Mapped[str] = mapped_column(String(16), default="unknown")  # granted|denied|unknown
    consent_tracking: Mapped[str] = mapped_column(String(16), default="unknown")

    stage: Mapped[str] = mapped_column(String(32), default="suspect")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    fit_grade: Mapped[str | None] = mapped_column(String(1))
    engagement_score: Mapped[float | None] = mapped_column(Float)
    # The active predictive model's calibrated probability of becoming a customer, as of
    # predicted_at, by prediction model version prediction_version.
    conversion_probability: Mapped[float | None] = mapped_column(Float)
    prediction_version: Mapped[int | None] = mapped_column(Integer)
    predicted_at: Mapped[datetime | None]
    # The score as of scored_at, by scoring model version score_version: a cache for lists and
    # filters. The lead page recomputes it (with its decay) at read time.
    score: Mapped[float | None] = mapped_column(Float)  # fit points + engagement + intent
    fit_points: Mapped[float | None] = mapped_column(Float)
    intent_score: Mapped[float | None] = mapped_column(Float)
    score_version: Mapped[int | None] = mapped_column(Integer)
    scored_at: Mapped[datetime | None]
    # BANT, set by sales or mapped from form answers; values in lifecycle.bant.
    bant_budget: Mapped[str | None] = mapped_column(String(32))
    bant_authority: Mapped[str | None] = mapped_column(String(32))
    bant_need: Mapped[str | None] = mapped_column(String(32))
    bant_timeline: Mapped[str | None] = mapped_column(String(32))
    bant_updated_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16), index=True)  # won | lost
    deal_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    lost_reason: Mapped[str | None] = mapped_column(String(200))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    converted_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None]


class Event(Base):
    """Append-only activity on the timeline of a lead (or of an anonymous visitor)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_lead_occurred", "lead_id", "occurred_at"),
        Index("ix_events_type_occurred", "type", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    visitor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    properties: Mapped[dict] = mapped_column(JSONType, default=dict)
    # Callers may send their own id so that a retried batch is not stored twice.
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(String(32), default="api")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentRecord(Base):
    """A grant or withdrawal of consent for one purpose, with its proof."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_lead_at", "lead_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))  # marketing_email | tracking
    state: Mapped[str] = mapped_column(String(16))  # granted | denied
    text_version: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64), default="api")
    form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id", ondelete="SET NULL"))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class LeadImport(Base):
    """One CSV import run, its mapping and its counts."""

    __tablename__ = "lead_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|done|failed|interrupted
    encoding: Mapped[str | None] = mapped_column(String(32))
    delimiter: Mapped[str | None] = mapped_column(String(4))
    mapping: Mapped[dict] = mapped_column(JSONType, default=dict)
    total_rows: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    report_path: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ImportRejection(Base):
    """A row an import did not take (or took with a warning), and why: nothing is dropped unrecorded."""

    __tablename__ = "import_rejections"
    __table_args__ = (Index("ix_import_rejections_import_row", "import_id", "row_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("lead_imports.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(8), default="error")  # error | warning
    raw: Mapped[dict] = mapped_column(JSONType, default=dict)
