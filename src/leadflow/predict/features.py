"""Which input columns a model uses, and their encoding as a numeric matrix for the booster.

Numeric columns pass through as floats (missing is NaN, which the booster routes on its own).
Categorical columns become integer codes the booster splits on natively, so each input column is
one model feature and its contribution needs no summing over one-hot pieces: code 0 is missing,
code 1 pools the values too rare to learn from and any value never seen in training, and codes
2, 3, ... are the values seen often enough, commonest first.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from leadflow.predict.errors import PredictError
from leadflow.predict.metrics import roc_auc

NUMERIC = "numeric"
CATEGORICAL = "categorical"
# Fewer outcomes than this of either kind cannot support a model or an honest evaluation.
MIN_CLASS_COUNT = 50
# A text column is numeric when this share of its values parse as numbers: a few stray entries
# ("n/a", "-") in a column of counts should not turn it into a category per count.
NUMERIC_SHARE = 0.95
# A category seen fewer times than this in training is pooled with the other rare ones: the
# booster cannot learn a value's own effect from a handful of leads.
MIN_LEVEL_COUNT = 5
# At most this many categories keep their own code (the commonest); more is free text, not a category.
MAX_LEVELS = 250
# Rare training values remembered so that scoring can tell "rare" from "never seen"; past this a
# column is free text and any value outside the kept ones counts as unseen.
MAX_RARE_KEPT = 10_000
# A text column whose values are this share distinct names leads rather than describing them.
IDENTIFIER_SHARE = 0.95
# A column that alone ranks outcomes this well was almost surely filled in after the outcome
# (a status, a sales note): honest signals in lead data rarely pass 0.9 on their own.
LEAKAGE_AUC = 0.97
# Numeric columns are cut into this many quantile bins to judge how well they predict alone.
LEAKAGE_BINS = 20
MISSING_CODE = 0
OTHER_CODE = 1
FIRST_LEVEL_CODE = 2
_UNSEEN = -1.0  # marks never-seen values until they are counted, then becomes OTHER_CODE


def check_classes(target: np.ndarray, *, name: str = "target") -> None:
    """PredictError unless TARGET holds at least MIN_CLASS_COUNT outcomes of each kind."""
    positives = int(np.count_nonzero(target == 1))
    negatives = int(len(target) - positives)
    if positives == 0 or negatives == 0:
        kind = "converted" if negatives == 0 else "not converted"
        raise PredictError(f"every one of the {len(target):,} outcomes in {name} is {kind}; a model needs "
                           "both converted and lost leads", field=name)
    if min(positives, negatives) < MIN_CLASS_COUNT:
        raise PredictError(f"{name} has {positives:,} converted and {negatives:,} other outcomes; a model "
                           f"needs at least {MIN_CLASS_COUNT} of each", field=name)


def _supported(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Boolean, pl.Categorical) or dtype.is_numeric() or isinstance(dtype, pl.Enum)


def numeric_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    """Column NAME as Float64; missing and unparsable values null."""
    col = pl.col(name)
    if dtype == pl.String:
        return col.str.strip_chars().cast(pl.Float64, strict=False)
    if dtype.is_numeric() or dtype == pl.Boolean:
        return col.cast(pl.Float64).fill_nan(None)
    return col.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)


def category_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    """Column NAME as trimmed strings; empty and missing values null, booleans "yes"/"no"."""
    col = pl.col(name)
    if dtype == pl.Boolean:
        return pl.when(col).then(pl.lit("yes")).when(~col).then(pl.lit("no"))
    text = col.cast(pl.String).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def input_kind(series: pl.Series) -> str:
    """NUMERIC for numbers and for text that is mostly numbers, CATEGORICAL otherwise."""
    if series.dtype.is_numeric():
        return NUMERIC
    if series.dtype != pl.String:
        return CATEGORICAL
    present, parsed = _present_parsed(series)
    return NUMERIC if present and parsed >= NUMERIC_SHARE * present else CATEGORICAL


def _present_parsed(series: pl.Series) -> tuple[int, int]:
    frame = series.to_frame()
    row = frame.select(
        category_expr(series.name, series.dtype).count().alias("present"),
        numeric_expr(series.name, series.dtype).count().alias("parsed"),
    ).row(0)
    return int(row[0]), int(row[1])


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One input column as the model reads it."""

    name: str
    kind: str  # NUMERIC | CATEGORICAL
    levels: tuple[str, ...] = ()  # categorical values with their own code, FIRST_LEVEL_CODE onwards
    rare: tuple[str, ...] = ()  # categorical values seen in training but pooled under OTHER_CODE

    def mapping(self) -> dict[str, float]:
        """Category value -> code for every value seen in training."""
        out = dict.fromkeys(self.rare, float(OTHER_CODE))
        out.update({v: float(FIRST_LEVEL_CODE + i) for i, v in enumerate(self.levels)})
        return out

    def mapping_series(self) -> tuple[pl.Series, pl.Series]:
        """`mapping()` as (values, codes) Series, built once per column: pricing one lead at a time
        would otherwise spend most of its time turning the same dict into Series."""
        return _mapping_series(self)

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "levels": list(self.levels), "rare": list(self.rare)}

    @classmethod
    def from_dict(cls, data: Mapping) -> ColumnSpec:
        return cls(str(data["name"]), str(data["kind"]), tuple(data.get("levels", ())), tuple(data.get("rare", ())))


@functools.lru_cache(maxsize=4096)
def _mapping_series(spec: ColumnSpec) -> tuple[pl.Series, pl.Series]:
    mapping = spec.mapping()
    return pl.Series(list(mapping), dtype=pl.String), pl.Series(list(mapping.values()), dtype=pl.Float64)


@dataclass(frozen=True, slots=True)
class Encoded:
    """A frame as the booster's input: the matrix and which categorical values were never seen in training."""

    matrix: np.ndarray  # n x k float64
    unseen: np.ndarray  # n x k bool
    names: list[str]

    def unseen_counts(self) -> dict[str, int]:
        """Rows per column whose value was never seen in training (columns with none left out)."""
        counts = self.unseen.sum(axis=0)
        return {name: int(n) for name, n in zip(self.names, counts, strict=True) if n}


@dataclass(frozen=True, slots=True)
class FeatureSet:
    """The columns a model reads, in the booster's feature order."""

    columns: tuple[ColumnSpec, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def categorical(self) -> list[int]:
        """Booster feature indices of the categorical columns."""
        return [i for i, c in enumerate(self.columns) if c.kind == CATEGORICAL]

    def encode(self, frame: pl.DataFrame) -> Encoded:
        """FRAME's rows as the booster's matrix; PredictError naming a required column that is absent."""
        for spec in self.columns:
            if spec.name not in frame.columns:
                raise PredictError(f"the model needs the column {spec.name!r}, which is missing", field=spec.name)
            if not _supported(frame.schema[spec.name]):
                raise PredictError(f"column {spec.name!r} has type {frame.schema[spec.name]}, not text or numbers",
                                   field=spec.name)
        exprs = []
        for i, spec in enumerate(self.columns):
            dtype = frame.schema[spec.name]
            if spec.kind == NUMERIC:
                expr = numeric_expr(spec.name, dtype).fill_null(float("nan"))
            else:
                value = category_expr(spec.name, dtype)
                expr = pl.when(value.is_null()).then(pl.lit(float(MISSING_CODE))).otherwise(
                    value.replace_strict(*spec.mapping_series(), default=_UNSEEN, return_dtype=pl.Float64))
            exprs.append(expr.alias(f"f{i}"))
        if not exprs:
            return Encoded(np.empty((frame.height, 0)), np.empty((frame.height, 0), dtype=bool), [])
        matrix = frame.select(exprs).to_numpy(order="c").astype(np.float64, copy=False)
        unseen = matrix == _UNSEEN
        matrix[unseen] = OTHER_CODE
        return Encoded(matrix, unseen, self.names)

    def to_dict(self) -> dict:
        return {"columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Mapping) -> FeatureSet:
        return cls(tuple(ColumnSpec.from_dict(c) for c in data["columns"]))


def fit_features(frame: pl.DataFrame, *, kinds: Mapping[str, str]) -> FeatureSet:
    """The FeatureSet of the columns in KINDS, categories learnt from FRAME."""
    columns = []
    for name, kind in kinds.items():
        if kind == NUMERIC:
            columns.append(ColumnSpec(name, NUMERIC))
            continue
        counts = (
            frame.select(category_expr(name, frame.schema[name]).alias("v"))
            .drop_nulls()
            .group_by("v")
            .len()
            .sort(["len", "v"], descending=[True, False])
        )
        values, n = counts["v"].to_list(), counts["len"].to_numpy()
        kept = min(int(np.count_nonzero(n >= MIN_LEVEL_COUNT)), MAX_LEVELS)
        columns.append(ColumnSpec(name, CATEGORICAL, tuple(values[:kept]), tuple(values[kept:kept + MAX_RARE_KEPT])))
    return FeatureSet(tuple(columns))


@dataclass(slots=True)
class Selection:
    """The columns kept (with their kind), the ones dropped with the reason, and the leakage flags."""

    kinds: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    leakage: list[dict] = field(default_factory=list)


def _known(frame: pl.DataFrame, names: Sequence[str], *, what: str) -> set[str]:
    for name in names:
        if name not in frame.columns:
            raise PredictError(f"{what} names the column {name!r}, which is not in the data", field=name)
    return set(names)


def single_column_auc(frame: pl.DataFrame, target: np.ndarray, *, name: str, kind: str) -> float:
    """How well column NAME alone ranks outcomes: the ROC AUC of its values' (or bins') conversion rates."""
    if kind == NUMERIC:
        x = frame.select(numeric_expr(name, frame.schema[name])).to_series().to_numpy().astype(np.float64)
        present = ~np.isnan(x)
        edges = np.unique(np.quantile(x[present], np.linspace(0, 1, LEAKAGE_BINS + 1)[1:-1]))
        codes = np.where(present, np.searchsorted(edges, np.nan_to_num(x), side="right") + 1, 0)
    else:
        codes = fit_features(frame, kinds={name: kind}).encode(frame).matrix[:, 0].astype(np.int64)
    counts = np.bincount(codes)
    rates = np.bincount(codes, weights=target.astype(np.float64)) / np.maximum(counts, 1)
    return roc_auc(target, rates[codes])


def select_columns(frame: pl.DataFrame, target: np.ndarray, *, exclude: Sequence[str] = (),
                   insist: Sequence[str] = ()) -> Selection:
    """Which columns of FRAME a model may use; the others dropped with a reason a user can read."""
    excluded = _known(frame, exclude, what="exclude")
    insisted = _known(frame, insist, what="insist")
    out = Selection()
    for name in frame.columns:
        series = frame[name]
        if name in excluded:
            out.dropped[name] = "left out on request"
            continue
        if not _supported(series.dtype):
            out.dropped[name] = f"type {series.dtype} is not text, a number or yes/no"
            continue
        kind = input_kind(series)
        expr = numeric_expr(name, series.dtype) if kind == NUMERIC else category_expr(name, series.dtype)
        values = frame.select(expr.alias("v")).to_series()
        present = len(values) - values.null_count()
        if present == 0:
            out.dropped[name] = "all values are missing"
            continue
        distinct = values.drop_nulls().n_unique()
        if distinct == 1 and present == len(values):
            out.dropped[name] = f"constant: every row has the same value ({values[0]})"
            continue
        if present > 1 and _identifier_like(values, kind=kind, present=present, distinct=distinct):
            out.dropped[name] = f"identifier-like: {distinct:,} distinct values in {present:,} rows"
            continue
        auc = single_column_auc(frame, target, name=name, kind=kind)
        if auc >= LEAKAGE_AUC:
            kept = name in insisted
            out.leakage.append({"name": name, "auc": auc, "kept": kept})
            if not kept:
                out.dropped[name] = (f"predicts the outcome almost alone (AUC {auc:.3f}): probably filled in "
                                     "after the outcome was known; insist on it to keep it")
                continue
        out.kinds[name] = kind
    if not out.kinds:
        raise PredictError("no usable columns are left: " + "; ".join(f"{k}: {v}" for k, v in out.dropped.items()))
    return out


def _identifier_like(values: pl.Series, *, kind: str, present: int, distinct: int) -> bool:
    if kind == CATEGORICAL:
        return distinct >= IDENTIFIER_SHARE * present
    # Distinct whole numbers (lead numbers, ids); distinct fractions are measurements and stay.
    numbers = values.drop_nulls().to_numpy()
    return distinct == present and bool(np.all(numbers == np.round(numbers)))
