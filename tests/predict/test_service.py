"""Predictive models over the workspace: point-in-time features, training, activation, pricing, drift."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from sqlalchemy import func, select

from leadflow.db.session import get_engine, get_sessionmaker
from leadflow.leads.events import append_events
from leadflow.leads.models import Event, Lead
from leadflow.leads.schemas import BatchEventIn
from leadflow.predict.dataset import (
    DatasetSpec,
    choose_spec,
    feature_name,
    features_of,
    load_frames,
    training_set,
)
from leadflow.predict.models import PredictionModel
from leadflow.predict.service import (
    PredictServiceError,
    TrainOptions,
    activate_version,
    compare_versions,
    drift_report,
    explain_lead,
    get_version,
    predict_everyone,
    recalibrate,
    train_workspace_model,
)
from tests.factories import make_lead
from tests.predict.conftest import LATE_VIEWS, NOW


def _train(**options) -> int:
    return train_workspace_model(get_engine(), options=TrainOptions(**options), now=NOW)


# ---- features, point in time -------------------------------------------------------------------

def test_features_count_only_events_before_the_cutoff():
    spec = DatasetSpec(lead_fields=("industry",), event_types=("page_view",))
    leads = pl.DataFrame({"lead_id": [1, 2], "cutoff": [1000.0, 10_000_000.0], "email": ["a@gmail.com", "b@corp.io"],
                          "industry": ["Software", None]})
    events = pl.DataFrame({"lead_id": [1, 1, 1, 2], "type": ["page_view"] * 4,
                           "t": [100.0, 999.0, 1000.0, 5_000_000.0]})
    out = features_of(spec, leads=leads, events=events).sort("lead_id")
    assert out.get_column("events.page_view_total").to_list() == [2.0, 1.0]  # the event at the cutoff is not before it
    # Recent = the 30 days before the cutoff; lead 2's view was 58 days before.
    assert out.get_column("events.page_view_30d").to_list() == [2.0, 0.0]
    assert out.get_column("email_kind").to_list() == ["free", "business"]
    assert out.get_column("events.days_since_last").to_list()[0] == pytest.approx(1 / 86_400, abs=0.01)
    assert out.columns[2:] == spec.columns()


def test_a_lost_lead_is_described_as_it_was_before_it_was_lost(history):
    engine = get_engine()
    with get_sessionmaker()() as s:
        spec = choose_spec(s)
    assert "page_view" in spec.event_types
    frame = load_frames(engine, spec=spec, now=NOW, positive_stages=("customer",), negative_stages=("disqualified",))
    data = training_set(frame, spec)
    assert data.counts["labelled"] == len(history["won"]) + len(history["lost"])
    assert data.counts["positives"] == len(history["won"])
    lost = frame.filter(pl.col("lead_id").is_in(history["lost"]))
    with get_sessionmaker()() as s:
        views = dict(s.execute(select(Event.lead_id, func.count()).where(Event.lead_id.in_(history["lost"]))
                               .group_by(Event.lead_id)).all())
    # Every lost lead got LATE_VIEWS views after it was disqualified; none of them is counted.
    totals = dict(zip(lost.get_column("lead_id").to_list(), lost.get_column("events.page_view_total").to_list(),
                      strict=True))
    assert views and all(totals[i] == views[i] - LATE_VIEWS for i in views)
    # An open lead is described as of now: nothing cut.
    assert frame.filter(pl.col("lead_id").is_in(history["open"])).get_column("y").null_count() == len(history["open"])


def test_sales_fields_and_scores_are_never_features(history):
    with get_sessionmaker()() as s:
        spec = choose_spec(s)
    for never in ("stage", "owner_id", "outcome", "deal_value", "bant_budget", "score", "fit_grade",
                  "conversion_probability"):
        assert never not in spec.columns()
    assert feature_name("Tags") == "properties.Tags" and feature_name("industry") == "industry"


# ---- training, activation, pricing --------------------------------------------------------------

def test_train_activate_price_and_explain(history):
    version = _train(name="first")
    with get_sessionmaker()() as s:
        row = get_version(s, version=version)
        assert row.status == "draft" and row.source == "workspace"
        report = row.report
        # Creation dates differ: a time-ordered split, said so in the report.
        assert report["evaluation"] == "time_split"
        assert report["roc_auc"] > 0.7, report
        for key in ("pr_auc", "log_loss", "brier", "ece", "lift", "reliability", "baselines"):
            assert key in report
        assert row.options["dataset"]["event_types"] == ["page_view"]
        # Activation needs the comparison first.
        with pytest.raises(PredictServiceError) as exc:
            activate_version(s, version=version, compared=False)
        assert exc.value.status == 409 and exc.value.field == "compared"
        assert exc.value.detail["candidate"] == version
        activate_version(s, version=version, compared=True)
        s.commit()
    priced = predict_everyone(get_engine(), now=NOW)
    with get_sessionmaker()() as s:
        assert priced == s.scalar(select(func.count()).select_from(Lead))
        rows = s.execute(select(Lead.id, Lead.conversion_probability, Lead.prediction_version, Lead.industry)).all()
        assert all(r.prediction_version == version and 0 < r.conversion_probability < 1 for r in rows)
        soft = np.mean([r.conversion_probability for r in rows if r.industry == "Software"])
        retail = np.mean([r.conversion_probability for r in rows if r.industry == "Retail"])
        assert soft > retail
        lead_id = history["open"][0]
        found = explain_lead(s, lead_id=lead_id, now=NOW)
        stored = s.get(Lead, lead_id).conversion_probability
    assert found.version == version and found.probability == pytest.approx(stored, abs=1e-6)
    assert found.factors and {"feature", "value", "contribution", "direction", "text"} <= set(found.factors[0])
    assert any(f["feature"] == "industry" for f in found.factors)


def test_a_new_event_reprices_the_lead_at_commit(history):
    version = _train()
    with get_sessionmaker()() as s:
        activate_version(s, version=version, compared=True)
        s.commit()
    predict_everyone(get_engine())
    lead_id = history["open"][0]
    with get_sessionmaker()() as s:
        before = s.get(Lead, lead_id).conversion_probability
    with get_sessionmaker()() as s, s.begin():
        append_events(s, events=[BatchEventIn(lead_id=lead_id, type="page_view", properties={"url": "/pricing"})
                                 for _ in range(8)])
    with get_sessionmaker()() as s:
        lead = s.get(Lead, lead_id)
        assert lead.prediction_version == version
        assert lead.conversion_probability > before


def test_too_few_outcomes_is_a_clear_error(engine_clean):
    with get_sessionmaker()() as s, s.begin():
        for i in range(10):
            make_lead(s, email=f"x{i}@corp.io", outcome="won" if i % 2 else "lost")
    with pytest.raises(PredictServiceError) as exc:
        _train()
    assert "50" in exc.value.message
    with get_sessionmaker()() as s:
        assert s.scalar(select(func.count()).select_from(PredictionModel)) == 0


def test_a_leaking_property_is_left_out_unless_insisted_on(history):
    with get_sessionmaker()() as s, s.begin():
        for lead_id, won in [(i, True) for i in history["won"]] + [(i, False) for i in history["lost"]]:
            lead = s.get(Lead, lead_id)
            lead.properties = {**lead.properties, "Tags": "Will revert" if won else "Ringing"}
    version = _train()
    with get_sessionmaker()() as s:
        row = get_version(s, version=version)
        assert "properties.Tags" in row.report["dropped"]
        assert "properties.Tags" not in row.features
    insisted = _train(insist=("properties.Tags",))
    with get_sessionmaker()() as s:
        assert "properties.Tags" in get_version(s, version=insisted).features
    excluded = _train(exclude=("properties.Tags",))
    with get_sessionmaker()() as s:
        assert "properties.Tags" not in get_version(s, version=excluded).options["dataset"]["property_keys"]


def test_compare_drift_and_recalibrate(history):
    first = _train(seed=0)
    second = _train(seed=1, exclude=("industry",))
    with get_sessionmaker()() as s:
        activate_version(s, version=first, compared=True)
        s.commit()
        cmp = compare_versions(s, version=second)
    assert cmp["active"] == first and cmp["candidate"] == second
    auc = next(m for m in cmp["metrics"] if m["metric"] == "roc_auc")
    assert auc["candidate_better"] is (auc["candidate"] > auc["active"])
    report = drift_report(get_engine(), now=NOW)
    assert report["version"] == first
    assert sum(p["outcomes"] for p in report["periods"]) == len(history["won"]) + len(history["lost"])
    assert all(p["in_sample"] for p in report["periods"])  # every outcome predates the training
    new = recalibrate(get_engine(), days=3650, now=NOW)
    with get_sessionmaker()() as s:
        row = get_version(s, version=new)
        assert row.source == "recalibrated" and row.parent_version == first and row.status == "draft"
        info = row.report["recalibration"]
        assert info["outcomes"] == len(history["won"]) + len(history["lost"])
        assert info["after"]["log_loss"] <= info["before"]["log_loss"] + 1e-9
        assert not math.isnan(info["after"]["ece"])


def test_sales_activity_events_are_never_features(history):
    with get_sessionmaker()() as s, s.begin():
        for lead_id in history["won"]:
            s.add(Event(lead_id=lead_id, type="meeting", source="user", occurred_at=NOW))
    with get_sessionmaker()() as s:
        spec = choose_spec(s)
    assert spec.sales_event_types == ("meeting",) and "meeting" not in spec.event_types
    version = _train()
    with get_sessionmaker()() as s:
        row = get_version(s, version=version)
    assert not any("meeting" in f for f in row.features)
    assert "sales activity" in row.report["dropped"]["events.meeting"]


def test_probability_can_drive_the_mql_threshold(history):
    from leadflow.scoring.service import activate_model_version, create_model_version

    version = _train()
    with get_sessionmaker()() as s:
        activate_version(s, version=version, compared=True)
        s.commit()
    predict_everyone(get_engine())
    with get_sessionmaker()() as s, s.begin():
        row = create_model_version(s, data={"name": "Chance decides", "lifecycle": {"mql": {"min_probability": 0.5}}})
        activate_model_version(s, version=row.version, rescore=True)
    with get_sessionmaker()() as s:
        rows = s.execute(select(Lead.id, Lead.stage, Lead.conversion_probability)
                         .where(Lead.id.in_(history["open"]))).all()
    assert {r.stage for r in rows if r.conversion_probability >= 0.5} == {"mql"}
    assert {r.stage for r in rows if r.conversion_probability < 0.5} == {"prospect"}
    assert any(r.stage == "mql" for r in rows) and any(r.stage == "prospect" for r in rows)
