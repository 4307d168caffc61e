"""Reading a CSV of historical leads and turning its outcome column into 0/1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from leadflow.predict.csvdata import read_csv, split_target, target_vector
from leadflow.predict.errors import PredictError


def _labels(pos: int, neg: int, *, yes: str = "Won", no: str = "Lost") -> pl.Series:
    return pl.Series("Outcome", [yes] * pos + [no] * neg)


def test_reads_every_column_as_text_with_empty_cells_null(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Id,Visits,Source,\n1,3, Google ,\n2,,Direct,\n", encoding="utf-8")
    frame = read_csv(path)
    assert frame.columns == ["Id", "Visits", "Source", "column 4"]
    assert all(dtype == pl.String for dtype in frame.dtypes)
    assert frame["Visits"].to_list() == ["3", None]
    assert frame["Source"].to_list() == ["Google", "Direct"]
    assert frame["column 4"].null_count() == 2


def test_detects_delimiter_and_encoding(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes("Name;Ciudad;Visits\nJosé;Málaga;2\nAna;Cádiz;5\n".encode("cp1252"))
    frame = read_csv(path)
    assert frame.columns == ["Name", "Ciudad", "Visits"]
    assert frame["Ciudad"].to_list() == ["Málaga", "Cádiz"]


def test_repeated_headers_are_numbered(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("a,a,b\n1,2,3\n", encoding="utf-8")
    assert read_csv(path).columns == ["a", "a (2)", "b"]


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02binary\x00"])
def test_unreadable_file_is_a_predict_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(content)
    with pytest.raises(PredictError):
        read_csv(path)


def test_missing_file_is_a_predict_error(tmp_path: Path) -> None:
    with pytest.raises(PredictError, match="cannot read"):
        read_csv(tmp_path / "nowhere.csv")


def test_default_labels_are_case_insensitive() -> None:
    values = pl.Series("Converted", ["Yes"] * 60 + ["no"] * 30 + ["LOST"] * 30 + ["won"] * 5)
    y = target_vector(values)
    assert y.dtype == np.int8
    assert y.tolist() == [1] * 60 + [0] * 60 + [1] * 5


def test_numeric_and_boolean_targets() -> None:
    assert target_vector(pl.Series("c", [1] * 50 + [0] * 50)).sum() == 50
    assert target_vector(pl.Series("c", [1.0] * 50 + [0.0] * 50)).sum() == 50
    assert target_vector(pl.Series("c", [True] * 50 + [False] * 50)).sum() == 50


def test_unknown_label_names_the_label_and_its_rows() -> None:
    values = pl.Series("Outcome", ["won"] * 60 + ["lost"] * 60 + ["maybe"] * 7)
    with pytest.raises(PredictError, match=r"7 rows .*'maybe' \(7 rows\)") as info:
        target_vector(values)
    assert info.value.field == "Outcome"


def test_configured_labels() -> None:
    values = _labels(60, 70, yes="Closed Won", no="Closed Lost")
    y = target_vector(values, positive=["closed won"], negative=["Closed Lost"])
    assert y.sum() == 60
    with pytest.raises(PredictError, match="neither a positive nor a negative"):
        target_vector(values, positive=["Closed Won"], negative=["Lost"])
    # With only the positive labels given, every other label is a negative outcome.
    assert target_vector(values, positive=["Closed Won"]).sum() == 60
    assert target_vector(values, negative=["Closed Lost"]).sum() == 60
    with pytest.raises(PredictError, match="both outcomes"):
        target_vector(values, positive=["a"], negative=["A"])


@pytest.mark.parametrize(("pos", "neg", "message"), [
    (49, 200, "at least 50 of each"),
    (200, 49, "at least 50 of each"),
    (120, 0, "every one of the 120 outcomes"),
    (0, 120, "every one of the 120 outcomes"),
])
def test_too_few_outcomes_of_a_class(pos: int, neg: int, message: str) -> None:
    with pytest.raises(PredictError, match=message) as info:
        target_vector(_labels(pos, neg))
    assert info.value.field == "Outcome"


def test_missing_outcomes_are_refused() -> None:
    values = pl.Series("Outcome", ["won"] * 60 + ["lost"] * 60 + [None, None])
    with pytest.raises(PredictError, match="2 rows have no value in Outcome") as info:
        target_vector(values)
    assert info.value.field == "Outcome"


def test_split_target() -> None:
    frame = pl.DataFrame({"Source": ["a"] * 120, "Converted": ["1"] * 60 + ["0"] * 60})
    features, y = split_target(frame, target="Converted")
    assert features.columns == ["Source"] and y.sum() == 60
    with pytest.raises(PredictError, match="no column 'Outcome'") as info:
        split_target(frame, target="Outcome")
    assert info.value.field == "Outcome"
