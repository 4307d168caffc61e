"""Why a lead got its probability: the model's largest per-column contributions, in plain words."""

from __future__ import annotations

import math
import re

import polars as pl

from leadflow.predict.errors import PredictError
from leadflow.predict.features import NUMERIC, category_expr, numeric_expr
from leadflow.predict.training import PredictiveModel

# Strength words by |contribution| in calibrated log-odds. 1.0 multiplies the odds by e (about
# 2.7): a 20 % chance becomes 40 %, which anyone calls "a lot". 0.3 multiplies them by 1.35 (20 %
# becomes 25 %): a plain "raises". Below that the effect is real but small: "slightly".
STRONG = 1.0
MODERATE = 0.3
UNKNOWN = "unknown"
# Column names leadflow's workspace data uses that read badly when merely de-snake-cased.
KNOWN_LABELS = {
    "days_since_created": "days since the lead was created",
    "events.days_since_last": "days since the last activity",
    "email_kind": "email address type",
    "consent_email": "email consent",
    "consent_tracking": "tracking consent",
    "form_id": "form",
    "first_channel": "first channel",
    "first_source": "first source",
    "first_medium": "first medium",
    "first_campaign": "first campaign",
}
_EVENT_COUNT = re.compile(r"^events\.(?P<type>.+)_(?:(?P<days>\d+)d|total)$")
_SNAKE = re.compile(r"^[a-z0-9_]+$")


def _words(name: str) -> str:
    # snake_case identifiers become words; names a person wrote ("Lead Source") stay as they are.
    return name.replace("_", " ").strip() if _SNAKE.match(name) else name


def _plural(noun: str) -> str:
    return noun if noun.endswith("s") else noun + "s"


def label(name: str) -> str:
    """A readable label for column NAME ("events.page_view_30d" -> "page views in the last 30 days")."""
    if name in KNOWN_LABELS:
        return KNOWN_LABELS[name]
    bare = name.removeprefix("properties.")
    if bare in KNOWN_LABELS:
        return KNOWN_LABELS[bare]
    match = _EVENT_COUNT.match(name)
    if match:
        kind = _plural(_words(match["type"]))
        return f"{kind} in the last {match['days']} days" if match["days"] else f"{kind} in total"
    if bare.startswith("events."):
        bare = bare.removeprefix("events.")
    if bare.startswith("days_since_"):
        return f"days since {_words(bare.removeprefix('days_since_'))}"
    return _words(bare)


def display_number(value: float) -> str:
    """VALUE with thousands separators and at most two decimals."""
    if value == math.floor(value) and abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _strength(contribution: float) -> str:
    size = abs(contribution)
    if size >= STRONG:
        return " a lot"
    if size >= MODERATE:
        return ""
    return " slightly"


def _count_phrase(name: str, value: float) -> str | None:
    # Counts read best number first: "3 page views in the last 30 days", "12 days since ...".
    match = _EVENT_COUNT.match(name)
    if match:
        noun = _words(match["type"])
        noun = noun if value == 1 else _plural(noun)
        period = f"in the last {match['days']} days" if match["days"] else "in total"
        return f"{display_number(value)} {noun} {period}"
    text = label(name)
    if text.startswith("days since "):
        return f"{display_number(value)} {'day' if value == 1 else 'days'} {text.removeprefix('days ')}"
    return None


def _sentence(name: str, value: object, *, unseen: bool, contribution: float) -> tuple[str, str]:
    text = label(name)
    if value is None:
        shown, what = UNKNOWN, f"{text} is unknown"
    elif isinstance(value, float):
        shown = display_number(value)
        what = _count_phrase(name, value) or f"{text} is {shown}"
    else:
        shown = str(value)
        what = f"{text} is {shown}" + (" (a value not seen in training)" if unseen else "")
    direction = "raises" if contribution > 0 else "lowers"
    sentence = f"{what} — {direction} the chance{_strength(contribution)}"
    return shown, sentence[:1].upper() + sentence[1:]


def factors(model: PredictiveModel, row: pl.DataFrame, *, top: int = 6) -> list[dict]:
    """The TOP largest contributions to ROW's probability (one lead), largest first, each with a sentence."""
    if row.height != 1:
        raise PredictError(f"factors explain one lead at a time, not {row.height}")
    explanation = model.explain(row)
    values = row.select(
        (numeric_expr(c.name, row.schema[c.name]) if c.kind == NUMERIC else category_expr(c.name, row.schema[c.name]))
        .alias(c.name)
        for c in model.feature_set.columns
    ).row(0)
    contributions = explanation.contributions[0]
    order = sorted((i for i in range(len(contributions)) if contributions[i] != 0.0),
                   key=lambda i: -abs(contributions[i]))[:top]
    out = []
    for i in order:
        name, c = explanation.names[i], float(contributions[i])
        shown, text = _sentence(name, values[i], unseen=bool(explanation.unseen[0, i]), contribution=c)
        out.append({"feature": name, "label": label(name), "value": shown, "contribution": c,
                    "direction": "raises" if c > 0 else "lowers", "text": text})
    return out
