"""The numbers on the dashboard until the KPI module (issue 6) replaces them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadflow.leads.models import Lead
from leadflow.lifecycle.stages import STAGES


def dashboard_context(session: Session) -> dict:
    """Lead counts by stage and in total, in one grouped query."""
    by_stage = dict(session.execute(select(Lead.stage, func.count()).group_by(Lead.stage)).all())
    total = sum(by_stage.values())
    customers = by_stage.get("customer", 0)
    return {
        "total_leads": total,
        "stages": [(s, by_stage.get(s.key, 0)) for s in STAGES],
        "conversion_rate": (customers / total) if total else None,
    }
