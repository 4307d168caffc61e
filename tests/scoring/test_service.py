"""Scoring against the database: incremental rescoring, versions, activation, stage rules, backtests.

Each test builds its world through the services (factories) and a small model written for it,
so every expected number can be worked out by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from leadflow.db.base import utcnow
from leadflow.db.session import get_sessionmaker
from leadflow.leads.models import Lead
from leadflow.leads.schemas import EventIn
from leadflow.leads.service import append_event, get_lead
from leadflow.lifecycle.models import StageChange
from leadflow.lifecycle.service import move_to_stage
from leadflow.scoring.backtest import roc_auc
from leadflow.scoring.schemas import ModelError
from leadflow.scoring.service import (
    ScoringError,
    activate_model_version,
    active_model,
    backtest_model,
    create_model_version,
    explain_lead,
    rescore_all,
)
from tests.factories import make_lead

# Fit: a VP is worth 40 (grade B at 35), a corporate email 10 (A at 50).
# Engagement: a demo request 30 points without decay; a page view 1 point halving every day.
MODEL = """
name: Test model
fit:
  grades: {A: 50, B: 35, C: 10}
  rules:
    - {id: vp, field: job_title, regex: '(?i)\\bvp\\b', points: 40}
    - {id: corporate, field: email, free_email: false, points: 10}
engagement:
  rules:
    - {id: demo, event: demo_request, points: 30, half_life_days: null, cap: 60}
    - {id: view, event: page_view, points: 1, half_life_days: 1, cap: 10}
lifecycle:
  mql: {min_grade: B, min_engagement: 30, exit_margin: 10}
  sql: {auto: true, min_grade: A, min_engagement: 60, require_bant: false}
"""


def _activate(db, text: str = MODEL) -> int:
    row = create_model_version(db, text=text)
    activate_model_version(db, version=row.version)
    db.commit()
    return row.version


def _event(db, lead, type_: str, at: datetime | None = None):
    append_event(db, lead=lead, data=EventIn(type=type_, occurred_at=at))


def test_the_default_model_is_active_in_a_new_workspace(db):
    version, doc = active_model(db)
    assert version == 1 and doc is not None and doc.name == "Default B2B model"


def test_a_new_event_rescores_its_lead_when_the_transaction_commits(db):
    _activate(db)
    lead = make_lead(db, email="ana@acme.io", job_title="VP Sales")
    db.commit()
    assert (lead.fit_grade, lead.score) == ("A", 50.0)  # fit only: 40 + 10
    _event(db, lead, "demo_request")
    db.commit()
    db.refresh(lead)
    assert lead.score == pytest.approx(80.0)
    assert lead.engagement_score == pytest.approx(30.0)
    assert lead.score_version is not None and lead.scored_at is not None


def test_stage_rules_promote_with_the_reason_and_respect_hysteresis(db):
    _activate(db)
    lead = make_lead(db, email="bo@beta.io", job_title="VP Marketing")
    db.commit()
    assert lead.stage == "prospect"
    _event(db, lead, "demo_request")
    db.commit()
    db.refresh(lead)
    assert lead.stage == "mql"
    change = db.scalars(select(StageChange).where(StageChange.lead_id == lead.id)
                        .order_by(StageChange.id.desc())).first()
    assert change.actor_type == "rule" and "mql threshold" in change.reason and "model v" in change.reason
    # A second demo request: engagement 60 and grade A meet the automatic sql threshold.
    _event(db, lead, "demo_request")
    db.commit()
    db.refresh(lead)
    assert lead.stage == "sql"


def test_an_mql_just_under_the_threshold_stays_until_it_falls_below_the_margin(db):
    # mql at engagement 30 with an exit margin of 10: a lead at 25 stays mql, one at 17 goes back.
    text = MODEL.replace("points: 30, half_life_days: null", "points: 40, half_life_days: 10")
    _activate(db, text)
    now = utcnow()
    lead = make_lead(db, email="cy@corp.io", job_title="VP Ops")
    _event(db, lead, "demo_request", at=now - timedelta(hours=1))
    db.commit()
    db.refresh(lead)
    assert lead.stage == "mql"
    from leadflow.scoring.service import rescore_leads

    # 40 x 2^(-age / 10 days) (the event is an hour old): ~25 after 6.78 days (stays), ~17.4 after 12 (leaves).
    rescore_leads(db, lead_ids=[lead.id], now=now + timedelta(days=6.78))
    db.refresh(lead)
    assert lead.stage == "mql" and lead.engagement_score == pytest.approx(40 * 2 ** (-(6.78 + 1 / 24) / 10), abs=1e-3)
    rescore_leads(db, lead_ids=[lead.id], now=now + timedelta(days=12))
    db.refresh(lead)
    assert lead.stage == "prospect" and lead.engagement_score == pytest.approx(40 * 2 ** (-(12 + 1 / 24) / 10), abs=1e-3)
    reason = db.scalars(select(StageChange.reason).where(StageChange.lead_id == lead.id)
                        .order_by(StageChange.id.desc())).first()
    assert "below the mql threshold" in reason


def test_rules_never_undo_a_person_and_wait_for_new_activity(db):
    _activate(db)
    lead = make_lead(db, email="di@delta.io", job_title="VP Finance")
    _event(db, lead, "demo_request", at=datetime(2026, 1, 1))
    db.commit()
    db.refresh(lead)
    assert lead.stage == "mql"
    move_to_stage(db, lead=lead, to_stage="recycled", reason="not_ready: next quarter", actor_type="user")
    db.commit()
    rescore_all(db)
    db.commit()
    db.refresh(lead)
    assert lead.stage == "recycled"  # still above the threshold, but no activity since the person's move
    _event(db, lead, "page_view")
    db.commit()
    db.refresh(lead)
    assert lead.stage == "mql"


def test_an_mql_set_by_a_person_is_never_demoted_by_the_rules(db):
    _activate(db)
    lead = make_lead(db, email="ed@echo.io", stage="mql")
    db.commit()
    rescore_all(db)
    db.commit()
    db.refresh(lead)
    assert lead.stage == "mql" and lead.fit_grade == "C"


def test_an_invalid_document_is_refused_and_the_active_model_keeps_working(db):
    version, _ = active_model(db)
    with pytest.raises(ModelError) as err:
        create_model_version(db, text=MODEL.replace("half_life_days: 1,", "half_life_days: -1,"))
    assert err.value.errors[0][0] == "engagement.rules.1.half_life_days"
    lead = make_lead(db, email="fay@fox.io", job_title="VP")
    db.commit()
    assert active_model(db)[0] == version and lead.score is not None


def test_activating_an_unknown_version_is_a_404(db):
    with pytest.raises(ScoringError) as err:
        activate_model_version(db, version=99)
    assert (err.value.status, err.value.field) == (404, "version")


def test_activation_retires_the_previous_version_and_rescores_everyone(db):
    leads = [make_lead(db, email=f"l{i}@corp{i}.io", job_title="VP" if i % 2 else "Analyst") for i in range(6)]
    db.commit()
    first = active_model(db)[0]
    version = _activate(db)
    versions = {r.version: r.status for r in db.scalars(select(__import__("leadflow.scoring.models", fromlist=["x"]).ScoringModel))}
    assert versions[first] == "retired" and versions[version] == "active"
    for lead in leads:
        db.refresh(lead)
        assert lead.score_version == version
        assert lead.score == (50.0 if lead.job_title == "VP" else 10.0)


def test_the_explanation_adds_up_to_the_stored_score(db):
    _activate(db)
    lead = make_lead(db, email="gil@golf.io", job_title="VP Product")
    for _ in range(5):
        _event(db, lead, "page_view")
    _event(db, lead, "demo_request")
    db.commit()
    db.refresh(lead)
    version, e = explain_lead(db, lead_id=lead.id)
    assert version == lead.score_version
    assert sum(line.value for line in e.lines) == pytest.approx(e.score)
    assert e.score == pytest.approx(lead.score, abs=0.01)  # both now, a few ms apart
    assert [line.rule for line in e.part("fit")] == ["vp", "corporate"]
    assert {line.rule for line in e.part("engagement")} == {"demo", "view"}


def test_backtest_auc_matches_an_independent_count(db):
    _activate(db)
    # Converted leads: two VPs (score 50) and one analyst (10); lost: one VP and three analysts.
    specs = [("VP", "won"), ("VP", "won"), ("Analyst", "won"), ("VP", "lost"), ("Analyst", "lost"),
             ("Analyst", "lost"), ("Analyst", "lost")]
    for i, (title, outcome) in enumerate(specs):
        make_lead(db, email=f"b{i}@corp.io", job_title=title, outcome=outcome)
    db.commit()
    version, doc = active_model(db)
    report = backtest_model(db, doc=doc, version=version)
    scores = np.array([50.0 if t == "VP" else 10.0 for t, _ in specs])
    labels = np.array([o == "won" for _, o in specs])
    # Pairs (won, lost) = 3 x 4 = 12; VP-won beats analyst-lost: 2 x 3 = 6, ties count half:
    # VP-won vs VP-lost 2 x 0.5 = 1, analyst-won vs analyst-lost 3 x 0.5 = 1.5 → 8.5 / 12.
    assert report.roc_auc == pytest.approx(8.5 / 12) == pytest.approx(roc_auc(scores, labels))
    assert report.leads_with_outcome == 7 and report.converted == 3
    grades = {b.label: (b.leads, b.converted) for b in report.by_grade}
    assert grades["A"] == (3, 2) and grades["C"] == (4, 1)


def test_backtest_flags_a_worse_candidate(db):
    _activate(db)
    for i, (title, outcome) in enumerate([("VP", "won"), ("VP", "won"), ("Analyst", "lost"), ("Analyst", "lost")]):
        make_lead(db, email=f"w{i}@corp.io", job_title=title, outcome=outcome)
    db.commit()
    # The candidate rewards analysts instead: it ranks every pair the wrong way round.
    worse = create_model_version(db, text=MODEL.replace("'(?i)\\bvp\\b'", "'(?i)analyst'"))
    from leadflow.scoring.service import model_of

    report = backtest_model(db, doc=model_of(worse), version=worse.version)
    assert report.roc_auc == 0.0 and report.worse
    assert report.compared_to["roc_auc"] == 1.0 and report.compared_to["roc_auc_delta"] == -1.0


def test_events_from_the_batch_api_rescore_their_leads(client):
    with get_sessionmaker()() as s:
        _activate(s)
        lead_id = make_lead(s, email="hal@hotel.io", job_title="VP").id
        s.commit()
    r = client.post("/api/v1/events", json={"events": [{"lead_id": lead_id, "type": "demo_request"}]})
    assert r.status_code in (200, 201, 207), r.text
    with get_sessionmaker()() as s:
        lead = get_lead(s, lead_id=lead_id)
        assert lead.score == pytest.approx(80.0) and lead.stage == "mql"


def test_a_lead_without_events_or_fields_scores_zero_and_grade_d(db):
    _activate(db)
    lead = make_lead(db, external_id="crm-1", email=None, first_name="X")
    db.commit()
    assert (lead.score, lead.fit_grade, lead.stage) == (0.0, "D", "prospect")
    assert db.scalar(select(Lead.fit_grade).where(Lead.id == lead.id)) == "D"


def test_a_bulk_full_rescore_scores_and_moves_leads_like_the_incremental_path(db, monkeypatch):
    from leadflow.db.session import get_engine
    from leadflow.scoring import service

    _activate(db)
    vp = make_lead(db, email="ivy@corp.io", job_title="VP Growth")
    analyst = make_lead(db, email="jo@gmail.com", job_title="Analyst")
    _event(db, analyst, "page_view")
    db.commit()
    expected = {lead.id: (lead.score, lead.fit_grade, lead.stage) for lead in (vp, analyst)}
    # A demo request that the incremental path has not seen (written behind its back).
    from sqlalchemy import insert

    from leadflow.leads.models import Event

    db.execute(insert(Event).values(lead_id=vp.id, type="demo_request", occurred_at=utcnow(), properties={},
                                    source="api", created_at=utcnow()))
    db.commit()
    monkeypatch.setattr(service, "BULK_RESCORE_MIN", 0)
    assert service.rescore_everyone(get_engine()) == 2
    db.expire_all()
    got = {lead.id: (lead.score, lead.fit_grade, lead.stage) for lead in db.scalars(select(Lead))}
    assert got[analyst.id][:2] == pytest.approx(expected[analyst.id][:2], abs=0.01)
    assert got[vp.id] == (pytest.approx(80.0), "A", "mql")  # 50 fit + 30 demo, and the rules moved it
