"""Campaign services: create, change, list with totals, record spend."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadflow.campaigns.models import Campaign, CampaignSpend
from leadflow.campaigns.schemas import CampaignIn, CampaignPatch, SpendIn


class CampaignError(ValueError):
    def __init__(self, message: str, *, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.field = field
        self.status = status


def get_campaign(session: Session, *, campaign_id: int) -> Campaign | None:
    return session.get(Campaign, campaign_id)


def find_campaign_by_utm(session: Session, *, utm_campaign: str) -> Campaign | None:
    return session.scalar(select(Campaign).where(func.lower(Campaign.utm_campaign) == utm_campaign.strip().lower()))


def list_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.name)))


def _check_unique(session: Session, *, name: str | None, utm: str | None, exclude_id: int | None) -> None:
    if name:
        other = session.scalar(select(Campaign).where(Campaign.name == name))
        if other is not None and other.id != exclude_id:
            raise CampaignError(f"a campaign named {name!r} exists", field="name", status=409)
    if utm:
        other = find_campaign_by_utm(session, utm_campaign=utm)
        if other is not None and other.id != exclude_id:
            raise CampaignError(f"utm_campaign {utm!r} belongs to campaign {other.name!r}", field="utm_campaign", status=409)


def create_campaign(session: Session, *, data: CampaignIn) -> Campaign:
    _check_unique(session, name=data.name, utm=data.utm_campaign, exclude_id=None)
    campaign = Campaign(**data.model_dump())
    session.add(campaign)
    session.flush()
    return campaign


def change_campaign(session: Session, *, campaign: Campaign, data: CampaignPatch) -> Campaign:
    values = data.model_dump(exclude_unset=True)
    _check_unique(session, name=values.get("name"), utm=values.get("utm_campaign"), exclude_id=campaign.id)
    for key, value in values.items():
        setattr(campaign, key, value)
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        raise CampaignError("ends_on is before starts_on", field="ends_on")
    session.flush()
    return campaign


def delete_campaign(session: Session, *, campaign: Campaign) -> None:
    session.delete(campaign)
    session.flush()


def record_spend(session: Session, *, campaign: Campaign, entries: list[SpendIn]) -> int:
    """Set the spend of each given day (a later entry for a day replaces the earlier)."""
    existing = {
        s.day: s for s in session.scalars(
            select(CampaignSpend).where(CampaignSpend.campaign_id == campaign.id,
                                        CampaignSpend.day.in_([e.day for e in entries]))
        )
    }
    for e in entries:
        row = existing.get(e.day)
        if row is None:
            row = CampaignSpend(campaign_id=campaign.id, day=e.day, amount=e.amount)
            session.add(row)
            existing[e.day] = row
        else:
            row.amount = e.amount
    session.flush()
    return len(entries)


MAX_SPEND_RANGE_DAYS = 366  # one form entry covers at most a year: a longer range is more likely a typo


def record_daily_spend(session: Session, *, campaign: Campaign, first_day: date, last_day: date | None,
                       amount: Decimal) -> int:
    """Set AMOUNT as the spend of every day from FIRST_DAY to LAST_DAY (inclusive); the number of days."""
    last_day = last_day or first_day
    if last_day < first_day:
        raise CampaignError("the last day is before the first day", field="last_day")
    days = (last_day - first_day).days + 1
    if days > MAX_SPEND_RANGE_DAYS:
        raise CampaignError(f"at most {MAX_SPEND_RANGE_DAYS} days at once ({days} given)", field="last_day")
    return record_spend(session, campaign=campaign, entries=[
        SpendIn(day=first_day + timedelta(days=i), amount=amount) for i in range(days)])


def list_spend(session: Session, *, campaign_id: int) -> list[CampaignSpend]:
    return list(session.scalars(select(CampaignSpend).where(CampaignSpend.campaign_id == campaign_id).order_by(CampaignSpend.day)))


def spend_by_campaign(session: Session) -> dict[int, Decimal]:
    """{campaign id: total spend} in one aggregate query."""
    rows = session.execute(select(CampaignSpend.campaign_id, func.sum(CampaignSpend.amount)).group_by(CampaignSpend.campaign_id))
    return {cid: Decimal(total or 0) for cid, total in rows}
