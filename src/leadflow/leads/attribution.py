"""Channel attribution: which marketing channel a visit came from, from UTM and referrer."""

from __future__ import annotations

from urllib.parse import urlparse

_SEARCH_ENGINES = ("google.", "bing.", "duckduckgo.", "yahoo.", "baidu.", "yandex.", "ecosia.")
_SOCIAL = ("facebook.", "linkedin.", "twitter.", "x.com", "t.co", "instagram.", "youtube.", "reddit.", "tiktok.")
_PAID_MEDIUMS = {"cpc", "ppc", "paid", "paidsearch", "paid_search", "sem"}
_PAID_SOCIAL_MEDIUMS = {"paid_social", "paidsocial", "social_paid", "sponsored"}


def classify_channel(
    *, medium: str | None, source: str | None, referrer: str | None, explicit: str | None = None
) -> str:
    """The channel key (see campaigns.models.CHANNELS) for one touch."""
    if explicit:
        return explicit
    m = (medium or "").strip().lower()
    s = (source or "").strip().lower()
    if m in _PAID_SOCIAL_MEDIUMS:
        return "paid_social"
    if m in _PAID_MEDIUMS:
        return "paid_search"
    if m in {"email", "e-mail", "newsletter"}:
        return "email"
    if m in {"social", "social-network", "social_media", "sm"}:
        return "social"
    if m in {"display", "banner", "cpm"}:
        return "display"
    if m in {"webinar", "event"}:
        return "webinar"
    if m in {"tradeshow", "trade_show", "trade-show", "fair", "expo"}:
        return "trade_show"
    if m in {"referral", "partner", "affiliate"}:
        return "referral"
    if m == "organic":
        return "organic_search"
    host = (urlparse(referrer).hostname or "") if referrer else ""
    probe = host or s
    if probe:
        if any(e in probe for e in _SEARCH_ENGINES):
            return "organic_search"
        if any(e in probe for e in _SOCIAL):
            return "social"
        if host:
            return "referral"
        return "other"
    return "direct"
