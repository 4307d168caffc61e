"""Training, evaluation, calibration, explanations and serialization of the predictive model."""

from __future__ import annotations

import json
import math
import zlib

import numpy as np
import polars as pl
import pytest
from sklearn.linear_model import LogisticRegression

from leadflow.predict.errors import PredictError
from leadflow.predict.metrics import roc_auc
from leadflow.predict.training import PredictiveModel, TrainResult, fit_platt, train_model
from tests.predict import FAST, START, synthetic_leads

REPORT_KEYS = {"evaluation", "folds", "rows", "positives", "roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift",
               "reliability", "baselines", "features", "dropped", "train_seconds", "params", "leakage",
               "calibration", "warnings"}


@pytest.fixture(scope="module")
def trained() -> TrainResult:
    frame, y, _ = synthetic_leads()
    return train_model(frame, y, folds=3, params=FAST)


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def test_report_is_complete_and_plain_json(trained: TrainResult) -> None:
    report = trained.report
    assert set(report) >= REPORT_KEYS
    assert json.loads(json.dumps(report, allow_nan=False)) == report
    assert report["evaluation"] == "stratified_cv" and report["folds"] == 3
    assert report["rows"] == 1_200 and report["evaluated_rows"] == 1_200
    assert [d["decile"] for d in report["lift"]] == list(range(1, 11))
    assert {"bin", "lower", "upper", "count", "mean_predicted", "observed"} == set(report["reliability"][0])
    assert set(report["baselines"]) == {"logistic_regression", "naive_bayes"}
    assert report["params"]["num_iterations"] == 60
    assert {f["name"] for f in report["features"]} == {"channel", "visits", "budget", "country", "noise"}
    assert sorted(report["dropped"]) == ["Lead Number", "empty", "newsletter"]


def test_the_known_signal_is_found(trained: TrainResult) -> None:
    report = trained.report
    # The generating model's own AUC on these leads is 0.77; noise alone would give 0.5.
    assert report["roc_auc"] > 0.7
    assert report["baselines"]["logistic_regression"] > 0.7
    assert report["baselines"]["naive_bayes"] > 0.7
    top = [f["name"] for f in report["features"][:2]]
    assert set(top) == {"channel", "visits"}


def test_predictions_are_probabilities_of_the_input_columns(trained: TrainResult) -> None:
    frame, _, _ = synthetic_leads(50, seed=99)
    model = trained.model
    assert model.features == ["channel", "visits", "budget", "country", "noise"]
    p = model.predict(frame)
    assert p.dtype == np.float64 and p.shape == (50,)
    assert ((p > 0) & (p < 1)).all()
    # Only the model's columns matter, in any order.
    assert np.array_equal(model.predict(frame.select(reversed(model.features))), p)
    assert model.predict(frame.head(0)).shape == (0,)


def test_explanations_are_exact_in_calibrated_log_odds(trained: TrainResult) -> None:
    frame, _, _ = synthetic_leads(300, seed=5)
    model = trained.model
    explanation = model.explain(frame)
    assert explanation.names == model.features
    assert explanation.contributions.shape == (300, len(model.features))
    total = explanation.base + explanation.contributions.sum(axis=1)
    assert np.abs(total - explanation.logit).max() < 1e-9
    probability = model.predict(frame)
    assert np.abs(total - _logit(probability)).max() < 1e-9
    assert np.abs(explanation.probability - probability).max() < 1e-12
    # A column the booster never saw vary contributes nothing.
    constant_noise = model.explain(frame.with_columns(pl.lit(0.0).alias("noise")))
    assert np.abs(constant_noise.base + constant_noise.contributions.sum(axis=1) - constant_noise.logit).max() < 1e-9


def test_unseen_categories_are_scored_and_counted(trained: TrainResult) -> None:
    frame, _, _ = synthetic_leads(20, seed=3)
    novel = frame.with_columns(pl.Series("channel", ["carrier pigeon"] * 5 + frame["channel"].to_list()[5:]))
    scores = trained.model.score(novel)
    assert scores.unseen == {"channel": 5}
    assert np.isfinite(scores.probability).all()
    explanation = trained.model.explain(novel)
    assert explanation.unseen_counts() == {"channel": 5}
    assert explanation.unseen[:5, 0].all() and not explanation.unseen[5:].any()


def test_scoring_without_a_required_column_names_it(trained: TrainResult) -> None:
    frame, _, _ = synthetic_leads(20, seed=3)
    with pytest.raises(PredictError, match="'visits'") as info:
        trained.model.predict(frame.drop("visits"))
    assert info.value.field == "visits"


def test_recalibration_changes_calibration_not_ranking(trained: TrainResult) -> None:
    # Drift: the same world, but every lead now converts at higher odds (+1.2 log-odds).
    recent, y_recent, _ = synthetic_leads(1_500, seed=11, shift=1.2)
    model = trained.model
    new = model.recalibrate(recent, y_recent)
    assert new.booster is model.booster
    before, after = model.predict(recent), new.predict(recent)
    assert not np.allclose(before, after)
    assert np.array_equal(np.argsort(before, kind="stable"), np.argsort(after, kind="stable"))
    assert roc_auc(y_recent, before) == pytest.approx(roc_auc(y_recent, after), abs=1e-12)
    assert abs(after.mean() - y_recent.mean()) < abs(before.mean() - y_recent.mean())
    assert abs(after.mean() - y_recent.mean()) < 0.01
    explanation = new.explain(recent)
    assert np.abs(explanation.base + explanation.contributions.sum(axis=1) - _logit(after)).max() < 1e-9
    with pytest.raises(PredictError, match="at least 50"):
        model.recalibrate(recent.head(60), y_recent[:60])


def test_serialization_round_trip_predicts_identically(trained: TrainResult) -> None:
    frame, _, _ = synthetic_leads(200, seed=8)
    data = trained.model.to_bytes()
    again = PredictiveModel.from_bytes(data)
    assert again.features == trained.model.features
    assert np.array_equal(again.predict(frame), trained.model.predict(frame))
    assert np.array_equal(again.explain(frame).contributions, trained.model.explain(frame).contributions)
    assert again.info["rows"] == 1_200


def test_another_format_or_garbage_is_refused(trained: TrainResult) -> None:
    doc = json.loads(zlib.decompress(trained.model.to_bytes()))
    doc["format"] = PredictiveModel.FORMAT + 1
    with pytest.raises(PredictError, match="format 2 is not the format") as info:
        PredictiveModel.from_bytes(zlib.compress(json.dumps(doc).encode()))
    assert info.value.field == "format"
    with pytest.raises(PredictError, match="not a leadflow predictive model"):
        PredictiveModel.from_bytes(b"certainly not a model")
    doc["format"] = PredictiveModel.FORMAT
    doc["booster"] = "tree\nnonsense"
    with pytest.raises(PredictError, match="damaged"):
        PredictiveModel.from_bytes(zlib.compress(json.dumps(doc).encode()))


def test_time_ordered_split_when_dates_are_given() -> None:
    frame, y, created = synthetic_leads()
    result = train_model(frame, y, order=created, folds=3, params=FAST, baselines=False)
    report = result.report
    assert report["evaluation"] == "time_split" and report["folds"] == 1
    assert report["evaluated_rows"] == 240
    assert report["split_at"].startswith("2025-")
    assert report["baselines"] == {"logistic_regression": None, "naive_bayes": None}
    dates = created.astype("datetime64[s]")
    assert train_model(frame, y, order=dates, folds=3, params=FAST, baselines=False).report["split_at"] == \
        report["split_at"]


def test_unusable_dates_fall_back_to_cross_validation() -> None:
    frame, y, _ = synthetic_leads()
    same_day = np.full(frame.height, START)
    report = train_model(frame, y, order=same_day, folds=3, params=FAST, baselines=False).report
    assert report["evaluation"] == "stratified_cv"
    assert any("same date" in w for w in report["warnings"])
    undated = np.full(frame.height, np.nan)
    report = train_model(frame, y, order=undated, folds=3, params=FAST, baselines=False).report
    assert report["evaluation"] == "stratified_cv"


def test_insisted_leaky_column_is_used() -> None:
    frame, y, _ = synthetic_leads()
    leaky = frame.with_columns(pl.Series("stage", np.where(y == 1, "customer", "lost")))
    dropped = train_model(leaky, y, folds=3, params=FAST, baselines=False)
    assert "stage" not in dropped.model.features and "stage" in dropped.report["dropped"]
    kept = train_model(leaky, y, folds=3, params=FAST, baselines=False, insist=["stage"])
    assert "stage" in kept.model.features
    assert kept.report["leakage"] == [{"name": "stage", "auc": 1.0, "kept": True}]
    assert kept.report["roc_auc"] > 0.99


@pytest.mark.parametrize(("target", "message"), [
    (np.array([1] * 40 + [0] * 1_160), "at least 50 of each"),
    (np.ones(1_200, dtype=np.int8), "every one of the 1,200 outcomes"),
    (np.array([0, 1, 2] * 400), "0 .* or 1"),
    (np.array([0, 1] * 100), "200 outcomes for 1,200 rows"),
])
def test_bad_targets(target: np.ndarray, message: str) -> None:
    frame, _, _ = synthetic_leads()
    with pytest.raises(PredictError, match=message) as info:
        train_model(frame, target, params=FAST)
    assert info.value.field == "target"


def test_only_useless_columns_is_an_error() -> None:
    frame, y, _ = synthetic_leads()
    with pytest.raises(PredictError, match="no usable columns"):
        train_model(frame.select("Lead Number", "newsletter", "empty"), y, params=FAST)


def test_columns_without_signal_are_an_error_not_a_silent_model() -> None:
    rng = np.random.default_rng(0)
    frame = pl.DataFrame({"coin": rng.choice(["heads", "tails"], 400)})
    y = (rng.random(400) < 0.5).astype(np.int8)
    with pytest.raises(PredictError, match="barely better than chance"):
        train_model(frame, y, folds=3, params=FAST, baselines=False)


def test_platt_fit_is_maximum_likelihood() -> None:
    rng = np.random.default_rng(4)
    margin = rng.normal(0, 2, 5_000)
    y = (rng.random(5_000) < 1 / (1 + np.exp(-(0.6 * margin - 0.8)))).astype(np.int8)
    slope, intercept = fit_platt(margin, y)
    reference = LogisticRegression(C=math.inf).fit(margin[:, None], y)
    assert slope == pytest.approx(reference.coef_[0, 0], abs=1e-4)
    assert intercept == pytest.approx(reference.intercept_[0], abs=1e-4)
    assert slope == pytest.approx(0.6, abs=0.06) and intercept == pytest.approx(-0.8, abs=0.1)
