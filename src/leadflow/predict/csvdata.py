"""A CSV of historical leads as string columns, and its outcome column as 0/1."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from leadflow.leads.import_reader import UnreadableFile, detect_format
from leadflow.predict.errors import PredictError
from leadflow.predict.features import check_classes

DEFAULT_POSITIVE = ("1", "true", "yes", "won", "customer", "converted")
DEFAULT_NEGATIVE = ("0", "false", "no", "lost", "disqualified")
# Unknown labels named in an error message: enough to spot a typo, short enough to read.
SHOWN_LABELS = 5


def _column_names(headers: Sequence[str]) -> list[str]:
    # Blank headers (a trailing delimiter) get a name; repeated headers a numbered suffix, as
    # Polars needs unique names.
    names: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(headers):
        name = raw.strip() or f"column {i + 1}"
        base, k = name, 2
        while name in seen:
            name, k = f"{base} ({k})", k + 1
        seen.add(name)
        names.append(name)
    return names


def read_csv(path: Path) -> pl.DataFrame:
    """Every column of the CSV at PATH as String, values trimmed, empty cells null."""
    try:
        fmt = detect_format(path)
        text = path.read_bytes().decode(fmt.encoding)
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")), separator=fmt.delimiter, has_header=True,
            infer_schema=False, truncate_ragged_lines=True, quote_char='"', raise_if_empty=False,
        )
    except UnreadableFile as exc:
        raise PredictError(str(exc)) from None
    except (OSError, UnicodeDecodeError, pl.exceptions.PolarsError) as exc:
        raise PredictError(f"cannot read {path.name} as CSV: {exc}") from None
    # The header as written (Polars renames repeated names its own way).
    names = _column_names(fmt.headers if len(fmt.headers) == frame.width else frame.columns)
    value = pl.all().str.strip_chars()
    return frame.rename(dict(zip(frame.columns, names, strict=True))).with_columns(
        pl.when(value == "").then(None).otherwise(value).name.keep()
    )


def _labels(values: pl.Series) -> pl.Series:
    # Numbers and booleans as the strings a CSV would hold ("1", "0", "true"), then case-folded.
    if values.dtype == pl.Boolean:
        return values.cast(pl.String)
    if values.dtype.is_numeric():
        number = values.cast(pl.Float64)
        whole = number.cast(pl.Int64, strict=False).cast(pl.String)
        return pl.select(
            pl.when(number == number.round()).then(whole).otherwise(number.cast(pl.String))
        ).to_series()
    return values.cast(pl.String).str.strip_chars().str.to_lowercase()


def target_vector(values: pl.Series, *, positive: Sequence[str] | None = None,
                  negative: Sequence[str] | None = None) -> np.ndarray:
    """VALUES as 0/1 (int8): labels in POSITIVE are 1, labels in NEGATIVE 0 (case-insensitive).

    With neither given the default label sets apply; with only one given, every other label
    belongs to the other class.
    """
    name = values.name or "target"
    labels = _labels(values)
    missing = labels.null_count()
    if missing:
        raise PredictError(f"{missing:,} rows have no value in {name}; leave out leads without an outcome",
                           field=name)
    pos = {str(v).strip().lower() for v in positive} if positive is not None else None
    neg = {str(v).strip().lower() for v in negative} if negative is not None else None
    if pos is None and neg is None:
        pos, neg = set(DEFAULT_POSITIVE), set(DEFAULT_NEGATIVE)
    if pos is not None and neg is not None and pos & neg:
        raise PredictError(f"labels counted as both outcomes: {', '.join(sorted(pos & neg))}", field=name)
    if pos is None:
        is_pos = ~labels.is_in(sorted(neg or ()))
    else:
        is_pos = labels.is_in(sorted(pos))
        if neg is not None:
            unknown = labels.filter(~is_pos & ~labels.is_in(sorted(neg)))
            if len(unknown):
                counts = unknown.value_counts(sort=True).head(SHOWN_LABELS).rows()
                shown = ", ".join(f"{label!r} ({n:,} rows)" for label, n in counts)
                raise PredictError(
                    f"{len(unknown):,} rows of {name} have a label that is neither a positive nor a "
                    f"negative outcome: {shown}; set the positive and negative labels", field=name)
    target = is_pos.to_numpy().astype(np.int8)
    check_classes(target, name=name)
    return target


def split_target(frame: pl.DataFrame, *, target: str, positive: Sequence[str] | None = None,
                 negative: Sequence[str] | None = None) -> tuple[pl.DataFrame, np.ndarray]:
    """FRAME without its TARGET column, and that column as 0/1; PredictError when it is absent."""
    if target not in frame.columns:
        raise PredictError(f"the file has no column {target!r} to learn the outcome from", field=target)
    return frame.drop(target), target_vector(frame[target], positive=positive, negative=negative)
