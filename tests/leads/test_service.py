"""Lead services below the API: companies, consent records, timeline activity, query counts."""

from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import event, select

from leadflow.leads.models import Company, ConsentRecord
from leadflow.leads.schemas import EventIn, LeadCreate, LeadFilter, LeadUpdate
from leadflow.leads.service import (
    LeadError,
    append_event,
    create_lead,
    list_consent,
    list_leads,
    update_lead,
    upsert_lead,
)
from tests.factories import make_lead


@contextmanager
def count_queries(session):
    """Counts the SQL statements run on SESSION's connection inside the block."""
    seen: list[str] = []
    engine = session.get_bind()

    def before(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_leads_of_one_business_domain_share_a_company(db):
    a = make_lead(db, email="ana@acme.es", company_name="Acme")
    b = make_lead(db, email="bo@acme.es")
    c = make_lead(db, email="cy@gmail.com", company_name="Freelance")
    assert a.company_id is not None and a.company_id == b.company_id
    assert c.company_id is None
    assert db.scalar(select(Company.name).where(Company.id == a.company_id)) == "Acme"


def test_consent_changes_are_recorded_with_their_source(db):
    lead = upsert_lead(db, data=LeadCreate(email="ana@acme.es", consent_email="granted"), actor_type="api",
                       source="form").lead
    update_lead(db, lead=lead, data=LeadUpdate(consent_email="denied"), actor_type="user")
    db.flush()
    records = [(r.purpose, r.state, r.source) for r in reversed(list_consent(db, lead_id=lead.id))]
    assert records == [("marketing_email", "granted", "form"), ("marketing_email", "denied", "user")]


def test_unknown_consent_writes_no_record(db):
    lead = make_lead(db, consent_tracking="unknown")
    db.flush()
    assert db.scalars(select(ConsentRecord).where(ConsentRecord.lead_id == lead.id)).all() == []


def test_older_event_does_not_move_last_activity_back(db):
    lead = make_lead(db)
    append_event(db, lead=lead, data=EventIn(type="download", occurred_at=datetime(2026, 5, 2)))
    append_event(db, lead=lead, data=EventIn(type="page_view", occurred_at=datetime(2026, 5, 1)))
    append_event(db, lead=lead, data=EventIn(type="note", occurred_at=datetime(2026, 6, 1)))
    assert lead.last_activity_at == datetime(2026, 5, 2)


def test_create_refuses_a_lead_without_identity(db):
    with pytest.raises(LeadError) as exc:
        create_lead(db, data=LeadCreate(first_name="Nobody"))
    assert exc.value.field == "email"


def test_created_at_from_the_past_is_kept_and_starts_the_history(db):
    lead = make_lead(db, created_at=datetime(2024, 3, 1, 12, 0))
    assert lead.created_at == datetime(2024, 3, 1, 12, 0)


def test_listing_costs_the_same_queries_for_any_number_of_leads(db):
    def list_and_read() -> int:
        with count_queries(db) as seen:
            total, items = list_leads(db, filter=LeadFilter(q="acme", stage=["mql"]), page_size=50)
            _ = [(lead.email, lead.company_name, lead.stage) for lead in items]
        assert total == len(items)
        return len(seen)

    for i in range(3):
        make_lead(db, email=f"q{i}@acme.es", company_name="Acme", stage="mql")
    db.commit()
    few = list_and_read()
    for i in range(3, 40):
        make_lead(db, email=f"q{i}@acme.es", company_name="Acme", stage="mql")
    db.commit()
    assert list_and_read() == few <= 4  # a count, a page, perhaps a planning probe: never one per row
