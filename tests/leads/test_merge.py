"""Merge rules for lead fields and custom properties: pure, no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.leads.merge import SET_FIELDS, SET_ONCE_FIELDS, merge_fields, merge_properties


def test_set_field_takes_the_newer_value():
    assert merge_fields({"job_title": "CTO"}, {"job_title": "CEO"}) == {"job_title": ("CTO", "CEO")}


def test_set_field_with_same_value_is_no_change():
    assert merge_fields({"job_title": "CTO"}, {"job_title": "CTO"}) == {}


def test_set_once_field_keeps_the_first_value():
    assert merge_fields({"first_source": "google"}, {"first_source": "bing"}) == {}


def test_set_once_field_is_filled_when_empty():
    assert merge_fields({"first_source": None}, {"first_source": "bing"}) == {"first_source": (None, "bing")}


def test_empty_incoming_values_never_erase():
    assert merge_fields({"job_title": "CTO", "city": "Madrid"}, {"job_title": None, "city": ""}) == {}


@pytest.mark.parametrize("field", ["consent_email", "consent_tracking"])
def test_consent_is_never_set_back_to_unknown(field):
    assert merge_fields({field: "granted"}, {field: "unknown"}) == {}
    assert merge_fields({field: "granted"}, {field: "denied"}) == {field: ("granted", "denied")}


def test_unknown_field_has_no_rule():
    with pytest.raises(KeyError, match="shoe_size"):
        merge_fields({}, {"shoe_size": 44})


def test_properties_set_overwrites_and_set_once_does_not():
    merged, changes = merge_properties({"plan": "free", "source_list": "fair-2025"},
                                       {"plan": "pro"}, {"source_list": "webinar", "segment": "smb"})
    assert merged == {"plan": "pro", "source_list": "fair-2025", "segment": "smb"}
    assert changes == {"plan": ("free", "pro"), "segment": (None, "smb")}


def test_properties_unchanged_value_is_not_a_change():
    merged, changes = merge_properties({"plan": "pro"}, {"plan": "pro"}, None)
    assert merged == {"plan": "pro"}
    assert changes == {}


def test_merge_properties_does_not_mutate_the_current_dict():
    current = {"plan": "free"}
    merge_properties(current, {"plan": "pro"}, None)
    assert current == {"plan": "free"}


_MERGEABLE = sorted(set(SET_FIELDS) | set(SET_ONCE_FIELDS))
_values = st.one_of(st.none(), st.just(""), st.text(max_size=8), st.integers(-5, 5),
                    st.sampled_from(["granted", "denied", "unknown"]))
_records = st.dictionaries(st.sampled_from(_MERGEABLE), _values, max_size=12)
# JSON scalars only: NaN is refused by the API schemas before it reaches the merge.
_prop_values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                         st.floats(allow_nan=False, allow_infinity=False))
_props = st.dictionaries(st.text(min_size=1, max_size=5), _prop_values, max_size=6)


@given(_records, _records)
def test_applying_the_same_incoming_twice_changes_nothing_the_second_time(current, incoming):
    state = dict(current)
    for field, (_, new) in merge_fields(state, incoming).items():
        state[field] = new
    assert merge_fields(state, incoming) == {}


@given(_props, _props, _props)
def test_merging_the_same_properties_twice_changes_nothing_the_second_time(current, set_, set_once):
    merged, _ = merge_properties(current, set_, set_once)
    again, changes = merge_properties(merged, set_, set_once)
    assert changes == {}
    assert again == merged
