"""BANT as data: allowed values, the answered/qualified checks, mapping free-form answers (no database)."""

from types import SimpleNamespace

import pytest

from leadflow.lifecycle.bant import (
    BANT_BY_KEY,
    BANT_KEYS,
    bant_answered,
    bant_from_answers,
    bant_qualified,
    missing_bant,
    parse_bant_value,
)


def _lead(budget=None, authority=None, need=None, timeline=None):
    return SimpleNamespace(bant_budget=budget, bant_authority=authority, bant_need=need, bant_timeline=timeline)


def test_the_four_fields_and_their_values_are_data():
    assert BANT_KEYS == ("budget", "authority", "need", "timeline")
    assert BANT_BY_KEY["budget"].allowed == ("confirmed", "planned", "none")
    assert BANT_BY_KEY["authority"].allowed == ("decision_maker", "influencer", "none")
    assert BANT_BY_KEY["need"].allowed == ("confirmed", "possible", "none")
    assert BANT_BY_KEY["timeline"].allowed == ("under_3_months", "3_to_12_months", "over_12_months", "none")
    assert all(v.label for f in BANT_BY_KEY.values() for v in f.values)
    assert BANT_BY_KEY["timeline"].column == "bant_timeline"


@pytest.mark.parametrize(("field", "raw", "stored"), [
    ("budget", "confirmed", "confirmed"), ("budget", " Planned ", "planned"), ("authority", "none", "none"),
    ("need", "possible", "possible"), ("timeline", "3_to_12_months", "3_to_12_months"),
    ("budget", "", None), ("timeline", "  ", None), ("need", None, None),
])
def test_parse_accepts_allowed_values_and_empties(field, raw, stored):
    assert parse_bant_value(field, raw) == stored


@pytest.mark.parametrize("field", ["budget", "authority", "need", "timeline"])
def test_parse_refuses_other_values_listing_the_allowed_ones(field):
    with pytest.raises(ValueError, match=field) as err:
        parse_bant_value(field, "lots")
    for value in BANT_BY_KEY[field].allowed:
        assert value in str(err.value)


def test_parse_refuses_an_unknown_field():
    with pytest.raises(ValueError, match="unknown BANT field"):
        parse_bant_value("money", "confirmed")


def test_answered_needs_all_four_and_none_counts_as_an_answer():
    assert not bant_answered(_lead())
    assert not bant_answered(_lead("confirmed", "influencer", "confirmed"))
    assert missing_bant(_lead("confirmed", "influencer", "confirmed")) == ["timeline"]
    assert bant_answered(_lead("none", "none", "none", "none"))


def test_qualified_needs_all_four_and_no_none():
    assert bant_qualified(_lead("confirmed", "decision_maker", "possible", "over_12_months"))
    assert not bant_qualified(_lead("confirmed", "decision_maker", "possible", "none"))
    assert not bant_qualified(_lead("confirmed", "decision_maker", "possible"))


def test_answers_map_by_english_and_spanish_names_and_synonyms():
    assert bant_from_answers({"Budget": "yes", "Authority": "I decide", "need": "maybe",
                              "timeline": "< 3 months"}) == {
        "budget": "confirmed", "authority": "decision_maker", "need": "possible", "timeline": "under_3_months"}
    assert bant_from_answers({"presupuesto": "sí", "autoridad": "influyo", "necesidad": "no",
                              "cronograma": "más de 12 meses"}) == {
        "budget": "confirmed", "authority": "influencer", "need": "none", "timeline": "over_12_months"}


def test_answers_matching_allowed_values_map_to_themselves():
    assert bant_from_answers({"budget": "planned", "timeline": "3_to_12_months", "authority": "none"}) == {
        "budget": "planned", "timeline": "3_to_12_months", "authority": "none"}


def test_unknown_names_and_answers_are_skipped_and_the_first_answer_wins():
    assert bant_from_answers({"colour": "yes", "budget": "a lot", "need": None}) == {}
    assert bant_from_answers({"budget": "no", "presupuesto": "yes"}) == {"budget": "none"}
    assert bant_from_answers({"budget": True, "plazo": "6-12 months"}) == {"budget": "confirmed",
                                                                          "timeline": "3_to_12_months"}
