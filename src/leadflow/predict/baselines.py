"""Two simple models to measure the booster against, on the same folds: one-hot logistic
regression, and a frequency naive Bayes in the manner of Odoo's predictive lead scoring."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from leadflow.predict.features import MISSING_CODE, check_classes, fit_features, select_columns
from leadflow.predict.metrics import roc_auc, stratified_splits

# Numeric columns are cut into this many quantile bins (plus one for missing) for naive Bayes,
# as Odoo's scoring only counts discrete values.
NB_BINS = 10
# Laplace smoothing: one imaginary lead per value in each class, so an unseen pairing is unlikely, not impossible.
LAPLACE = 1.0
# Regularisation and iteration budget of the logistic regression: scikit-learn's default strength;
# enough iterations to converge on a few hundred one-hot columns.
LR_C = 1.0
LR_MAX_ITER = 2000


def _logistic_scores(train: np.ndarray, y: np.ndarray, test: np.ndarray, *, categorical: list[int]) -> np.ndarray:
    numeric = [i for i in range(train.shape[1]) if i not in set(categorical)]
    encode = ColumnTransformer([
        ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
        ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), numeric),
    ])
    model = make_pipeline(encode, LogisticRegression(C=LR_C, max_iter=LR_MAX_ITER))
    model.fit(train, y)
    return model.decision_function(test)


def _bin_codes(train: np.ndarray, x: np.ndarray) -> np.ndarray:
    # Quantile bins of the training values; 0 is missing, 1.. the bins.
    present = train[~np.isnan(train)]
    edges = np.unique(np.quantile(present, np.linspace(0, 1, NB_BINS + 1)[1:-1])) if len(present) else np.empty(0)
    return np.where(np.isnan(x), MISSING_CODE, np.searchsorted(edges, np.nan_to_num(x), side="right") + 1)


def _naive_bayes_scores(train: np.ndarray, y: np.ndarray, test: np.ndarray, *, categorical: list[int]) -> np.ndarray:
    won, lost = y == 1, y == 0
    score = np.full(len(test), np.log(won.sum() / lost.sum()))
    for j in range(train.shape[1]):
        if j in categorical:
            codes_train, codes_test = train[:, j].astype(np.int64), test[:, j].astype(np.int64)
        else:
            codes_train, codes_test = _bin_codes(train[:, j], train[:, j]), _bin_codes(train[:, j], test[:, j])
        size = int(max(codes_train.max(), codes_test.max())) + 1
        n_won = np.bincount(codes_train[won], minlength=size)
        n_lost = np.bincount(codes_train[lost], minlength=size)
        values = int(np.count_nonzero((n_won + n_lost) > 0)) + 1  # the values seen, plus one for any other
        p_won = (n_won + LAPLACE) / (won.sum() + LAPLACE * values)
        p_lost = (n_lost + LAPLACE) / (lost.sum() + LAPLACE * values)
        score += np.log(p_won[codes_test]) - np.log(p_lost[codes_test])
    return score


def baseline_aucs(frame: pl.DataFrame, target: np.ndarray, *, folds: int = 5, seed: int = 0,
                  splits: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
                  kinds: Mapping[str, str] | None = None) -> dict[str, float]:
    """Out-of-sample ROC AUC of both baselines on SPLITS (by default the main model's stratified folds)."""
    y = np.asarray(target).astype(np.int8)
    if kinds is None:
        check_classes(y)
        kinds = select_columns(frame, y).kinds
    if splits is None:
        splits = stratified_splits(y, folds=folds, seed=seed)
    held_out = np.concatenate([test for _, test in splits])
    logistic, bayes = np.empty(len(y)), np.empty(len(y))
    for train, test in splits:
        features = fit_features(frame[train], kinds=kinds)
        categorical = features.categorical
        x_train, x_test = features.encode(frame[train]).matrix, features.encode(frame[test]).matrix
        logistic[test] = _logistic_scores(x_train, y[train], x_test, categorical=categorical)
        bayes[test] = _naive_bayes_scores(x_train, y[train], x_test, categorical=categorical)
    return {"logistic_regression": roc_auc(y[held_out], logistic[held_out]),
            "naive_bayes": roc_auc(y[held_out], bayes[held_out])}

