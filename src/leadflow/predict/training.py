"""Training, evaluation and the model: LightGBM on the input columns, Platt-calibrated on its log-odds.

Calibration is an affine map of the booster's raw log-odds (calibrated logit = slope x margin +
intercept), fitted on out-of-fold margins. Being affine, it keeps explanations exact: the
booster's own per-feature SHAP contributions times the slope, plus a base, add up to the
calibrated logit of every lead.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
import polars as pl
from sklearn.model_selection import StratifiedKFold

from leadflow.predict.baselines import baseline_aucs
from leadflow.predict.errors import PredictError
from leadflow.predict.features import (
    MIN_CLASS_COUNT,
    Encoded,
    FeatureSet,
    check_classes,
    fit_features,
    select_columns,
)
from leadflow.predict.metrics import evaluate, stratified_splits

__all__ = ["MIN_CLASS_COUNT", "Explanation", "PredictiveModel", "TrainResult", "train_model"]

# Chosen once, on the X Education leads, with folds and seeds 11-13 (the benchmark reports seed 0,
# folds never tuned on): shallow trees, each on 40 % of the columns, and little extra smoothing of
# categories (rare values are already pooled by the encoding). Deeper trees, DART or one-hot splits
# ranked no better. 350 trees at 0.06 rank as well as 700 at 0.03 and score twice as fast.
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.06,
    "num_iterations": 350,
    "num_leaves": 7,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.4,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "min_data_per_group": 20,
    "cat_smooth": 1.0,
    "cat_l2": 1.0,
    "deterministic": True,
    "force_col_wise": True,
    "verbosity": -1,
}
# Out-of-fold margins for the calibration come from this many folds of the training rows.
CALIBRATION_FOLDS = 5
# A time-ordered evaluation trains on the oldest rows and tests on the newest this share.
TEST_SHARE = 0.2
# Dates are only usable when nearly every row has one (undated rows train, never test).
MIN_DATED_SHARE = 0.95
# Each side of a time-ordered split needs this many outcomes of each kind to mean anything.
MIN_SPLIT_CLASS_COUNT = 10
# Ties on the cut date can push the newest share up; past this the dates barely order the rows.
MAX_TEST_SHARE = 0.5
# Out-of-sample ranking this close to chance is worth a warning in the report; closer still,
# the columns carry no pattern worth a model and training refuses rather than ship a coin toss.
WEAK_AUC = 0.6
NO_SIGNAL_AUC = 0.55
# A tiny pull of the calibration towards the identity keeps its fit defined when margins are flat.
PLATT_RIDGE = 1e-6
PLATT_MAX_STEPS = 100


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def fit_platt(margin: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the logistic regression of TARGET on MARGIN (maximum likelihood, Newton)."""
    x = np.asarray(margin, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    design = np.column_stack([x, np.ones_like(x)])
    prior = np.array([1.0, 0.0])

    def loss(w: np.ndarray) -> float:
        z = design @ w
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * PLATT_RIDGE * np.sum((w - prior) ** 2))

    w = prior.copy()
    current = loss(w)
    for _ in range(PLATT_MAX_STEPS):
        p = _sigmoid(design @ w)
        grad = design.T @ (p - y) + PLATT_RIDGE * (w - prior)
        hess = (design * (p * (1.0 - p))[:, None]).T @ design + PLATT_RIDGE * np.eye(2)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-10 and loss(w - t * step) > current:
            t /= 2.0
        w = w - t * step
        current = loss(w)
        if np.max(np.abs(t * step)) < 1e-12:
            break
    return float(w[0]), float(w[1])


@dataclass(frozen=True, slots=True)
class Explanation:
    """Per-lead contributions in calibrated log-odds: base + row sum == logit == logit(probability)."""

    base: float
    contributions: np.ndarray  # n x k, one column per input column
    names: list[str]
    probability: np.ndarray
    logit: np.ndarray
    unseen: np.ndarray  # n x k bool: the value was never seen in training (scored as a rare value)

    def unseen_counts(self) -> dict[str, int]:
        """Rows per column whose value was never seen in training."""
        counts = self.unseen.sum(axis=0)
        return {name: int(n) for name, n in zip(self.names, counts, strict=True) if n}


@dataclass(frozen=True, slots=True)
class Scores:
    """Calibrated probabilities and, per column, how many rows had a value never seen in training."""

    probability: np.ndarray
    unseen: dict[str, int]


class PredictiveModel:
    """A trained booster, the encoding of its input columns and its calibration."""

    FORMAT: ClassVar[int] = 1

    def __init__(self, *, feature_set: FeatureSet, booster: lgb.Booster, slope: float, intercept: float,
                 info: Mapping[str, Any] | None = None) -> None:
        self.feature_set = feature_set
        self.booster = booster
        self.slope = float(slope)
        self.intercept = float(intercept)
        self.info: dict[str, Any] = dict(info or {})
        self.features: list[str] = feature_set.names

    @property
    def kinds(self) -> dict[str, str]:
        return {c.name: c.kind for c in self.feature_set.columns}

    def _margin(self, encoded: Encoded) -> np.ndarray:
        if not len(encoded.matrix):
            return np.empty(0)
        return np.asarray(self.booster.predict(encoded.matrix, raw_score=True), dtype=np.float64)

    def margin(self, frame: pl.DataFrame) -> np.ndarray:
        """The booster's raw log-odds of FRAME's rows, before calibration."""
        return self._margin(self.feature_set.encode(frame))

    def score(self, frame: pl.DataFrame) -> Scores:
        """Calibrated probabilities of FRAME's rows and the count of never-seen values per column."""
        encoded = self.feature_set.encode(frame)
        z = self.slope * self._margin(encoded) + self.intercept
        return Scores(_sigmoid(z), encoded.unseen_counts())

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Calibrated probabilities of FRAME's rows (float64)."""
        return self.score(frame).probability

    def explain(self, frame: pl.DataFrame) -> Explanation:
        """Exact per-column contributions to each row's calibrated log-odds."""
        encoded = self.feature_set.encode(frame)
        k = len(self.features)
        if not len(encoded.matrix):
            raw = np.zeros((0, k + 1))
            expected = float(self.booster.predict(np.zeros((1, k)), pred_contrib=True)[0, -1])
        else:
            raw = np.asarray(self.booster.predict(encoded.matrix, pred_contrib=True), dtype=np.float64)
            expected = float(raw[0, -1])
        contributions = self.slope * raw[:, :k]
        base = self.slope * expected + self.intercept
        logit = base + contributions.sum(axis=1)
        return Explanation(base, contributions, list(self.features), _sigmoid(logit), logit, encoded.unseen)

    def recalibrate(self, frame: pl.DataFrame, target: np.ndarray) -> PredictiveModel:
        """A model with the same booster and its calibration refitted on FRAME's known outcomes."""
        y = _target_array(target, rows=frame.height)
        check_classes(y)
        slope, intercept = fit_platt(self.margin(frame), y)
        info = {**self.info, "recalibrated_rows": len(y), "recalibrated_positives": int(y.sum())}
        return PredictiveModel(feature_set=self.feature_set, booster=self.booster, slope=slope,
                               intercept=intercept, info=info)

    def to_bytes(self) -> bytes:
        """The model as compressed JSON (format, columns, calibration, booster text)."""
        doc = {
            "format": self.FORMAT,
            "features": self.feature_set.to_dict(),
            "calibration": {"slope": self.slope, "intercept": self.intercept},
            "info": self.info,
            "booster": self.booster.model_to_string(),
        }
        return zlib.compress(json.dumps(doc).encode("utf-8"), level=6)

    @classmethod
    def from_bytes(cls, data: bytes) -> PredictiveModel:
        """The model TO_BYTES wrote; PredictError when DATA is not one this version reads."""
        try:
            doc = json.loads(zlib.decompress(data).decode("utf-8"))
        except (zlib.error, UnicodeDecodeError, ValueError, TypeError):
            raise PredictError("not a leadflow predictive model (unreadable data)") from None
        if not isinstance(doc, dict) or doc.get("format") != cls.FORMAT:
            found = doc.get("format") if isinstance(doc, dict) else None
            raise PredictError(f"model format {found!r} is not the format this version reads ({cls.FORMAT}); "
                               "train the model again", field="format")
        try:
            booster = lgb.Booster(model_str=doc["booster"])
            features = FeatureSet.from_dict(doc["features"])
            slope, intercept = float(doc["calibration"]["slope"]), float(doc["calibration"]["intercept"])
        except (KeyError, TypeError, ValueError, lgb.basic.LightGBMError) as exc:
            raise PredictError(f"the stored model is damaged: {exc}") from None
        if booster.num_feature() != len(features.columns):
            raise PredictError("the stored model is damaged: its booster and columns disagree")
        return cls(feature_set=features, booster=booster, slope=slope, intercept=intercept, info=doc.get("info"))


@dataclass(slots=True)
class TrainResult:
    """The model fitted on every row, the report of its evaluation (JSON-ready) and its held-out probabilities."""

    model: PredictiveModel
    report: dict
    probability: np.ndarray | None = None  # per row, from a model that never saw it; NaN where not evaluated


def _target_array(target: np.ndarray, *, rows: int) -> np.ndarray:
    y = np.asarray(target)
    if y.ndim != 1 or len(y) != rows:
        raise PredictError(f"{len(y) if y.ndim == 1 else y.shape} outcomes for {rows:,} rows", field="target")
    if y.dtype == bool:
        return y.astype(np.int8)
    if not np.isin(y, (0, 1)).all():
        raise PredictError("outcomes must be 0 (not converted) or 1 (converted)", field="target")
    return y.astype(np.int8)


def _booster(matrix: np.ndarray, y: np.ndarray, *, categorical: list[int], params: Mapping[str, Any]) -> lgb.Booster:
    rounds = int(params["num_iterations"])
    rest = {k: v for k, v in params.items() if k != "num_iterations"}
    data = lgb.Dataset(matrix, label=y, categorical_feature=categorical,
                       feature_name=[f"f{i}" for i in range(matrix.shape[1])], params={"verbosity": -1})
    return lgb.train(rest, data, num_boost_round=rounds)


def _fit_calibrated(frame: pl.DataFrame, y: np.ndarray, *, kinds: Mapping[str, str], params: Mapping[str, Any],
                    seed: int, info: Mapping[str, Any] | None = None) -> PredictiveModel:
    """A booster on every row of FRAME, calibrated on out-of-fold margins from CALIBRATION_FOLDS folds of them."""
    features = fit_features(frame, kinds=kinds)
    matrix = features.encode(frame).matrix
    categorical = features.categorical
    margins = np.empty(len(y))
    for train, test in StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=seed).split(matrix, y):
        inner = _booster(matrix[train], y[train], categorical=categorical, params=params)
        margins[test] = inner.predict(matrix[test], raw_score=True)
    slope, intercept = fit_platt(margins, y)
    booster = _booster(matrix, y, categorical=categorical, params=params)
    return PredictiveModel(feature_set=features, booster=booster, slope=slope, intercept=intercept, info=info)


def _epoch_seconds(order: np.ndarray) -> np.ndarray:
    values = np.asarray(order)
    if np.issubdtype(values.dtype, np.datetime64):
        seconds = values.astype("datetime64[ns]").astype(np.int64) / 1e9
        return np.where(np.isnat(values), np.nan, seconds)
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError):
        raise PredictError("order must hold timestamps (datetime64) or epoch seconds", field="order") from None


def time_split(order: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, float] | str:
    """Train (older) and test (newest TEST_SHARE) indices and the cut time, or why the dates cannot split."""
    t = _epoch_seconds(order)
    if len(t) != len(target):
        raise PredictError(f"{len(t):,} timestamps for {len(target):,} rows", field="order")
    dated = ~np.isnan(t)
    if dated.sum() < MIN_DATED_SHARE * len(t):
        return f"only {int(dated.sum()):,} of {len(t):,} rows have a date"
    ordered = np.sort(t[dated])
    cut = float(ordered[min(int(np.ceil((1.0 - TEST_SHARE) * len(ordered))), len(ordered) - 1)])
    test_mask = dated & (t >= cut)
    if cut <= ordered[0] or test_mask.mean() > MAX_TEST_SHARE:
        return "too many rows share the same date to order them"
    train, test = np.flatnonzero(~test_mask), np.flatnonzero(test_mask)
    for side, idx in (("older", train), ("newest", test)):
        positives = int(target[idx].sum())
        if min(positives, len(idx) - positives) < MIN_SPLIT_CLASS_COUNT:
            return (f"the {side} rows hold {positives:,} converted and {len(idx) - positives:,} other outcomes "
                    f"(at least {MIN_SPLIT_CLASS_COUNT} of each are needed)")
    return train, test, cut


def _params(params: Mapping[str, Any] | None, *, seed: int) -> dict[str, Any]:
    merged = {**DEFAULT_PARAMS, "seed": seed, **(params or {})}
    for alias in ("num_boost_round", "n_estimators", "num_trees", "num_round", "num_rounds", "n_iter"):
        if alias in merged:
            merged["num_iterations"] = merged.pop(alias)
    return merged


def train_model(frame: pl.DataFrame, target: np.ndarray, *, order: np.ndarray | None = None,
                exclude: Sequence[str] = (), insist: Sequence[str] = (), seed: int = 0, folds: int = 5,
                baselines: bool = True, params: Mapping[str, Any] | None = None) -> TrainResult:
    """Evaluate out of sample (time-ordered split or stratified CV), then fit the model on every row."""
    y = _target_array(target, rows=frame.height)
    check_classes(y)
    booster_params = _params(params, seed=seed)
    selection = select_columns(frame, y, exclude=exclude, insist=insist)
    data = frame.select(list(selection.kinds))
    report: dict[str, Any] = {}
    warnings: list[str] = []
    split = time_split(order, y) if order is not None else "no dates were given"
    if isinstance(split, tuple):
        train, test, cut = split
        splits = [(train, test)]
        report |= {"evaluation": "time_split", "folds": 1,
                   "split_at": datetime.fromtimestamp(cut, UTC).isoformat(timespec="seconds")}
    else:
        splits = stratified_splits(y, folds=folds, seed=seed)
        report |= {"evaluation": "stratified_cv", "folds": folds}
        if order is not None:
            warnings.append(f"dates not used for the evaluation: {split}")
    held_out = np.concatenate([test for _, test in splits])
    probability = np.full(frame.height, np.nan)
    for train, test in splits:
        fold_model = _fit_calibrated(data[train], y[train], kinds=selection.kinds, params=booster_params, seed=seed)
        probability[test] = fold_model.predict(data[test])
    metrics = evaluate(y[held_out], probability[held_out])
    if metrics["roc_auc"] < NO_SIGNAL_AUC:
        raise PredictError(f"the model ranks leads it was not trained on barely better than chance (ROC AUC "
                           f"{metrics['roc_auc']:.3f}); add more outcomes or more informative columns")
    started = time.perf_counter()
    info = {"rows": len(y), "positives": int(y.sum()), "lightgbm": lgb.__version__}
    model = _fit_calibrated(data, y, kinds=selection.kinds, params=booster_params, seed=seed, info=info)
    train_seconds = time.perf_counter() - started
    if np.ptp(model.margin(data)) == 0.0:
        raise PredictError("the model found no pattern in the columns: every lead gets the same score")
    if model.slope <= 0.0:
        raise PredictError("the model found no pattern that holds on leads it was not trained on; add more "
                           "outcomes or more informative columns")
    if metrics["roc_auc"] < WEAK_AUC:
        warnings.append(f"out-of-sample ROC AUC is {metrics['roc_auc']:.3f}: barely better than chance")
    gain = model.booster.feature_importance(importance_type="gain")
    share = gain / gain.sum() if gain.sum() > 0 else gain
    features = sorted(
        ({"name": c.name, "kind": c.kind, "importance": float(s)}
         for c, s in zip(model.feature_set.columns, share, strict=True)),
        key=lambda f: -f["importance"],
    )
    report["baselines"] = (baseline_aucs(data, y, splits=splits, kinds=selection.kinds) if baselines
                           else {"logistic_regression": None, "naive_bayes": None})
    report |= {
        "seed": seed,
        "rows": len(y),
        "positives": int(y.sum()),
        "evaluated_rows": len(held_out),
        **{k: v for k, v in metrics.items() if k not in ("rows", "positives")},
        "calibration": {"method": "platt", "slope": model.slope, "intercept": model.intercept,
                        "folds": CALIBRATION_FOLDS},
        "features": features,
        "dropped": selection.dropped,
        "leakage": selection.leakage,
        "train_seconds": train_seconds,
        "params": booster_params,
        "warnings": warnings,
    }
    return TrainResult(model, report, probability)
