"""Metrics against scikit-learn and against plain-Python definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

from leadflow.predict import metrics
from leadflow.predict.errors import PredictError

# Probabilities drawn from a small grid produce ties, which is where AUC implementations differ.
_GRID = st.sampled_from([0.01, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.99])
_FREE = st.floats(min_value=0.001, max_value=0.999, allow_nan=False)


@st.composite
def outcomes(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(min_value=2, max_value=200))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=np.int8)
    y[0], y[1] = 0, 1  # both outcomes present
    p = np.array(draw(st.lists(st.one_of(_GRID, _FREE), min_size=n, max_size=n)))
    return y, p


@settings(max_examples=50)
@given(outcomes())
def test_ranking_metrics_match_sklearn(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = data
    assert metrics.roc_auc(y, p) == pytest.approx(sk.roc_auc_score(y, p), abs=1e-12)
    assert metrics.pr_auc(y, p) == pytest.approx(sk.average_precision_score(y, p), abs=1e-12)


@settings(max_examples=50)
@given(outcomes())
def test_probability_metrics_match_sklearn(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = data
    assert metrics.log_loss(y, p) == pytest.approx(sk.log_loss(y, p), rel=1e-12)
    assert metrics.brier(y, p) == pytest.approx(sk.brier_score_loss(y, p), rel=1e-12)


def _ece_by_hand(y: list[int], p: list[float], bins: int) -> float:
    total = 0.0
    for b in range(bins):
        members = [i for i, q in enumerate(p) if min(int(q * bins), bins - 1) == b]
        if members:
            mean_p = sum(p[i] for i in members) / len(members)
            rate = sum(y[i] for i in members) / len(members)
            total += len(members) / len(p) * abs(mean_p - rate)
    return total


@settings(max_examples=50)
@given(outcomes(), st.sampled_from([5, 10, 15]))
def test_ece_matches_the_definition(data: tuple[np.ndarray, np.ndarray], bins: int) -> None:
    y, p = data
    assert metrics.ece(y, p, bins=bins) == pytest.approx(_ece_by_hand(y.tolist(), p.tolist(), bins), abs=1e-12)


def test_ece_bins_are_equal_width_and_one_is_in_the_last() -> None:
    y = np.array([0, 1, 1, 0])
    p = np.array([0.0, 1.0, 0.95, 0.1])
    rel = metrics.reliability(y, p)
    assert [b["count"] for b in rel] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert rel[9]["mean_predicted"] == pytest.approx(0.975)
    assert rel[9]["observed"] == 1.0
    assert rel[2]["mean_predicted"] is None and rel[2]["observed"] is None
    # Bin 0: |0.0 - 0| x 1/4; bin 1: |0.1 - 0| x 1/4; bin 9: |0.975 - 1| x 2/4.
    assert metrics.ece(y, p) == pytest.approx(0.25 * 0.0 + 0.25 * 0.1 + 0.5 * 0.025)


def test_lift_by_decile_highest_first() -> None:
    # 100 leads, the 10 highest all converted, 10 more spread over the rest.
    p = np.linspace(1.0, 0.0, 100)
    y = np.zeros(100, dtype=np.int8)
    y[:10] = 1
    y[[15, 25, 35, 45, 55, 65, 75, 85, 95, 99]] = 1
    lift = metrics.lift(y, p)
    assert [d["decile"] for d in lift] == list(range(1, 11))
    assert [d["count"] for d in lift] == [10] * 10
    assert lift[0]["positives"] == 10 and lift[0]["rate"] == 1.0
    assert lift[0]["lift"] == pytest.approx(1.0 / 0.2)
    assert lift[9]["positives"] == 2
    assert lift[-1]["captured"] == pytest.approx(1.0)
    assert sum(d["positives"] for d in lift) == 20


def test_lift_with_fewer_leads_than_deciles() -> None:
    lift = metrics.lift(np.array([1, 0, 1]), np.array([0.9, 0.1, 0.5]))
    assert [d["count"] for d in lift] == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert lift[3]["rate"] is None and lift[3]["lift"] is None


def test_evaluate_is_plain_json_numbers() -> None:
    rng = np.random.default_rng(1)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(np.int8)
    report = metrics.evaluate(y, p)
    for key in ("roc_auc", "pr_auc", "log_loss", "brier", "ece"):
        assert type(report[key]) is float and math.isfinite(report[key])
    assert report["rows"] == 500 and report["positives"] == int(y.sum())
    assert len(report["lift"]) == 10 and len(report["reliability"]) == 10
    assert sum(b["count"] for b in report["reliability"]) == 500


@pytest.mark.parametrize(("y", "p", "message"), [
    ([1, 1, 1], [0.2, 0.5, 0.9], "both outcomes"),
    ([0, 1, 2], [0.2, 0.5, 0.9], "0 or 1"),
    ([0, 1], [0.2, float("nan")], "finite"),
    ([0, 1], [0.2], "2 outcomes but 1"),
])
def test_bad_input_is_a_predict_error(y: list, p: list, message: str) -> None:
    with pytest.raises(PredictError, match=message):
        metrics.roc_auc(np.array(y), np.array(p))


def test_probabilities_outside_0_1_are_refused_by_calibration_metrics() -> None:
    with pytest.raises(PredictError, match="between 0 and 1"):
        metrics.ece(np.array([0, 1]), np.array([-0.1, 0.5]))
    assert metrics.roc_auc(np.array([0, 1]), np.array([-3.0, 2.0])) == 1.0  # any score ranks


def test_stratified_splits_partition_the_rows_with_the_outcome_mix() -> None:
    y = np.array([1] * 60 + [0] * 140)
    splits = metrics.stratified_splits(y, folds=5, seed=3)
    tests = np.concatenate([test for _, test in splits])
    assert sorted(tests.tolist()) == list(range(200))
    assert all(y[test].sum() == 12 for _, test in splits)
    with pytest.raises(PredictError, match="at least 2 folds"):
        metrics.stratified_splits(y, folds=1, seed=0)
