"""The numbers on the dashboard until the KPI module (issue 6) replaces them: grouped aggregates only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from leadflow.db.base import utcnow
from leadflow.leads.models import Lead
from leadflow.lifecycle.stages import FUNNEL, STAGES

RECENT_LEADS = 10
PERIOD_DAYS = 30


def dashboard_context(session: Session) -> dict:
    """Totals, the 30-day trend, the stage funnel, channels and the latest leads (five queries)."""
    now = utcnow()
    start = now - timedelta(days=PERIOD_DAYS)
    before = start - timedelta(days=PERIOD_DAYS)
    by_stage = dict(session.execute(select(Lead.stage, func.count()).group_by(Lead.stage)).all())
    recent, previous = session.execute(select(
        func.coalesce(func.sum(case((Lead.created_at >= start, 1), else_=0)), 0),
        func.coalesce(func.sum(case(((Lead.created_at >= before) & (Lead.created_at < start), 1), else_=0)), 0),
    ).where(Lead.created_at >= before)).one()
    by_channel = session.execute(
        select(Lead.first_channel, func.count()).group_by(Lead.first_channel).order_by(func.count().desc())
    ).all()
    latest = session.scalars(select(Lead).order_by(Lead.created_at.desc(), Lead.id.desc()).limit(RECENT_LEADS)).all()

    total = sum(by_stage.values())
    customers = by_stage.get("customer", 0)
    recent, previous = int(recent), int(previous)
    stages = [(s, by_stage.get(s.key, 0)) for s in STAGES]
    widest = max([n for _, n in stages] + [1])
    channel_max = max([n for _, n in by_channel] + [1])
    return {
        "total_leads": total,
        "customers": customers,
        "conversion_rate": (customers / total) if total else None,
        "new_leads": recent,
        "previous_leads": previous,
        "trend": ((recent - previous) / previous) if previous else None,
        "period_days": PERIOD_DAYS,
        "stages": stages,
        "funnel_keys": FUNNEL,
        "stage_max": widest,
        "channels": [(c, n) for c, n in by_channel],
        "channel_max": channel_max,
        "open_leads": sum(n for s, n in stages if s.is_open),
        "recent_leads": latest,
    }
