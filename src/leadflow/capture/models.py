"""Forms (with their fields, consent text versions and spam settings) and the raw submissions they receive."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.db.base import Base, BigId, JSONType, utcnow

SUCCESS_ACTIONS = ("message", "redirect", "magnet")
# pending: stored, to become a lead; processed: it did; quarantined: held by spam defence until a
# user releases it; invalid: refused with a 4xx (no usable email), kept as evidence; failed: the
# conversion raised, kept with the error for a retry.
SUBMISSION_STATUSES = ("pending", "processed", "quarantined", "invalid", "failed")


class Form(Base):
    """A lead capture form: its fields, language, consent text, success action and embedding rules."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(String(8), default="en")
    fields: Mapped[list] = mapped_column(JSONType, default=list)
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    submit_label: Mapped[str] = mapped_column(String(100), default="")
    success_action: Mapped[str] = mapped_column(String(16), default="message")
    success_message: Mapped[str] = mapped_column(Text, default="Thank you!")
    redirect_url: Mapped[str | None] = mapped_column(String(2000))
    # Consent: the current text and its version; every earlier version is kept in consent_versions.
    consent_enabled: Mapped[bool] = mapped_column(default=False)
    consent_required: Mapped[bool] = mapped_column(default=False)
    consent_text: Mapped[str] = mapped_column(Text, default="")
    consent_version: Mapped[int] = mapped_column(Integer, default=0)
    consent_versions: Mapped[list] = mapped_column(JSONType, default=list)
    # Double opt-in: a ticked consent box sends a confirmation email; the grant is recorded on the click.
    double_opt_in: Mapped[bool] = mapped_column(default=False)
    allowed_origins: Mapped[list] = mapped_column(JSONType, default=list)
    min_submit_seconds: Mapped[int] = mapped_column(Integer, default=2)
    is_active: Mapped[bool] = mapped_column(default=True)
    # The lead magnet: the file a visitor downloads after submitting (stored under data_dir/magnets).
    magnet_filename: Mapped[str | None] = mapped_column(String(255))
    magnet_stored: Mapped[str | None] = mapped_column(String(255))
    magnet_content_type: Mapped[str | None] = mapped_column(String(100))
    magnet_size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(Base):
    """One submission exactly as received, stored before anything else happens, and what became of it."""

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_status_id", "status", "id"),
        Index("ix_submissions_form_received", "form_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list] = mapped_column(JSONType, default=list)  # why quarantined or invalid
    payload: Mapped[dict] = mapped_column(JSONType)  # the submitted fields, as sent
    context: Mapped[dict] = mapped_column(JSONType, default=dict)  # ip, user agent, origin, referrer, page, UTM
    visitor_id: Mapped[str | None] = mapped_column(String(64))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    released_at: Mapped[datetime | None]


class OutboxEmail(Base):
    """An email written in the transaction that decided to send it, sent after that commit (capture.mailer)."""

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_sent_at_id", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))  # double_opt_in, ...
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
