"""The scoring engine against an independent plain-Python reference, and by hand-computed cases."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from unittest import mock

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadflow.scoring import engine
from leadflow.scoring.engine import (
    LINE_RULE,
    LINE_RULE_CAP,
    LINE_TOTAL_CAP,
    Explanation,
    events_frame,
    explain_frames,
    explain_lead,
    score_frames,
)
from leadflow.scoring.schemas import ScoringModelDoc, default_model, parse_model

DAY = 86_400
HOUR = 3_600
# A UTC midnight (2025-06-16), so "NOW - k days" lands on window boundaries of one-day windows.
NOW = 20_255 * DAY
# Lifecycle thresholds without minimums are reachable whatever the rules, so any generated rule
# set validates.
OPEN_LIFECYCLE = {"mql": {}, "sql": {}}
LEAD_DTYPES = {"lead_id": pl.Int64, "as_of": pl.Float64}


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def build(*, fit_rules: Sequence[dict] = (), grades: dict | None = None, rules: Sequence[dict] = (),
          total_cap: float | None = None, intent_cap: float | None = None) -> ScoringModelDoc:
    """A validated model with these rules and no lifecycle minimums."""
    engagement: dict = {"rules": list(rules)}
    if total_cap is not None:
        engagement["total_cap"] = total_cap
    if intent_cap is not None:
        engagement["intent_cap"] = intent_cap
    fit: dict = {"rules": list(fit_rules)}
    if grades is not None:
        fit["grades"] = grades
    elif fit_rules:
        # Cuts the rules can reach, or the model is refused.
        top = sum(max(r["points"], 0) for r in fit_rules)
        fit["grades"] = {"A": top, "B": top - 1, "C": top - 2}
    return parse_model({"name": "test", "fit": fit, "engagement": engagement, "lifecycle": OPEN_LIFECYCLE})


def leads_frame(leads: Sequence[dict], *, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """A leads frame as the loader builds it: lead_id, one text column per field, as_of in epoch seconds."""
    names = list(columns) if columns is not None else list(dict.fromkeys(k for lead in leads for k in lead))
    if "lead_id" not in names:
        names.insert(0, "lead_id")
    schema = {name: LEAD_DTYPES.get(name, pl.String) for name in names}
    return pl.DataFrame({name: [lead.get(name) for lead in leads] for name in names}, schema=schema)


def event(t: float, event_id: int, *, type: str = "page_view", lead_id: int = 1, **properties) -> dict:
    return {"lead_id": lead_id, "event_id": event_id, "type": type, "t": t, "properties": properties}


def explain_all(model: ScoringModelDoc, leads: Sequence[dict], events: Sequence[dict], *,
                now: float = NOW) -> dict[int, Explanation]:
    """Explanations by lead id, checked against score_frames and against their own lines."""
    frame = leads_frame(leads)
    evs = events_frame(events, model)
    scores = {row["lead_id"]: row for row in score_frames(model, leads=frame, events=evs, now=now).iter_rows(named=True)}
    out = {}
    for exp in explain_frames(model, leads=frame, events=evs, now=now):
        row = scores[exp.lead_id]
        assert (exp.fit_points, exp.fit_grade, exp.engagement, exp.intent, exp.score) == (
            row["fit_points"], row["fit_grade"], row["engagement_score"], row["intent_score"], row["score"])
        assert close(sum(line.value for line in exp.lines), exp.score)
        out[exp.lead_id] = exp
    return out


def explain(model: ScoringModelDoc, events: Sequence[dict] = (), *, now: float = NOW, **lead) -> Explanation:
    """The explanation of lead 1 with these fields."""
    return explain_all(model, [{"lead_id": 1, **lead}], events, now=now)[1]


def values_by_event(exp: Explanation) -> dict[int, float]:
    return {line.event_id: line.value for line in exp.lines if line.line == LINE_RULE and line.event_id is not None}


def points_by_event(exp: Explanation) -> dict[int, float]:
    return {line.event_id: line.points for line in exp.lines if line.line == LINE_RULE and line.event_id is not None}


# The reference: the documented semantics, one lead at a time, in loops.

REF_FREE_DOMAINS = {"gmail.com", "outlook.com", "yahoo.com"}
REF_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


@dataclass
class RefScore:
    """What the reference says of one lead."""

    fit: float
    grade: str
    engagement: float
    intent: float
    score: float
    at: float
    fit_rules: set[str]
    events: dict[tuple[str, int], tuple[float, float]]  # (rule id, event id) -> (points, value)
    rule_excess: dict[str, float] = field(default_factory=dict)
    total_excess: dict[str, float] = field(default_factory=dict)


def ref_number(text: str) -> float | None:
    # A comma before one or two final digits is a decimal comma ("3,5"); other commas group thousands.
    plain = re.sub(r"^(-?\d+),(\d{1,2})$", r"\1.\2", text).replace(",", "")
    return float(plain) if REF_NUMBER.fullmatch(plain) else None


def ref_fit_matches(rule, raw) -> bool:
    text = None if raw is None else str(raw).strip()
    if rule.exists is not None:
        return bool(text) == rule.exists
    if text is None:
        return False
    low = text.lower()
    if rule.equals is not None:
        return low == rule.equals.strip().lower()
    if rule.in_ is not None:
        return any(low == v.strip().lower() for v in rule.in_)
    if rule.contains_any is not None:
        return any(word.lower() in low for word in rule.contains_any)
    if rule.regex is not None:
        return re.search(rule.regex, text) is not None
    if rule.range is not None:
        number = ref_number(text)
        return (number is not None and (rule.range.min is None or number >= rule.range.min)
                and (rule.range.max is None or number <= rule.range.max))
    assert rule.free_email is not None
    if "@" not in low:
        return False
    return (low.rsplit("@", 1)[1] in REF_FREE_DOMAINS) == rule.free_email


def ref_event_matches(rule, ev: dict) -> bool:
    props = ev["properties"]
    if ev["type"] not in rule.types:
        return False
    if rule.url is not None and (props.get("url") is None or re.search(rule.url, props["url"]) is None):
        return False
    return all(props.get(key) == value for key, value in rule.where.items())


def ref_grade(points: float, model: ScoringModelDoc) -> str:
    for grade in ("A", "B", "C"):
        if points >= getattr(model.fit.grades, grade):
            return grade
    return "D"


def reference_score(model: ScoringModelDoc, lead: dict, events: Sequence[dict], now: float) -> RefScore:
    at = now if lead.get("as_of") is None else min(lead["as_of"], now)
    fit_rules = {r.id for r in model.fit.rules if ref_fit_matches(r, lead.get(r.field))}
    fit = sum(r.points for r in model.fit.rules if r.id in fit_rules)
    mine = [e for e in events if e["lead_id"] == lead["lead_id"] and e["t"] <= at]
    lines: dict[tuple[str, int], tuple[float, float]] = {}
    totals = {"engagement": 0.0, "intent": 0.0}
    rule_excess = {}
    for rule in model.engagement.rules:
        used: dict[int, float] = {}
        rule_total = 0.0
        for ev in sorted((e for e in mine if ref_event_matches(rule, e)), key=lambda e: (e["t"], e["event_id"])):
            give = abs(rule.points)
            if rule.window is not None:
                window = math.floor(ev["t"] / (rule.window.days * DAY))
                give = min(give, max(0.0, rule.window.max_points - used.get(window, 0.0)))
                used[window] = used.get(window, 0.0) + give
            points = math.copysign(give, rule.points)
            value = points if rule.half_life_days is None else \
                points * 0.5 ** ((at - ev["t"]) / (rule.half_life_days * DAY))
            lines[(rule.id, ev["event_id"])] = (points, value)
            rule_total += value
        capped = rule_total if rule.cap is None else max(-rule.cap, min(rule.cap, rule_total))
        rule_excess[rule.id] = capped - rule_total
        totals["intent" if rule.intent else "engagement"] += capped
    caps = {"engagement": model.engagement.total_cap, "intent": model.engagement.intent_cap}
    total_excess = {kind: 0.0 if caps[kind] is None else min(0.0, caps[kind] - raw) for kind, raw in totals.items()}
    engagement = totals["engagement"] + total_excess["engagement"]
    intent = totals["intent"] + total_excess["intent"]
    return RefScore(fit, ref_grade(fit, model), engagement, intent, fit + engagement + intent, at, fit_rules, lines,
                    rule_excess, total_excess)


# Random models, leads and events.

FIT_FIELDS = ("job_title", "industry", "company_size", "email", "properties.x")
FIELD_VALUES = {
    "job_title": (None, "", "VP of Sales", "vp", "Head of Growth", "  head of data ", "Student",
                  "Chief Executive Officer", "Sales Manager 2", "Director"),
    "industry": (None, "", "Software", " software ", "Retail", "Healthcare", "VP"),
    "company_size": (None, "", "51-200", "12", "3.5", "n/a", "1,000"),
    "email": (None, "", "ana@gmail.com", "Bob@GMAIL.COM ", "carla@acme.io", "no-at-sign", "dan@outlook.com",
              "eve@sub.acme.com", "fay@yahoo.com"),
    "properties.x": (None, "", "12", "3.5", "n/a", " 7 ", "-4", "1,000", "0", "3,5", "12,75"),
}
EQUALS_VALUES = ("software", "VP", " Retail ", "12", "ana@gmail.com", "")
IN_VALUES = ("Software", "retail ", "51-200", "vp", "Healthcare", "3.5", "n/a")
CONTAINS_WORDS = ("sales", "HEAD", "of", "x", "@gmail", "1", " ")
# Simple enough that Python's re and Rust's regex agree on them.
FIT_REGEXES = (r"(?i)\bvp\b", r"^Head", r"(?i)^head", r"Chief|CEO", r"\d", r"^$", r"(?i)\.(io|com)$")
RANGE_BOUNDS = (None, -5, 0, 3.5, 5, 12, 1000)
EVENT_TYPES = ("page_view", "download", "email_click", "webinar")
URLS = (None, "/pricing", "/careers", "/demo", "/blog/pricing-guide", "/Contact", "/en/demo?x=1")
URL_PATTERNS = ("/pricing", "^/demo", "(?i)/contact", "pricing|demo", r"^/blog/")
CAMPAIGNS = (None, "spring", "Spring", "fall")
UNKNOWN_LEAD = 999


@st.composite
def fit_rule_data(draw, i: int) -> dict:
    kind = draw(st.sampled_from(("equals", "in", "contains_any", "regex", "range", "exists", "free_email")))
    if kind == "free_email":
        fld = "email"
    elif kind == "range":
        fld = draw(st.sampled_from(("properties.x", "company_size")))
    else:
        fld = draw(st.sampled_from(FIT_FIELDS))
    rule: dict = {"id": f"fit_{i}", "field": fld, "points": draw(st.integers(-30, 40))}
    match kind:
        case "equals":
            rule["equals"] = draw(st.sampled_from(EQUALS_VALUES))
        case "in":
            rule["in"] = draw(st.lists(st.sampled_from(IN_VALUES), min_size=1, max_size=3))
        case "contains_any":
            rule["contains_any"] = draw(st.lists(st.sampled_from(CONTAINS_WORDS), min_size=1, max_size=3))
        case "regex":
            rule["regex"] = draw(st.sampled_from(FIT_REGEXES))
        case "range":
            low, high = draw(st.sampled_from(RANGE_BOUNDS)), draw(st.sampled_from(RANGE_BOUNDS))
            if low is None and high is None:
                high = 12
            if low is not None and high is not None and low > high:
                low, high = high, low
            rule["range"] = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
        case "exists" | "free_email":
            rule[kind] = draw(st.booleans())
    return rule


@st.composite
def engagement_rule_data(draw, i: int) -> dict:
    types = draw(st.lists(st.sampled_from(EVENT_TYPES), min_size=1, max_size=2, unique=True))
    rule: dict = {
        "id": f"eng_{i}",
        "event": types[0] if len(types) == 1 and draw(st.booleans()) else types,
        # Mostly positive, so that totals reach their caps; negative ones still cancel some.
        "points": draw(st.one_of(st.integers(1, 20), st.integers(1, 20), st.integers(-20, -1))),
        "intent": draw(st.booleans()),
    }
    half_life = draw(st.sampled_from(("default", None, "drawn")))
    if half_life != "default":
        rule["half_life_days"] = None if half_life is None else draw(st.floats(1, 90))
    if draw(st.integers(0, 2)) == 0:
        rule["url"] = draw(st.sampled_from(URL_PATTERNS))
    if draw(st.integers(0, 3)) == 0:
        rule["where"] = {"campaign": draw(st.sampled_from(("spring", "fall")))}
    if draw(st.booleans()):
        rule["cap"] = draw(st.integers(1, 60))
    if draw(st.booleans()):
        rule["window"] = {"days": draw(st.sampled_from((1, 2, 7, 0.5))),
                          "max_points": draw(st.one_of(st.integers(1, 30), st.floats(0.5, 30)))}
    return rule


@st.composite
def model_data(draw) -> dict:
    fit = [draw(fit_rule_data(i)) for i in range(draw(st.integers(0, 5)))]
    rules = [draw(engagement_rule_data(i)) for i in range(draw(st.integers(0, 6)))]
    c = draw(st.integers(-10, 40))
    b = c + draw(st.integers(1, 20))
    a = b + draw(st.integers(1, 20))
    if fit:
        # Cuts above what the rules can give are refused; shift them down into reach.
        shift = max(0, a - sum(max(r["points"], 0) for r in fit))
        a, b, c = a - shift, b - shift, c - shift
    engagement: dict = {"rules": rules}
    for key in ("total_cap", "intent_cap"):
        if draw(st.booleans()):
            engagement[key] = draw(st.integers(1, 30))
    return {"name": "generated", "fit": {"grades": {"A": a, "B": b, "C": c}, "rules": fit},
            "engagement": engagement, "lifecycle": OPEN_LIFECYCLE}


@st.composite
def scenarios(draw) -> tuple[dict, list[dict], list[dict], str | None]:
    data = draw(model_data())
    lead_ids = draw(st.lists(st.integers(1, 30), min_size=1, max_size=4, unique=True))
    as_of = st.one_of(st.none(), st.integers(-48, 60 * 24).map(lambda h: float(NOW - h * HOUR)))
    leads = [{"lead_id": i, **{f: draw(st.sampled_from(FIELD_VALUES[f])) for f in FIT_FIELDS}, "as_of": draw(as_of)}
             for i in lead_ids]
    # A few shared times make ties; most fall within days of each other, so window caps bind;
    # negative offsets are events in the future.
    offsets = st.one_of(
        st.just(0),
        st.integers(-48, 96).map(lambda h: h * HOUR),
        st.tuples(st.integers(-1, 120), st.integers(0, 23)).map(lambda dh: dh[0] * DAY + dh[1] * HOUR),
        st.integers(-2 * DAY, 120 * DAY),
    )
    base = draw(offsets)
    near_base = st.integers(-36, 36).map(lambda h: base + h * HOUR)
    times = draw(st.lists(st.one_of(offsets, near_base).map(lambda o: float(NOW - o)), min_size=1, max_size=8))
    # Mostly types some rule reads, so that rules see several events each.
    rule_types = ([r["event"]] if isinstance(r["event"], str) else r["event"] for r in data["engagement"]["rules"])
    wanted = sorted({t for ts in rule_types for t in ts}) or list(EVENT_TYPES)
    types = st.one_of(st.sampled_from(wanted), st.sampled_from((*EVENT_TYPES, "signup")))
    n = draw(st.integers(0, 40))
    event_ids = draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n, unique=True))
    events = [{
        "lead_id": draw(st.sampled_from([*lead_ids, UNKNOWN_LEAD])),
        "event_id": event_id,
        "type": draw(types),
        "t": draw(st.sampled_from(times)),
        "properties": {"url": draw(st.sampled_from(URLS)), "campaign": draw(st.sampled_from(CAMPAIGNS))},
    } for event_id in event_ids]
    # Sometimes a field the rules read, or as_of, is not a column of the frame at all.
    dropped = draw(st.sampled_from((None, None, "industry", "as_of")))
    return data, leads, events, dropped


def check_against_reference(model: ScoringModelDoc, leads: list[dict], events: list[dict],
                            columns: Sequence[str]) -> None:
    """score_frames and explain_frames agree with the reference and with each other, lead by lead."""
    frame = leads_frame(leads, columns=columns)
    evs = events_frame(events, model)
    scores = {row["lead_id"]: row for row in score_frames(model, leads=frame, events=evs, now=NOW).iter_rows(named=True)}
    explanations = {e.lead_id: e for e in explain_frames(model, leads=frame, events=evs, now=NOW)}
    assert list(scores) == list(explanations) == [lead["lead_id"] for lead in leads]
    kind_of = {r.id: "intent" if r.intent else "engagement" for r in model.engagement.rules}
    for lead in leads:
        ref = reference_score(model, {**lead, **{c: None for c in (*FIT_FIELDS, "as_of") if c not in columns}},
                              events, NOW)
        got, exp = scores[lead["lead_id"]], explanations[lead["lead_id"]]
        assert got["fit_points"] == ref.fit
        assert got["fit_grade"] == ref.grade
        assert close(got["engagement_score"], ref.engagement), (got, ref)
        assert close(got["intent_score"], ref.intent), (got, ref)
        assert close(got["score"], ref.score), (got, ref)

        assert (exp.fit_points, exp.fit_grade, exp.engagement, exp.intent, exp.score) == (
            got["fit_points"], got["fit_grade"], got["engagement_score"], got["intent_score"], got["score"])
        assert exp.at == ref.at
        assert close(sum(line.value for line in exp.lines), exp.score)

        assert {line.rule for line in exp.lines if line.kind == "fit"} == ref.fit_rules
        event_lines = [line for line in exp.lines if line.kind != "fit" and line.line == LINE_RULE]
        assert all(line.kind == kind_of[line.rule] for line in event_lines)
        got_events = {(line.rule, line.event_id): (line.points, line.value) for line in event_lines}
        assert got_events.keys() == ref.events.keys()
        for key, (points, value) in ref.events.items():
            assert close(got_events[key][0], points) and close(got_events[key][1], value), (key, got_events[key], points, value)
        rule_caps = {line.rule: line.value for line in exp.lines if line.line == LINE_RULE_CAP}
        for rule_id, excess in ref.rule_excess.items():
            assert close(rule_caps.get(rule_id, 0.0), excess), (rule_id, rule_caps, excess)
        total_caps = {line.kind: line.value for line in exp.lines if line.line == LINE_TOTAL_CAP}
        for kind, excess in ref.total_excess.items():
            assert close(total_caps.get(kind, 0.0), excess), (kind, total_caps, excess)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.booleans())
def test_scores_match_the_reference_and_explanations_add_up(scenario, by_distinct_values: bool) -> None:
    data, leads, events, dropped = scenario
    columns = [c for c in ("lead_id", *FIT_FIELDS, "as_of") if c != dropped]
    # Small frames are matched row by row and large ones once per distinct value: a threshold of
    # 0 sends these few leads and events down the large-frame path.
    with mock.patch.object(engine, "SMALL_FRAME", 0 if by_distinct_values else engine.SMALL_FRAME):
        check_against_reference(parse_model(data), leads, events, columns)


def test_a_frame_too_large_to_match_row_by_row_matches_the_reference() -> None:
    # Every combination of the generated field values once over (2,100 leads with repeated
    # values), and three events per lead that the default-like rules below read.
    model = parse_model({
        "name": "large", "lifecycle": OPEN_LIFECYCLE,
        "fit": {"grades": {"A": 20, "B": 10, "C": 0}, "rules": [
            {"id": "vp", "field": "job_title", "regex": r"(?i)\bvp\b", "points": 10},
            {"id": "head", "field": "job_title", "contains_any": ["head", "chief"], "points": 8},
            {"id": "software", "field": "industry", "equals": "software", "points": 5},
            {"id": "mid", "field": "company_size", "in": ["51-200", "12"], "points": 4},
            {"id": "free", "field": "email", "free_email": True, "points": -5},
            {"id": "x_range", "field": "properties.x", "range": {"min": 3, "max": 100}, "points": 3},
            {"id": "no_x", "field": "properties.x", "exists": False, "points": -1},
        ]},
        "engagement": {"total_cap": 25, "rules": [
            {"id": "views", "event": "page_view", "points": 2, "window": {"days": 1, "max_points": 3}},
            {"id": "pricing", "event": "page_view", "url": "pricing", "points": 6, "cap": 10, "intent": True},
            {"id": "spring", "event": ["email_click", "download"], "where": {"campaign": "spring"}, "points": 5},
        ]},
    })
    values = [FIELD_VALUES[f] for f in FIT_FIELDS]
    leads = []
    for i in range(2_100):
        combo = {f: v[(i // (k + 1)) % len(v)] for k, (f, v) in enumerate(zip(FIT_FIELDS, values, strict=True))}
        leads.append({"lead_id": i + 1, **combo, "as_of": float(NOW - (i % 5) * DAY) if i % 3 else None})
    events = [event(NOW - ((i * 7 + j) % 50) * HOUR, 3 * i + j, type=("page_view", "email_click", "download")[j],
                    lead_id=i + 1, url=URLS[(i + j) % len(URLS)], campaign=CAMPAIGNS[i % len(CAMPAIGNS)])
              for i in range(2_100) for j in range(3)]
    assert len(leads) > engine.SMALL_FRAME and len(events) > engine.SMALL_FRAME
    by_lead: dict[int, list[dict]] = {}
    for ev in events:
        by_lead.setdefault(ev["lead_id"], []).append(ev)
    frame = leads_frame(leads, columns=["lead_id", *FIT_FIELDS, "as_of"])
    evs = events_frame(events, model)
    rows = score_frames(model, leads=frame, events=evs, now=NOW).iter_rows(named=True)
    for lead, got in zip(leads, rows, strict=True):
        ref = reference_score(model, lead, by_lead[lead["lead_id"]], NOW)
        assert (got["lead_id"], got["fit_points"], got["fit_grade"]) == (lead["lead_id"], ref.fit, ref.grade)
        assert close(got["score"], ref.score) and close(got["intent_score"], ref.intent), (lead, got, ref)


# Decay.


def test_a_contribution_halves_after_exactly_one_half_life() -> None:
    model = build(rules=[{"id": "download", "event": "download", "points": 8, "half_life_days": 10}])
    exp = explain(model, [event(NOW, 1, type="download"), event(NOW - 10 * DAY, 2, type="download"),
                          event(NOW - 20 * DAY, 3, type="download")])
    assert values_by_event(exp) == {1: 8.0, 2: 4.0, 3: 2.0}
    assert points_by_event(exp) == {1: 8.0, 2: 8.0, 3: 8.0}
    assert exp.engagement == exp.score == 14.0


def test_a_rule_without_a_half_life_does_not_decay() -> None:
    model = build(rules=[{"id": "webinar", "event": "webinar", "points": 12, "half_life_days": None}])
    exp = explain(model, [event(NOW - 1000 * DAY, 1, type="webinar")])
    assert values_by_event(exp) == {1: 12.0}


def test_the_half_life_defaults_to_thirty_days() -> None:
    model = build(rules=[{"id": "download", "event": "download", "points": 8}])
    assert values_by_event(explain(model, [event(NOW - 30 * DAY, 1, type="download")])) == {1: 4.0}


# Window caps.

VIEWS = {"id": "page_view", "event": "page_view", "points": 2, "half_life_days": None,
         "window": {"days": 1, "max_points": 5}}


def test_the_window_cap_keeps_the_earliest_events_and_resets_in_the_next_window() -> None:
    day = NOW - 3 * DAY
    # Listed out of time order, and ids not in time order, so only the times can decide.
    events = [event(day + 3 * HOUR, 13), event(day + DAY + 2 * HOUR, 21), event(day + 1 * HOUR, 14),
              event(day + 4 * HOUR, 12), event(day + DAY + 1 * HOUR, 20), event(day + 2 * HOUR, 11)]
    exp = explain(build(rules=[VIEWS]), events)
    assert points_by_event(exp) == {14: 2.0, 11: 2.0, 13: 1.0, 12: 0.0, 20: 2.0, 21: 2.0}
    assert exp.engagement == 9.0
    zero = next(line for line in exp.lines if line.event_id == 12)
    assert zero.note == "over the window cap"


def test_a_partial_last_event_in_a_window() -> None:
    rule = {**VIEWS, "points": 3}
    exp = explain(build(rules=[rule]), [event(NOW - DAY + h * HOUR, h) for h in (1, 2, 3)])
    assert points_by_event(exp) == {1: 3.0, 2: 2.0, 3: 0.0}


def test_windows_are_aligned_on_epoch_multiples_not_rolling() -> None:
    rule = {**VIEWS, "points": 5}
    # Two hours apart, but on both sides of a UTC midnight: two windows.
    exp = explain(build(rules=[rule]), [event(NOW - DAY - HOUR, 1), event(NOW - DAY + HOUR, 2)])
    assert points_by_event(exp) == {1: 5.0, 2: 5.0}
    week = 7 * DAY
    # The epoch was a Thursday, so weekly windows start on Thursdays: take last week's.
    start = (NOW // week - 1) * week
    weekly = {**rule, "window": {"days": 7, "max_points": 5}}
    exp = explain(build(rules=[weekly]), [event(start - 1, 1), event(start, 2), event(start + 6 * DAY, 3)])
    assert points_by_event(exp) == {1: 5.0, 2: 5.0, 3: 0.0}


def test_ties_in_time_are_broken_by_event_id() -> None:
    rule = {**VIEWS, "points": 3, "window": {"days": 1, "max_points": 4}}
    t = NOW - 5 * HOUR
    exp = explain(build(rules=[rule]), [event(t, 8), event(t, 5)])
    assert points_by_event(exp) == {5: 3.0, 8: 1.0}


def test_window_caps_are_per_lead() -> None:
    rule = {**VIEWS, "points": 5}
    t = NOW - HOUR
    exps = explain_all(build(rules=[rule]), [{"lead_id": 1}, {"lead_id": 2}],
                       [event(t, 1, lead_id=1), event(t, 2, lead_id=2), event(t, 3, lead_id=1)])
    assert points_by_event(exps[1]) == {1: 5.0, 3: 0.0}
    assert points_by_event(exps[2]) == {2: 5.0}


def test_the_window_cap_applies_to_points_before_decay() -> None:
    rule = {**VIEWS, "points": 4, "half_life_days": 1, "window": {"days": 1, "max_points": 6}}
    t = NOW - DAY
    exp = explain(build(rules=[rule]), [event(t, 1), event(t + 1, 2)])
    assert points_by_event(exp) == {1: 4.0, 2: 2.0}
    assert values_by_event(exp)[1] == 2.0
    assert close(values_by_event(exp)[2], 2.0 * 2 ** (-(DAY - 1) / DAY))


# Rule caps and total caps.


def test_a_rule_cap_line_takes_back_the_excess() -> None:
    model = build(rules=[{"id": "trial", "event": "trial_usage", "points": 10, "half_life_days": None, "cap": 25}])
    exp = explain(model, [event(NOW - d * DAY, d, type="trial_usage") for d in (1, 2, 3, 4)])
    caps = [line for line in exp.lines if line.line == LINE_RULE_CAP]
    assert [(c.rule, c.kind, c.value, c.note) for c in caps] == [("trial", "engagement", -15.0, "capped at 25")]
    assert exp.engagement == 25.0


def test_a_negative_rule_is_capped_in_absolute_value() -> None:
    model = build(rules=[
        {"id": "unsubscribe", "event": "unsubscribe", "points": -20, "half_life_days": None, "cap": 30},
        {"id": "click", "event": "email_click", "points": 4, "half_life_days": None},
    ])
    exp = explain(model, [event(NOW - DAY, 1, type="unsubscribe"), event(NOW - 2 * DAY, 2, type="unsubscribe"),
                          event(NOW - DAY, 3, type="email_click")])
    assert values_by_event(exp) == {1: -20.0, 2: -20.0, 3: 4.0}
    caps = {line.rule: line.value for line in exp.lines if line.line == LINE_RULE_CAP}
    assert caps == {"unsubscribe": 10.0}
    assert exp.engagement == exp.score == -26.0


def test_total_caps_take_back_what_is_above_them() -> None:
    model = build(rules=[
        {"id": "a", "event": "download", "points": 20, "half_life_days": None},
        {"id": "b", "event": "webinar", "points": 20, "half_life_days": None},
        {"id": "pricing", "event": "page_view", "points": 30, "half_life_days": None, "intent": True},
        {"id": "demo", "event": "demo_page", "points": 15, "half_life_days": None, "intent": True},
    ], total_cap=30, intent_cap=40)
    exp = explain(model, [event(NOW - DAY, 1, type="download"), event(NOW - DAY, 2, type="webinar"),
                          event(NOW - DAY, 3, type="page_view"), event(NOW - DAY, 4, type="demo_page")])
    totals = {line.kind: (line.rule, line.value) for line in exp.lines if line.line == LINE_TOTAL_CAP}
    assert totals == {"engagement": ("total_engagement_cap", -10.0), "intent": ("total_intent_cap", -5.0)}
    assert (exp.engagement, exp.intent, exp.score) == (30.0, 40.0, 70.0)


def test_total_caps_do_not_lift_a_negative_total() -> None:
    model = build(rules=[{"id": "unsubscribe", "event": "unsubscribe", "points": -20, "half_life_days": None}],
                  total_cap=10)
    exp = explain(model, [event(NOW - DAY, 1, type="unsubscribe")])
    assert exp.engagement == -20.0
    assert not [line for line in exp.lines if line.line == LINE_TOTAL_CAP]


def test_intent_rules_count_as_intent_not_engagement() -> None:
    model = build(rules=[{"id": "pricing", "event": "page_view", "url": "/pricing", "points": 10,
                          "half_life_days": None, "intent": True}], total_cap=5)
    exp = explain(model, [event(NOW - DAY, 1, url="/en/pricing?plan=pro"), event(NOW - DAY, 2, url="/blog"),
                          event(NOW - DAY, 3)])
    assert (exp.engagement, exp.intent) == (0.0, 10.0)
    assert [line.kind for line in exp.lines] == ["intent"]


# Time: as_of and now.


def test_as_of_excludes_later_events_and_decays_from_as_of() -> None:
    model = build(rules=[{"id": "download", "event": "download", "points": 8, "half_life_days": 10}])
    as_of = NOW - 30 * DAY
    events = [event(as_of - 10 * DAY, 1, type="download"), event(as_of + DAY, 2, type="download"),
              event(as_of - 10 * DAY, 3, type="download", lead_id=2), event(as_of + DAY, 4, type="download", lead_id=2)]
    exps = explain_all(model, [{"lead_id": 1, "as_of": as_of}, {"lead_id": 2, "as_of": None}], events)
    assert values_by_event(exps[1]) == {1: 4.0}
    assert exps[1].at == as_of
    assert values_by_event(exps[2]) == {3: 0.5, 4: pytest.approx(8 * 2 ** -2.9)}
    assert exps[2].at == NOW


def test_an_as_of_after_now_scores_at_now() -> None:
    model = build(rules=[{"id": "download", "event": "download", "points": 8, "half_life_days": 10}])
    exp = explain(model, [event(NOW - 10 * DAY, 1, type="download"), event(NOW + DAY, 2, type="download")],
                  as_of=NOW + 5 * DAY)
    assert exp.at == NOW
    assert values_by_event(exp) == {1: 4.0}


def test_events_after_now_do_not_count_and_an_event_at_now_does() -> None:
    model = build(rules=[{"id": "click", "event": "email_click", "points": 4, "half_life_days": 21}])
    exp = explain(model, [event(NOW, 1, type="email_click"), event(NOW + 1, 2, type="email_click")])
    assert values_by_event(exp) == {1: 4.0}


def test_events_of_leads_not_in_the_frame_are_ignored() -> None:
    model = build(rules=[{"id": "click", "event": "email_click", "points": 4, "half_life_days": None}])
    exps = explain_all(model, [{"lead_id": 7}, {"lead_id": 3}],
                       [event(NOW, 1, type="email_click", lead_id=5), event(NOW, 2, type="email_click", lead_id=3)])
    assert [exps[7].score, exps[3].score] == [0.0, 4.0]


def test_no_leads_scores_nothing() -> None:
    model = build(fit_rules=[{"id": "sales", "field": "job_title", "contains_any": ["sales"], "points": 5}],
                  rules=[{"id": "click", "event": "email_click", "points": 4}])
    leads = leads_frame([], columns=["lead_id", "job_title"])
    evs = events_frame([event(NOW, 1, type="email_click")], model)
    assert score_frames(model, leads=leads, events=evs, now=NOW).height == 0
    assert explain_frames(model, leads=leads, events=evs, now=NOW) == []


# Event conditions.


def test_where_needs_the_exact_property_value() -> None:
    model = build(rules=[{"id": "spring", "event": "email_click", "where": {"campaign": "spring"}, "points": 4,
                          "half_life_days": None}])
    exp = explain(model, [event(NOW, 1, type="email_click", campaign="spring"),
                          event(NOW, 2, type="email_click", campaign="Spring"),
                          event(NOW, 3, type="email_click")])
    assert values_by_event(exp) == {1: 4.0}


def test_explain_lead_takes_mappings_and_reads_boolean_properties_as_text() -> None:
    model = build(fit_rules=[{"id": "vp", "field": "job_title", "regex": r"(?i)\bvp\b", "points": 3}],
                  rules=[{"id": "paid", "event": "signup", "where": {"paid": "true"}, "points": 5,
                          "half_life_days": None}])
    exp = explain_lead(model, lead={"lead_id": 4, "job_title": "VP Sales", "email": None},
                       events=[event(NOW, 1, type="signup", lead_id=4, paid=True),
                               event(NOW, 2, type="signup", lead_id=4, paid=False)], now=NOW)
    assert (exp.lead_id, exp.fit_points, exp.engagement, exp.score) == (4, 3.0, 5.0, 8.0)


# Fit conditions.

EMAIL_RULES = [{"id": "free", "field": "email", "free_email": True, "points": -5},
               {"id": "corporate", "field": "email", "free_email": False, "points": 10}]


@pytest.mark.parametrize(("email", "rules"), [
    ("ana@gmail.com", {"free"}),
    (" Ana@GMail.COM ", {"free"}),
    ("bob@hotmail.co.uk", {"free"}),
    ("carla@acme.io", {"corporate"}),
    ("dan@gmail.com.acme.io", {"corporate"}),
    ("not-an-email", set()),
    ("", set()),
    (None, set()),
])
def test_free_email(email: str | None, rules: set[str]) -> None:
    exp = explain(build(fit_rules=EMAIL_RULES, grades={"A": 10, "B": 5, "C": 0}), email=email)
    assert {line.rule for line in exp.lines} == rules


def test_free_email_on_a_frame_without_an_email_column() -> None:
    exp = explain(build(fit_rules=EMAIL_RULES, grades={"A": 10, "B": 5, "C": 0}), job_title="CEO")
    assert exp.lines == ()


RANGE_RULES = [
    {"id": "ten_to_twenty", "field": "properties.employees", "range": {"min": 10, "max": 20}, "points": 1},
    {"id": "three_to_four", "field": "properties.employees", "range": {"min": 3, "max": 4}, "points": 2},
    {"id": "five_hundred_up", "field": "properties.employees", "range": {"min": 500}, "points": 4},
]


@pytest.mark.parametrize(("value", "points"), [
    ("12", 1), (" 12 ", 1), ("10", 1), ("20", 1), ("3.5", 2), ("3,5", 2), ("1,000", 4), ("-3", 0), ("n/a", 0), ("", 0),
    ("12 employees", 0), (None, 0),
])
def test_range_on_a_numeric_custom_property_given_as_text(value: str | None, points: int) -> None:
    model = build(fit_rules=RANGE_RULES, grades={"A": 7, "B": 2, "C": 1})
    assert explain(model, **{"properties.employees": value}).fit_points == points


def test_range_on_a_numeric_column() -> None:
    model = build(fit_rules=RANGE_RULES, grades={"A": 7, "B": 2, "C": 1})
    for dtype, value, points in ((pl.Int64, 12, 1), (pl.Float64, 3.5, 2), (pl.Float64, 15.0, 1)):
        frame = pl.DataFrame({"lead_id": [1], "properties.employees": [value]},
                             schema={"lead_id": pl.Int64, "properties.employees": dtype})
        [row] = score_frames(model, leads=frame, events=events_frame([], model), now=NOW).iter_rows(named=True)
        assert row["fit_points"] == points


@pytest.mark.parametrize(("title", "matches"), [
    ("Senior SALES Manager", True), ("sales", True), ("Presales engineer", True), ("Marketing", False), (None, False),
])
def test_contains_any_is_case_insensitive(title: str | None, matches: bool) -> None:
    model = build(fit_rules=[{"id": "sales", "field": "job_title", "contains_any": ["Marketing Ops", "Sales"],
                              "points": 3}])
    assert (explain(model, job_title=title).fit_points == 3) is matches


def test_equals_and_in_ignore_case_and_surrounding_spaces() -> None:
    model = build(fit_rules=[{"id": "software", "field": "industry", "equals": "Software", "points": 1},
                             {"id": "sizes", "field": "company_size", "in": ["51-200", " 201-1000 "], "points": 2}],
                  grades={"A": 3, "B": 2, "C": 1})
    assert explain(model, industry=" software ", company_size="201-1000").fit_points == 3
    assert explain(model, industry="Software Services", company_size="51-2000").fit_points == 0


def test_regex_is_a_case_sensitive_search_unless_flagged() -> None:
    model = build(fit_rules=[{"id": "head", "field": "job_title", "regex": "^Head", "points": 1},
                             {"id": "vp", "field": "job_title", "regex": r"(?i)\bvp\b", "points": 2}],
                  grades={"A": 3, "B": 2, "C": 1})
    assert explain(model, job_title="Head of Growth").fit_points == 1
    assert explain(model, job_title="head of growth").fit_points == 0
    assert explain(model, job_title="SVP, Sales").fit_points == 0
    assert explain(model, job_title="Sales vp").fit_points == 2


@pytest.mark.parametrize("exists", [True, False])
def test_exists(exists: bool) -> None:
    model = build(fit_rules=[{"id": "phone", "field": "phone", "exists": exists, "points": 1}])
    matched = {value: explain(model, phone=value).fit_points == 1 for value in ("+34 600", "", "  ", None)}
    assert matched == {"+34 600": exists, "": not exists, "  ": not exists, None: not exists}


@pytest.mark.parametrize(("points", "grade"), [
    (60, "A"), (59.5, "B"), (35, "B"), (34, "C"), (15, "C"), (14.99, "D"), (0, "D"), (-5, "D"),
])
def test_grade_boundaries(points: float, grade: str) -> None:
    model = build(fit_rules=[{"id": "title", "field": "job_title", "exists": True, "points": points},
                             {"id": "never", "field": "industry", "equals": "nothing matches this", "points": 100}],
                  grades={"A": 60, "B": 35, "C": 15})
    exp = explain(model, job_title="Anything")
    assert (exp.fit_points, exp.fit_grade) == (points, grade)


# The default model.


def test_the_default_model_grades_a_senior_lead_from_a_target_industry_as_a() -> None:
    exp = explain(default_model(), job_title="VP of Marketing", industry="Software", company_size="201-1000",
                  email="jane@acme.io")
    assert {line.rule for line in exp.lines} == {"title_executive", "industry_target", "size_sweet_spot",
                                                 "corporate_email"}
    assert (exp.fit_points, exp.fit_grade) == (70.0, "A")


def test_the_default_model_grades_a_student_with_a_gmail_address_as_d() -> None:
    exp = explain(default_model(), job_title="Student", industry="Education", email="joe@gmail.com")
    assert {line.rule for line in exp.lines} == {"title_student", "free_email"}
    assert (exp.fit_points, exp.fit_grade) == (-35.0, "D")


def test_the_default_model_counts_a_pricing_view_as_a_view_and_as_intent() -> None:
    # Three pricing views an hour apart today: one view rule (1 point each, no window reached) and
    # the pricing rule (10 points, at most 10 a day) both match every one of them.
    views = [event(NOW + h * HOUR, h, url="/pricing") for h in (1, 2, 3)]
    exp = explain(default_model(), views, now=NOW + 3 * HOUR, email="jane@acme.io")
    pricing = {line.event_id: line.points for line in exp.lines if line.rule == "pricing_page"}
    assert pricing == {1: 10.0, 2: 0.0, 3: 0.0}
    assert close(exp.intent, 10 * 2 ** (-2 / 24 / 10))
    assert close(exp.engagement, sum(2 ** (-h / 24 / 14) for h in (0, 1, 2)))
