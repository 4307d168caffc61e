"""Metrics of probabilities against known outcomes (ranking, calibration, lift) and the evaluation folds."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedKFold

from leadflow.predict.errors import PredictError

# Reliability bins and lift groups: ten is what a reliability plot and a decile lift chart use.
BINS = 10
# Probabilities are clipped this far from 0 and 1 in the log loss, so one confident miss costs a
# large but finite amount (the usual convention).
LOG_LOSS_EPS = 1e-15


def _checked(target: np.ndarray, probability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(target).astype(np.float64).ravel()
    p = np.asarray(probability, dtype=np.float64).ravel()
    if len(y) != len(p):
        raise PredictError(f"{len(y)} outcomes but {len(p)} probabilities")
    if len(y) == 0:
        raise PredictError("no outcomes to evaluate")
    if not np.isin(y, (0.0, 1.0)).all():
        raise PredictError("outcomes must be 0 or 1")
    if not np.isfinite(p).all():
        raise PredictError("scores must be finite numbers")
    return y, p


def _probabilities(target: np.ndarray, probability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y, p = _checked(target, probability)
    if p.min() < 0.0 or p.max() > 1.0:
        raise PredictError("probabilities must lie between 0 and 1")
    return y, p


def _both_classes(y: np.ndarray) -> tuple[int, int]:
    pos = int(y.sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        raise PredictError("ranking metrics need both outcomes (converted and not converted)")
    return pos, neg


def roc_auc(target: np.ndarray, probability: np.ndarray) -> float:
    """Area under the ROC curve (ties count half)."""
    y, p = _checked(target, probability)
    pos, neg = _both_classes(y)
    # Mann-Whitney U from average ranks, which handles ties exactly.
    order = np.argsort(p, kind="mergesort")
    sorted_p = p[order]
    boundaries = np.flatnonzero(np.diff(sorted_p)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(p)]))
    ranks = np.empty(len(p))
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    u = ranks[y == 1.0].sum() - pos * (pos + 1) / 2.0
    return float(u / (pos * neg))


def pr_auc(target: np.ndarray, probability: np.ndarray) -> float:
    """Area under the precision-recall curve as average precision (one step per distinct score)."""
    y, p = _checked(target, probability)
    _both_classes(y)
    order = np.argsort(-p, kind="mergesort")
    sorted_p, sorted_y = p[order], y[order]
    last_of_tie = np.concatenate((sorted_p[1:] != sorted_p[:-1], [True]))
    tp = np.cumsum(sorted_y)[last_of_tie]
    seen = np.arange(1, len(p) + 1)[last_of_tie]
    precision = tp / seen
    recall = tp / tp[-1]
    return float(np.sum(np.diff(np.concatenate(([0.0], recall))) * precision))


def log_loss(target: np.ndarray, probability: np.ndarray) -> float:
    """Mean negative log-likelihood of the outcomes."""
    y, p = _probabilities(target, probability)
    p = np.clip(p, LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def brier(target: np.ndarray, probability: np.ndarray) -> float:
    """Mean squared difference between probability and outcome."""
    y, p = _probabilities(target, probability)
    return float(np.mean((p - y) ** 2))


def _bin_stats(y: np.ndarray, p: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    index = np.minimum((p * bins).astype(np.int64), bins - 1).clip(0)
    count = np.bincount(index, minlength=bins).astype(np.float64)
    predicted = np.bincount(index, weights=p, minlength=bins)
    observed = np.bincount(index, weights=y, minlength=bins)
    return count, predicted, observed


def ece(target: np.ndarray, probability: np.ndarray, *, bins: int = BINS) -> float:
    """Expected calibration error: |mean predicted - observed rate| over equal-width bins, weighted by count."""
    y, p = _probabilities(target, probability)
    count, predicted, observed = _bin_stats(y, p, bins)
    filled = count > 0
    gap = np.abs(predicted[filled] - observed[filled]) / count[filled]
    return float(np.sum(count[filled] / len(y) * gap))


def reliability(target: np.ndarray, probability: np.ndarray, *, bins: int = BINS) -> list[dict]:
    """Per equal-width bin: its bounds, count, mean predicted probability and observed rate (None when empty)."""
    y, p = _probabilities(target, probability)
    count, predicted, observed = _bin_stats(y, p, bins)
    return [
        {
            "bin": i + 1,
            "lower": i / bins,
            "upper": (i + 1) / bins,
            "count": int(count[i]),
            "mean_predicted": float(predicted[i] / count[i]) if count[i] else None,
            "observed": float(observed[i] / count[i]) if count[i] else None,
        }
        for i in range(bins)
    ]


def lift(target: np.ndarray, probability: np.ndarray, *, groups: int = BINS) -> list[dict]:
    """Leads cut into equal groups by probability, highest first: rate, lift over the base rate, share captured."""
    y, p = _checked(target, probability)
    order = np.argsort(-p, kind="mergesort")
    sizes = np.full(groups, len(y) // groups)
    sizes[: len(y) % groups] += 1
    ends = np.cumsum(sizes)
    cum_pos = np.concatenate(([0.0], np.cumsum(y[order])))
    positives = cum_pos[ends] - cum_pos[ends - sizes]
    total = float(y.sum())
    base = total / len(y)
    out = []
    for i in range(groups):
        rate = float(positives[i] / sizes[i]) if sizes[i] else None
        out.append({
            "decile": i + 1,
            "count": int(sizes[i]),
            "positives": int(positives[i]),
            "rate": rate,
            "lift": rate / base if rate is not None and base > 0 else None,
            "captured": float(cum_pos[ends[i]] / total) if total > 0 else None,
        })
    return out


def evaluate(target: np.ndarray, probability: np.ndarray, *, bins: int = BINS) -> dict:
    """Every metric of PROBABILITY against TARGET as plain JSON-ready numbers."""
    y, p = _probabilities(target, probability)
    return {
        "rows": len(y),
        "positives": int(y.sum()),
        "base_rate": float(y.mean()),
        "roc_auc": roc_auc(y, p),
        "pr_auc": pr_auc(y, p),
        "log_loss": log_loss(y, p),
        "brier": brier(y, p),
        "ece": ece(y, p, bins=bins),
        "lift": lift(y, p, groups=bins),
        "reliability": reliability(y, p, bins=bins),
    }


def stratified_splits(target: np.ndarray, *, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """FOLDS (train, test) index pairs, each test fold with the outcome mix of the whole."""
    if folds < 2:
        raise PredictError(f"cross-validation needs at least 2 folds, not {folds}", field="folds")
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(target)), target))
