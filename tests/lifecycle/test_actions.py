"""Manual lifecycle actions on the real database: BANT answers, moves with reason codes, sales review."""

from datetime import datetime, timedelta

import pytest

from leadflow.leads.service import list_events
from leadflow.lifecycle.reasons import reason_label, split_reason
from leadflow.lifecycle.service import (
    LifecycleError,
    accept_lead,
    list_stage_changes,
    move_lead,
    move_to_stage,
    reject_lead,
    set_bant,
)
from tests.factories import make_lead

ANSWERED = {"budget": "confirmed", "authority": "decision_maker", "need": "confirmed", "timeline": "under_3_months"}


def _mql(db, **fields):
    lead = make_lead(db, **fields)
    move_to_stage(db, lead=lead, to_stage="mql", reason="score 70", actor_type="rule")
    return lead


# ---- BANT ------------------------------------------------------------------------------------

def test_set_bant_changes_only_the_fields_given_and_records_them_on_the_timeline(db, admin):
    lead = make_lead(db)
    at = datetime(2026, 3, 2, 10, 0)
    changes = set_bant(db, lead=lead, budget="confirmed", need="possible", actor_type="user",
                       actor_id=admin["id"], at=at)
    assert changes == {"budget": (None, "confirmed"), "need": (None, "possible")}
    assert (lead.bant_budget, lead.bant_authority, lead.bant_need, lead.bant_timeline) == (
        "confirmed", None, "possible", None)
    assert lead.bant_updated_at == at
    set_bant(db, lead=lead, timeline="over_12_months", actor_type="user", actor_id=admin["id"])
    assert (lead.bant_budget, lead.bant_need, lead.bant_timeline) == ("confirmed", "possible", "over_12_months")
    events = [e for e in list_events(db, lead_id=lead.id) if e.type == "property_change"]
    assert len(events) == 2
    first = min(events, key=lambda e: e.occurred_at)
    assert first.occurred_at == at
    assert first.source == "user"
    assert first.properties["changes"] == [{"field": "bant_budget", "from": None, "to": "confirmed"},
                                           {"field": "bant_need", "from": None, "to": "possible"}]
    assert first.properties["actor_id"] == admin["id"]


@pytest.mark.parametrize("empty", [None, ""])
def test_set_bant_clears_with_none_or_empty(db, empty):
    lead = make_lead(db)
    set_bant(db, lead=lead, **ANSWERED, actor_type="user")
    changes = set_bant(db, lead=lead, authority=empty, actor_type="user")
    assert changes == {"authority": ("decision_maker", None)}
    assert lead.bant_authority is None and lead.bant_budget == "confirmed"


def test_set_bant_without_a_change_records_nothing(db):
    lead = make_lead(db)
    set_bant(db, lead=lead, budget="planned", actor_type="user", at=datetime(2026, 1, 1))
    assert set_bant(db, lead=lead, budget="planned", actor_type="user") == {}
    assert lead.bant_updated_at == datetime(2026, 1, 1)
    assert len([e for e in list_events(db, lead_id=lead.id) if e.type == "property_change"]) == 1


@pytest.mark.parametrize(("field", "allowed"), [
    ("budget", ["confirmed", "planned", "none"]),
    ("authority", ["decision_maker", "influencer", "none"]),
    ("need", ["confirmed", "possible", "none"]),
    ("timeline", ["under_3_months", "3_to_12_months", "over_12_months", "none"]),
])
def test_set_bant_refuses_a_bad_value_naming_the_field_and_changes_nothing(db, field, allowed):
    lead = make_lead(db)
    others = {k: v for k, v in ANSWERED.items() if k != field}
    with pytest.raises(LifecycleError) as err:
        set_bant(db, lead=lead, **others, **{field: "soon-ish"}, actor_type="user")
    assert err.value.field == field and err.value.status == 422
    assert all(value in str(err.value) for value in allowed)
    assert (lead.bant_budget, lead.bant_authority, lead.bant_need, lead.bant_timeline) == (None,) * 4
    assert lead.bant_updated_at is None


# ---- moves with reason codes ---------------------------------------------------------------------

def test_disqualify_needs_a_reason_code(db, admin):
    lead = make_lead(db)
    with pytest.raises(LifecycleError) as err:
        move_lead(db, lead=lead, to_stage="disqualified", note="they said no", actor_id=admin["id"])
    assert err.value.field == "reason_code" and "not_a_fit" in str(err.value)
    with pytest.raises(LifecycleError) as err:
        move_lead(db, lead=lead, to_stage="disqualified", reason_code="not_ready", actor_id=admin["id"])
    assert err.value.field == "reason_code"  # a recycle code is no disqualify code
    assert lead.stage == "prospect"


def test_other_needs_a_note(db, admin):
    lead = make_lead(db)
    with pytest.raises(LifecycleError) as err:
        move_lead(db, lead=lead, to_stage="recycled", reason_code="other", note="  ", actor_id=admin["id"])
    assert err.value.field == "note"
    change = move_lead(db, lead=lead, to_stage="recycled", reason_code="other", note="moved abroad",
                       actor_id=admin["id"])
    assert change.reason == "other: moved abroad"


def test_disqualify_stores_code_and_note_and_marks_the_lead_lost(db, admin):
    lead = make_lead(db)
    change = move_lead(db, lead=lead, to_stage="disqualified", reason_code="no_budget", note="frozen until 2027",
                       actor_id=admin["id"], at=datetime(2026, 4, 1))
    assert (change.from_stage, change.to_stage, change.reason) == ("prospect", "disqualified",
                                                                   "no_budget: frozen until 2027")
    assert (change.actor_type, change.actor_id, change.changed_at) == ("user", admin["id"], datetime(2026, 4, 1))
    assert (lead.stage, lead.outcome, lead.lost_reason) == ("disqualified", "lost", "no_budget")
    assert split_reason("disqualified", change.reason) == ("no_budget", "frozen until 2027")
    assert reason_label("disqualified", "no_budget") == "No budget"


def test_disqualify_keeps_an_outcome_already_set(db, admin):
    lead = make_lead(db, outcome="won")
    move_lead(db, lead=lead, to_stage="disqualified", reason_code="duplicate", actor_id=admin["id"])
    assert (lead.outcome, lead.lost_reason) == ("won", None)


def test_open_stages_take_no_reason_code(db, admin):
    lead = make_lead(db)
    with pytest.raises(LifecycleError) as err:
        move_lead(db, lead=lead, to_stage="mql", reason_code="no_budget", actor_id=admin["id"])
    assert err.value.field == "reason_code"
    change = move_lead(db, lead=lead, to_stage=" MQL ", note="met at the fair", actor_id=admin["id"])
    assert (change.to_stage, change.reason) == ("mql", "met at the fair")


def test_unknown_stage_same_stage_and_long_notes_are_refused(db, admin):
    lead = make_lead(db)
    with pytest.raises(LifecycleError) as err:
        move_lead(db, lead=lead, to_stage="hot", actor_id=admin["id"])
    assert err.value.field == "to" and "suspect" in str(err.value)
    with pytest.raises(LifecycleError, match="choose a stage"):
        move_lead(db, lead=lead, to_stage="", actor_id=admin["id"])
    with pytest.raises(LifecycleError) as err:
        move_lead(db, lead=lead, to_stage="prospect", actor_id=admin["id"])
    assert (err.value.field, err.value.status) == ("to", 409)
    with pytest.raises(LifecycleError) as err:
        move_lead(db, lead=lead, to_stage="mql", note="x" * 1001, actor_id=admin["id"])
    assert err.value.field == "note"


def test_moving_to_sql_by_hand_needs_bant(db, admin):
    lead = make_lead(db)
    with pytest.raises(LifecycleError) as err:
        move_lead(db, lead=lead, to_stage="sql", actor_id=admin["id"])
    assert err.value.field == "bant"
    set_bant(db, lead=lead, **ANSWERED, actor_type="user")
    assert move_lead(db, lead=lead, to_stage="sql", actor_id=admin["id"]).to_stage == "sql"


def test_a_rule_cannot_move_a_customer_out_and_the_error_names_the_stage(db):
    lead = make_lead(db)
    move_to_stage(db, lead=lead, to_stage="customer", reason="signed", actor_type="user")
    with pytest.raises(LifecycleError) as err:
        move_lead(db, lead=lead, to_stage="recycled", reason_code="not_ready", actor_type="rule", actor_id=None)
    assert (err.value.field, err.value.status) == ("to", 409)
    assert lead.stage == "customer"


# ---- sales acceptance and rejection --------------------------------------------------------------

def test_accept_is_refused_until_bant_is_answered(db, admin):
    lead = _mql(db)
    set_bant(db, lead=lead, budget="confirmed", need="confirmed", actor_type="user")
    with pytest.raises(LifecycleError) as err:
        accept_lead(db, lead=lead, actor_id=admin["id"])
    assert err.value.field == "bant"
    assert "authority, timeline are not answered" in str(err.value)
    assert lead.stage == "mql"
    set_bant(db, lead=lead, authority="influencer", timeline="none", actor_type="user")
    change = accept_lead(db, lead=lead, actor_id=admin["id"], note="call booked")
    assert (change.from_stage, change.to_stage, change.actor_type, change.actor_id) == ("mql", "sql", "user",
                                                                                         admin["id"])
    assert change.reason == "accepted by sales: call booked"


def test_accept_and_reject_only_take_mql_leads(db, admin):
    lead = make_lead(db)
    set_bant(db, lead=lead, **ANSWERED, actor_type="user")
    for action in (lambda: accept_lead(db, lead=lead, actor_id=admin["id"]),
                   lambda: reject_lead(db, lead=lead, reason_code="not_ready", actor_id=admin["id"])):
        with pytest.raises(LifecycleError) as err:
            action()
        assert (err.value.field, err.value.status) == ("stage", 409)
        assert "Prospect" in str(err.value)


def test_reject_recycles_with_a_recycle_code(db, admin):
    lead = _mql(db)
    with pytest.raises(LifecycleError) as err:
        reject_lead(db, lead=lead, reason_code=None, actor_id=admin["id"])
    assert err.value.field == "reason_code"
    with pytest.raises(LifecycleError) as err:
        reject_lead(db, lead=lead, reason_code="spam_or_fake", actor_id=admin["id"])
    assert err.value.field == "reason_code"
    change = reject_lead(db, lead=lead, reason_code="bad_timing", note="budget in Q3", actor_id=admin["id"])
    assert (change.to_stage, change.reason) == ("recycled", "bad_timing: rejected by sales — budget in Q3")
    assert lead.outcome is None


# ---- time in stage ------------------------------------------------------------------------------

def test_durations_from_a_history_with_explicit_times(db):
    """Created 1 Jan as a prospect, mql on 3 Jan 12:00, recycled 10 Jan, mql again 20 Jan, asked on 25 Jan."""
    from leadflow.lifecycle.service import stage_durations, time_to_stages

    created = datetime(2026, 1, 1)
    lead = make_lead(db, created_at=created)
    for stage, at, code in (("mql", datetime(2026, 1, 3, 12), None), ("recycled", datetime(2026, 1, 10), "not_ready"),
                            ("mql", datetime(2026, 1, 20), None)):
        move_lead(db, lead=lead, to_stage=stage, reason_code=code, actor_type="rule", actor_id=None, at=at)
    db.flush()
    spans = stage_durations(db, lead_id=lead.id, now=datetime(2026, 1, 25))
    assert [(s.stage, s.duration) for s in spans] == [
        ("prospect", timedelta(days=2, hours=12)), ("mql", timedelta(days=6, hours=12)),
        ("recycled", timedelta(days=10)), ("mql", timedelta(days=5))]
    assert [s.left_at for s in spans] == [datetime(2026, 1, 3, 12), datetime(2026, 1, 10), datetime(2026, 1, 20), None]
    reached = {r.stage: r.elapsed for r in time_to_stages(db, lead_id=lead.id, created_at=created)}
    assert reached == {"suspect": None, "prospect": timedelta(0), "mql": timedelta(days=2, hours=12),
                       "sql": None, "customer": None}


def test_durations_never_go_negative(db):
    from leadflow.lifecycle.service import stage_durations

    lead = make_lead(db, created_at=datetime(2030, 1, 1))
    db.flush()
    assert [s.duration for s in stage_durations(db, lead_id=lead.id, now=datetime(2029, 1, 1))] == [timedelta(0)]
    assert len(list_stage_changes(db, lead_id=lead.id)) == 1
