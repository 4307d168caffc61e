"""Spam defence for submissions: pure checks that say why a submission looks automated or abusive.

A failed check never drops anything: the caller stores the submission as quarantined with these
reasons, and a user can release it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from disposable_email_domains import blocklist
from limits import RateLimitItemPerMinute, storage, strategies

HONEYPOT_FIELD = "_hp"
NAME_FIELDS = ("first_name", "last_name", "full_name")
# The same tell normalize.clean_name refuses: links or markup where a person's name goes.
_LINK_OR_HTML = re.compile(r"https?://|www\.|<[^>]*>", re.I)


def is_disposable(domain: str | None) -> bool:
    """Whether DOMAIN (or a parent domain) is on the maintained disposable-address list."""
    if not domain:
        return False
    parts = domain.lower().split(".")
    return any(".".join(parts[i:]) in blocklist for i in range(len(parts) - 1))


def spam_reasons(*, payload: Mapping[str, object], email_domain: str | None, elapsed_seconds: float | None,
                 min_seconds: int, token_valid: bool, rate_limited: bool, rate: str) -> list[str]:
    """Why this submission should be quarantined; empty when it passes every check."""
    reasons: list[str] = []
    if str(payload.get(HONEYPOT_FIELD) or "").strip():
        reasons.append("honeypot field filled (bots fill every input)")
    if not token_valid:
        reasons.append("form token missing or forged (the form was not loaded from this server)")
    elif elapsed_seconds is not None and elapsed_seconds < min_seconds:
        reasons.append(f"submitted {elapsed_seconds:.1f} s after the form was shown (minimum {min_seconds} s)")
    if rate_limited:
        reasons.append(f"too many submissions from this IP address (limit {rate})")
    if is_disposable(email_domain):
        reasons.append(f"disposable email domain {email_domain}")
    for field in NAME_FIELDS:
        value = payload.get(field)
        if isinstance(value, str) and _LINK_OR_HTML.search(value):
            reasons.append(f"link or HTML in {field}")
    return reasons


class RateLimiter:
    """Per-key moving-window limit (the `limits` library; memory by default, Redis for several processes)."""

    def __init__(self, rate: str, storage_uri: str = "memory://"):
        self.rate = rate
        self._item = _parse_rate(rate)
        self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    def hit(self, key: str) -> bool:
        """Count one request for KEY; False when it goes over the limit."""
        return self._limiter.hit(self._item, "submit", key)


@lru_cache(maxsize=16)
def _parse_rate(rate: str):
    from limits import parse

    try:
        return parse(rate)
    except ValueError:
        return RateLimitItemPerMinute(20)
