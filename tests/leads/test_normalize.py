"""Contact data normalization: pure functions, no database."""

import pycountry
import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from leadflow.leads.normalize import (
    InvalidValue,
    clean_name,
    clean_text,
    normalize_country,
    normalize_email,
    normalize_phone,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("Ana@Example.COM", "ana@example.com"),
    ("  ana@example.com\t", "ana@example.com"),
    ("mailto:Ana@Example.com", "ana@example.com"),
    ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
])
def test_email_is_trimmed_lowercased_and_unprefixed(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_empty_email_is_none(raw):
    assert normalize_email(raw) is None


@pytest.mark.parametrize(("raw", "reason"), [
    ("ana.example.com", "@"),
    ("ana@example", "period"),
    ("ana@@example.com", "invalid characters"),
    ("ana @example.com", ""),
])
def test_invalid_email_says_why(raw, reason):
    with pytest.raises(InvalidValue) as exc:
        normalize_email(raw)
    assert str(exc.value)
    assert reason in str(exc.value)


@pytest.mark.parametrize(("raw", "country", "expected"), [
    ("612 345 678", "ES", "+34612345678"),
    ("(202) 555-0143", "US", "+12025550143"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("030 123456", "DE", "+4930123456"),
    ("98765 43210", "IN", "+919876543210"),
    ("+34 612-345-678", None, "+34612345678"),
    ("0034 612 345 678", None, "+34612345678"),
    ("0044 20 7946 0958", "ES", "+442079460958"),
])
def test_phone_becomes_e164(raw, country, expected):
    assert normalize_phone(raw, country) == expected


def test_international_number_ignores_the_country_given():
    assert normalize_phone("+1 202 555 0143", "ES") == "+12025550143"


def test_national_number_without_country_is_refused():
    with pytest.raises(InvalidValue, match="country"):
        normalize_phone("612 345 678", None)


@pytest.mark.parametrize(("raw", "country"), [
    ("123", "ES"),
    ("+34 12", None),
    ("+1 555", "US"),
    ("+999 1234567", None),
    ("call me maybe", "ES"),
    ("6123456789012345678", "ES"),
])
def test_impossible_phone_is_refused(raw, country):
    with pytest.raises(InvalidValue):
        normalize_phone(raw, country)


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_empty_phone_is_none(raw):
    assert normalize_phone(raw, "ES") is None


@pytest.mark.parametrize(("raw", "expected"), [
    ("ES", "ES"), ("es", "ES"), ("ESP", "ES"), (" esp ", "ES"),
    ("Spain", "ES"), ("España", "ES"), ("espana", "ES"),
    ("Alemania", "DE"), ("Germany", "DE"), ("DEU", "DE"),
    ("Estados Unidos", "US"), ("USA", "US"), ("United States", "US"), ("us", "US"),
    ("United Kingdom", "GB"), ("Reino Unido", "GB"), ("UK", "GB"), ("GBR", "GB"),
    ("India", "IN"), ("Francia", "FR"), ("México", "MX"),
])
def test_country_codes_and_english_or_spanish_names_become_iso2(raw, expected):
    assert normalize_country(raw) == expected


@pytest.mark.parametrize("raw", ["Narnia", "XX", "Atlantis", "ZZZ"])
def test_unknown_country_is_refused_with_the_value(raw):
    with pytest.raises(InvalidValue, match=raw):
        normalize_country(raw)


def test_empty_country_is_none():
    assert normalize_country("  ") is None


def test_names_are_trimmed_and_inner_space_collapsed():
    assert clean_name("  Ana   María \n") == "Ana María"


@pytest.mark.parametrize("raw", [
    "http://spam.example", "Visit https://x.io", "www.cheap-pills.com", "<b>Ana</b>", "Ana <script>",
])
def test_names_with_links_or_html_are_refused(raw):
    with pytest.raises(InvalidValue, match="link or HTML"):
        clean_name(raw)


def test_clean_text_drops_control_characters_and_cuts_to_length():
    assert clean_text("a\x00b\x07c") == "abc"
    assert clean_text("x" * 300) == "x" * 255
    assert clean_text("   ") is None


def test_clean_text_does_not_end_in_space_when_cut_at_a_space():
    assert clean_text("a" * 254 + " b") == "a" * 254


@given(st.emails())
def test_normalize_email_is_idempotent(raw):
    try:
        once = normalize_email(raw)
    except InvalidValue:
        reject()  # syntactically odd addresses email-validator refuses; the property is about the rest
    assert normalize_email(once) == once


@given(st.text(max_size=60))
def test_normalize_email_on_any_text_is_idempotent_or_refuses(raw):
    try:
        once = normalize_email(raw)
    except InvalidValue:
        return
    assert normalize_email(once) == once


def test_every_iso_alpha2_code_maps_to_itself():
    wrong = {c.alpha_2: normalize_country(c.alpha_2) for c in pycountry.countries
             if normalize_country(c.alpha_2) != c.alpha_2 or normalize_country(c.alpha_2.lower()) != c.alpha_2}
    assert wrong == {}


@given(st.text(max_size=400), st.integers(min_value=1, max_value=300))
def test_clean_text_never_has_surrounding_whitespace(raw, max_length):
    out = clean_text(raw, max_length=max_length)
    assert out is None or (out == out.strip() and 0 < len(out) <= max_length)


_local = st.from_regex(r"[A-Za-z0-9_+-]{1,20}(\.[A-Za-z0-9_+-]{1,10}){0,2}", fullmatch=True)
_label = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,12}[A-Za-z0-9])?", fullmatch=True)
_tld = st.sampled_from(["com", "io", "es", "co", "org", "test", "local", "invalid", "example", "onion", "x", "COM"])


@given(local=_local, labels=st.lists(_label, min_size=1, max_size=3), tld=_tld)
def test_email_shortcut_agrees_with_email_validator(local: str, labels: list[str], tld: str) -> None:
    """normalize_email skips email-validator for simple addresses: only where it would say the same."""
    import email_validator

    from leadflow.leads.normalize import _simple_email

    address = f"{local}@{'.'.join(labels)}.{tld}"
    try:
        expected = email_validator.validate_email(address, check_deliverability=False).normalized.lower()
    except email_validator.EmailNotValidError:
        expected = None
    if _simple_email(address):
        assert expected == address.lower()
    if expected is None:
        with pytest.raises(InvalidValue):
            normalize_email(address)
    else:
        assert normalize_email(address) == expected
