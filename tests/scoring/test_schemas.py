"""The scoring model document: what validates, what is refused and where the error points."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from leadflow.scoring.schemas import (
    ModelError,
    default_model,
    default_model_text,
    model_to_data,
    model_to_yaml,
    parse_model,
    parse_model_text,
)
from tests.scoring.test_engine import model_data

# A small valid model every refusal below starts from: one change, one error.
VALID: dict[str, Any] = {
    "name": "Small model",
    "fit": {
        "grades": {"A": 30, "B": 20, "C": 10},
        "rules": [
            {"id": "vp", "field": "job_title", "regex": r"(?i)\bvp\b", "points": 20},
            {"id": "software", "field": "industry", "in": ["Software"], "points": 15},
        ],
    },
    "engagement": {
        "rules": [
            {"id": "download", "event": "download", "points": 8, "cap": 24},
            {"id": "pricing", "event": "page_view", "url": "/pricing", "points": 10, "cap": 20, "intent": True},
        ],
    },
    "lifecycle": {"mql": {"min_grade": "B", "min_engagement": 30}, "sql": {}},
}


DELETE = object()


def changed(path: str, value: Any, base: dict = VALID) -> dict:
    """BASE with the key at PATH ("fit.rules.0.regex") set to VALUE, or removed if VALUE is DELETE."""
    data = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


def refusal(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(ModelError) as caught:
        parse_model(data)
    return caught.value.errors


def test_the_small_model_is_valid() -> None:
    model = parse_model(VALID)
    assert [r.id for r in model.fit.rules] == ["vp", "software"]
    assert model.engagement.rules[1].intent


@pytest.mark.parametrize(("data", "loc"), [
    ({**VALID, "colour": "blue"}, "colour"),
    (changed("fit.rules.0.colour", "blue"), "fit.rules.0.colour"),
    (changed("fit.grades.D", 0), "fit.grades.D"),
    (changed("engagement.rules.1.window", {"days": 1, "max_points": 5, "size": 2}), "engagement.rules.1.window.size"),
    (changed("lifecycle.mql.min_fit", 3), "lifecycle.mql.min_fit"),
    (changed("fit.rules.0.range", {"min": 1, "low": 2}), "fit.rules.0.range.low"),
])
def test_unknown_keys_are_refused_where_they_are(data: dict, loc: str) -> None:
    assert refusal(data) == [(loc, "unknown key")]


@pytest.mark.parametrize(("path", "value", "message"), [
    ("fit.rules.0.regex", "(vp", "not a valid regular expression: missing ), unterminated subpattern"),
    ("engagement.rules.1.url", "/pricing[", "not a valid regular expression: unterminated character set"),
    ("fit.rules.0.regex", r"vp(?!\w)", "not a regular expression leadflow can run: look-around"),
    ("engagement.rules.1.url", "(?<=/)pricing", "not a regular expression leadflow can run: look-around"),
    ("engagement.rules.1.url", r"/(a)\1", "not a regular expression leadflow can run: backreferences"),
])
def test_a_regex_must_run_in_python_and_in_the_engine(path: str, value: str, message: str) -> None:
    [(loc, msg)] = refusal(changed(path, value))
    assert loc == path
    assert msg.startswith(message), msg


@pytest.mark.parametrize("half_life", [-3, 0, float("nan"), float("inf")])
def test_the_half_life_must_be_a_positive_number_of_days(half_life: float) -> None:
    [(loc, msg)] = refusal(changed("engagement.rules.0.half_life_days", half_life))
    assert loc == "engagement.rules.0.half_life_days"
    expected = "the half-life must be a positive number of days" if half_life in (-3, 0) else "Input should be a finite number"
    assert msg.startswith(expected)


@pytest.mark.parametrize("path", ["lifecycle.mql.min_engagement", "fit.grades.A"])
def test_nan_is_never_a_threshold(path: str) -> None:
    [(loc, msg)] = refusal(changed(path, float("nan")))
    assert (loc, msg) == (path, "Input should be a finite number")


def test_a_null_half_life_means_no_decay() -> None:
    assert parse_model(changed("engagement.rules.0.half_life_days", None)).engagement.rules[0].half_life_days is None


@pytest.mark.parametrize(("path", "value", "loc", "message"), [
    # The capped rules give at most 24 + 20.
    ("lifecycle.mql.min_engagement", 45, "lifecycle.mql.min_engagement", "45 cannot be reached (engagement + intent is at most 44)"),
    ("lifecycle.sql.min_engagement", 44.5, "lifecycle.sql.min_engagement", "44.5 cannot be reached"),
    ("lifecycle.mql.min_intent", 21, "lifecycle.mql.min_intent", "21 cannot be reached (intent is at most 20)"),
    ("lifecycle.mql.min_score", 80, "lifecycle.mql.min_score", "80 cannot be reached (the score is at most 79)"),
    # Fit rules give at most 35.
    ("fit.grades", {"A": 36, "B": 20, "C": 10}, "fit.grades.A", "36 points cannot be reached (the fit rules give at most 35)"),
    ("fit.grades", {"A": 50, "B": 40, "C": 36}, "fit.grades.A", "50 points cannot be reached"),
])
def test_unreachable_thresholds_and_grade_cuts_are_refused(path: str, value: Any, loc: str, message: str) -> None:
    [(got_loc, msg)] = refusal(changed(path, value))
    assert got_loc == loc
    assert msg.startswith(message), msg


def test_thresholds_exactly_at_the_bound_are_reachable() -> None:
    data = changed("lifecycle.mql", {"min_grade": "A", "min_engagement": 44, "min_intent": 20, "min_score": 79})
    data["fit"]["grades"]["A"] = 35
    assert parse_model(data).lifecycle.mql.min_score == 79


def test_an_uncapped_positive_rule_leaves_engagement_unbounded_unless_a_total_cap_bounds_it() -> None:
    uncapped = changed("engagement.rules.0.cap", DELETE)
    uncapped["lifecycle"]["mql"]["min_engagement"] = 500
    assert parse_model(uncapped).lifecycle.mql.min_engagement == 500
    uncapped["engagement"]["total_cap"] = 25
    [(loc, msg)] = refusal(uncapped)
    assert (loc, msg) == ("lifecycle.mql.min_engagement", "500 cannot be reached (engagement + intent is at most 45)")


def test_negative_rules_do_not_raise_the_bound() -> None:
    data = changed("engagement.rules.0", {"id": "unsubscribe", "event": "unsubscribe", "points": -20})
    data["lifecycle"]["mql"]["min_engagement"] = 21
    assert refusal(data) == [("lifecycle.mql.min_engagement", "21 cannot be reached (engagement + intent is at most 20)")]


@pytest.mark.parametrize("grades", [
    {"A": 30, "B": 30, "C": 10},
    {"A": 30, "B": 20, "C": 20},
    {"A": 20, "B": 30, "C": 10},
    {"A": 30, "B": 5, "C": 10},
])
def test_grade_cuts_must_strictly_descend(grades: dict) -> None:
    [(loc, msg)] = refusal(changed("fit.grades", grades))
    assert loc == "fit.grades"
    assert msg.startswith("grade cuts overlap: need A > B > C")


@pytest.mark.parametrize("section", ["fit", "engagement"])
def test_rule_ids_are_unique_within_a_section(section: str) -> None:
    data = copy.deepcopy(VALID)
    data[section]["rules"][1]["id"] = data[section]["rules"][0]["id"]
    [(loc, msg)] = refusal(data)
    assert loc == f"{section}.rules"
    assert msg == f"the id {data[section]['rules'][0]['id']!r} is used twice"


def test_one_id_may_name_a_fit_rule_and_an_engagement_rule() -> None:
    assert parse_model(changed("engagement.rules.0.id", "vp")).engagement.rules[0].id == "vp"


@pytest.mark.parametrize("rule", [
    {"id": "vp", "field": "job_title", "regex": "vp", "equals": "VP", "points": 20},
    {"id": "vp", "field": "job_title", "points": 20},
])
def test_a_fit_rule_has_exactly_one_condition(rule: dict) -> None:
    [(loc, msg)] = refusal(changed("fit.rules.0", rule))
    assert loc == "fit.rules.0"
    assert msg.startswith("give exactly one condition (equals, in, contains_any, regex, range, exists, free_email)")


def test_free_email_applies_to_the_email_field_only() -> None:
    rule = {"id": "free", "field": "properties.contact", "free_email": True, "points": 20}
    assert refusal(changed("fit.rules.0", rule)) == [("fit.rules.0", "free_email applies to the email field only")]


@pytest.mark.parametrize("name", ["title", "properties.", "properties.it's", "Job_Title"])
def test_an_unknown_field_is_refused(name: str) -> None:
    [(loc, msg)] = refusal(changed("fit.rules.0.field", name))
    assert loc == "fit.rules.0.field"
    assert msg.startswith(f"unknown field {name!r}")


@pytest.mark.parametrize("days", [0, -1])
def test_a_window_is_at_least_some_days(days: float) -> None:
    [(loc, _)] = refusal(changed("engagement.rules.0.window", {"days": days, "max_points": 5}))
    assert loc == "engagement.rules.0.window.days"


@pytest.mark.parametrize(("path", "value"), [
    ("fit.rules.0.range", {"min": 10, "max": 5}),
    ("fit.rules.0.range", {}),
    ("fit.rules.0.id", "Has Caps"),
    ("fit.rules.0.points", 1001),
    ("fit.rules.1.in", []),
    ("engagement.rules.0.event", "Page View"),
    ("engagement.rules.0.event", []),
    ("engagement.rules.0.cap", 0),
    ("engagement.rules.0.where", {"has space": "x"}),
    ("engagement.total_cap", -1),
    ("engagement.rules.0.window.max_points", 0),
])
def test_other_bad_values_point_at_their_key(path: str, value: Any) -> None:
    windowed = changed("engagement.rules.0.window", {"days": 1, "max_points": 5})
    errors = refusal(changed(path, value, windowed))
    assert [loc for loc, _ in errors] == [path], errors


def test_every_bad_key_is_reported() -> None:
    data = changed("fit.rules.0.field", "title")
    data["engagement"]["rules"][1]["half_life_days"] = 0
    assert [loc for loc, _ in refusal(data)] == ["fit.rules.0.field", "engagement.rules.1.half_life_days"]


def test_the_error_names_its_first_key() -> None:
    with pytest.raises(ModelError) as caught:
        parse_model(changed("fit.rules.0.field", "title"))
    assert caught.value.field == "fit.rules.0.field"
    assert str(caught.value).startswith("fit.rules.0.field: unknown field 'title'")


@pytest.mark.parametrize("data", [[VALID], "name: x", None, 3])
def test_a_model_is_a_mapping(data: Any) -> None:
    assert refusal(data) == [("", "a scoring model is a mapping (name, fit, engagement, lifecycle)")]


def test_a_yaml_list_is_not_a_model() -> None:
    with pytest.raises(ModelError) as caught:
        parse_model_text("- name: x\n")
    assert caught.value.errors[0][0] == ""


def test_broken_yaml_says_where() -> None:
    with pytest.raises(ModelError) as caught:
        parse_model_text("name: x\nfit:\n  rules: [a, b\nengagement: {}\n")
    [(loc, msg)] = caught.value.errors
    assert loc == ""
    assert msg.startswith("not valid YAML at line 4, column 11:"), msg


def test_broken_json_says_where() -> None:
    with pytest.raises(ModelError) as caught:
        parse_model_text('{"name": "x",\n "fit": }')
    assert caught.value.errors == [("", "not valid JSON at line 2, column 9: Expecting value")]


def test_json_is_accepted() -> None:
    assert parse_model_text(json.dumps(VALID, indent=2)) == parse_model(VALID)
    assert parse_model_text("  " + json.dumps(VALID)) == parse_model(VALID)


def test_the_default_model_parses_and_round_trips_through_yaml() -> None:
    model = default_model()
    assert model.name == "Default B2B model"
    assert len(model.fit.rules) == 9 and len(model.engagement.rules) == 12
    text = model_to_yaml(model)
    assert parse_model_text(text) == model
    assert model_to_yaml(parse_model_text(text)) == text
    assert parse_model_text(json.dumps(model_to_data(model))) == model
    assert parse_model_text(default_model_text()) == model


def test_a_rule_without_decay_stays_without_decay_through_yaml() -> None:
    model = parse_model(changed("engagement.rules.0.half_life_days", None))
    again = parse_model_text(model_to_yaml(model))
    assert again.engagement.rules[0].half_life_days is None
    assert again == model


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_data())
def test_any_valid_model_round_trips_through_yaml(data: dict) -> None:
    model = parse_model(data)
    assert parse_model_text(model_to_yaml(model)) == model
