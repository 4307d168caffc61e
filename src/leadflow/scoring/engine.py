"""The scoring engine: pure and vectorized, no database and no clock.

Input is columnar (Polars frames of leads and of their events, times in epoch seconds); output
is the score of every lead and, for explanations, every line of its ledger. The same code scores
a million leads and explains one, so an explanation always adds up to the score it explains.

A lead's score is the sum of its ledger lines:
- fit: one line per matching fit rule (its points; fit does not decay);
- engagement and intent: one line per (rule, matching event), worth
  `points x 2^(-age / half-life)` now, where `points` is what is left of the rule's points after
  its window cap (at most `max_points` per window, earliest events first);
- cap lines: when a rule's decayed total passes its cap, a line takes the excess back; the same
  for the total caps of engagement and of intent.
Events after a lead's `as_of` time (backtests) or after `now` do not count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from leadflow.scoring.schemas import GRADES, EngagementRule, FitRule, ScoringModelDoc

SECONDS_PER_DAY = 86_400.0

# Free email providers: a corporate address says more about fit than one of these. The common
# consumer domains of the markets leadflow's users sell to; extend it in a model with an `in`
# rule on a custom property if needed.
FREE_EMAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.es", "yahoo.co.uk", "yahoo.fr", "yahoo.com.mx",
    "yahoo.com.ar", "ymail.com", "hotmail.com", "hotmail.es", "hotmail.co.uk", "hotmail.fr", "outlook.com",
    "outlook.es", "live.com", "live.com.mx", "msn.com", "icloud.com", "me.com", "mac.com", "aol.com",
    "proton.me", "protonmail.com", "pm.me", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com",
    "zoho.com", "yandex.com", "yandex.ru", "mail.ru", "qq.com", "163.com", "126.com", "fastmail.com",
    "tutanota.com", "hey.com", "terra.com.br", "uol.com.br", "bol.com.br", "libero.it", "orange.fr",
    "free.fr", "laposte.net", "t-online.de", "telefonica.net", "movistar.es", "rediffmail.com",
})

LINE_RULE = "rule"
LINE_RULE_CAP = "rule_cap"
LINE_TOTAL_CAP = "total_cap"


@dataclass(frozen=True, slots=True)
class Line:
    """One entry of a lead's score ledger."""

    kind: str  # fit | engagement | intent
    rule: str  # the rule id
    label: str
    line: str  # rule | rule_cap | total_cap
    points: float  # before decay (after the window cap)
    value: float  # what it is worth at the scoring time
    event_id: int | None = None
    occurred_at: float | None = None  # epoch seconds
    note: str = ""


@dataclass(frozen=True, slots=True)
class Explanation:
    """A lead's score, its parts, and the ledger lines that make it up (largest first within a part)."""

    lead_id: int
    fit_points: float
    fit_grade: str
    engagement: float
    intent: float
    score: float
    at: float
    lines: tuple[Line, ...]

    def part(self, kind: str) -> list[Line]:
        return [line for line in self.lines if line.kind == kind]


# ---------------------------------------------------------------- fit


def _fit_condition(rule: FitRule) -> pl.Expr:
    """Whether a lead's RULE.field meets the rule's condition (null never does, but for `exists: false`)."""
    text = pl.col(rule.field).cast(pl.String).str.strip_chars()
    lower = text.str.to_lowercase()
    match rule.condition:
        case "equals":
            out = lower == rule.equals.strip().lower()  # type: ignore[union-attr]
        case "in_":
            out = lower.is_in([v.strip().lower() for v in rule.in_ or ()])
        case "contains_any":
            out = pl.any_horizontal([lower.str.contains(w.lower(), literal=True).fill_null(False)
                                     for w in rule.contains_any or ()])
        case "regex":
            out = text.str.contains(rule.regex)  # type: ignore[arg-type]
        case "range":
            # "3,5" is a decimal comma (Spanish and most of Europe); "1,000" a thousands separator.
            number = (text.str.replace(r"^(-?\d+),(\d{1,2})$", "${1}.${2}").str.replace_all(",", "")
                      .cast(pl.Float64, strict=False))
            low = rule.range.min if rule.range.min is not None else -np.inf  # type: ignore[union-attr]
            high = rule.range.max if rule.range.max is not None else np.inf  # type: ignore[union-attr]
            out = (number >= low) & (number <= high)
        case "exists":
            present = (text.is_not_null() & (text != "")).fill_null(False)
            return present if rule.exists else ~present
        case "free_email":
            has_domain = lower.str.contains("@", literal=True).fill_null(False)
            free = lower.str.split("@").list.last().is_in(list(FREE_EMAIL_DOMAINS)).fill_null(False)
            return has_domain & (free if rule.free_email else ~free)
        case _:  # pragma: no cover - the schema allows no other condition
            raise ValueError(rule.condition)
    return out.fill_null(False)


# Below this many rows, conditions run in one pass over the rows; above, once per distinct value
# (job titles and URLs repeat a lot). Each Polars call costs tens of microseconds, which is what
# a one-lead rescore is made of; a million rows are made of regex matches.
SMALL_FRAME = 2_000
# Lead ids up to 4 x the number of leads plus this use a lookup table (8 bytes an id) to find rows.
DENSE_IDS_SLACK = 1_000_000


_COMPILED: dict[int, tuple[ScoringModelDoc, list[pl.Expr], list[pl.Expr]]] = {}


def _compiled(model: ScoringModelDoc) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """The fit and event conditions of MODEL as expressions, built once per model object."""
    hit = _COMPILED.get(id(model))
    if hit is None or hit[0] is not model:  # an id can be reused once a model is gone
        if len(_COMPILED) > 64:
            _COMPILED.clear()
        hit = _COMPILED[id(model)] = (
            model, [_fit_condition(r).alias(str(i)) for i, r in enumerate(model.fit.rules)],
            [_event_condition(r).alias(str(j)) for j, r in enumerate(model.engagement.rules)])
    return hit[1], hit[2]


def _with_fields(frame: pl.DataFrame, fields: set[str]) -> pl.DataFrame:
    missing = [f for f in fields if f not in frame.columns]
    return frame.with_columns(pl.lit(None, dtype=pl.String).alias(f) for f in missing) if missing else frame


def _fit_lines(model: ScoringModelDoc, leads: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(row index into LEADS, rule index) of every matching fit rule."""
    rules = model.fit.rules
    if not rules or leads.height == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32)
    leads = _with_fields(leads, {r.field for r in rules})
    if leads.height <= SMALL_FRAME:
        hits = leads.select(_compiled(model)[0]).to_numpy()
        rows, cols = np.nonzero(hits)
        return rows.astype(np.int64), cols.astype(np.int32)
    rows_out: list[np.ndarray] = []
    rules_out: list[np.ndarray] = []
    encoded: dict[str, tuple[pl.Series, np.ndarray]] = {}
    for i, rule in enumerate(rules):
        if rule.field == "email":  # nearly one value per lead: nothing to gain from distinct values
            idx = np.flatnonzero(leads.select(_fit_condition(rule)).to_series().to_numpy())
            rows_out.append(idx)
            rules_out.append(np.full(len(idx), i, dtype=np.int32))
            continue
        if rule.field not in encoded:
            encoded[rule.field] = _codes(leads.get_column(rule.field).cast(pl.String))
        idx = np.flatnonzero(_on_distinct(encoded[rule.field], _fit_condition(rule.model_copy(update={"field": "v"}))))
        rows_out.append(idx)
        rules_out.append(np.full(len(idx), i, dtype=np.int32))
    return np.concatenate(rows_out), np.concatenate(rules_out)


def grade_of(points: np.ndarray, model: ScoringModelDoc) -> np.ndarray:
    """The grade of each fit point total."""
    g = model.fit.grades
    return np.select([points >= g.A, points >= g.B, points >= g.C], list(GRADES[:3]), default=GRADES[3])


# ---------------------------------------------------------------- engagement


@dataclass(slots=True)
class _Contributions:
    """Matched (rule, event) pairs: lead row, rule index, event id, time, points after the window cap, value."""

    row: np.ndarray
    rule: np.ndarray
    event_id: np.ndarray
    t: np.ndarray
    points: np.ndarray
    value: np.ndarray


def _codes(column: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """(distinct non-null values, each row's index into them; len(values) for null) of a text COLUMN.

    An Enum of the column's own values encodes it by hashing, with no global string cache.
    """
    values = column.unique().drop_nulls()
    # 4-byte codes: ten million events cost 40 MB, not 80.
    codes = column.cast(pl.Enum(values.to_list())).to_physical().fill_null(len(values)).to_numpy()
    return values, codes


def _on_distinct(column: pl.Series | tuple[pl.Series, np.ndarray], condition: pl.Expr) -> np.ndarray:
    """CONDITION (an expression over column "v") evaluated once per distinct value of COLUMN, for every row.

    COLUMN may be given already encoded, as `_codes` returns it.
    """
    values, codes = _codes(column) if isinstance(column, pl.Series) else column
    with_null = pl.concat([values, pl.Series([None], dtype=pl.String)])
    hits = pl.DataFrame({"v": with_null}).select(condition.fill_null(False).alias("hit")).get_column("hit")
    return hits.to_numpy()[codes]


def _event_condition(rule: EngagementRule) -> pl.Expr:
    """Whether an event matches RULE (type, url pattern, property values); a missing property never matches."""
    cond = pl.col("type").is_in(rule.types)
    if rule.url is not None:
        cond = cond & pl.col("prop.url").str.contains(rule.url).fill_null(False)
    for prop, expected in rule.where.items():
        cond = cond & (pl.col(f"prop.{prop}") == expected).fill_null(False)
    return cond.fill_null(False)


def _event_masks(model: ScoringModelDoc, events: pl.DataFrame) -> np.ndarray:
    """(events, rules) booleans: which event each engagement rule matches."""
    rules = model.engagement.rules
    needed = {"prop.url"} if any(r.url is not None for r in rules) else set()
    needed |= {f"prop.{k}" for r in rules for k in r.where}
    events = _with_fields(events, needed)
    if events.height <= SMALL_FRAME:
        return events.select(_compiled(model)[1]).to_numpy()
    type_values, types = _codes(events.get_column("type").cast(pl.String))
    type_names = type_values.to_list()
    out = np.zeros((events.height, len(rules)), dtype=bool)
    encoded: dict[str, tuple[pl.Series, np.ndarray]] = {}
    for j, rule in enumerate(rules):
        allowed = np.zeros(len(type_names) + 1, dtype=bool)
        allowed[[i for i, name in enumerate(type_names) if name in rule.types]] = True
        mask = allowed[types]
        checks = ([("prop.url", pl.col("v").str.contains(rule.url))] if rule.url is not None else []) + \
            [(f"prop.{k}", pl.col("v") == v) for k, v in rule.where.items()]
        for column, condition in checks:
            if column not in encoded:
                encoded[column] = _codes(events.get_column(column).cast(pl.String))
            mask &= _on_distinct(encoded[column], condition & pl.col("v").is_not_null())
        out[:, j] = mask
    return out


def _window_capped(rows: np.ndarray, t: np.ndarray, event_id: np.ndarray | None, points: float,
                   rule: EngagementRule) -> np.ndarray:
    """Each event's points after the rule's window cap, earliest events in a window first."""
    n = len(rows)
    if rule.window is None or n == 0:
        return np.full(n, points)
    size = rule.window.days * SECONDS_PER_DAY
    bucket = np.floor(t / size).astype(np.int64)
    span = int(bucket.max() - bucket.min()) + 1
    if int(rows.max()) < (2**62) // span:
        # One key for (lead, window) sorts faster than two.
        group = rows.astype(np.int64) * span + (bucket - bucket.min())
        order = np.lexsort((event_id, t, group))
        g = group[order]
        new_group = np.empty(n, dtype=bool)
        new_group[0] = True
        new_group[1:] = g[1:] != g[:-1]
    else:  # pragma: no cover - needs windows spanning ~10^12 days
        order = np.lexsort((event_id, t, bucket, rows))
        r, b = rows[order], bucket[order]
        new_group = np.empty(n, dtype=bool)
        new_group[0] = True
        new_group[1:] = (r[1:] != r[:-1]) | (b[1:] != b[:-1])
    # Running count of events within each (lead, window): points are equal within a rule.
    position = np.arange(n) - np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    used_before = position * abs(points)
    left = np.clip(rule.window.max_points - used_before, 0.0, abs(points))
    out = np.empty(n)
    out[order] = np.sign(points) * left
    return out


def _contributions(model: ScoringModelDoc, events: pl.DataFrame, row_of_event: np.ndarray,
                   now_of_row: np.ndarray, *, detail: bool) -> tuple[np.ndarray, _Contributions | None]:
    """(decayed sum per lead row and engagement rule, before caps; with DETAIL every (rule, event) pair that counts)."""
    n, rules = len(now_of_row), model.engagement.rules
    raw = np.zeros((n, len(rules)), order="F")
    empty = _Contributions(*(np.empty(0, dtype=d) for d in (np.int64, np.int32, np.int64, float, float, float)))
    if events.height == 0 or not rules:
        return raw, empty if detail else None
    masks = _event_masks(model, events)
    t_all = events.get_column("t").cast(pl.Float64).to_numpy()
    ids_all = events.get_column("event_id").cast(pl.Int64).to_numpy()
    known = row_of_event >= 0
    in_time = known & (t_all <= np.where(known, now_of_row[np.maximum(row_of_event, 0)], -np.inf))
    parts: list[_Contributions] = []
    for i, rule in enumerate(rules):
        idx = np.flatnonzero(masks[:, i] & in_time)
        rows, t = row_of_event[idx], t_all[idx]
        ids = ids_all[idx] if detail or rule.window is not None else None
        pts = _window_capped(rows, t, ids, rule.points, rule)
        if rule.half_life_days is None:
            value = pts
        else:
            value = pts * np.exp2(-(now_of_row[rows] - t) / (rule.half_life_days * SECONDS_PER_DAY))
        raw[:, i] = np.bincount(rows, weights=value, minlength=n)
        if detail:
            parts.append(_Contributions(rows, np.full(len(idx), i, dtype=np.int32), ids, t, pts, value))
    if not detail:
        return raw, None
    return raw, _Contributions(*(np.concatenate([getattr(p, f) for p in parts]) for f in _Contributions.__slots__))


# ---------------------------------------------------------------- totals


@dataclass(slots=True)
class _Totals:
    fit: np.ndarray
    rule_raw: np.ndarray  # (lead rows, engagement rules): decayed sums before the rule caps
    rule_capped: np.ndarray
    engagement_raw: np.ndarray
    intent_raw: np.ndarray
    engagement: np.ndarray
    intent: np.ndarray


def _capped(values: np.ndarray, cap: float | None) -> np.ndarray:
    return values if cap is None else np.clip(values, -cap, cap)


def _totals(model: ScoringModelDoc, n: int, fit_rows: np.ndarray, fit_rules: np.ndarray,
            raw: np.ndarray) -> _Totals:
    fit_points = np.array([r.points for r in model.fit.rules], dtype=float)
    fit = np.bincount(fit_rows, weights=fit_points[fit_rules], minlength=n) if len(fit_rows) else np.zeros(n)
    rules = model.engagement.rules
    k = len(rules)
    capped = raw.copy(order="F")
    for j, rule in enumerate(rules):
        if rule.cap is not None:
            capped[:, j] = _capped(raw[:, j], rule.cap)
    intent_cols = np.array([r.intent for r in rules], dtype=bool)
    engagement_raw = capped[:, ~intent_cols].sum(axis=1) if k else np.zeros(n)
    intent_raw = capped[:, intent_cols].sum(axis=1) if k else np.zeros(n)
    engagement = engagement_raw if model.engagement.total_cap is None else \
        np.minimum(engagement_raw, model.engagement.total_cap)
    intent = intent_raw if model.engagement.intent_cap is None else np.minimum(intent_raw, model.engagement.intent_cap)
    return _Totals(fit, raw, capped, engagement_raw, intent_raw, engagement, intent)


def _rows_of_events(leads: pl.DataFrame, events: pl.DataFrame) -> np.ndarray:
    """For each event, the row of its lead in LEADS (-1 for a lead not in LEADS)."""
    lead_ids = leads.get_column("lead_id").cast(pl.Int64).to_numpy()
    event_leads = events.get_column("lead_id").cast(pl.Int64).to_numpy() if events.height else np.empty(0, np.int64)
    if len(lead_ids) and lead_ids.min() >= 0 and lead_ids.max() <= 4 * len(lead_ids) + DENSE_IDS_SLACK:
        # Ids are dense (a table's own keys): a lookup table beats a binary search per event.
        table = np.full(int(lead_ids.max()) + 1, -1, dtype=np.int64)
        table[lead_ids[::-1]] = np.arange(len(lead_ids) - 1, -1, -1)  # the first row of an id wins
        inside = (event_leads >= 0) & (event_leads < len(table))
        rows = np.full(len(event_leads), -1, dtype=np.int64)
        rows[inside] = table[event_leads[inside]]
        return rows
    order = np.argsort(lead_ids, kind="stable")
    sorted_ids = lead_ids[order]
    pos = np.searchsorted(sorted_ids, event_leads)
    pos_clipped = np.minimum(pos, max(len(sorted_ids) - 1, 0))
    found = (pos < len(sorted_ids)) & (sorted_ids[pos_clipped] == event_leads) if len(sorted_ids) else \
        np.zeros(len(event_leads), dtype=bool)
    return np.where(found, order[pos_clipped], -1)


def _now_of_rows(leads: pl.DataFrame, now: float) -> np.ndarray:
    if "as_of" in leads.columns:
        as_of = leads.get_column("as_of").cast(pl.Float64).fill_null(now).to_numpy()
        return np.minimum(as_of, now)
    return np.full(leads.height, float(now))


def _run(model: ScoringModelDoc, leads: pl.DataFrame, events: pl.DataFrame, now: float, *, detail: bool):
    n = leads.height
    if n == 0:  # no lead for any event to belong to (and nothing to index lead rows with)
        events = events.clear()
    now_rows = _now_of_rows(leads, now)
    fit_rows, fit_rules = _fit_lines(model, leads)
    row_of_event = _rows_of_events(leads, events)
    raw, c = _contributions(model, events, row_of_event, now_rows, detail=detail)
    return fit_rows, fit_rules, c, _totals(model, n, fit_rows, fit_rules, raw), now_rows


def score_frames(model: ScoringModelDoc, *, leads: pl.DataFrame, events: pl.DataFrame, now: float) -> pl.DataFrame:
    """The score of every lead in LEADS: lead_id, fit_points, fit_grade, engagement_score, intent_score, score."""
    _, _, _, tot, _ = _run(model, leads, events, now, detail=False)
    return pl.DataFrame({
        "lead_id": leads.get_column("lead_id").cast(pl.Int64),
        "fit_points": tot.fit,
        "fit_grade": grade_of(tot.fit, model),
        "engagement_score": tot.engagement,
        "intent_score": tot.intent,
        "score": tot.fit + tot.engagement + tot.intent,
    })


def explain_frames(model: ScoringModelDoc, *, leads: pl.DataFrame, events: pl.DataFrame,
                   now: float) -> list[Explanation]:
    """The explanation of every lead in LEADS (meant for a few leads: one object per ledger line)."""
    fit_rows, fit_rules, c, tot, now_rows = _run(model, leads, events, now, detail=True)
    eng_rules = model.engagement.rules
    out: list[Explanation] = []
    lead_ids = leads.get_column("lead_id").cast(pl.Int64).to_list()
    for row, lead_id in enumerate(lead_ids):
        lines: list[Line] = []
        for j in fit_rules[fit_rows == row]:
            rule = model.fit.rules[int(j)]
            lines.append(Line("fit", rule.id, rule.label or rule.id, LINE_RULE, rule.points, rule.points))
        mine = np.flatnonzero(c.row == row)
        for i in mine:
            rule = eng_rules[int(c.rule[i])]
            lines.append(Line("intent" if rule.intent else "engagement", rule.id, rule.label or rule.id, LINE_RULE,
                              float(c.points[i]), float(c.value[i]), int(c.event_id[i]), float(c.t[i]),
                              note="over the window cap" if c.points[i] == 0 else ""))
        for j, rule in enumerate(eng_rules):
            excess = tot.rule_capped[row, j] - tot.rule_raw[row, j]
            if excess != 0:
                lines.append(Line("intent" if rule.intent else "engagement", rule.id, rule.label or rule.id,
                                  LINE_RULE_CAP, 0.0, float(excess), note=f"capped at {rule.cap:g}"))
        for kind, raw, capped, cap in (("engagement", tot.engagement_raw, tot.engagement, model.engagement.total_cap),
                                       ("intent", tot.intent_raw, tot.intent, model.engagement.intent_cap)):
            if capped[row] != raw[row]:
                lines.append(Line(kind, f"total_{kind}_cap", f"Total {kind} cap", LINE_TOTAL_CAP, 0.0,
                                  float(capped[row] - raw[row]), note=f"{kind} capped at {cap:g}"))
        order = {"fit": 0, "intent": 1, "engagement": 2}
        lines.sort(key=lambda x: (order[x.kind], -abs(x.value), -(x.occurred_at or 0)))
        fit = float(tot.fit[row])
        out.append(Explanation(
            lead_id=int(lead_id), fit_points=fit, fit_grade=str(grade_of(np.array([fit]), model)[0]),
            engagement=float(tot.engagement[row]), intent=float(tot.intent[row]),
            score=float(tot.fit[row] + tot.engagement[row] + tot.intent[row]), at=float(now_rows[row]),
            lines=tuple(lines)))
    return out


def explain_lead(model: ScoringModelDoc, *, lead: dict, events: Sequence[dict], now: float) -> Explanation:
    """The explanation of one lead given as a mapping (lead_id and fields) and its events (mappings)."""
    leads = pl.DataFrame([lead], infer_schema_length=None)
    frame = events_frame(events, model)
    return explain_frames(model, leads=leads, events=frame, now=now)[0]


def events_frame(events: Sequence[dict], model: ScoringModelDoc) -> pl.DataFrame:
    """An events frame from mappings with lead_id, event_id, type, t and properties."""
    keys = model.event_property_keys()
    data = {
        "lead_id": pl.Series([e["lead_id"] for e in events], dtype=pl.Int64),
        "event_id": pl.Series([e["event_id"] for e in events], dtype=pl.Int64),
        "type": pl.Series([e["type"] for e in events], dtype=pl.String),
        "t": pl.Series([float(e["t"]) for e in events], dtype=pl.Float64),
    }
    for key in keys:
        data[f"prop.{key}"] = pl.Series([_text((e.get("properties") or {}).get(key)) for e in events], dtype=pl.String)
    return pl.DataFrame(data)


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
