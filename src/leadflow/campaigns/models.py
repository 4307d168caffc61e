"""Campaigns and their daily spend."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.db.base import Base, utcnow

CHANNELS = (
    "organic_search",
    "paid_search",
    "social",
    "paid_social",
    "email",
    "webinar",
    "trade_show",
    "referral",
    "direct",
    "display",
    "content",
    "other",
)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(32), index=True)
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200), unique=True)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignSpend(Base):
    """Money spent on a campaign on one day (the basis of cost per lead)."""

    __tablename__ = "campaign_spend"
    __table_args__ = (UniqueConstraint("campaign_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
