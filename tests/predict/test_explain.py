"""Explanations in words: labels, values and the factors behind one lead's probability."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from leadflow.predict.errors import PredictError
from leadflow.predict.explain import MODERATE, STRONG, display_number, factors, label
from leadflow.predict.training import PredictiveModel, train_model
from tests.predict import FAST, synthetic_leads


@pytest.fixture(scope="module")
def model() -> PredictiveModel:
    frame, y, _ = synthetic_leads()
    return train_model(frame, y, folds=3, params=FAST, baselines=False).model


@pytest.mark.parametrize(("name", "text"), [
    ("properties.Lead Source", "Lead Source"),
    ("Total Time Spent on Website", "Total Time Spent on Website"),
    ("events.page_view_30d", "page views in the last 30 days"),
    ("events.form_submit_total", "form submits in total"),
    ("events.days_since_last", "days since the last activity"),
    ("days_since_created", "days since the lead was created"),
    ("days_since_demo", "days since demo"),
    ("source_channel", "source channel"),
    ("properties.budget_range", "budget range"),
    ("email_kind", "email address type"),
])
def test_labels(name: str, text: str) -> None:
    assert label(name) == text


@pytest.mark.parametrize(("value", "text"), [
    (1532.0, "1,532"), (2.5, "2.5"), (1234.567, "1,234.57"), (0.0, "0"), (-3.0, "-3"), (0.004, "0"),
])
def test_numbers_are_shown_as_people_write_them(value: float, text: str) -> None:
    assert display_number(value) == text


def _strength_word(contribution: float) -> str:
    size = abs(contribution)
    return "a lot" if size >= STRONG else ("" if size >= MODERATE else "slightly")


def test_factors_largest_first_with_plain_sentences(model: PredictiveModel) -> None:
    frame, _, _ = synthetic_leads(40, seed=21)
    for i in range(frame.height):
        row = frame.slice(i, 1)
        out = factors(model, row, top=3)
        assert 1 <= len(out) <= 3
        sizes = [abs(f["contribution"]) for f in out]
        assert sizes == sorted(sizes, reverse=True)
        explanation = model.explain(row)
        assert max(sizes) == pytest.approx(np.abs(explanation.contributions[0]).max())
        for f in out:
            assert f["direction"] == ("raises" if f["contribution"] > 0 else "lowers")
            ending = f"— {f['direction']} the chance" + (f" {w}" if (w := _strength_word(f["contribution"])) else "")
            assert f["text"].endswith(ending)
            assert f["text"][0].isupper()
            assert set(f) == {"feature", "label", "value", "contribution", "direction", "text"}


def test_factor_values_missing_unseen_and_numbers(model: PredictiveModel) -> None:
    row = pl.DataFrame({"channel": ["carrier pigeon"], "visits": [12.0], "budget": ["20000"],
                        "country": [None], "noise": [0.1]}, schema_overrides={"country": pl.String})
    by_feature = {f["feature"]: f for f in factors(model, row, top=10)}
    assert by_feature["visits"]["value"] == "12"
    assert by_feature["visits"]["text"].startswith("Visits is 12 — raises the chance")
    assert by_feature["channel"]["text"].startswith("Channel is carrier pigeon (a value not seen in training) — ")
    if "budget" in by_feature:
        assert by_feature["budget"]["value"] == "20,000"
    if "country" in by_feature:
        assert by_feature["country"]["value"] == "unknown"
        assert by_feature["country"]["text"].startswith("Country is unknown — ")


def test_factors_sum_to_the_explanation(model: PredictiveModel) -> None:
    frame, _, _ = synthetic_leads(1, seed=2)
    everything = factors(model, frame, top=100)
    explanation = model.explain(frame)
    assert sum(f["contribution"] for f in everything) == pytest.approx(explanation.contributions[0].sum(), abs=1e-12)


def test_factors_explain_one_lead(model: PredictiveModel) -> None:
    frame, _, _ = synthetic_leads(2, seed=2)
    with pytest.raises(PredictError, match="one lead at a time"):
        factors(model, frame)


def test_workspace_columns_read_as_counts() -> None:
    frame, y, _ = synthetic_leads()
    names = {"visits": "events.page_view_30d", "channel": "properties.channel"}
    workspace = train_model(frame.rename(names), y, folds=3, params=FAST, baselines=False).model
    row = pl.DataFrame({"properties.channel": ["referral"], "events.page_view_30d": [1.0], "budget": ["5000"],
                        "country": ["Spain"], "noise": [0.0]})
    texts = {f["feature"]: f["text"] for f in factors(workspace, row, top=10)}
    assert texts["events.page_view_30d"].startswith("1 page view in the last 30 days — lowers the chance")
    assert texts["properties.channel"].startswith("Channel is referral — raises the chance")
