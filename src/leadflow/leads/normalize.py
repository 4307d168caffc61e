"""Normalize and validate contact data: email, phone (E.164), country (ISO 3166), names.

The scalar functions are the single source of truth; the importer applies them once per
distinct value, so a million rows cost as many calls as there are different values.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from functools import lru_cache

import email_validator
import phonenumbers
import pycountry


class InvalidValue(ValueError):
    """A value that cannot be stored, with a reason a user can act on."""


# Addresses this simple are certainly valid for email-validator and normalize to their lowercase
# form; anything else (quotes, Unicode, IP literals, mailto:, odd or special-use domains) goes to
# email-validator. The importer applies the same test as a Polars expression; Hypothesis tests
# check both against email-validator.
EMAIL_FAST = (r"^[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*@"
              r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
SPECIAL_DOMAINS = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
_EMAIL_FAST = re.compile(EMAIL_FAST)


def _simple_email(value: str) -> bool:
    if len(value) > 200 or not _EMAIL_FAST.match(value):
        return False
    local, _, domain = value.rpartition("@")
    domain = domain.lower()
    return (len(local) <= 64 and "--" not in domain
            and not any(domain == d or domain.endswith("." + d) for d in SPECIAL_DOMAINS))


# email-validator checks syntax only here: deliverability would need DNS, and there is no
# network at run time.
def normalize_email(raw: str | None) -> str | None:
    """The lowercased, validated address, or None for empty; InvalidValue with the reason."""
    if raw is None:
        return None
    value = str(raw).strip()
    if not value:
        return None
    if _simple_email(value):
        return value.lower()
    value = value.removeprefix("mailto:")
    try:
        info = email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise InvalidValue(str(exc)) from None
    return info.normalized.lower()


def clean_text(raw: object, *, max_length: int = 255) -> str | None:
    """Trim, collapse inner whitespace, drop control characters; None for empty."""
    if raw is None:
        return None
    value = "".join(ch for ch in str(raw) if unicodedata.category(ch)[0] != "C" or ch == " ")
    value = " ".join(value.split())
    if not value:
        return None
    # Cutting can leave a space at the end; strip after cutting, not only before.
    return value[:max_length].rstrip()


def clean_name(raw: object) -> str | None:
    """A person's name part, trimmed; refuses links and markup (a spam tell)."""
    value = clean_text(raw, max_length=120)
    if value is None:
        return None
    if re.search(r"https?://|www\.|<[^>]*>", value, re.I):
        raise InvalidValue("a name cannot contain a link or HTML")
    return value


def _add(index: dict[str, str], name: str | None, code: str) -> None:
    if name:
        index.setdefault(_fold(name), code)


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", stripped.lower()).strip()


# Everyday names the ISO list spells otherwise.
_COUNTRY_ALIASES = {
    "usa": "US", "u s a": "US", "u s": "US", "united states of america": "US", "america": "US",
    "eeuu": "US", "ee uu": "US", "estados unidos": "US", "uk": "GB", "u k": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "great britain": "GB", "britain": "GB",
    "reino unido": "GB", "russia": "RU", "south korea": "KR", "korea": "KR", "north korea": "KP",
    "iran": "IR", "vietnam": "VN", "syria": "SY", "laos": "LA", "bolivia": "BO",
    "venezuela": "VE", "tanzania": "TZ", "moldova": "MD", "taiwan": "TW", "czech republic": "CZ",
    "ivory coast": "CI", "holland": "NL", "the netherlands": "NL", "uae": "AE",
    "emiratos arabes unidos": "AE", "macedonia": "MK", "palestine": "PS", "brasil": "BR",
    "mejico": "MX", "turkey": "TR", "hong kong": "HK", "macau": "MO",
}


@lru_cache(maxsize=1)
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    try:
        spanish = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"])
    except OSError:
        spanish = None
    for c in pycountry.countries:
        code = c.alpha_2
        index[c.alpha_2.lower()] = code
        index[c.alpha_3.lower()] = code
        for attr in ("name", "official_name", "common_name"):
            _add(index, getattr(c, attr, None), code)
        if spanish is not None:
            _add(index, spanish.gettext(c.name), code)
    for alias, code in _COUNTRY_ALIASES.items():
        index[alias] = code
    return index


def normalize_country(raw: object) -> str | None:
    """The ISO 3166-1 alpha-2 code for a code or an English/Spanish name; None for empty."""
    value = clean_text(raw, max_length=100)
    if value is None:
        return None
    code = _country_index().get(_fold(value))
    if code is None:
        raise InvalidValue(f"unknown country {value!r} (use an ISO 3166 code or an English or Spanish name)")
    return code


def normalize_phone(raw: object, country: str | None) -> str | None:
    """The number in E.164, using COUNTRY for national formats; None for empty."""
    value = clean_text(raw, max_length=64)
    if value is None:
        return None
    if value.startswith("00"):
        value = "+" + value[2:]
    if not value.startswith("+") and country is None:
        raise InvalidValue("a national phone number needs a country (or write it as +<country code>...)")
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else country)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue(f"not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidValue("not a possible phone number (wrong length)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_domain(email: str | None) -> str | None:
    return email.rsplit("@", 1)[1] if email and "@" in email else None


# Free mailbox providers: their domain says nothing about the lead's company.
FREE_EMAIL_DOMAINS = frozenset(
    ["gmail.com", "googlemail.com", "yahoo.com", "yahoo.es", "yahoo.co.uk", "hotmail.com", "hotmail.es", "outlook.com", "outlook.es", "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "yandex.com", "yandex.ru", "zoho.com", "mail.ru", "qq.com", "163.com", "126.com", "rediffmail.com", "t-online.de", "orange.fr", "free.fr", "laposte.net", "libero.it", "terra.com.br"]
)
