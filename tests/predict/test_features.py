"""Which columns a model may use, and their encoding for the booster."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from leadflow.predict.errors import PredictError
from leadflow.predict.features import (
    CATEGORICAL,
    FIRST_LEVEL_CODE,
    MISSING_CODE,
    NUMERIC,
    OTHER_CODE,
    FeatureSet,
    fit_features,
    input_kind,
    select_columns,
)
from tests.predict import synthetic_leads


def test_drops_identifier_constant_and_empty_columns_with_reasons() -> None:
    frame, y, _ = synthetic_leads()
    selection = select_columns(frame.with_columns(pl.Series("email", [f"a{i}@x.io" for i in range(frame.height)])), y)
    assert selection.dropped["Lead Number"].startswith("identifier-like")
    assert selection.dropped["email"].startswith("identifier-like")
    assert selection.dropped["newsletter"].startswith("constant")
    assert selection.dropped["empty"] == "all values are missing"
    assert selection.kinds == {"channel": CATEGORICAL, "visits": NUMERIC, "budget": NUMERIC,
                               "country": CATEGORICAL, "noise": NUMERIC}
    assert selection.leakage == []


def test_a_column_with_one_value_and_blanks_is_kept() -> None:
    frame, y, _ = synthetic_leads()
    flag = pl.Series("webinar", ["attended" if i % 3 else None for i in range(frame.height)])
    assert "webinar" in select_columns(frame.with_columns(flag), y).kinds


def test_leakage_guard_flags_a_copy_of_the_outcome_unless_insisted() -> None:
    frame, y, _ = synthetic_leads()
    # Filled in by sales after the outcome: "won"/"lost", wrong on 1 % of leads.
    status = np.where(y == 1, "won", "lost")
    status[:12] = np.where(y[:12] == 1, "lost", "won")
    frame = frame.with_columns(pl.Series("status", status))
    selection = select_columns(frame, y)
    assert "status" not in selection.kinds
    assert "predicts the outcome almost alone" in selection.dropped["status"]
    assert selection.leakage[0]["name"] == "status" and selection.leakage[0]["auc"] > 0.97
    assert selection.leakage[0]["kept"] is False
    insisted = select_columns(frame, y, insist=["status"])
    assert insisted.kinds["status"] == CATEGORICAL
    assert insisted.leakage[0]["kept"] is True


def test_a_numeric_copy_of_the_outcome_is_flagged_too() -> None:
    frame, y, _ = synthetic_leads()
    selection = select_columns(frame.with_columns(pl.Series("deal_value", y * 5_000.0)), y)
    assert "deal_value" in selection.dropped


def test_exclude_and_insist_must_name_existing_columns() -> None:
    frame, y, _ = synthetic_leads()
    assert select_columns(frame, y, exclude=["noise"]).dropped["noise"] == "left out on request"
    for option in ("exclude", "insist"):
        with pytest.raises(PredictError, match="'Tags'") as info:
            select_columns(frame, y, **{option: ["Tags"]})
        assert info.value.field == "Tags"


def test_nothing_usable_left_is_an_error() -> None:
    frame, y, _ = synthetic_leads()
    with pytest.raises(PredictError, match="no usable columns"):
        select_columns(frame.select("Lead Number", "newsletter", "empty"), y)


def test_unsupported_types_are_dropped_with_a_reason() -> None:
    frame, y, _ = synthetic_leads()
    tags = pl.Series("tags", [["a", "b"]] * frame.height)
    assert "not text, a number or yes/no" in select_columns(frame.with_columns(tags), y).dropped["tags"]


@pytest.mark.parametrize(("values", "kind"), [
    (["1", "2.5", " 3 ", None], NUMERIC),
    (["1"] * 95 + ["n/a"] * 5, NUMERIC),
    (["1"] * 94 + ["n/a"] * 6, CATEGORICAL),
    (["Google", "Direct"], CATEGORICAL),
])
def test_text_that_is_mostly_numbers_is_numeric(values: list, kind: str) -> None:
    assert input_kind(pl.Series("c", values)) == kind


def test_kinds_of_typed_columns() -> None:
    assert input_kind(pl.Series("c", [1, 2, 3])) == NUMERIC
    assert input_kind(pl.Series("c", [True, False])) == CATEGORICAL


def test_encoding_codes_missing_rare_unseen_and_levels() -> None:
    train = pl.DataFrame({
        "source": ["google"] * 6 + ["direct"] * 5 + ["fax"] * 2 + [None],
        "visits": ["1", "2", "x", None] + ["3"] * 10,
    })
    features = fit_features(train, kinds={"source": CATEGORICAL, "visits": NUMERIC})
    assert features.columns[0].levels == ("google", "direct")
    assert features.columns[0].rare == ("fax",)
    scoring = pl.DataFrame({"source": ["google", "direct", "fax", "telex", None, " google "],
                            "visits": [1.0, None, 2.0, 3.0, 4.0, 5.0]})
    encoded = features.encode(scoring)
    assert encoded.matrix[:, 0].tolist() == [FIRST_LEVEL_CODE, FIRST_LEVEL_CODE + 1, OTHER_CODE, OTHER_CODE,
                                             MISSING_CODE, FIRST_LEVEL_CODE]
    assert np.isnan(encoded.matrix[1, 1]) and encoded.matrix[0, 1] == 1.0
    # "fax" was seen (too rarely to learn from); "telex" never was.
    assert encoded.unseen[:, 0].tolist() == [False, False, False, True, False, False]
    assert encoded.unseen_counts() == {"source": 1}


def test_encoding_needs_every_column() -> None:
    features = FeatureSet.from_dict({"columns": [{"name": "visits", "kind": NUMERIC}]})
    with pytest.raises(PredictError, match="'visits'") as info:
        features.encode(pl.DataFrame({"other": [1]}))
    assert info.value.field == "visits"


def test_feature_set_round_trips_through_a_dict() -> None:
    frame, _, _ = synthetic_leads()
    features = fit_features(frame, kinds={"channel": CATEGORICAL, "visits": NUMERIC})
    again = FeatureSet.from_dict(features.to_dict())
    assert again == features
    assert np.array_equal(again.encode(frame).matrix, features.encode(frame).matrix, equal_nan=True)
