"""The scoring model document: fit rules, engagement rules with decay and caps, lifecycle thresholds.

A model is data (YAML or JSON), validated here; an invalid document is refused with an error
that names the key (`engagement.rules.2.url: ...`). `score = fit points + engagement + intent`;
the grade comes from fit points alone.
"""

from __future__ import annotations

import json
import math
import re
from importlib import resources
from typing import Annotated, Any, Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

GRADES = ("A", "B", "C", "D")
LEAD_FIELDS = ("email", "first_name", "last_name", "job_title", "company_name", "industry", "company_size",
               "country", "city", "website", "phone", "first_channel", "first_source", "first_medium",
               "first_campaign", "last_channel", "last_source", "last_medium", "last_campaign")
PROPERTY_PREFIX = "properties."
MAX_RULES = 200
MAX_TEXT = 200

Points = Annotated[float, Field(ge=-1000, le=1000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_regex(value: str) -> str:
    """VALUE if the engine (Polars, Rust regex syntax: no look-around, no backreferences) can run it."""
    try:
        re.compile(value)
        pl.Series([""], dtype=pl.String).str.contains(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    except pl.exceptions.ComputeError as exc:
        found = re.search(r"^error: (.+)$", str(exc), re.M)
        reason = found.group(1) if found else str(exc).splitlines()[0]
        raise ValueError(f"not a regular expression leadflow can run: {reason}") from None
    return value


class Range(Strict):
    """A numeric range, both ends included; either may be left out."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self


FIT_OPS = ("equals", "in_", "contains_any", "regex", "range", "exists", "free_email")


class FitRule(Strict):
    """Points for leads whose FIELD matches exactly one condition."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    id: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    label: str = Field(default="", max_length=MAX_TEXT)
    field: str
    points: Points
    equals: str | None = None
    in_: list[str] | None = Field(default=None, alias="in", min_length=1)
    contains_any: list[Annotated[str, Field(min_length=1)]] | None = Field(default=None, min_length=1)
    regex: str | None = None
    range: Range | None = None
    exists: bool | None = None
    free_email: bool | None = None

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str) -> str:
        if value in LEAD_FIELDS:
            return value
        if value.startswith(PROPERTY_PREFIX) and re.fullmatch(r"[^'\"\\]{1,100}", value[len(PROPERTY_PREFIX):]):
            return value
        raise ValueError(f"unknown field {value!r}; use one of {', '.join(LEAD_FIELDS)} or properties.<name>")

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return None if value is None else _check_regex(value)

    @model_validator(mode="after")
    def _one_condition(self) -> FitRule:
        given = [op for op in FIT_OPS if getattr(self, op) is not None]
        if len(given) != 1:
            names = ", ".join(op.rstrip("_") for op in FIT_OPS)
            raise ValueError(f"give exactly one condition ({names}); got {len(given) or 'none'}")
        if self.free_email is not None and self.field != "email":
            raise ValueError("free_email applies to the email field only")
        return self

    @property
    def condition(self) -> str:
        return next(op for op in FIT_OPS if getattr(self, op) is not None)


class Grades(Strict):
    """Minimum fit points for grades A, B and C; below C's cut a lead is D."""

    A: float
    B: float
    C: float

    @model_validator(mode="after")
    def _descending(self) -> Grades:
        if not self.A > self.B > self.C:
            raise ValueError(f"grade cuts overlap: need A > B > C, got A={self.A:g}, B={self.B:g}, C={self.C:g}")
        return self


class Fit(Strict):
    grades: Grades = Grades(A=60, B=35, C=15)
    rules: list[FitRule] = Field(default_factory=list, max_length=MAX_RULES)


class Window(Strict):
    """At most MAX_POINTS from the rule per window of DAYS; windows are consecutive from 1970-01-01 UTC
    (so `days: 1` windows are UTC days, and `days: 7` windows start on Thursdays)."""

    days: float = Field(gt=0, le=366)
    max_points: float = Field(gt=0)


class EngagementRule(Strict):
    """Points per matching event, decaying with a half-life, with optional caps."""

    id: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    label: str = Field(default="", max_length=MAX_TEXT)
    event: str | list[str] = Field(description="event type or types")
    url: str | None = Field(default=None, description="regular expression searched in the event's url")
    where: dict[str, str] = Field(default_factory=dict, description="event properties that must equal these values")
    points: Points
    half_life_days: float | None = Field(default=30, description="none for no decay")
    cap: float | None = Field(default=None, gt=0, description="at most this much (in absolute value) from this rule")
    window: Window | None = None
    intent: bool = False

    @field_validator("event")
    @classmethod
    def _types(cls, value: str | list[str]) -> str | list[str]:
        types = [value] if isinstance(value, str) else value
        if not types:
            raise ValueError("give at least one event type")
        for t in types:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", t):
                raise ValueError(f"{t!r} is not an event type (lowercase letters, digits and _)")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _check_regex(value)

    @field_validator("half_life_days")
    @classmethod
    def _half_life(cls, value: float | None) -> float | None:
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise ValueError(f"the half-life must be a positive number of days, got {value:g}")
        return value

    @field_validator("where")
    @classmethod
    def _where_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", key):
                raise ValueError(f"{key!r} is not a property name (letters, digits, _ . -)")
        return value

    @property
    def types(self) -> list[str]:
        return [self.event] if isinstance(self.event, str) else list(self.event)


class Engagement(Strict):
    total_cap: float | None = Field(default=None, gt=0, description="engagement (non-intent rules) at most this")
    intent_cap: float | None = Field(default=None, gt=0, description="intent at most this")
    rules: list[EngagementRule] = Field(default_factory=list, max_length=MAX_RULES)


class Threshold(Strict):
    """A stage's entry condition; a lead leaves it only when EXIT_MARGIN below (hysteresis)."""

    min_grade: Literal["A", "B", "C", "D"] | None = None
    min_engagement: float | None = Field(default=None, description="engagement + intent at least this")
    min_intent: float | None = None
    min_score: float | None = None
    min_probability: float | None = Field(default=None, gt=0, le=1, description="the predictive model's conversion "
                                          "probability at least this (leads without one never meet it)")
    exit_margin: float = Field(default=10, ge=0)

    def uses_probability(self) -> bool:
        return self.min_probability is not None


class SqlThreshold(Threshold):
    """Sales-ready: by default only when sales accepts; AUTO moves leads meeting the threshold."""

    auto: bool = False
    require_bant: bool = True


class Lifecycle(Strict):
    prospect_requires_email: bool = True
    mql: Threshold = Threshold(min_grade="B", min_engagement=40)
    sql: SqlThreshold = SqlThreshold()


class ScoringModelDoc(Strict):
    """A whole scoring model: what a version stores."""

    name: str = Field(min_length=1, max_length=MAX_TEXT)
    description: str = Field(default="", max_length=2000)
    fit: Fit = Fit()
    engagement: Engagement = Engagement()
    lifecycle: Lifecycle = Lifecycle()

    @model_validator(mode="after")
    def _consistent(self) -> ScoringModelDoc:
        for section, rules in (("fit", self.fit.rules), ("engagement", self.engagement.rules)):
            seen: set[str] = set()
            for rule in rules:
                if rule.id in seen:
                    raise ValueError(f"{section}.rules: the id {rule.id!r} is used twice")
                seen.add(rule.id)
        fit_max = self.max_fit_points()
        for grade in ("A", "B", "C"):
            cut = getattr(self.fit.grades, grade)
            if self.fit.rules and cut > fit_max:
                raise ValueError(f"fit.grades.{grade}: {cut:g} points cannot be reached (the fit rules give at most {fit_max:g})")
        for stage in ("mql", "sql"):
            t: Threshold = getattr(self.lifecycle, stage)
            self._reachable(f"lifecycle.{stage}", t)
        return self

    def _reachable(self, where: str, t: Threshold) -> None:
        behaviour, intent = self.max_behaviour()
        if t.min_engagement is not None and behaviour is not None and t.min_engagement > behaviour:
            raise ValueError(f"{where}.min_engagement: {t.min_engagement:g} cannot be reached (engagement + intent is at most {behaviour:g})")
        if t.min_intent is not None and intent is not None and t.min_intent > intent:
            raise ValueError(f"{where}.min_intent: {t.min_intent:g} cannot be reached (intent is at most {intent:g})")
        if t.min_score is not None and behaviour is not None and t.min_score > behaviour + self.max_fit_points():
            raise ValueError(f"{where}.min_score: {t.min_score:g} cannot be reached (the score is at most {behaviour + self.max_fit_points():g})")
        if t.min_grade is not None and t.min_grade != "D" and self.fit.rules:
            cut = getattr(self.fit.grades, t.min_grade)
            if cut > self.max_fit_points():
                raise ValueError(f"{where}.min_grade: grade {t.min_grade} cannot be reached")

    def max_fit_points(self) -> float:
        """An upper bound of the fit points a lead can get (every positive rule matching at once)."""
        # Conditions on one field can all match (contains_any on two keyword lists), so they are
        # added up: an upper bound is what "cannot be reached" needs.
        return sum(max(rule.points, 0.0) for rule in self.fit.rules)

    def max_behaviour(self) -> tuple[float | None, float | None]:
        """Upper bounds of engagement + intent and of intent alone (None: unbounded)."""
        def bound(rules: list[EngagementRule], cap: float | None) -> float | None:
            positive = [r for r in rules if r.points > 0]
            if any(r.cap is None for r in positive):
                return cap
            total = sum(r.cap for r in positive)  # type: ignore[misc]
            return total if cap is None else min(total, cap)

        eng = bound([r for r in self.engagement.rules if not r.intent], self.engagement.total_cap)
        intent = bound([r for r in self.engagement.rules if r.intent], self.engagement.intent_cap)
        both = None if eng is None or intent is None else eng + intent
        return both, intent

    def lead_fields(self) -> list[str]:
        """The lead columns the fit rules read (email always, to tell identified leads)."""
        return sorted({"email", *(r.field for r in self.fit.rules)})

    def event_types(self) -> list[str] | None:
        """The event types any engagement rule can match."""
        return sorted({t for r in self.engagement.rules for t in r.types})

    def event_property_keys(self) -> list[str]:
        """The event properties the rules read ("url" for url patterns, the keys of `where`)."""
        keys = {k for r in self.engagement.rules for k in r.where}
        if any(r.url is not None for r in self.engagement.rules):
            keys.add("url")
        return sorted(keys)


class ModelError(ValueError):
    """An invalid model document; ERRORS lists (key path, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{loc}: {msg}" if loc else msg for loc, msg in errors))

    @property
    def field(self) -> str:
        return self.errors[0][0] if self.errors else ""


def _loc(parts: tuple[Any, ...]) -> str:
    return ".".join("in" if p == "in_" else str(p) for p in parts)


def _message(err: dict) -> str:
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if err["type"] == "extra_forbidden":
        return "unknown key"
    return msg


def parse_model(data: Any) -> ScoringModelDoc:
    """A validated model from parsed data; ModelError naming each bad key otherwise."""
    if not isinstance(data, dict):
        raise ModelError([("", "a scoring model is a mapping (name, fit, engagement, lifecycle)")])
    try:
        return ScoringModelDoc.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = _loc(err["loc"])
            msg = _message(err)
            # Model-level checks put the key in the message ("fit.grades.A: ..."); lift it out.
            m = re.match(r"^([a-z_]+(?:\.[A-Za-z0-9_]+)+): (.*)$", msg, re.S)
            if m and not loc:
                loc, msg = m.group(1), m.group(2)
            errors.append((loc, msg))
        raise ModelError(errors) from None


def parse_model_text(text: str) -> ScoringModelDoc:
    """A validated model from YAML or JSON text."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ModelError([("", f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ModelError([("", f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}")]) from None
    return parse_model(data)


def model_to_data(model: ScoringModelDoc) -> dict:
    """The document as plain data (what is stored), without defaults left implicit."""
    data = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    # A null half-life means "no decay" while a missing one means 30 days: keep the null.
    for rule, dumped in zip(model.engagement.rules, data["engagement"]["rules"], strict=True):
        if rule.half_life_days is None:
            dumped["half_life_days"] = None
    return data


def model_to_yaml(model: ScoringModelDoc) -> str:
    return yaml.safe_dump(model_to_data(model), sort_keys=False, allow_unicode=True)


def default_model_text() -> str:
    """The model that ships: a B2B default a marketer can start from."""
    return resources.files("leadflow.scoring").joinpath("default_model.yaml").read_text(encoding="utf-8")


def default_model() -> ScoringModelDoc:
    return parse_model_text(default_model_text())
