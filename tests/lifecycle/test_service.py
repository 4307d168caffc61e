"""move_to_stage: the one place a lead changes stage, and the history it writes."""

from datetime import datetime

import pytest
from sqlalchemy import select

from leadflow.lifecycle.models import StageChange
from leadflow.lifecycle.service import StageError, list_stage_changes, move_to_stage
from tests.factories import make_lead


def test_move_writes_a_stage_change_with_from_to_reason_actor_and_time(db, admin):
    lead = make_lead(db)
    at = datetime(2026, 5, 1, 9, 30)
    change = move_to_stage(db, lead=lead, to_stage="mql", reason="score 80", actor_type="user",
                           actor_id=admin["id"], at=at)
    db.flush()
    assert lead.stage == "mql"
    stored = db.scalar(select(StageChange).where(StageChange.id == change.id))
    assert (stored.lead_id, stored.from_stage, stored.to_stage, stored.reason) == (lead.id, "prospect", "mql", "score 80")
    assert (stored.actor_type, stored.actor_id, stored.changed_at) == ("user", admin["id"], at)


def test_history_is_oldest_first_from_creation(db):
    lead = make_lead(db)
    move_to_stage(db, lead=lead, to_stage="mql", reason="a", actor_type="rule", at=datetime(2030, 1, 1))
    move_to_stage(db, lead=lead, to_stage="sql", reason="b", actor_type="user", at=datetime(2030, 1, 2))
    db.flush()
    history = list_stage_changes(db, lead_id=lead.id)
    assert [(h.from_stage, h.to_stage) for h in history] == [(None, "prospect"), ("prospect", "mql"), ("mql", "sql")]


def test_unknown_stage_is_refused(db):
    lead = make_lead(db)
    with pytest.raises(StageError, match="unknown stage"):
        move_to_stage(db, lead=lead, to_stage="hot", reason="x", actor_type="user")
    assert lead.stage == "prospect"


def test_unknown_actor_type_is_refused(db):
    lead = make_lead(db)
    with pytest.raises(StageError, match="actor"):
        move_to_stage(db, lead=lead, to_stage="mql", reason="x", actor_type="robot")


@pytest.mark.parametrize("stage", ["disqualified", "recycled"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_disqualify_and_recycle_need_a_reason(db, stage, reason):
    lead = make_lead(db)
    with pytest.raises(StageError, match="reason"):
        move_to_stage(db, lead=lead, to_stage=stage, reason=reason, actor_type="user")
    assert lead.stage == "prospect"
    assert move_to_stage(db, lead=lead, to_stage=stage, reason="no budget", actor_type="user") is not None


def test_customer_gets_converted_at_once(db):
    lead = make_lead(db)
    first = datetime(2026, 6, 1)
    move_to_stage(db, lead=lead, to_stage="customer", reason="signed", actor_type="user", at=first)
    assert lead.converted_at == first
    move_to_stage(db, lead=lead, to_stage="recycled", reason="churned", actor_type="user", at=datetime(2026, 7, 1))
    move_to_stage(db, lead=lead, to_stage="customer", reason="came back", actor_type="user", at=datetime(2026, 8, 1))
    assert lead.converted_at == first


def test_only_a_person_moves_a_customer_out(db):
    lead = make_lead(db)
    move_to_stage(db, lead=lead, to_stage="customer", reason="signed", actor_type="user")
    with pytest.raises(StageError, match="customer"):
        move_to_stage(db, lead=lead, to_stage="mql", reason="rule fired", actor_type="rule")
    assert lead.stage == "customer"


def test_same_stage_is_a_no_op(db):
    lead = make_lead(db)
    db.flush()
    before = len(list_stage_changes(db, lead_id=lead.id))
    assert move_to_stage(db, lead=lead, to_stage="prospect", reason="again", actor_type="user") is None
    db.flush()
    assert len(list_stage_changes(db, lead_id=lead.id)) == before
