"""BANT (budget, authority, need, timeline) as data, and the pure checks and mappings over it.

No database here: the lead-changing service is `lifecycle.service.set_bant`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

NONE = "none"  # an answer in its own right ("no budget"), unlike an unanswered question


@dataclass(frozen=True, slots=True)
class BantValue:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class BantField:
    key: str
    label: str
    question: str
    values: tuple[BantValue, ...]

    @property
    def column(self) -> str:
        """The lead attribute holding this answer."""
        return f"bant_{self.key}"

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.values)

    def label_of(self, value: str | None) -> str | None:
        return next((v.label for v in self.values if v.value == value), value)


BANT_FIELDS: tuple[BantField, ...] = (
    BantField("budget", "Budget", "Is there money for this?", (
        BantValue("confirmed", "Confirmed"),
        BantValue("planned", "Planned"),
        BantValue(NONE, "No budget"),
    )),
    BantField("authority", "Authority", "Does this person decide the purchase?", (
        BantValue("decision_maker", "Decision maker"),
        BantValue("influencer", "Influencer"),
        BantValue(NONE, "No say"),
    )),
    BantField("need", "Need", "Do they have the problem we solve?", (
        BantValue("confirmed", "Confirmed"),
        BantValue("possible", "Possible"),
        BantValue(NONE, "No need"),
    )),
    BantField("timeline", "Timeline", "When would they buy?", (
        BantValue("under_3_months", "Under 3 months"),
        BantValue("3_to_12_months", "3 to 12 months"),
        BantValue("over_12_months", "Over 12 months"),
        BantValue(NONE, "No timeline"),
    )),
)
BANT_BY_KEY: dict[str, BantField] = {f.key: f for f in BANT_FIELDS}
BANT_KEYS: tuple[str, ...] = tuple(BANT_BY_KEY)


class HasBant(Protocol):
    bant_budget: str | None
    bant_authority: str | None
    bant_need: str | None
    bant_timeline: str | None


def parse_bant_value(field: str, value: str | None) -> str | None:
    """VALUE as stored for FIELD (None when empty); ValueError listing the allowed values otherwise."""
    spec = BANT_BY_KEY.get(field)
    if spec is None:
        raise ValueError(f"unknown BANT field {field!r}; expected one of: {', '.join(BANT_KEYS)}")
    if value is None or not value.strip():
        return None
    cleaned = value.strip().lower()
    if cleaned not in spec.allowed:
        raise ValueError(f"{value.strip()[:40]!r} is not a {field} answer; expected one of: {', '.join(spec.allowed)}")
    return cleaned


def bant_values(lead: HasBant) -> dict[str, str | None]:
    """{field: stored answer or None} in BANT order."""
    return {f.key: getattr(lead, f.column) for f in BANT_FIELDS}


def missing_bant(lead: HasBant) -> list[str]:
    """The BANT fields LEAD has no answer for."""
    return [k for k, v in bant_values(lead).items() if not v]


def bant_answered(lead: HasBant) -> bool:
    """All four questions have an answer ("none" counts as one)."""
    return not missing_bant(lead)


def bant_qualified(lead: HasBant) -> bool:
    """All four answered, and none of them is "none"."""
    values = bant_values(lead).values()
    return all(values) and NONE not in values


# ---- mapping free-form answers (form fields, custom properties) --------------------------------

def _norm(text: str) -> str:
    """Lowercase, accents dropped, "<", ">" and "+" spelled out, any other run of symbols one "_"."""
    text = unicodedata.normalize("NFKD", text.strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("<", " lt ").replace(">", " gt ").replace("+", " plus ")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


# Answer and property names (English and Spanish) that carry each BANT question.
_FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "budget": ("budget", "bant budget", "budget status", "has budget", "presupuesto", "tiene presupuesto"),
    "authority": ("authority", "bant authority", "decision maker", "decision role", "role in decision",
                  "autoridad", "decisor", "rol en la decision", "toma de decision"),
    "need": ("need", "bant need", "needs", "necesidad", "necesidades"),
    "timeline": ("timeline", "bant timeline", "timeframe", "time frame", "purchase timeline", "when",
                 "cronograma", "plazo", "plazo de compra", "cuando"),
}

# Obvious synonyms of each allowed value; the allowed values themselves always match.
_YES = ("yes", "y", "true", "1", "si", "sí", "s", "ok")
_NO = ("no", "n", "false", "0", "none", "nothing", "nada", "ninguno", "ninguna", "n/a", "na")
_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "budget": {
        "confirmed": (*_YES, "approved", "allocated", "have budget", "aprobado", "asignado", "confirmado"),
        "planned": ("planned", "planning", "pending", "pending approval", "maybe", "next year", "previsto",
                    "planificado", "pendiente", "en proceso", "tal vez", "quizas"),
        NONE: (*_NO, "no budget", "sin presupuesto"),
    },
    "authority": {
        "decision_maker": (*_YES, "decision maker", "decider", "i decide", "final say", "owner", "buyer",
                           "decisor", "yo decido", "decido yo"),
        "influencer": ("influencer", "influence", "recommender", "i recommend", "recommend", "evaluator",
                       "part of the decision", "influyo", "recomiendo", "evaluador", "parte de la decision"),
        NONE: (*_NO, "no say", "user", "usuario"),
    },
    "need": {
        "confirmed": (*_YES, "urgent", "critical", "high", "clear", "confirmada", "urgente", "alta", "clara"),
        "possible": ("possible", "maybe", "possibly", "exploring", "medium", "posible", "tal vez", "quizas",
                     "explorando", "media"),
        NONE: (*_NO, "no need", "not needed", "sin necesidad"),
    },
    "timeline": {
        "under_3_months": ("< 3 months", "under 3 months", "less than 3 months", "0-3 months", "1-3 months",
                           "now", "asap", "immediately", "this month", "this quarter",
                           "< 3 meses", "menos de 3 meses", "0-3 meses", "1-3 meses", "ya", "inmediato",
                           "este mes", "este trimestre"),
        "3_to_12_months": ("3-12 months", "3-6 months", "6-12 months", "3 to 12 months", "this year",
                           "next quarter", "3-12 meses", "3-6 meses", "6-12 meses", "3 a 12 meses",
                           "este ano", "este año", "proximo trimestre"),
        "over_12_months": ("> 12 months", "12+ months", "over 12 months", "more than 12 months", "next year",
                           "> 12 meses", "+12 meses", "12+ meses", "mas de 12 meses", "el proximo ano",
                           "el año que viene"),
        NONE: (*_NO, "never", "no timeline", "no plans", "nunca", "sin plazo"),
    },
}

_FIELD_BY_NAME: dict[str, str] = {_norm(name): key for key, names in _FIELD_NAMES.items() for name in names}
_VALUE_BY_ANSWER: dict[str, dict[str, str]] = {
    key: {
        **{_norm(s): value for value, words in _SYNONYMS[key].items() for s in words},
        **{v: v for v in BANT_BY_KEY[key].allowed},
    }
    for key in BANT_KEYS
}


def bant_from_answers(answers: Mapping[str, object]) -> dict[str, str]:
    """The BANT answers found in ANSWERS ({name: answer}, names and answers in English or Spanish).

    Names and answers that mean nothing here are skipped; the first usable answer to a question wins.
    """
    found: dict[str, str] = {}
    for name, answer in answers.items():
        key = _FIELD_BY_NAME.get(_norm(str(name)))
        if key is None or key in found or answer is None:
            continue
        value = _VALUE_BY_ANSWER[key].get(_norm(str(answer)))
        if value is not None:
            found[key] = value
    return found
