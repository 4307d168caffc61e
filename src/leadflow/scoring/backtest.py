"""Backtests: how well a model's score ranks leads whose outcome is known. Pure (arrays in, numbers out)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from leadflow.scoring.schemas import GRADES

DECILES = 10
# A candidate whose AUC is this much below the active model's is flagged as worse: smaller
# differences are within the noise of a few thousand outcomes.
WORSE_AUC_MARGIN = 0.005


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count half); None when one class is missing."""
    labels = labels.astype(bool)
    pos, neg = int(labels.sum()), int((~labels).sum())
    if pos == 0 or neg == 0:
        return None
    # Mann-Whitney U from average ranks, which handles ties exactly.
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(scores)]))
    avg = (starts + ends + 1) / 2.0  # 1-based average rank of each tie group
    ranks[order] = np.repeat(avg, ends - starts)
    u = ranks[labels].sum() - pos * (pos + 1) / 2.0
    return float(u / (pos * neg))


@dataclass(frozen=True, slots=True)
class Bucket:
    label: str
    leads: int
    converted: int
    rate: float | None
    lift: float | None


@dataclass(slots=True)
class BacktestReport:
    version: int | None
    name: str
    leads_with_outcome: int
    converted: int
    base_rate: float | None
    roc_auc: float | None
    by_grade: list[Bucket]
    by_decile: list[Bucket]  # decile 1 = the highest scores
    mql_today: int
    sql_today: int
    compared_to: dict | None = None
    worse: bool = False
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _bucket(label: str, y: np.ndarray, base: float | None) -> Bucket:
    n, k = len(y), int(y.sum())
    rate = k / n if n else None
    lift = rate / base if rate is not None and base else None
    return Bucket(label, n, k, rate, lift)


def grade_table(grades: np.ndarray, labels: np.ndarray, base: float | None) -> list[Bucket]:
    return [_bucket(g, labels[grades == g], base) for g in GRADES]


def decile_table(scores: np.ndarray, labels: np.ndarray, base: float | None) -> list[Bucket]:
    """Conversion per score decile, highest scores first; ties never split across deciles by id."""
    n = len(scores)
    if n == 0:
        return []
    order = np.argsort(-scores, kind="mergesort")
    edges = np.linspace(0, n, DECILES + 1).round().astype(int)
    out = []
    for d in range(DECILES):
        idx = order[edges[d]:edges[d + 1]]
        out.append(_bucket(str(d + 1), labels[idx], base))
    return out


def evaluate(*, version: int | None, name: str, scores: np.ndarray, grades: np.ndarray, labels: np.ndarray,
             mql_today: int, sql_today: int) -> BacktestReport:
    """The backtest report of one model's scores against known outcomes."""
    labels = labels.astype(bool)
    n = len(labels)
    base = float(labels.mean()) if n else None
    report = BacktestReport(
        version=version, name=name, leads_with_outcome=n, converted=int(labels.sum()), base_rate=base,
        roc_auc=roc_auc(scores, labels), by_grade=grade_table(grades, labels, base),
        by_decile=decile_table(scores, labels, base), mql_today=mql_today, sql_today=sql_today)
    if n == 0:
        report.warnings.append("no lead has a known outcome yet: nothing to backtest against")
    elif report.roc_auc is None:
        report.warnings.append("every lead with an outcome has the same one: the AUC needs both")
    elif min(report.converted, n - report.converted) < 50:
        report.warnings.append(f"only {min(report.converted, n - report.converted)} leads in the smaller "
                               "outcome class: the figures are noisy")
    return report


def compare(candidate: BacktestReport, active: BacktestReport | None) -> BacktestReport:
    """Record on CANDIDATE how it differs from the active model's report, and whether it is worse."""
    if active is None:
        return candidate
    delta = None
    if candidate.roc_auc is not None and active.roc_auc is not None:
        delta = candidate.roc_auc - active.roc_auc
        candidate.worse = delta < -WORSE_AUC_MARGIN
    candidate.compared_to = {
        "version": active.version, "name": active.name, "roc_auc": active.roc_auc, "roc_auc_delta": delta,
        "mql_today": active.mql_today, "mql_today_delta": candidate.mql_today - active.mql_today,
        "sql_today": active.sql_today, "sql_today_delta": candidate.sql_today - active.sql_today,
    }
    if candidate.worse:
        candidate.warnings.append(f"worse than the active model v{active.version}: ROC AUC "
                                  f"{candidate.roc_auc:.3f} vs {active.roc_auc:.3f}")
    return candidate
