"""Channel attribution: which marketing channel a visit came from, from UTM, source and referrer."""

from __future__ import annotations

import re
from urllib.parse import urlparse

_SEARCH_ENGINES = ("google", "bing", "duckduckgo", "yahoo", "baidu", "yandex", "ecosia", "qwant")
_SOCIAL = ("facebook", "linkedin", "twitter", "instagram", "youtube", "reddit", "tiktok", "pinterest", "xing")
_SOCIAL_HOSTS = ("x.com", "t.co", "lnkd.in", "fb.com")
_PAID_MEDIUMS = {"cpc", "ppc", "paid", "paidsearch", "paid search", "sem", "adwords"}
_PAID_SOCIAL_MEDIUMS = {"paid social", "paidsocial", "social paid", "sponsored"}

# Source names as CRMs and spreadsheets write them (no medium, no referrer), e.g. the X Education
# export's "Lead Source": whole-phrase matches first, then words contained in the name.
_SOURCE_PHRASES = {
    "organic search": "organic_search", "organic": "organic_search", "seo": "organic_search",
    "direct traffic": "direct", "direct": "direct", "(direct)": "direct", "none": "direct",
    "reference": "referral", "referral": "referral", "referral sites": "referral",
    "word of mouth": "referral", "partner": "referral", "affiliate": "referral",
    "pay per click ads": "paid_search", "ppc": "paid_search", "cpc": "paid_search",
    "google ads": "paid_search", "adwords": "paid_search", "bing ads": "paid_search",
    "social media": "social", "social": "social",
    "email": "email", "e mail": "email", "newsletter": "email", "edm": "email", "nc edm": "email",
    "webinar": "webinar", "trade show": "trade_show", "tradeshow": "trade_show", "event": "trade_show",
    "expo": "trade_show", "fair": "trade_show", "blog": "content", "press release": "content",
}


def _words(value: str) -> str:
    return " ".join(re.split(r"[\s_\-/]+", value.strip().lower()))


def _channel_of_source(source: str) -> str | None:
    name = _words(source)
    if not name:
        return None
    if name in _SOURCE_PHRASES:
        return _SOURCE_PHRASES[name]
    if any(e in name for e in _SEARCH_ENGINES):
        # A search engine named without a paid medium is organic, as web analytics count it.
        return "organic_search"
    if any(e in name for e in _SOCIAL):
        return "social"
    if "webinar" in name:
        return "webinar"
    if "newsletter" in name or "mail" in name.split():
        return "email"
    return None


def classify_channel(
    *, medium: str | None, source: str | None, referrer: str | None, explicit: str | None = None
) -> str:
    """The channel key (see campaigns.models.CHANNELS) for one touch."""
    if explicit:
        return explicit
    m = _words(medium or "")
    if m in _PAID_SOCIAL_MEDIUMS:
        return "paid_social"
    if m in _PAID_MEDIUMS:
        return "paid_search"
    if m in {"email", "e mail", "newsletter"}:
        return "email"
    if m in {"social", "social network", "social media", "sm"}:
        return "social"
    if m in {"display", "banner", "cpm"}:
        return "display"
    if m in {"webinar", "event"}:
        return "webinar"
    if m in {"tradeshow", "trade show", "fair", "expo"}:
        return "trade_show"
    if m in {"referral", "partner", "affiliate"}:
        return "referral"
    if m == "organic":
        return "organic_search"
    host = (urlparse(referrer).hostname or "") if referrer else ""
    if host:
        if any(f"{e}." in host for e in _SEARCH_ENGINES):
            return "organic_search"
        if any(f"{e}." in host for e in _SOCIAL) or host in _SOCIAL_HOSTS:
            return "social"
        return "referral"
    if source and source.strip():
        return _channel_of_source(source) or "other"
    return "direct"
