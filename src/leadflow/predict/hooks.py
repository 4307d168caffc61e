"""Re-price changed leads as their transaction commits: the incremental path of predictive scoring."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.db.changes import on_leads_changed


def _predict(session: Session, lead_ids: set[int]) -> None:
    from leadflow.predict.models import PredictionModel

    # Most workspaces have no active model: one small query, and the model code is never loaded.
    if session.scalar(select(PredictionModel.version).where(PredictionModel.status == "active")) is None:
        return
    from leadflow.predict.service import predict_leads

    predict_leads(session, lead_ids=lead_ids)


def install() -> None:
    """Price changed leads before each commit, before scoring (idempotent; the app, the CLI and the tests call it)."""
    on_leads_changed(_predict)
