"""The deterministic demo workspace generator: one column array per field, no per-lead Python objects.

`generate_workspace` is pure: the same seed, lead count, "now" and user ids give the same tables.
Dates are anchored to `now`, so the same seed run on another day gives the same workspace shifted
by the days in between. The world is built so its numbers tell the truth: good-fit and engaged
leads convert far more, referrals and webinars convert best, paid social worst.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import numpy as np
import polars as pl

from leadflow.capture.spam import HONEYPOT_FIELD
from leadflow.config import Settings
from leadflow.demo import catalog as c
from leadflow.leads.normalize import InvalidValue, normalize_email

DAY = 86_400
HISTORY_DAYS = 365  # leads are created over the last twelve months
# Lead volume grew this much over the year (a product finding its market).
YEARLY_GROWTH = 2.2
# Relative lead volume per weekday (Mon..Sun): B2B buyers fill in forms at work.
WEEKDAY_FACTOR = np.array([1.05, 1.08, 1.06, 1.0, 0.85, 0.35, 0.3])
# Relative lead volume per month (Jan..Dec): summer and the end-of-year holidays are quiet.
MONTH_FACTOR = np.array([1.1, 1.05, 1.1, 1.0, 1.0, 0.95, 0.85, 0.72, 1.15, 1.12, 1.05, 0.8])
# Forms are filled mostly in European and American office hours (hour of day, UTC).
SUBMIT_HOUR_MEAN, SUBMIT_HOUR_SD = 14.5, 3.5
COMPANIES_PER_LEAD = 0.22  # several people per account, as in B2B
# Company popularity skew: u**k concentrates leads on the first companies of each country.
COMPANY_SKEW = 1.8
SPANISH_TWO_SURNAMES = 0.3  # Spanish speakers who give both surnames

# Seniority mix (c_level, vp, director, manager, individual, student) by channel: shows and
# referrals bring decision makers, paid social brings students and juniors.
_BASE_SENIORITY = (0.06, 0.08, 0.15, 0.27, 0.34, 0.10)
SENIORITY_BY_CHANNEL = {
    "trade_show": (0.10, 0.12, 0.22, 0.28, 0.26, 0.02),
    "referral": (0.12, 0.12, 0.22, 0.28, 0.24, 0.02),
    "paid_social": (0.03, 0.05, 0.10, 0.22, 0.40, 0.20),
    "webinar": (0.06, 0.10, 0.20, 0.30, 0.30, 0.04),
    "organic_search": (0.04, 0.06, 0.13, 0.25, 0.38, 0.14),
}
# Share of leads using a work address (students almost never do).
CORPORATE_EMAIL_BY_CHANNEL = {"trade_show": 0.93, "referral": 0.9, "paid_social": 0.5, "social": 0.6}
CORPORATE_EMAIL_DEFAULT = 0.74
CORPORATE_EMAIL_STUDENT = 0.05
# Email local-part patterns: first.last, flast, first, firstlast, first_last.
EMAIL_PATTERNS_CORPORATE = (0.55, 0.25, 0.08, 0.07, 0.05)
EMAIL_PATTERNS_FREE = (0.35, 0.1, 0.0, 0.35, 0.2)
# Mobile number prefixes so phones look like the country's mobiles (US/CA use area codes).
MOBILE_PREFIX = {"GB": "7", "DE": "151", "FR": "61", "NL": "61", "AU": "4", "IN": "9", "IE": "87", "SE": "70",
                 "ES": "6", "MX": "55", "AR": "11", "CO": "31", "CL": "9", "PE": "9"}
# Area codes in use (New York, LA, Chicago, SF, Austin, Boston, Seattle, Miami, Toronto, Vancouver...).
NANP_AREA_CODES = (212, 646, 213, 310, 312, 415, 512, 617, 206, 305, 404, 303, 469, 702, 416, 604, 514, 403)
PHONE_SHARE_WITH_FIELD = 0.8  # forms with a phone field: most people fill it in
PHONE_SHARE_OTHER = 0.2  # others: some give it later or it comes from enrichment
COUNTRY_TLD = {"ES": ".es", "MX": ".mx", "AR": ".com.ar", "DE": ".de", "GB": ".co.uk"}
COUNTRY_TLD_SHARE = 0.5  # companies of those countries that use the country domain
GENERIC_TLDS = (".com", ".com", ".com", ".io", ".co", ".net", ".ai")

# Fit points, mirroring an ideal customer profile: senior buyers at 51-1000 employee companies in
# software, finance, retail and healthcare, writing from a work address.
FIT_SENIORITY = np.array([2.0, 2.0, 1.5, 1.0, 0.0, -2.0])
FIT_TARGET_INDUSTRY = 1.0
FIT_TARGET_SIZE = 1.0
FIT_ENTERPRISE_SIZE = 0.5  # 1001-5000: fits, but a longer, harder sale
FIT_CORPORATE_EMAIL = 1.0

# Channel effect on every funnel step (logit): referrals and webinars convert best, paid social worst.
CHANNEL_CONVERSION = {"referral": 0.9, "webinar": 0.6, "trade_show": 0.25, "organic_search": 0.1,
                      "paid_search": 0.0, "email": 0.15, "direct": 0.2, "social": -0.3, "paid_social": -0.9}
# Channel effect on engagement (standard deviations of the latent engagement).
CHANNEL_ENGAGEMENT = {"webinar": 0.5, "referral": 0.4, "email": 0.3, "trade_show": 0.1, "direct": 0.1,
                      "organic_search": 0.0, "paid_search": 0.0, "social": -0.2, "paid_social": -0.5}
FIT_ENGAGEMENT = 0.15  # people who fit also read more

# Funnel step logits: intercept, per fit point above 2, per intent signal (pricing, demo, webinar, trial).
MQL_LOGIT = (-2.0, 0.7, 0.9)
SQL_LOGIT = (-1.1, 0.55, 0.45)
WON_LOGIT = (-1.3, 0.45, 0.35)
STEP_CHANNEL_WEIGHT = 0.6  # share of the channel effect applied at each step
TRADE_SHOW_SUSPECT = 0.75  # badge scans arrive as suspects (not yet identified as interested)
OTHER_SUSPECT = 0.04  # newsletter-only or incomplete submissions
PROSPECT_BASE, PROSPECT_PER_SIGNAL = 0.5, 0.15  # a suspect that engages becomes a prospect

# Days between stages (lognormal median, sigma): time to convert ends up around 40 days median.
DAYS_SUSPECT_TO_PROSPECT = (4.0, 0.9)
DAYS_PROSPECT_TO_MQL = (6.0, 0.9)
DAYS_MQL_TO_SQL = (7.0, 0.8)
DAYS_SQL_TO_CUSTOMER = (24.0, 0.6)
DAYS_TO_EXIT = (14.0, 0.8)  # from the last stage to disqualified or recycled
DAYS_ACTIVE_AFTER_LAST_STAGE = (20.0, 0.9)

# Where a stalled lead ends, by the last stage it reached: (disqualified, recycled) shares.
EXIT_SHARES = {"suspect": (0.0, 0.0), "prospect": (0.12, 0.0), "mql": (0.15, 0.25), "sql": (0.55, 0.25)}
STUDENT_DISQUALIFIED = 0.5  # students reaching no further than prospect are weeded out
# Loss reasons (catalog.LOST_REASONS order) by the stage the lead was lost at.
LOST_REASON_SHARES = {
    "prospect": (0.15, 0.0, 0.0, 0.5, 0.15, 0.2),
    "mql": (0.25, 0.2, 0.0, 0.3, 0.25, 0.0),
    "sql": (0.3, 0.15, 0.3, 0.1, 0.15, 0.0),
}
DEAL_MEDIAN, DEAL_SIGMA = 11_000.0, 0.6  # annual contract value, lognormal

# Consent (granted, denied) shares by form; the rest stay unknown. Imported badge scans: no form.
CONSENT_EMAIL_BY_FORM = ((0.6, 0.1), (0.7, 0.1), (0.75, 0.05), (0.95, 0.0), (0.6, 0.1), (0.75, 0.05))
CONSENT_EMAIL_IMPORTED = (0.35, 0.05)
CONSENT_TRACKING = (0.68, 0.12)

# Events per lead (Poisson means) and how engagement raises them.
PAGE_VIEWS_BASE, PAGE_VIEWS_PER_SD = 2.6, 1.6
DOWNLOADS_BASE, DOWNLOADS_PER_SD = 0.5, 0.35
EMAIL_OPENS_BASE, EMAIL_OPENS_PER_SD = 1.8, 1.0
EMAIL_CLICK_SHARE = 0.3
TRIAL_EVENTS_MEAN = 3.0
PRICING_VIEWS_MEAN = 1.0  # extra /pricing views beyond the first
CAREERS_VIEW = {"student": 0.35, "other": 0.03}  # job seekers read /careers, buyers rarely
SALES_CALLS_MEAN, SALES_MEETINGS_MEAN = 2.0, 1.5  # at least one of each once sales works a lead
# Intent signals, logit of the latent engagement: (intercept, slope).
PRICING_SIGNAL = (-1.3, 1.3)
DEMO_SIGNAL = (-2.0, 1.3)
WEBINAR_SIGNAL = (-2.6, 1.0)
WEBINAR_ATTENDANCE = 0.6  # registrants of a webinar campaign who attend
TRIAL_SIGNAL = (-2.2, 1.4)

# Submissions: each form lead's own, plus the spam the forms caught and the few they refused.
FORM_CONSENT_VERSION = 1  # every demo form still shows its first consent text
PROCESS_DELAY_S = (1, 6)  # the worker turns a submission into a lead within seconds
SPAM_SHARE, SPAM_MIN = 0.015, 20  # quarantined spam, per form lead
INVALID_SHARE, INVALID_MIN = 0.002, 5  # refused for a mistyped email, per form lead
# Forms (FORMS order) spam lands on: bots find the demo and newsletter forms first.
SPAM_FORMS = (0.35, 0.2, 0.1, 0.25, 0.05, 0.05)
# Spam kinds: (honeypot filled, too fast, rate limited, disposable email, link in first_name), weight.
SPAM_PROFILES = (
    ((True, True, False, False, False), 0.3),  # a script filling every input at once
    ((True, False, False, False, True), 0.15),  # an SEO spam bot
    ((False, True, True, False, False), 0.1),  # a burst from one host
    ((False, False, False, True, False), 0.25),  # a person with a throwaway address
    ((False, False, False, False, True), 0.1),  # link spam typed by hand
    ((True, False, False, True, False), 0.1),
)
MIN_SUBMIT_SECONDS = 2  # Form.min_submit_seconds default, which the demo forms keep
SUBMIT_RATE_LIMIT = Settings.model_fields["submit_rate_limit"].default
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
NO_VALUE = "\x00"  # stands for null in a text key (no catalog value contains it)
PAYLOAD_KEYS = ("email", "first_name", "last_name", "company_name", "job_title", "company_size", "phone")

STAGE_COLUMNS = ("start", "prospect", "mql", "sql", "customer", "exit")


@dataclass(frozen=True, slots=True)
class DemoWorkspace:
    """The generated tables in insert order (foreign keys first) and the anchor date."""

    now: datetime
    tables: dict[str, pl.DataFrame]


def default_now() -> datetime:
    """Today at 00:00 UTC (naive, as every stored timestamp)."""
    return datetime.combine(datetime.now(UTC).date(), time.min)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _ascii_slug(value: str) -> str:
    """Lowercase ASCII letters and digits only, for email local parts and domains."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed.lower() if ch.isascii() and ch.isalnum())


def _choice(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _rowwise_choice(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of PROBS (rows sum to 1), vectorized."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _lognormal_days(rng: np.random.Generator, spec: tuple[float, float], size: int) -> np.ndarray:
    median, sigma = spec
    return rng.lognormal(np.log(median), sigma, size) * DAY


def _take(values: Sequence[str | None], idx: np.ndarray) -> pl.Series:
    """VALUES[idx] as a string Series; a negative index gives null."""
    table = pl.Series([*values, None], dtype=pl.String)
    return table.gather(np.where(idx < 0, len(values), idx))


def _str(values: np.ndarray) -> pl.Series:
    """A string Series from a NumPy object array (None becomes null)."""
    return pl.Series(values.tolist(), dtype=pl.String)


def _ids(values: np.ndarray) -> pl.Series:
    """An id Series where 0 (no row) becomes null."""
    out = pl.Series(values.astype(np.int64))
    missing = np.nonzero(values <= 0)[0]
    return out.scatter(missing, None) if len(missing) else out


def _ts(seconds: np.ndarray) -> pl.Series:
    """Epoch seconds (negative = missing) as a naive datetime Series."""
    out = pl.from_epoch(pl.Series(seconds.astype(np.int64)), time_unit="s")
    missing = np.nonzero(seconds < 0)[0]
    return out.scatter(missing, None) if len(missing) else out


def generate_workspace(
    *, n_leads: int, seed: int, now: datetime, user_ids: Sequence[int]
) -> DemoWorkspace:
    """Every demo table for N_LEADS leads; USER_IDS are the database ids of catalog.USERS in order."""
    rng = np.random.default_rng(seed)
    now_s = int(now.replace(tzinfo=UTC).timestamp())
    first_day = now.date() - timedelta(days=HISTORY_DAYS)
    campaigns, spend, campaign_id_of_source = _campaign_tables(rng, now=now, first_day=first_day)
    forms = _forms_table(now=now, first_day=first_day, campaign_names=campaigns["name"].to_list())
    people = _people(rng, n=n_leads, now_s=now_s, first_day=first_day)
    companies, company_id = _companies(rng, people=people)
    _consent_states(rng, people)
    funnel = _funnel(rng, people=people, now_s=now_s, user_ids=user_ids)
    events, last_activity = _events(rng, people=people, funnel=funnel, now_s=now_s, user_ids=user_ids)
    leads = _leads_table(rng, people=people, funnel=funnel, company_id=company_id,
                         campaign_id_of_source=campaign_id_of_source, last_activity=last_activity)
    tables = {
        "campaigns": campaigns,
        "campaign_spend": spend,
        "forms": forms,
        "companies": companies,
        "leads": leads,
        "stage_changes": funnel["stage_changes"],
        "events": events,
        "consent_records": _consent_table(people=people),
        "submissions": _submissions(rng, leads=leads, now_s=now_s),
    }
    return DemoWorkspace(now=now, tables=tables)


def _campaign_tables(
    rng: np.random.Generator, *, now: datetime, first_day: date
) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray]:
    """Campaigns, their daily spend, and the campaign id of each catalog source (0 for direct)."""
    rows, spend_rows = [], []
    ids = np.zeros(len(c.SOURCES), dtype=np.int64)
    today = now.date()
    for i, src in enumerate(c.SOURCES):
        if not src.is_campaign:
            continue
        cid = len(rows) + 1
        ids[i] = cid
        starts = today - timedelta(days=src.starts_days_ago)
        ends = today - timedelta(days=src.ends_days_ago) if src.ends_days_ago else None
        days = [starts + timedelta(days=d) for d in range((today - starts).days)]
        if src.spend == c.DAILY:
            weekday = np.array([WEEKDAY_FACTOR[d.weekday()] for d in days])
            # Bids follow traffic, and daily budgets wobble around the plan.
            amounts = src.spend_amount * weekday * rng.gamma(20.0, 1 / 20.0, len(days))
            spent = list(zip(days, amounts, strict=True))
        elif src.spend == c.MONTHLY:
            spent = [(d, src.spend_amount * rng.uniform(0.8, 1.2)) for d in days if d.day == 1]
        else:
            spent = []
            for ago in src.event_days_ago:
                event_day = today - timedelta(days=ago)
                # The booth or platform is paid on the first day; travel and promotion on the others.
                spent.append((event_day, src.spend_amount * rng.uniform(0.9, 1.1)))
                spent += [(event_day + timedelta(days=k), src.spend_amount * 0.1 * rng.uniform(0.8, 1.2))
                          for k in range(1, src.event_length_days)]
        spend_rows += [(cid, d, round(float(a), 2)) for d, a in spent if first_day <= d < today]
        budget = sum(round(float(a), 2) for _, a in spent)
        rows.append((cid, src.name, src.channel, src.utm_source, src.utm_medium, src.utm_campaign,
                     starts, ends, round(budget * 1.1, -2), src.description,
                     datetime.combine(starts, time(9, 0))))
    campaigns = pl.DataFrame(rows, orient="row", schema={
        "id": pl.Int64, "name": pl.String, "channel": pl.String, "utm_source": pl.String,
        "utm_medium": pl.String, "utm_campaign": pl.String, "starts_on": pl.Date, "ends_on": pl.Date,
        "budget": pl.Float64, "description": pl.String, "created_at": pl.Datetime("us")})
    spend = pl.DataFrame(spend_rows, orient="row",
                         schema={"campaign_id": pl.Int64, "day": pl.Date, "amount": pl.Float64})
    spend = spend.sort("campaign_id", "day").with_row_index("id", offset=1).with_columns(pl.col("id").cast(pl.Int64))
    return campaigns, spend, ids


def _forms_table(*, now: datetime, first_day: date, campaign_names: list[str]) -> pl.DataFrame:
    ids = {name: i + 1 for i, name in enumerate(campaign_names)}
    created = datetime.combine(first_day, time(10, 0))
    return pl.DataFrame({
        "id": list(range(1, len(c.FORMS) + 1)),
        "slug": [f.slug for f in c.FORMS],
        "name": [f.name for f in c.FORMS],
        "campaign_id": [ids.get(f.campaign) if f.campaign else None for f in c.FORMS],
        "language": [f.language for f in c.FORMS],
        "fields": [json.dumps(list(f.fields), ensure_ascii=False) for f in c.FORMS],
        "title": [f.name for f in c.FORMS],
        "success_message": [f.success_message for f in c.FORMS],
        "consent_enabled": [True] * len(c.FORMS),
        "consent_text": [f.consent_text for f in c.FORMS],
        "consent_version": [FORM_CONSENT_VERSION] * len(c.FORMS),
        "consent_versions": [json.dumps([{"version": 1, "text": f.consent_text, "at": created.isoformat() + "Z"}],
                                        ensure_ascii=False) for f in c.FORMS],
        "allowed_origins": [json.dumps([c.SITE])] * len(c.FORMS),
        "created_at": [created] * len(c.FORMS),
        "updated_at": [created] * len(c.FORMS),
    }, schema_overrides={"campaign_id": pl.Int64, "id": pl.Int64})


def _day_weights(first_day: date) -> np.ndarray:
    """Relative lead volume of each of the last HISTORY_DAYS days: growth x month x weekday."""
    days = np.arange(HISTORY_DAYS)
    dates = np.datetime64(first_day) + days.astype("timedelta64[D]")
    weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
    month = dates.astype("datetime64[M]").astype(int) % 12
    growth = np.exp(np.log(YEARLY_GROWTH) * days / (HISTORY_DAYS - 1))
    return growth * MONTH_FACTOR[month] * WEEKDAY_FACTOR[weekday]


def _people(rng: np.random.Generator, *, n: int, now_s: int, first_day: date) -> dict[str, Any]:
    """Who the leads are and when and where they arrived, sorted by arrival (ids follow time)."""
    sources = c.SOURCES
    src = _choice(rng, [s.weight for s in sources], n)
    weights = _day_weights(first_day)
    cdf = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    day = np.empty(n, dtype=np.int64)
    for i, s in enumerate(sources):
        mask = src == i
        k = int(mask.sum())
        if not k:
            continue
        if s.event_days_ago:
            event = HISTORY_DAYS - np.asarray(s.event_days_ago)[rng.integers(0, len(s.event_days_ago), k)]
            if s.channel == "trade_show":
                # Badge scans are imported on the show days or the day after.
                day[mask] = event + rng.integers(0, s.event_length_days + 1, k)
            else:
                # People register for a webinar in the three weeks before it.
                day[mask] = event - np.minimum(rng.exponential(5.0, k).astype(np.int64), 21)
        else:
            lo_day = HISTORY_DAYS - min(s.starts_days_ago, HISTORY_DAYS)
            hi_day = HISTORY_DAYS - s.ends_days_ago
            u = rng.uniform(cdf[lo_day], cdf[hi_day], k)
            day[mask] = np.searchsorted(cdf, u, side="right") - 1
    day = np.clip(day, 0, HISTORY_DAYS - 1)
    seconds = np.clip(rng.normal(SUBMIT_HOUR_MEAN * 3600, SUBMIT_HOUR_SD * 3600, n), 0, DAY - 1).astype(np.int64)
    created = now_s - (HISTORY_DAYS - day) * DAY + seconds
    order = np.lexsort((rng.random(n), created))
    src, created = src[order], created[order]

    channel_names = np.array([s.channel for s in sources])
    channel = channel_names[src]
    country_codes = np.array([row[0] for row in c.COUNTRIES])
    spanish_country = np.array([row[4] for row in c.COUNTRIES])
    country_w = np.array([row[3] for row in c.COUNTRIES])
    country = _choice(rng, country_w, n)
    for i, s in enumerate(sources):
        mask = src == i
        if s.utm_campaign and s.utm_campaign.endswith("-es"):
            country[mask] = _choice(rng, country_w * spanish_country, int(mask.sum()))
        elif s.name == "B2B Marketing Expo London":
            local = np.where(country_codes == "GB", 8.0, 1.0) * country_w
            country[mask] = _choice(rng, local, int(mask.sum()))

    seniority_table = np.array([SENIORITY_BY_CHANNEL.get(ch, _BASE_SENIORITY) for ch in channel_names])
    seniority = _rowwise_choice(rng, seniority_table[src])
    student = seniority == len(c.SENIORITIES) - 1
    p_corp = np.array([CORPORATE_EMAIL_BY_CHANNEL.get(ch, CORPORATE_EMAIL_DEFAULT) for ch in channel_names])[src]
    corporate = rng.random(n) < np.where(student, CORPORATE_EMAIL_STUDENT, p_corp)
    spanish = rng.random(n) < np.asarray(c.SPANISH_NAME_SHARE)[spanish_country[country].astype(int)]
    form = _rowwise_choice(rng, np.array([s.forms or (1,) * len(c.FORMS) for s in sources], dtype=float)[src])
    imported = np.array([not s.forms for s in sources])[src]
    # Spanish speakers asking for a demo mostly use the Spanish form.
    to_es = (form == c.FORM_REQUEST_DEMO) & spanish_country[country] & (rng.random(n) < 0.6)
    form[to_es] = c.FORM_SOLICITAR_DEMO
    form = np.where(imported, -1, form)
    return {"n": n, "src": src, "created": created, "channel": channel, "country": country,
            "seniority": seniority, "student": student, "corporate": corporate, "spanish": spanish,
            "spanish_country": spanish_country[country], "form": form}


def _companies(rng: np.random.Generator, *, people: dict) -> tuple[pl.DataFrame, np.ndarray]:
    """The accounts: one row per work-email domain; each lead's company pool index and company id."""
    n = people["n"]
    n_comp = max(30, int(n * COMPANIES_PER_LEAD))
    a, b, q = c.COMPANY_WORDS_A, c.COMPANY_WORDS_B, c.COMPANY_QUALIFIERS
    combos = len(a) * len(b) * len(q)
    pick = rng.choice(combos, size=n_comp, replace=n_comp > combos)
    ia, ib, iq = pick % len(a), (pick // len(a)) % len(b), pick // (len(a) * len(b))
    country = _choice(rng, [row[3] for row in c.COUNTRIES], n_comp)
    codes = [row[0] for row in c.COUNTRIES]
    tld_country = np.array([COUNTRY_TLD.get(code, "") for code in codes], dtype=object)[country]
    generic = np.array(GENERIC_TLDS, dtype=object)[rng.integers(0, len(GENERIC_TLDS), n_comp)]
    tld = np.where((tld_country != "") & (rng.random(n_comp) < COUNTRY_TLD_SHARE), tld_country, generic)
    slug_a = np.array([_ascii_slug(w) for w in a], dtype=object)[ia]
    slug_b = np.array([_ascii_slug(w) for w in b], dtype=object)[ib]
    slug_q = np.array([_ascii_slug(w) for w in q], dtype=object)[iq]
    # Short qualifiers (Inc, SL) are not part of a domain; regional ones are.
    slug_q = np.where(np.char.str_len(slug_q.astype(str)) > 4, slug_q, "")
    frame = pl.DataFrame({
        "name": _str(np.array(a, dtype=object)[ia] + " " + np.array(b, dtype=object)[ib]),
        "qual": _str(np.array(q, dtype=object)[iq]),
        "base": _str(slug_a + slug_b + slug_q),
        "tld": _str(tld),
    }).with_columns(
        name=pl.when(pl.col("qual") == "").then(pl.col("name")).otherwise(pl.col("name") + " " + pl.col("qual")),
        domain=pl.col("base") + pl.col("tld"),
    ).with_columns(rank=pl.int_range(pl.len()).over("domain"))
    # Two companies with the same name and domain ending get a numbered domain, as in real life.
    domain = frame.select(
        pl.when(pl.col("rank") == 0).then(pl.col("domain"))
        .otherwise(pl.col("base") + (pl.col("rank") + 1).cast(pl.String) + pl.col("tld"))
    ).to_series()
    industry = _choice(rng, c.INDUSTRY_WEIGHTS, n_comp)
    size = _choice(rng, c.SIZE_WEIGHTS, n_comp)

    # Each lead works at a company of its own country, popular ones more often.
    lead_country = people["country"]
    pool = np.empty(n, dtype=np.int64)
    by_country = np.argsort(country, kind="stable")
    starts = np.searchsorted(country[by_country], np.arange(len(c.COUNTRIES)))
    counts = np.bincount(country, minlength=len(c.COUNTRIES))
    u = rng.random(n) ** COMPANY_SKEW
    for k in range(len(c.COUNTRIES)):
        mask = lead_country == k
        if counts[k] == 0:
            pool[mask] = rng.integers(0, n_comp, int(mask.sum()))
        else:
            pool[mask] = by_country[starts[k] + (u[mask] * counts[k]).astype(np.int64)]
    people["company"] = pool
    people["industry"] = np.where(people["student"], c.INDUSTRIES.index("Education"), industry[pool])
    people["size"] = np.where(people["student"], -1, size[pool])
    people["company_name"] = frame["name"].gather(pool)
    people["domain"] = domain.gather(pool)

    # Only accounts someone wrote from with a work address become company rows.
    corporate = people["corporate"]
    used = np.unique(pool[corporate])
    company_id = np.zeros(n, dtype=np.int64)
    new_id = np.zeros(n_comp, dtype=np.int64)
    new_id[used] = np.arange(1, len(used) + 1)
    company_id[corporate] = new_id[pool[corporate]]
    first_seen = np.full(n_comp, np.iinfo(np.int64).max)
    np.minimum.at(first_seen, pool[corporate], people["created"][corporate])
    codes_arr = np.array(codes, dtype=object)
    companies = pl.DataFrame({
        "id": np.arange(1, len(used) + 1, dtype=np.int64),
        "domain": domain.gather(used),
        "name": frame["name"].gather(used),
        "industry": _take(c.INDUSTRIES, industry[used]),
        "size": _take(c.COMPANY_SIZES, size[used]),
        "country": _str(codes_arr[country[used]]),
        "created_at": _ts(first_seen[used]),
    })
    return companies, company_id


def _fit_points(people: dict) -> np.ndarray:
    size = people["size"]
    return (FIT_SENIORITY[people["seniority"]]
            + FIT_TARGET_INDUSTRY * (people["industry"] < c.TARGET_INDUSTRIES)
            + FIT_TARGET_SIZE * np.isin(size, c.TARGET_SIZES)
            + FIT_ENTERPRISE_SIZE * (size == 4)
            + FIT_CORPORATE_EMAIL * people["corporate"])


STAGE_KEYS = ("suspect", "prospect", "mql", "sql", "customer", "disqualified", "recycled")
SUSPECT, PROSPECT, MQL, SQL, CUSTOMER, DISQUALIFIED, RECYCLED = range(len(STAGE_KEYS))
CHANGE_REASONS = ("form submission", "imported from badge scans", "identified: engaged after the first touch",
                  "fit and engagement above the MQL threshold", "accepted by sales: BANT confirmed",
                  "closed won", *c.LOST_REASONS, *c.RECYCLE_REASONS)
ACTOR_TYPES = ("api", "import", "rule", "user")


def _funnel(rng: np.random.Generator, *, people: dict, now_s: int, user_ids: Sequence[int]) -> dict:
    """Intent signals, the path through the stages with times, owners, outcomes and stage history."""
    n = people["n"]
    src = people["src"]
    is_show = people["channel"] == "trade_show"
    fit = _fit_points(people)
    people["fit"] = fit
    ch_eng = np.array([CHANNEL_ENGAGEMENT[s.channel] for s in c.SOURCES])[src]
    ch_conv = np.array([CHANNEL_CONVERSION[s.channel] for s in c.SOURCES])[src]
    engagement = rng.normal(0, 1, n) + ch_eng + FIT_ENGAGEMENT * (fit - 2)
    people["engagement"] = engagement

    def signal(spec: tuple[float, float]) -> np.ndarray:
        return rng.random(n) < _sigmoid(spec[0] + spec[1] * engagement)

    pricing, demo, trial, webinar = (signal(PRICING_SIGNAL), signal(DEMO_SIGNAL), signal(TRIAL_SIGNAL),
                                     signal(WEBINAR_SIGNAL))
    webinar = np.where(people["channel"] == "webinar", rng.random(n) < WEBINAR_ATTENDANCE, webinar)
    trial &= ~people["student"]
    signals = pricing.astype(np.int64) + demo + webinar + trial
    people.update(pricing=pricing, demo=demo, webinar=webinar, trial=trial, signals=signals)

    def step(spec: tuple[float, float, float]) -> np.ndarray:
        z = spec[0] + spec[1] * (fit - 2) + spec[2] * signals + STEP_CHANNEL_WEIGHT * ch_conv
        return rng.random(n) < _sigmoid(z)

    starts_suspect = rng.random(n) < np.where(is_show, TRADE_SHOW_SUSPECT, OTHER_SUSPECT)
    go_prospect = rng.random(n) < PROSPECT_BASE + PROSPECT_PER_SIGNAL * signals
    go = {MQL: step(MQL_LOGIT), SQL: step(SQL_LOGIT), CUSTOMER: step(WON_LOGIT)}

    created = people["created"]
    t = np.full((n, len(STAGE_COLUMNS)), -1, dtype=np.int64)
    t[:, 0] = created
    # Each step happens some days after the previous one; a step still in the future has not
    # happened yet, so recent leads are naturally still early in the funnel.
    when = created + _lognormal_days(rng, DAYS_SUSPECT_TO_PROSPECT, n).astype(np.int64)
    became = starts_suspect & go_prospect & (when < now_s)
    t[:, 1] = np.where(became, when, -1)
    at = ~starts_suspect | became
    prev = np.where(became, when, created)
    stage = np.where(at, PROSPECT, SUSPECT)
    refused = starts_suspect & ~go_prospect
    for col, key, spec in ((2, MQL, DAYS_PROSPECT_TO_MQL), (3, SQL, DAYS_MQL_TO_SQL),
                           (4, CUSTOMER, DAYS_SQL_TO_CUSTOMER)):
        when = prev + _lognormal_days(rng, spec, n).astype(np.int64)
        refused |= at & ~go[key]
        at &= go[key] & (when < now_s)
        t[:, col] = np.where(at, when, -1)
        prev = np.where(at, when, prev)
        stage = np.where(at, key, stage)

    # A lead whose next step is only late is still in progress; one that was refused may exit.
    disq_share = np.zeros(n)
    recy_share = np.zeros(n)
    for key, (d, r) in EXIT_SHARES.items():
        disq_share[stage == STAGE_KEYS.index(key)] = d
        recy_share[stage == STAGE_KEYS.index(key)] = r
    disq_share = np.where(people["student"] & (stage == PROSPECT), STUDENT_DISQUALIFIED, disq_share)
    exit_when = prev + _lognormal_days(rng, DAYS_TO_EXIT, n).astype(np.int64)
    exits = refused & (stage != CUSTOMER) & (exit_when < now_s)
    exit_u = rng.random(n)
    disqualified = exits & (exit_u < disq_share)
    recycled = exits & ~disqualified & (exit_u < disq_share + recy_share)
    t[:, 5] = np.where(disqualified | recycled, exit_when, -1)
    lost_at = stage
    stage = np.where(disqualified, DISQUALIFIED, np.where(recycled, RECYCLED, stage))

    lost_reason = np.full(n, -1, dtype=np.int64)
    for key, shares in LOST_REASON_SHARES.items():
        mask = disqualified & (lost_at == STAGE_KEYS.index(key))
        lost_reason[mask] = _choice(rng, shares, int(mask.sum()))
    lost_reason[disqualified & people["student"]] = c.LOST_REASONS.index("student/spam")

    ids = np.asarray(user_ids, dtype=np.int64)
    reps = ids[[i for i, u in enumerate(c.USERS) if u.role == "sales"]]
    marketers = ids[[i for i, u in enumerate(c.USERS) if u.role == "marketing"]]
    has_owner = t[:, 3] >= 0
    owner = np.where(has_owner, reps[_choice(rng, c.SALES_REP_WEIGHTS, n)], 0)
    marketer = marketers[rng.integers(0, len(marketers), n)]
    won = stage == CUSTOMER
    size = np.maximum(people["size"], 0)
    deal = np.where(won, DEAL_MEDIAN * np.asarray(c.DEAL_SIZE_FACTOR)[size] * rng.lognormal(0, DEAL_SIGMA, n),
                    np.nan).round(2)

    # Stage history: one row per reached column, from the previous reached stage.
    lost_code = 6 + lost_reason
    recycle_code = 6 + len(c.LOST_REASONS) + rng.integers(0, len(c.RECYCLE_REASONS), n)
    zero = np.zeros(n, dtype=np.int64)
    user = ACTOR_TYPES.index("user")
    rule = ACTOR_TYPES.index("rule")
    columns = (  # (to stage, reason, actor type, actor id) per stage column
        (np.where(starts_suspect, SUSPECT, PROSPECT), is_show.astype(np.int64), is_show.astype(np.int64), zero),
        (PROSPECT, 2, rule, zero),
        (MQL, 3, rule, zero),
        (SQL, 4, user, owner),
        (CUSTOMER, 5, user, owner),
        (np.where(disqualified, DISQUALIFIED, RECYCLED), np.where(disqualified, lost_code, recycle_code),
         np.where(has_owner | disqualified, user, rule), np.where(has_owner, owner, np.where(disqualified, marketer, 0))),
    )
    lead_idx, col_idx = np.nonzero(t >= 0)  # row-major: per lead, columns in funnel order
    values = [np.empty(len(lead_idx), dtype=np.int64) for _ in range(4)]
    for col, spec in enumerate(columns):
        rows = col_idx == col
        for out, v in zip(values, spec, strict=True):
            out[rows] = v[lead_idx[rows]] if isinstance(v, np.ndarray) else v
    to_stage, reason, actor_type, actor_id = values
    first_row = np.r_[True, lead_idx[1:] != lead_idx[:-1]] if len(lead_idx) else np.zeros(0, dtype=bool)
    from_stage = np.where(first_row, -1, np.r_[-1, to_stage[:-1]])
    changes = pl.DataFrame({
        "id": np.arange(1, len(lead_idx) + 1, dtype=np.int64),
        "lead_id": lead_idx.astype(np.int64) + 1,
        "from_stage": _take(STAGE_KEYS, from_stage),
        "to_stage": _take(STAGE_KEYS, to_stage),
        "reason": _take(CHANGE_REASONS, reason),
        "actor_type": _take(ACTOR_TYPES, actor_type),
        "actor_id": _ids(actor_id),
        "changed_at": _ts(t[lead_idx, col_idx]),
    })
    return {"t": t, "stage": stage, "owner": owner, "won": won, "deal": deal, "lost_reason": lost_reason,
            "disqualified": disqualified, "stage_changes": changes}


def _events(
    rng: np.random.Generator, *, people: dict, funnel: dict, now_s: int, user_ids: Sequence[int]
) -> tuple[pl.DataFrame, np.ndarray]:
    """The activity timeline of every lead, and each lead's latest activity (epoch seconds)."""
    n = people["n"]
    created, t = people["created"], funnel["t"]
    engagement = np.maximum(people["engagement"], 0)
    last_stage_at = t.max(axis=1)
    active_until = np.minimum(now_s - 1, last_stage_at + _lognormal_days(rng, DAYS_ACTIVE_AFTER_LAST_STAGE, n)
                              .astype(np.int64))
    span = np.maximum(active_until - created, 1)
    intent_until = np.where(t[:, 3] >= 0, t[:, 3], active_until)
    tracked = people["consent_tracking"] == 1
    emailed = people["consent_email"] == 1

    templates: list[tuple[str, str, str]] = []  # (type, properties JSON, source)

    def template(kind: str, props: dict, source: str) -> int:
        templates.append((kind, json.dumps(props, ensure_ascii=False), source))
        return len(templates) - 1

    page_t = np.array([template("page_view", {"url": c.SITE + u, "title": ti}, "tracking") for u, ti in c.PAGES])
    pricing_t = template("page_view", {"url": c.SITE + c.PRICING_PAGE[0], "title": c.PRICING_PAGE[1]}, "tracking")
    demo_t = template("page_view", {"url": c.SITE + c.DEMO_PAGE[0], "title": c.DEMO_PAGE[1]}, "tracking")
    careers_t = template("page_view", {"url": c.SITE + c.CAREERS_PAGE[0], "title": c.CAREERS_PAGE[1]}, "tracking")
    form_t = np.array([template("form_submit", {"form": f.slug}, "form") for f in c.FORMS])
    download_t = np.array([template("download", {"asset": a}, "lead_magnet") for a in c.ASSETS])
    open_t = np.array([template("email_open", {"email": e}, "email") for e in c.EMAILS])
    click_t = np.array([template("email_click", {"email": e}, "email") for e in c.EMAILS])
    webinar_t = np.array([template("webinar", {"webinar": w, "attended": True}, "api") for w in c.WEBINARS])
    trial_t = np.array([template("trial_usage", {"feature": f}, "api") for f in c.TRIAL_FEATURES])
    meeting_t = np.array([template("meeting", {"kind": k}, "user") for k in c.MEETINGS])
    call_t = np.array([template("call", {"result": r}, "user") for r in c.CALLS])

    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(count: np.ndarray, start: np.ndarray, length: np.ndarray, kinds: np.ndarray | int) -> None:
        lead = np.repeat(np.arange(n), np.asarray(count, dtype=np.int64))
        when = start[lead] + (rng.random(len(lead)) * length[lead]).astype(np.int64)
        kind = kinds[rng.integers(0, len(kinds), len(lead))] if isinstance(kinds, np.ndarray) \
            else np.full(len(lead), kinds)
        parts.append((lead, np.minimum(when, now_s - 1), kind))

    form = people["form"]
    with_form = form >= 0
    parts.append((np.nonzero(with_form)[0], created[with_form], form_t[form[with_form]]))
    add(tracked * rng.poisson(PAGE_VIEWS_BASE + PAGE_VIEWS_PER_SD * engagement), created, span, page_t)
    intent_span = np.maximum(intent_until - created, 1)
    add(tracked * people["pricing"] * (1 + rng.poisson(PRICING_VIEWS_MEAN, n)), created, intent_span, pricing_t)
    add(tracked * people["demo"], created, intent_span, demo_t)
    careers = rng.random(n) < np.where(people["student"], CAREERS_VIEW["student"], CAREERS_VIEW["other"])
    add(tracked * careers, created, span, careers_t)
    add(rng.poisson(DOWNLOADS_BASE + DOWNLOADS_PER_SD * engagement), created, span, download_t)
    opens = emailed * rng.poisson(EMAIL_OPENS_BASE + EMAIL_OPENS_PER_SD * engagement)
    add(opens, created, span, open_t)
    add(rng.binomial(opens, EMAIL_CLICK_SHARE), created, span, click_t)
    add(people["trial"] * (1 + rng.poisson(TRIAL_EVENTS_MEAN - 1, n)), created, intent_span, trial_t)

    # Webinar campaign registrants attend on the webinar day; others join a webinar some time.
    webinar = people["webinar"]
    from_campaign = people["channel"] == "webinar"
    webinar_day = created + np.where(from_campaign, _days_to_event(people, now_s=now_s), 0)
    attend_start = np.where(from_campaign, webinar_day, created)
    attend_len = np.where(from_campaign, 1, span)
    is_es = people["spanish_country"]
    add(webinar * (is_es == 0), attend_start, attend_len, webinar_t[:2])
    add(webinar * (is_es == 1), attend_start, attend_len, webinar_t[2:])

    # Sales works the lead from MQL until it is won, lost or recycled.
    sales = t[:, 3] >= 0
    sales_start = np.where(sales, t[:, 2], created)
    sales_end = np.where(t[:, 4] >= 0, t[:, 4], np.where(t[:, 5] >= 0, t[:, 5], active_until))
    sales_len = np.maximum(sales_end - sales_start, 1)
    add(sales * (1 + rng.poisson(SALES_CALLS_MEAN - 1, n)), sales_start, sales_len, call_t)
    add(sales * (1 + rng.poisson(SALES_MEETINGS_MEAN - 1, n)), sales_start, sales_len, meeting_t)

    lead = np.concatenate([p[0] for p in parts])
    when = np.maximum(np.concatenate([p[1] for p in parts]), created[lead] if len(lead) else 0)
    kind = np.concatenate([p[2] for p in parts])
    order = np.lexsort((kind, when, lead))
    lead, when, kind = lead[order], when[order], kind[order]
    last_activity = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_activity, lead, when)
    kinds, props, sources = zip(*templates, strict=True)
    occurred = _ts(when)
    events = pl.DataFrame({
        "id": np.arange(1, len(lead) + 1, dtype=np.int64),
        "lead_id": lead.astype(np.int64) + 1,
        "type": _take(kinds, kind),
        "occurred_at": occurred,
        "properties": _take(props, kind),
        "source": _take(sources, kind),
        "created_at": occurred,
    })
    return events, last_activity


WEBINAR_START_S = 16 * 3600  # webinars start at 16:00 UTC: morning in the Americas, afternoon in Europe


def _days_to_event(people: dict, *, now_s: int) -> np.ndarray:
    """Seconds from each webinar registration to the webinar it registered for."""
    # Registrations were drawn 0-21 days before a webinar day: the next webinar day is that one.
    src, created = people["src"], people["created"]
    out = np.zeros(len(created), dtype=np.int64)
    now_day = now_s // DAY
    for i, s in enumerate(c.SOURCES):
        if s.channel != "webinar":
            continue
        mask = src == i
        event_days = np.sort(now_day - np.asarray(s.event_days_ago))
        reg_day = created[mask] // DAY
        nxt = event_days[np.minimum(np.searchsorted(event_days, reg_day), len(event_days) - 1)]
        out[mask] = np.maximum(nxt * DAY + WEBINAR_START_S - created[mask], 0)
    return out


def _consent_states(rng: np.random.Generator, people: dict) -> None:
    n = people["n"]
    form = people["form"]
    shares = np.array([*CONSENT_EMAIL_BY_FORM, CONSENT_EMAIL_IMPORTED])[form]  # -1 picks the imported row
    u = rng.random(n)
    people["consent_email"] = np.where(u < shares[:, 0], 1, np.where(u < shares[:, 0] + shares[:, 1], 2, 0))
    u = rng.random(n)
    g, d = CONSENT_TRACKING
    people["consent_tracking"] = np.where(u < g, 1, np.where(u < g + d, 2, 0))


def _consent_table(*, people: dict) -> pl.DataFrame:
    """One record per granted consent, at the submission that granted it."""
    parts = []
    for purpose, key in (("marketing_email", "consent_email"), ("tracking", "consent_tracking")):
        idx = np.nonzero(people[key] == 1)[0]
        parts.append(pl.DataFrame({
            "lead_id": idx.astype(np.int64) + 1,
            "purpose": pl.Series([purpose] * len(idx), dtype=pl.String),
            "form_id": _ids(people["form"][idx] + 1),
            "recorded_at": _ts(people["created"][idx]),
        }))
    frame = pl.concat(parts).sort("lead_id", "purpose")
    return frame.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id"),
        "lead_id", "purpose",
        pl.lit("granted").alias("state"),
        pl.lit(c.CONSENT_TEXT_VERSION).alias("text_version"),
        pl.when(pl.col("form_id").is_null()).then(pl.lit("import")).otherwise(pl.lit("form")).alias("source"),
        "form_id", "recorded_at",
    )


def _names_and_contacts(rng: np.random.Generator, people: dict) -> dict[str, pl.Series]:
    n = people["n"]
    spanish = people["spanish"]
    first_lists = (c.FIRST_NAMES_EN, c.FIRST_NAMES_ES)
    last_lists = (c.LAST_NAMES_EN, c.LAST_NAMES_ES)
    first_i = np.where(spanish, rng.integers(0, len(first_lists[1]), n), rng.integers(0, len(first_lists[0]), n))
    last_i = np.where(spanish, rng.integers(0, len(last_lists[1]), n), rng.integers(0, len(last_lists[0]), n))
    last2_i = rng.integers(0, len(last_lists[1]), n)
    two = spanish & (rng.random(n) < SPANISH_TWO_SURNAMES)

    def pick(lists: tuple[tuple[str, ...], ...], idx: np.ndarray, slug: bool = False) -> np.ndarray:
        arrays = [np.array([_ascii_slug(v) if slug else v for v in values], dtype=object) for values in lists]
        return np.where(spanish, arrays[1][np.minimum(idx, len(arrays[1]) - 1)],
                        arrays[0][np.minimum(idx, len(arrays[0]) - 1)])

    first = pick(first_lists, first_i)
    last = pick(last_lists, last_i)
    last2 = np.array(c.LAST_NAMES_ES, dtype=object)[last2_i]
    last = np.where(two, last + " " + last2, last)
    first_slug = pick(first_lists, first_i, slug=True)
    last_slug = pick(last_lists, last_i, slug=True)
    initial = np.array([s[:1] for s in first_slug], dtype=object) if n else first_slug
    pattern = np.where(people["corporate"], _rowwise_choice(rng, np.tile(EMAIL_PATTERNS_CORPORATE, (n, 1))),
                       _rowwise_choice(rng, np.tile(EMAIL_PATTERNS_FREE, (n, 1))))
    local = np.select([pattern == 0, pattern == 1, pattern == 2, pattern == 3],
                      [first_slug + "." + last_slug, initial + last_slug, first_slug, first_slug + last_slug],
                      first_slug + "_" + last_slug)
    free = np.array(c.FREE_EMAIL_DOMAINS, dtype=object)[rng.integers(0, len(c.FREE_EMAIL_DOMAINS), n)]
    domain = np.where(people["corporate"], people["domain"].to_numpy().astype(object), free)
    frame = pl.DataFrame({"local": _str(local), "domain": _str(domain)})
    # Namesakes at one domain get a number, as mail admins do (first.last2@...).
    email = frame.select(
        pl.when(pl.int_range(pl.len()).over("local", "domain") == 0).then(pl.col("local"))
        .otherwise(pl.col("local") + (pl.int_range(pl.len()).over("local", "domain") + 1).cast(pl.String))
        + "@" + pl.col("domain")
    ).to_series()

    seniority, spanish_country = people["seniority"], people["spanish_country"]
    title_es = spanish_country & (rng.random(n) < c.SPANISH_TITLE_SHARE)
    title_u = rng.random(n)
    titles = np.empty(n, dtype=object)
    for level in range(len(c.SENIORITIES)):
        for use_es, table in ((False, c.TITLES_EN), (True, c.TITLES_ES)):
            mask = (seniority == level) & (title_es == use_es)
            options = np.array(table[level], dtype=object)
            titles[mask] = options[(title_u[mask] * len(options)).astype(np.int64)]

    codes = [row[0] for row in c.COUNTRIES]
    country = people["country"]
    form = people["form"]
    has_phone_field = np.isin(form, [c.FORM_REQUEST_DEMO, c.FORM_SOLICITAR_DEMO])
    has_phone = rng.random(n) < np.where(has_phone_field, PHONE_SHARE_WITH_FIELD, PHONE_SHARE_OTHER)
    calling = np.array(["+" + row[1] for row in c.COUNTRIES], dtype=object)[country]
    prefix = np.array([MOBILE_PREFIX.get(code, "") for code in codes], dtype=object)[country]
    rest_len = np.array([row[2] for row in c.COUNTRIES])[country] - np.char.str_len(prefix.astype(str))
    nanp = np.isin(np.array(codes)[country], ["US", "CA"])
    area = np.asarray(NANP_AREA_CODES)[rng.integers(0, len(NANP_AREA_CODES), n)]
    line = rng.integers(2_000_000, 10_000_000, n)
    digits = (rng.random(n) * 10.0 ** rest_len).astype(np.int64)
    national = pl.Series(digits).cast(pl.String).str.zfill(pl.Series(rest_len))
    phone_frame = pl.DataFrame({"calling": _str(calling),
                                "prefix": _str(prefix), "national": national,
                                "nanp": (pl.Series(area).cast(pl.String) + pl.Series(line).cast(pl.String)),
                                "is_nanp": nanp, "has": has_phone})
    phone = phone_frame.select(
        pl.when(~pl.col("has")).then(None)
        .when(pl.col("is_nanp")).then(pl.col("calling") + pl.col("nanp"))
        .otherwise(pl.col("calling") + pl.col("prefix") + pl.col("national"))
    ).to_series()
    city_u = rng.random(n)
    city = np.empty(n, dtype=object)
    for k, code in enumerate(codes):
        mask = country == k
        options = np.array(c.CITIES[code], dtype=object)
        city[mask] = options[(city_u[mask] * len(options)).astype(np.int64)]
    return {"first_name": _str(first), "last_name": _str(last),
            "email": email, "job_title": _str(titles), "phone": phone,
            "city": _str(city),
            "country": _str(np.array(codes, dtype=object)[country])}


def _touches(rng: np.random.Generator, people: dict) -> dict[str, pl.Series]:
    """First and last touch columns: the source's UTM fields, and a later nurture touch for some."""
    n = people["n"]
    src = people["src"]
    sources = c.SOURCES
    # Returning visits mostly come through the newsletter, search, direct or a webinar.
    later = [i for i, s in enumerate(sources) if s.channel in ("email", "organic_search", "direct", "webinar")
             or s.utm_campaign == "brand-search"]
    changed = rng.random(n) < 0.35
    last_src = np.where(changed, np.array(later)[rng.integers(0, len(later), n)], src)
    out: dict[str, pl.Series] = {}
    for prefix, idx in (("first", src), ("last", last_src)):
        out[f"{prefix}_channel"] = _take([s.channel for s in sources], idx)
        out[f"{prefix}_source"] = _take([s.utm_source for s in sources], idx)
        out[f"{prefix}_medium"] = _take([s.utm_medium for s in sources], idx)
        out[f"{prefix}_campaign"] = _take([s.utm_campaign for s in sources], idx)
        out[f"{prefix}_referrer"] = _take([s.referrer for s in sources], idx)
        out[f"{prefix}_landing_page"] = _take([s.landing_page for s in sources], idx)
        u = rng.random(n)
        terms = np.full(n, None, dtype=object)
        contents = np.full(n, None, dtype=object)
        for i, s in enumerate(sources):
            mask = idx == i
            if s.terms:
                terms[mask] = np.array(s.terms, dtype=object)[(u[mask] * len(s.terms)).astype(np.int64)]
            if s.contents:
                contents[mask] = np.array(s.contents, dtype=object)[(u[mask] * len(s.contents)).astype(np.int64)]
        out[f"{prefix}_term"] = _str(terms)
        out[f"{prefix}_content"] = _str(contents)
    return out


def _leads_table(
    rng: np.random.Generator, *, people: dict, funnel: dict, company_id: np.ndarray,
    campaign_id_of_source: np.ndarray, last_activity: np.ndarray,
) -> pl.DataFrame:
    n = people["n"]
    contacts = _names_and_contacts(rng, people)
    touches = _touches(rng, people)
    t = funnel["t"]
    corporate = people["corporate"]
    consent = ("unknown", "granted", "denied")
    campaign = campaign_id_of_source[people["src"]]
    form = people["form"]
    domain = people["domain"]
    return pl.DataFrame({
        "id": np.arange(1, n + 1, dtype=np.int64),
        "email": contacts["email"],
        "first_name": contacts["first_name"],
        "last_name": contacts["last_name"],
        "phone": contacts["phone"],
        "job_title": contacts["job_title"],
        "company_name": _str(np.where(people["student"], None, people["company_name"].to_numpy())),
        "company_id": _ids(np.where(corporate, company_id, 0)),
        "industry": _take(c.INDUSTRIES, people["industry"]),
        "company_size": _str(np.where(people["size"] >= 0, np.array(c.COMPANY_SIZES, dtype=object)[
            np.maximum(people["size"], 0)], None)),
        "country": contacts["country"],
        "city": contacts["city"],
        "website": _str(np.where(corporate, "https://" + domain.to_numpy().astype(object), None)),
        "properties": pl.Series(["{}"] * n, dtype=pl.String),
        **{k: touches[k] for k in sorted(touches)},
        "campaign_id": _ids(campaign),
        "form_id": _ids(form + 1),
        "consent_email": _take(consent, people["consent_email"]),
        "consent_tracking": _take(consent, people["consent_tracking"]),
        "stage": _take(STAGE_KEYS, funnel["stage"]),
        "owner_id": _ids(funnel["owner"]),
        "outcome": _take(("won", "lost"), np.where(funnel["won"], 0, np.where(funnel["disqualified"], 1, -1))),
        "deal_value": pl.Series(funnel["deal"], dtype=pl.Float64).fill_nan(None),
        "lost_reason": _take(c.LOST_REASONS, funnel["lost_reason"]),
        "created_at": _ts(people["created"]),
        "updated_at": _ts(np.maximum(t.max(axis=1), people["created"])),
        "converted_at": _ts(np.where(funnel["won"], t[:, 4], -1)),
        "last_activity_at": _ts(last_activity),
    })


def _submissions(rng: np.random.Generator, *, leads: pl.DataFrame, now_s: int) -> pl.DataFrame:
    """The submissions table: one processed per form lead, quarantined spam and a few invalid ones."""
    processed = _processed_submissions(rng, leads=leads)
    n_spam = max(SPAM_MIN, round(SPAM_SHARE * processed.height))
    n_invalid = max(INVALID_MIN, round(INVALID_SHARE * processed.height))
    frame = pl.concat([processed, _spam_submissions(rng, n=n_spam, now_s=now_s),
                       _invalid_submissions(rng, n=n_invalid, now_s=now_s)], how="diagonal_relaxed")
    # Ids follow arrival, as the capture endpoint assigns them.
    frame = frame.sort("received_at", maintain_order=True)
    return frame.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id"),
        pl.col("form_id").cast(pl.Int64), "received_at", "status", "reasons", "payload", "context",
        pl.lit(None, dtype=pl.String).alias("visitor_id"),
        pl.col("lead_id").cast(pl.Int64), pl.col("processed_at").cast(pl.Datetime("us")),
        pl.lit(None, dtype=pl.String).alias("error"),
        pl.lit(None, dtype=pl.Int64).alias("released_by"),
        pl.lit(None, dtype=pl.Datetime("us")).alias("released_at"),
    )


def _processed_submissions(rng: np.random.Generator, *, leads: pl.DataFrame) -> pl.DataFrame:
    """Each form lead's submission, as its browser sent it, at the lead's form_submit time."""
    subs = leads.filter(pl.col("form_id").is_not_null())
    n = subs.height
    touch = ["first_source", "first_medium", "first_campaign", "first_term", "first_content", "first_referrer",
             "first_landing_page"]
    subs = subs.with_columns(
        touch_key=pl.concat_str([pl.col(k).fill_null(NO_VALUE) for k in touch], separator="\x1f"),
        form=pl.col("form_id") - 1, consent=pl.col("consent_email") == "granted", hp=pl.lit(None, dtype=pl.String),
        ip=_ips(rng, n),
        ua=_take([json.dumps(u) for u, _ in c.USER_AGENTS], _choice(rng, [w for _, w in c.USER_AGENTS], n)),
        delay=pl.Series(rng.integers(*PROCESS_DELAY_S, n, endpoint=True)),
    )
    # Few distinct first touches: each one's JSON is written once and looked up per row.
    tails = {row[-1]: _touch_context_tail(*row[:-1])
             for row in subs.select(*touch, "touch_key").unique("touch_key").iter_rows()}
    return subs.select(
        "form_id",
        received_at=pl.col("created_at"),
        status=pl.lit("processed"),
        reasons=pl.lit("[]"),
        payload=_payload_json(),
        context=pl.concat_str(pl.lit('{"ip":"'), "ip", pl.lit('","user_agent":'), "ua",
                              pl.col("touch_key").replace_strict(tails, return_dtype=pl.String)),
        lead_id=pl.col("id"),
        processed_at=pl.col("created_at") + pl.duration(seconds="delay"),
    )


def _touch_context_tail(source: str | None, medium: str | None, campaign: str | None, term: str | None,
                        content: str | None, referrer: str | None, landing_page: str) -> str:
    """The context JSON after ip and user agent (with its leading comma) for one first touch."""
    values = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign, "utm_term": term,
              "utm_content": content}
    utm = {k: v for k, v in values.items() if v is not None}
    page = landing_page + ("?" + urlencode(utm) if utm else "")
    context = {"origin": c.SITE, "referrer": referrer, "page_url": page,
               "content_type": FORM_CONTENT_TYPE, "utm": utm or None, "channel": "form",
               "consent_version": FORM_CONSENT_VERSION}
    compact = json.dumps({k: v for k, v in context.items() if v is not None}, ensure_ascii=False, separators=(",", ":"))
    return "," + compact[1:]


def _payload_json() -> pl.Expr:
    """The payload as sent: the form's fields (an empty input posts ''), a filled honeypot, a ticked box."""
    # One encode for every form: keys the row's form lacks are null, then cut out (email, always
    # there and first, means every cut key follows a comma).
    columns = []
    for key in PAYLOAD_KEYS:
        forms = [k for k, form in enumerate(c.FORMS) if any(f["key"] == key for f in form.fields)]
        columns.append(pl.when(pl.col("form").is_in(forms)).then(pl.col(key).fill_null("")).alias(key))
    fields = pl.struct(columns).struct.json_encode().str.replace_all(r',"[a-z_]+":null', "")
    hp = pl.when(pl.col("hp").is_not_null()).then(
        pl.lit(f',"{HONEYPOT_FIELD}":') + pl.struct(pl.col("hp")).struct.json_encode().str.slice(6).str.head(-1))
    consent = pl.when(pl.col("consent")).then(pl.lit(',"consent":"true"'))
    return pl.concat_str(fields.str.head(-1), hp.otherwise(pl.lit("")), consent.otherwise(pl.lit("")),
                         pl.lit("}")).alias("payload")


def _ips(rng: np.random.Generator, n: int) -> pl.Series:
    octets = [pl.Series(np.asarray(c.IP_FIRST_OCTETS)[rng.integers(0, len(c.IP_FIRST_OCTETS), n)]),
              pl.Series(rng.integers(0, 256, n)), pl.Series(rng.integers(0, 256, n)),
              pl.Series(rng.integers(1, 255, n))]
    return pl.DataFrame({str(i): o for i, o in enumerate(octets)}).select(
        pl.concat_str([pl.col(str(i)).cast(pl.String) for i in range(4)], separator=".")).to_series()


def _any_time(rng: np.random.Generator, n: int, now_s: int) -> np.ndarray:
    """Times over the history, at any hour (scripts keep no office hours), in epoch seconds."""
    return now_s - rng.integers(1, HISTORY_DAYS * DAY, n)


def _spam_submissions(rng: np.random.Generator, *, n: int, now_s: int) -> pl.DataFrame:
    """Quarantined spam, with the reasons spam.spam_reasons gives, in the order it gives them."""
    flags = np.array([p for p, _ in SPAM_PROFILES])[_choice(rng, [w for _, w in SPAM_PROFILES], n)]
    hp, fast, limited, disposable, link = (flags[:, i] for i in range(5))
    name_i = rng.integers(0, len(c.SPAM_FIRST_NAMES), n)
    slugs = np.array([_ascii_slug(v) for v in c.SPAM_FIRST_NAMES], dtype=object)
    domain = np.where(disposable, np.array(c.DISPOSABLE_DOMAINS, dtype=object)[
        rng.integers(0, len(c.DISPOSABLE_DOMAINS), n)], np.array(c.SPAM_FREE_DOMAINS, dtype=object)[
        rng.integers(0, len(c.SPAM_FREE_DOMAINS), n)])
    email = slugs[name_i] + rng.integers(10, 10_000, n).astype(str).astype(object) + "@" + domain
    first = np.where(link, np.array(c.SPAM_LINK_NAMES, dtype=object)[rng.integers(0, len(c.SPAM_LINK_NAMES), n)],
                     np.array(c.SPAM_FIRST_NAMES, dtype=object)[name_i])
    ua = np.where(hp | fast, rng.integers(0, len(c.SPAM_USER_AGENTS), n), -1)
    human_ua = _choice(rng, [w for _, w in c.USER_AGENTS], n)
    ua_json = [json.dumps(u) for u in c.SPAM_USER_AGENTS] + [json.dumps(u) for u, _ in c.USER_AGENTS]
    # A rate-limited burst comes from one of two hosts; other spam from anywhere.
    ip = pl.Series(np.where(limited, np.array(c.SPAM_IPS, dtype=object)[rng.integers(0, 2, n)],
                            _ips(rng, n).to_numpy().astype(object)).tolist(), dtype=pl.String)
    page = _take([json.dumps(c.SITE + p) for p in c.SPAM_PAGES], rng.integers(0, len(c.SPAM_PAGES), n))
    tenths = rng.integers(1, MIN_SUBMIT_SECONDS * 10, n)  # shown and sent within the minimum
    frame = pl.DataFrame({
        "form": _choice(rng, SPAM_FORMS, n),
        "consent": hp,  # scripts tick every box
        "email": _str(email),
        "first_name": _str(first),
        "last_name": _take(c.SPAM_LAST_NAMES, rng.integers(0, len(c.SPAM_LAST_NAMES), n)),
        "company_name": _take(c.SPAM_COMPANIES, rng.integers(0, len(c.SPAM_COMPANIES), n)),
        "job_title": _take(c.SPAM_JOB_TITLES, rng.integers(0, len(c.SPAM_JOB_TITLES), n)),
        "company_size": _take(c.COMPANY_SIZES, np.where(hp, rng.integers(0, len(c.COMPANY_SIZES), n), -1)),
        "phone": _str(np.where(hp, "+1" + rng.integers(2_000_000_000, 9_999_999_999, n).astype(str).astype(object),
                               None)),
        "hp": _take(c.SPAM_HONEYPOT_VALUES, np.where(hp, rng.integers(0, len(c.SPAM_HONEYPOT_VALUES), n), -1)),
        "domain": _str(domain),
        "honeypot": hp, "fast": fast, "limited": limited, "disposable": disposable, "link": link,
        "seconds": tenths // 10, "tenths": tenths % 10,
        "ip": ip,
        "ua": _take(ua_json, np.where(ua >= 0, ua, len(c.SPAM_USER_AGENTS) + human_ua)),
        "page": page,
    })

    def reason(flag: str, text: pl.Expr | str) -> pl.Expr:
        text = pl.lit(json.dumps(text) + ",") if isinstance(text, str) else text
        return pl.when(pl.col(flag)).then(text).otherwise(pl.lit(""))

    reasons = pl.concat_str(
        reason("honeypot", "honeypot field filled (bots fill every input)"),
        reason("fast", pl.concat_str(pl.lit('"submitted '), pl.col("seconds").cast(pl.String), pl.lit("."),
                                     pl.col("tenths").cast(pl.String),
                                     pl.lit(f' s after the form was shown (minimum {MIN_SUBMIT_SECONDS} s)",'))),
        reason("limited", f"too many submissions from this IP address (limit {SUBMIT_RATE_LIMIT})"),
        reason("disposable", pl.concat_str(pl.lit('"disposable email domain '), "domain", pl.lit('",'))),
        reason("link", "link or HTML in first_name"),
    ).str.strip_chars_end(",")
    received = _ts(_any_time(rng, n, now_s))
    return frame.select(
        form_id=pl.col("form").cast(pl.Int64) + 1,
        received_at=received,
        status=pl.lit("quarantined"),
        reasons=pl.concat_str(pl.lit("["), reasons, pl.lit("]")),
        payload=_payload_json(),
        context=pl.concat_str(pl.lit('{"ip":"'), "ip", pl.lit('","user_agent":'), "ua",
                              pl.lit(f',"origin":{json.dumps(c.SITE)},"page_url":'), "page",
                              pl.lit(f',"content_type":"{FORM_CONTENT_TYPE}","channel":"form",'
                                     f'"consent_version":{FORM_CONSENT_VERSION}}}')),
        lead_id=pl.lit(None, dtype=pl.Int64),
        processed_at=pl.lit(None, dtype=pl.Datetime("us")),
    )


def _invalid_submissions(rng: np.random.Generator, *, n: int, now_s: int) -> pl.DataFrame:
    """Submissions refused for a mistyped email, with the reason the product stored."""
    kind = rng.integers(0, len(c.INVALID_EMAILS), n)
    messages = []
    for template in c.INVALID_EMAILS:
        try:
            normalize_email(template.format(f="jane", l="doe"))
        except InvalidValue as exc:
            messages.append(json.dumps([f"email: not a valid email address: {exc}"]))
        else:
            raise AssertionError(f"{template!r} is a valid email pattern")
    first_i = rng.integers(0, len(c.FIRST_NAMES_EN), n)
    last_i = rng.integers(0, len(c.LAST_NAMES_EN), n)
    first_slug = np.array([_ascii_slug(v) for v in c.FIRST_NAMES_EN], dtype=object)[first_i]
    last_slug = np.array([_ascii_slug(v) for v in c.LAST_NAMES_EN], dtype=object)[last_i]
    parts = [template.replace("{f}", "\x01").replace("{l}", "\x02").split("\x01") for template in c.INVALID_EMAILS]
    # Each template is "<before>{f}<middle>{l}<after>": fill it with whole columns.
    before = np.array([p[0] for p in parts], dtype=object)[kind]
    middle, after = (np.array([p[1].split("\x02")[i] for p in parts], dtype=object)[kind] for i in (0, 1))
    email = before + first_slug + middle + last_slug + after
    companies = [f"{a} {b}" for a in c.COMPANY_WORDS_A[:5] for b in c.COMPANY_WORDS_B[:5]]
    day = rng.integers(1, HISTORY_DAYS, n, endpoint=True)
    hour = np.clip(rng.normal(SUBMIT_HOUR_MEAN * 3600, SUBMIT_HOUR_SD * 3600, n), 0, DAY - 1).astype(np.int64)
    frame = pl.DataFrame({
        "form": _choice(rng, [1] * len(c.FORMS), n),
        "consent": rng.random(n) < 0.5,
        "email": _str(email),
        "first_name": _take(c.FIRST_NAMES_EN, first_i),
        "last_name": _take(c.LAST_NAMES_EN, last_i),
        "company_name": _take(companies, rng.integers(0, len(companies), n)),
        "job_title": _take(c.TITLES_EN[3], rng.integers(0, len(c.TITLES_EN[3]), n)),
        "company_size": pl.Series([None] * n, dtype=pl.String),
        "phone": pl.Series([None] * n, dtype=pl.String),
        "hp": pl.Series([None] * n, dtype=pl.String),
        "ip": _ips(rng, n),
        "ua": _take([json.dumps(u) for u, _ in c.USER_AGENTS], _choice(rng, [w for _, w in c.USER_AGENTS], n)),
    })
    return frame.select(
        form_id=pl.col("form").cast(pl.Int64) + 1,
        received_at=_ts(now_s - day * DAY + hour),
        status=pl.lit("invalid"),
        reasons=_take([*messages], kind),
        payload=_payload_json(),
        context=pl.concat_str(pl.lit('{"ip":"'), "ip", pl.lit('","user_agent":'), "ua",
                              pl.lit(f',"origin":{json.dumps(c.SITE)},"page_url":{json.dumps(c.SITE + "/demo")},'
                                     f'"content_type":"{FORM_CONTENT_TYPE}","channel":"form",'
                                     f'"consent_version":{FORM_CONSENT_VERSION}}}')),
        lead_id=pl.lit(None, dtype=pl.Int64),
        processed_at=pl.lit(None, dtype=pl.Datetime("us")),
    )
