"""Channel attribution from medium, referrer and source names (pure, no database)."""

import pytest

from leadflow.leads.attribution import classify_channel


@pytest.mark.parametrize(
    ("medium", "source", "referrer", "expected"),
    [
        ("cpc", "google", None, "paid_search"),
        ("paid_social", "linkedin", None, "paid_social"),
        ("email", "newsletter", None, "email"),
        (None, None, "https://www.google.com/search?q=x", "organic_search"),
        (None, None, "https://t.co/abc", "social"),
        (None, None, "https://blog.partner.io/post", "referral"),
        (None, None, None, "direct"),
        # Source names as CRM exports write them (X Education's "Lead Source").
        (None, "Google", None, "organic_search"),
        (None, "Organic Search", None, "organic_search"),
        (None, "Direct Traffic", None, "direct"),
        (None, "Reference", None, "referral"),
        (None, "Referral Sites", None, "referral"),
        (None, "Facebook", None, "social"),
        (None, "youtubechannel", None, "social"),
        (None, "Pay per Click Ads", None, "paid_search"),
        (None, "NC_EDM", None, "email"),
        (None, "Olark Chat", None, "other"),
    ],
)
def test_channel(medium, source, referrer, expected):
    assert classify_channel(medium=medium, source=source, referrer=referrer) == expected


def test_explicit_channel_wins():
    assert classify_channel(medium="cpc", source="google", referrer=None, explicit="webinar") == "webinar"


def test_medium_beats_referrer():
    # A paid click from Google carries Google as referrer: the medium says it was paid.
    assert classify_channel(medium="cpc", source="google", referrer="https://www.google.com/", ) == "paid_search"
