"""Factories that build data through the services (never by writing rows behind their back)."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from leadflow.leads.schemas import LeadCreate
from leadflow.leads.service import upsert_lead

_seq = itertools.count(1)


def make_lead(session: Session, **fields: Any):
    """A lead with a unique email unless one is given; extra fields as in LeadCreate."""
    n = next(_seq)
    fields.setdefault("email", f"lead{n}@example{n % 7}.com")
    fields.setdefault("first_name", f"First{n}")
    fields.setdefault("last_name", f"Last{n}")
    return upsert_lead(session, data=LeadCreate(**fields), actor_type="system").lead


def make_campaign(session: Session, **fields: Any):
    from leadflow.campaigns.schemas import CampaignIn
    from leadflow.campaigns.service import create_campaign

    n = next(_seq)
    fields.setdefault("name", f"Campaign {n}")
    fields.setdefault("channel", "email")
    return create_campaign(session, data=CampaignIn(**fields))
