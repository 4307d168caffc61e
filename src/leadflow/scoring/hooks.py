"""Rescore leads as their transaction commits: the incremental path of scoring."""

from __future__ import annotations

from sqlalchemy.orm import Session

from leadflow.db.changes import on_leads_changed


def _rescore(session: Session, lead_ids: set[int]) -> None:
    from leadflow.scoring.service import rescore_leads

    rescore_leads(session, lead_ids=lead_ids)


def install() -> None:
    """Score changed leads before each commit (idempotent; the app, the CLI and the worker call it)."""
    on_leads_changed(_rescore)
