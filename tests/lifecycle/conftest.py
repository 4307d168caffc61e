"""Leads the lifecycle tests start from."""

import pytest

from leadflow.db.session import get_sessionmaker
from leadflow.lifecycle.service import move_to_stage
from tests.factories import make_lead


@pytest.fixture
def lead_id(engine_clean):
    """A prospect, ana@acme.io, committed."""
    with get_sessionmaker()() as s, s.begin():
        return make_lead(s, email="ana@acme.io").id


@pytest.fixture
def mql_id(engine_clean):
    """A marketing-qualified lead, mql@acme.io, with no BANT answers, set by the API (rules leave it there)."""
    with get_sessionmaker()() as s, s.begin():
        lead = make_lead(s, email="mql@acme.io")
        move_to_stage(s, lead=lead, to_stage="mql", reason="set by the CRM", actor_type="api")
        return lead.id
