"""The lead KPIs of issue 6, computed with grouped SQL; docs/kpis.md defines each one exactly.

Every public function takes the session and a KpiQuery and returns a JSON-ready dict. The
database does the counting (GROUP BY over the leads of the range, one query per ingredient, never
a query per lead); Python only combines a few hundred grouped rows, or, for medians and
percentiles, one number per converted lead or stage entry. `dashboard` computes several KPIs
sharing their ingredients (the cohort's grouped counts are read once, not once per KPI).

This is a reporting layer: it reads the leads, stage history, events and spend tables in bulk,
as `predict.dataset` does, rather than through each domain's per-object services.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Integer,
    case,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased

from leadflow.campaigns.models import CampaignSpend
from leadflow.campaigns.service import list_campaigns
from leadflow.capture.service import list_forms
from leadflow.config import get_settings
from leadflow.db.base import utcnow
from leadflow.kpi import periods as P
from leadflow.kpi.schemas import DEFAULT_DAYS, MAX_DAYS, NO_CHANNEL, KpiError, KpiQuery, span_days
from leadflow.leads.models import Event, Lead
from leadflow.lifecycle.models import StageChange
from leadflow.lifecycle.stages import FUNNEL

GRADES = ("A", "B", "C", "D")
UNGRADED = "ungraded"
# The ideal customer profile, as the active scoring model grades it: its best fit grade.
ICP_GRADE = "A"
NO_SOURCE = "(no source)"
NO_CAMPAIGN = "(no campaign)"
NO_FORM = "(no form)"
# Events by a person that are not a contact with the lead: edits of its fields, internal notes.
NOT_CONTACT = ("property_change", "note")
CONTACT_SOURCE = "user"  # events a salesperson recorded (calls, meetings, emails)
# Lower edges of the time-to-convert histogram, in days; the last bin has no upper edge.
HISTOGRAM_DAYS = (0, 7, 14, 30, 60, 90, 180)
DECILES = 10
DAY_S = 86_400.0
HOUR_S = 3_600.0
_FUNNEL_INDEX = {stage: i for i, stage in enumerate(FUNNEL)}
_CUSTOMER_INDEX = _FUNNEL_INDEX["customer"]
_SQL_INDEX = _FUNNEL_INDEX["sql"]


# ---- the query, resolved -----------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """A KpiQuery with its defaults filled in and its local dates turned into UTC instants."""

    query: KpiQuery
    timezone: str
    tz: ZoneInfo
    date_from: date
    date_to: date
    start: datetime  # naive UTC, inclusive: the first instant of date_from, local time
    end: datetime  # naive UTC, exclusive: the first instant after date_to, local time

    @cached_property
    def edges(self) -> list[datetime]:
        return P.period_edges(self.date_from, self.date_to, self.query.period, self.tz)

    @cached_property
    def period_starts(self) -> list[date]:
        return P.periods(self.date_from, self.date_to, self.query.period)


def resolve(query: KpiQuery, *, now: datetime | None = None) -> Scope:
    """The range of QUERY in the workspace's time zone; KpiError naming the field when it is unusable."""
    name = get_settings().timezone
    try:
        tz = P.zone(name)
    except ValueError as exc:
        raise KpiError(f"{exc}: set LEADFLOW_TIMEZONE to an IANA name such as Europe/Madrid",
                       field="timezone", status=500) from None
    today = P.local_date(now or utcnow(), tz)
    date_to = query.date_to or max(today, query.date_from or today)
    try:
        date_from = query.date_from or date_to - timedelta(days=DEFAULT_DAYS - 1)
    except OverflowError:
        raise KpiError("is too early to count 90 days back from; give date_from", field="date_to") from None
    if date_to < date_from:
        raise KpiError(f"is before date_from ({date_from.isoformat()})", field="date_to")
    if span_days(date_from, date_to) > MAX_DAYS:
        raise KpiError(f"the range is {span_days(date_from, date_to)} days long; at most {MAX_DAYS} days",
                       field="date_from")
    try:
        start, end = P.range_bounds(date_from, date_to, tz)
    except (OverflowError, ValueError):
        raise KpiError("is outside the dates the time zone can convert", field="date_from") from None
    return Scope(query=query, timezone=name, tz=tz, date_from=date_from, date_to=date_to, start=start, end=end)


# ---- SQL pieces ----------------------------------------------------------------------------------

def _is_customer() -> ColumnElement:
    return or_(Lead.outcome == "won", Lead.converted_at.is_not(None))


def _as_int(condition: ColumnElement) -> ColumnElement:
    return case((condition, 1), else_=0)


def _lead_filters(query: KpiQuery) -> list[ColumnElement]:
    """The query's channel, campaign and form filters as conditions on leads."""
    conditions: list[ColumnElement] = []
    if query.channel:
        named = [c for c in query.channel if c != NO_CHANNEL]
        parts = [Lead.first_channel.in_(named)] if named else []
        if NO_CHANNEL in query.channel:
            parts.append(Lead.first_channel.is_(None))
        conditions.append(or_(*parts))
    if query.campaign_id:
        conditions.append(Lead.campaign_id.in_(query.campaign_id))
    if query.form_id:
        conditions.append(Lead.form_id.in_(query.form_id))
    return conditions


def _cohort(scope: Scope) -> list[ColumnElement]:
    """The leads created within the range (local dates) that pass the filters."""
    return [Lead.created_at >= scope.start, Lead.created_at < scope.end, *_lead_filters(scope.query)]


def _period_index(column: Any, edges: list[datetime]) -> ColumnElement:
    """The row index i with edges[i] <= COLUMN < edges[i + 1], by binary search in a nested CASE
    (a few comparisons a row, however many periods)."""
    def build(lo: int, hi: int) -> ColumnElement:
        if hi - lo == 1:
            return literal_column(str(lo), Integer)
        mid = (lo + hi) // 2
        return case((column < edges[mid], build(lo, mid)), else_=build(mid, hi))

    return build(0, len(edges) - 1)


def _funnel_index(column: Any) -> ColumnElement:
    """A stage's position in the funnel (suspect 0 ... customer 4); exits count as suspect."""
    return case(_FUNNEL_INDEX, value=column, else_=0)


def _seconds_between(session: Session, earlier: Any, later: Any) -> ColumnElement:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    # julianday is a double of days: ~50 µs resolution today, far finer than any KPI shows.
    return (func.julianday(later) - func.julianday(earlier)) * DAY_S


def _rows(session: Session, stmt: Any) -> list[Any]:
    """The rows of STMT, through Core: nothing here is an entity, and the ORM's row handling
    tripled the time to fetch a hundred thousand values."""
    return session.connection().execute(stmt).all()


def _columns(session: Session, stmt: Any, width: int) -> list[tuple]:
    """The result of STMT as WIDTH columns (tuples), one value per row: what NumPy reads fast."""
    rows = _rows(session, stmt)
    return list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]


def _floats(values: tuple) -> np.ndarray:
    """Numbers (floats, Decimals, None as NaN) as a float array."""
    return np.array(values, dtype=np.float64) if values else np.zeros(0)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(total: float, n: int) -> float | None:
    return total / n if n else None


def _money(cents: int) -> float:
    return float(Decimal(cents) / 100)


def _per(cents: int, n: int) -> float | None:
    return float(Decimal(cents) / 100 / n) if n else None


# ---- grouped rows --------------------------------------------------------------------------------

_MEASURES = ("score", "fit_points", "engagement_score", "intent_score", "conversion_probability")


@dataclass(slots=True)
class _Cell:
    """Counts and sums of the cohort leads sharing a period, a group, a grade and customer-ness."""

    leads: int = 0
    sums: tuple[float, ...] = (0.0,) * len(_MEASURES)
    counts: tuple[int, ...] = (0,) * len(_MEASURES)

    def add(self, other: _Cell) -> None:
        self.leads += other.leads
        self.sums = tuple(a + b for a, b in zip(self.sums, other.sums, strict=True))
        self.counts = tuple(a + b for a, b in zip(self.counts, other.counts, strict=True))

    def mean(self, measure: str) -> float | None:
        i = _MEASURES.index(measure)
        return _mean(self.sums[i], self.counts[i])


@dataclass(frozen=True, slots=True)
class _CubeRow:
    period: int
    group: Any
    campaign: int | None  # when the group is the campaign or there is no group; else None
    grade: str
    customer: bool
    cell: _Cell


class _Kpis:
    """The KPIs of one scope; each ingredient is read from the database at most once."""

    def __init__(self, session: Session, scope: Scope):
        self.session = session
        self.scope = scope
        self.query = scope.query
        session.flush()  # the queries go through Core, which does not autoflush
        if session.get_bind().dialect.name == "postgresql":
            # The correlated subqueries make the planner's cost estimates large enough to JIT-compile
            # them, and compiling took 430 ms of a 546 ms query on 100,000 leads. For this
            # transaction only.
            session.execute(text("SET LOCAL jit = off"))

    # -- ingredients

    @cached_property
    def cube(self) -> list[_CubeRow]:
        """The cohort grouped by period, the query's group, fit grade and customer-ness (and by
        campaign when there is no group, which the cost KPI then reads without another pass)."""
        by = self.query.by
        period = _period_index(Lead.created_at, self.scope.edges).label("p")
        group_column = {"channel": Lead.first_channel, "campaign": Lead.campaign_id, "form": Lead.form_id,
                        "none": Lead.campaign_id}[by]
        keys = [period, Lead.fit_grade.label("grade"), _as_int(_is_customer()).label("c"), group_column.label("g")]
        columns = [func.count()]
        for name in _MEASURES:
            column = getattr(Lead, name)
            columns += [func.sum(column), func.count(column)]
        stmt = (select(*keys, *columns).where(*_cohort(self.scope))
                .group_by(*(literal_column(k.name) for k in keys)))
        out = []
        n = len(_MEASURES)
        for row in _rows(self.session, stmt):
            values = row[len(keys):]
            sums = tuple(float(values[1 + 2 * i] or 0.0) for i in range(n))
            counts = tuple(int(values[2 + 2 * i]) for i in range(n))
            grade = row.grade if row.grade in GRADES else UNGRADED
            out.append(_CubeRow(period=int(row.p), group=row.g if by != "none" else None,
                                campaign=row.g if by in ("none", "campaign") else None,
                                grade=grade, customer=bool(row.c),
                                cell=_Cell(leads=int(values[0]), sums=sums, counts=counts)))
        return out

    @cached_property
    def totals(self) -> _Cell:
        total = _Cell()
        for row in self.cube:
            total.add(row.cell)
        return total

    @cached_property
    def customers(self) -> int:
        return sum(r.cell.leads for r in self.cube if r.customer)

    def _by_grade(self) -> dict[str, tuple[int, int]]:
        out: dict[str, list[int]] = {g: [0, 0] for g in (*GRADES, UNGRADED)}
        for r in self.cube:
            out[r.grade][0] += r.cell.leads
            out[r.grade][1] += r.cell.leads if r.customer else 0
        return {g: (n, k) for g, (n, k) in out.items()}

    @cached_property
    def labels(self) -> dict[Any, str]:
        by = self.query.by
        if by == "campaign":
            return {cid: c.name for cid, c in self.campaigns.items()}
        if by == "form":
            return {f.id: f.name for f in list_forms(self.session)}
        return {}

    def _label(self, key: Any) -> str | None:
        by = self.query.by
        if by == "none":
            return None
        if key is None:
            return {"channel": NO_SOURCE, "campaign": NO_CAMPAIGN, "form": NO_FORM}[by]
        if by == "channel":
            return str(key)
        return self.labels.get(key, f"{by} {key}")

    def _grid(self, measure: Callable[[list[_CubeRow]], dict[str, Any]]) -> list[dict[str, Any]]:
        """One row per period and group: every period of the range, for every group with a lead
        in it (a period without leads has a row of zeros), biggest groups first."""
        cells: dict[tuple[int, Any], list[_CubeRow]] = defaultdict(list)
        group_size: dict[Any, int] = defaultdict(int)
        for r in self.cube:
            cells[(r.period, r.group)].append(r)
            group_size[r.group] += r.cell.leads
        groups = sorted(group_size, key=lambda g: (-group_size[g], g is None, str(self._label(g))))
        if self.query.by == "none":
            groups = [None]
        rows = []
        for i, start in enumerate(self.scope.period_starts):
            for g in groups:
                row = {"period": start.isoformat(), "group": self._label(g)}
                if self.query.by != "none":
                    row["group_key"] = g
                row.update(measure(cells.get((i, g), [])))
                rows.append(row)
        return rows

    @cached_property
    def funnel_reach(self) -> list[int]:
        """How many cohort leads reached each funnel stage or a later one."""
        hist = StageChange
        history_max = (select(func.max(_funnel_index(hist.to_stage))).where(hist.lead_id == Lead.id)
                       .scalar_subquery())
        customer = _is_customer()
        # The history is read only where it can say more than the lead's row: a customer reached
        # every stage, and a lead now in sql reached sql and, never having become a customer
        # (entering customer sets converted_at for good), nothing later.
        reach = case((customer, _CUSTOMER_INDEX), (Lead.stage == "sql", _SQL_INDEX),
                     else_=func.coalesce(history_max, 0)).label("h")
        current = _funnel_index(Lead.stage).label("cur")
        stmt = (select(reach, current, func.count()).where(*_cohort(self.scope))
                .group_by(literal_column("h"), literal_column("cur")))
        reached = [0] * len(FUNNEL)
        for h, cur, n in _rows(self.session, stmt):
            top = max(int(h), int(cur))
            for i in range(top + 1):
                reached[i] += n
        return reached

    @cached_property
    def spend_cents(self) -> dict[int, int]:
        """Spend of each campaign over the range's days (the ledger's days are local dates)."""
        cents = func.sum(cast(func.round(CampaignSpend.amount * 100), Integer))
        stmt = (select(CampaignSpend.campaign_id, cents)
                .where(CampaignSpend.day >= self.scope.date_from, CampaignSpend.day <= self.scope.date_to)
                .group_by(CampaignSpend.campaign_id))
        if self.query.campaign_id:
            stmt = stmt.where(CampaignSpend.campaign_id.in_(self.query.campaign_id))
        return {cid: int(total or 0) for cid, total in _rows(self.session, stmt)}

    @cached_property
    def campaigns(self) -> dict[int, Any]:
        return {c.id: c for c in list_campaigns(self.session)}

    @cached_property
    def counted_spend(self) -> dict[int, int]:
        """The spend counted: campaigns passing the campaign filter and (on their own channel) the channel filter."""
        channels = set(self.query.channel or ())
        if not channels:
            return self.spend_cents
        return {cid: c for cid, c in self.spend_cents.items()
                if cid in self.campaigns and self.campaigns[cid].channel in channels}

    @cached_property
    def campaign_counts(self) -> dict[int | None, tuple[int, int]]:
        """{campaign id: (cohort leads, of which customers)}."""
        if self.query.by in ("campaign", "none"):
            out: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
            for r in self.cube:
                out[r.campaign][0] += r.cell.leads
                out[r.campaign][1] += r.cell.leads if r.customer else 0
            return {k: (n, c) for k, (n, c) in out.items()}
        stmt = (select(Lead.campaign_id, func.count(), func.sum(_as_int(_is_customer())))
                .where(*_cohort(self.scope)).group_by(Lead.campaign_id))
        return {cid: (int(n), int(c or 0)) for cid, n, c in _rows(self.session, stmt)}

    @cached_property
    def conversion_days(self) -> np.ndarray:
        """Days from creation to conversion of the leads converted within the range."""
        seconds = _seconds_between(self.session, Lead.created_at, Lead.converted_at)
        stmt = select(seconds).where(Lead.converted_at >= self.scope.start, Lead.converted_at < self.scope.end,
                                     *_lead_filters(self.query))
        (seconds,) = _columns(self.session, stmt, 1)
        return np.maximum(_floats(seconds), 0.0) / DAY_S

    @cached_property
    def stage_stays(self) -> dict[str, tuple[int, np.ndarray]]:
        """{funnel stage: (entries within the range, days spent by those that left it)}."""
        entry, later = StageChange, aliased(StageChange)
        left_at = (select(func.min(later.changed_at))
                   # After the entry in (changed_at, id) order; the >= lets the index seek to it.
                   .where(later.lead_id == entry.lead_id, later.changed_at >= entry.changed_at,
                          or_(later.changed_at > entry.changed_at, later.id > entry.id))
                   .scalar_subquery())
        stmt = select(entry.to_stage, _seconds_between(self.session, entry.changed_at, left_at)).where(
            entry.changed_at >= self.scope.start, entry.changed_at < self.scope.end, entry.to_stage.in_(FUNNEL))
        filters = _lead_filters(self.query)
        if filters:
            stmt = stmt.join(Lead, Lead.id == entry.lead_id).where(*filters)
        stages, seconds = _columns(self.session, stmt, 2)
        stage = np.array(stages, dtype=object)
        days = np.maximum(_floats(seconds), 0.0) / DAY_S  # NaN: still in the stage
        out = {}
        for name in FUNNEL:
            mine = days[stage == name]
            out[name] = (len(mine), mine[~np.isnan(mine)])
        return out

    @cached_property
    def first_contact_hours(self) -> tuple[int, np.ndarray]:
        """(leads first entering sql within the range, hours to the first sales contact of those contacted)."""
        entry, earlier = StageChange, aliased(StageChange)
        first_entry = ~exists().where(
            earlier.lead_id == entry.lead_id, earlier.to_stage == "sql", earlier.changed_at <= entry.changed_at,
            or_(earlier.changed_at < entry.changed_at, earlier.id < entry.id))
        contact_at = (select(func.min(Event.occurred_at))
                      .where(Event.lead_id == entry.lead_id, Event.source == CONTACT_SOURCE,
                             Event.type.not_in(NOT_CONTACT), Event.occurred_at >= entry.changed_at)
                      .scalar_subquery())
        stmt = select(_seconds_between(self.session, entry.changed_at, contact_at)).where(
            entry.to_stage == "sql", entry.changed_at >= self.scope.start, entry.changed_at < self.scope.end,
            first_entry)
        filters = _lead_filters(self.query)
        if filters:
            stmt = stmt.join(Lead, Lead.id == entry.lead_id).where(*filters)
        (seconds,) = _columns(self.session, stmt, 1)
        hours = np.maximum(_floats(seconds), 0.0) / HOUR_S  # NaN: not contacted
        return len(hours), hours[~np.isnan(hours)]

    def _deciles(self) -> list[dict[str, Any]]:
        # One (score, id, customer) per scored cohort lead, ranked in NumPy: on 70,000 leads twice
        # as fast as SQLite's row_number() window, which sorts wide rows.
        stmt = select(Lead.score, Lead.id, _as_int(_is_customer())).where(*_cohort(self.scope), Lead.score.is_not(None))
        scores, ids, customers = _columns(self.session, stmt, 3)
        if not scores:
            return []
        score, customer = _floats(scores), np.array(customers, dtype=np.int64)
        order = np.lexsort((np.array(ids, dtype=np.int64), -score))  # highest score first, ties by id
        n = len(order)
        # The lead at rank r (0-based) is in decile floor(10 r / n) + 1.
        bounds = np.searchsorted(np.arange(n) * DECILES // n, np.arange(DECILES + 1))
        out = []
        for d in range(DECILES):
            idx = order[bounds[d]:bounds[d + 1]]
            if len(idx):
                k = int(customer[idx].sum())
                out.append({"decile": d + 1, "leads": len(idx), "customers": k, "rate": _rate(k, len(idx)),
                            "min_score": float(score[idx].min()), "max_score": float(score[idx].max())})
        return out

    # -- the KPIs

    def leads_generated(self) -> dict[str, Any]:
        rows = self._grid(lambda cells: {"leads": sum(c.cell.leads for c in cells)})
        return {"rows": rows, "total": self.totals.leads}

    def lead_quality(self) -> dict[str, Any]:
        total = self.totals
        grades = {g: n for g, (n, _) in self._by_grade().items()}

        def measure(cells: list[_CubeRow]) -> dict[str, Any]:
            cell = _Cell()
            for c in cells:
                cell.add(c.cell)
            grade_a = sum(c.cell.leads for c in cells if c.grade == ICP_GRADE)
            return {"leads": cell.leads, "grade_a": grade_a, "icp_share": _rate(grade_a, cell.leads),
                    "avg_score": cell.mean("score")}

        return {"leads": total.leads, "grades": grades, "icp_share": _rate(grades[ICP_GRADE], total.leads),
                "avg_score": total.mean("score"), "avg_fit_points": total.mean("fit_points"),
                "avg_engagement": total.mean("engagement_score"), "avg_intent": total.mean("intent_score"),
                "avg_probability": total.mean("conversion_probability"), "rows": self._grid(measure)}

    def conversion(self) -> dict[str, Any]:
        def measure(cells: list[_CubeRow]) -> dict[str, Any]:
            leads = sum(c.cell.leads for c in cells)
            customers = sum(c.cell.leads for c in cells if c.customer)
            return {"leads": leads, "customers": customers, "rate": _rate(customers, leads)}

        reached = self.funnel_reach
        funnel = [{"stage": stage, "reached": reached[i],
                   "rate_from_previous": _rate(reached[i], reached[i - 1]) if i else None,
                   "rate_from_start": _rate(reached[i], reached[0])}
                  for i, stage in enumerate(FUNNEL)]
        leads = self.totals.leads
        return {"cohort": {"leads": leads, "customers": self.customers, "rate": _rate(self.customers, leads)},
                "funnel": funnel, "rows": self._grid(measure)}

    def cost(self) -> dict[str, Any]:
        campaigns = self.campaigns
        spend = self.counted_spend
        counts = self.campaign_counts
        by_channel = self.query.by == "channel"
        groups: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])  # cents, leads, customers
        for cid in set(spend) | set(counts):
            campaign = campaigns.get(cid) if cid is not None else None
            key = (campaign.channel if campaign else None) if by_channel else cid
            cell = groups[key]
            cell[0] += spend.get(cid, 0)
            n, k = counts.get(cid, (0, 0))
            cell[1] += n
            cell[2] += k
        rows = []
        for key, (cents, n, k) in groups.items():
            if not (cents or n):
                continue
            if by_channel:
                group = key if key is not None else NO_CAMPAIGN
                ids: dict[str, Any] = {"campaign_id": None, "channel": key}
            else:
                campaign = campaigns.get(key) if key is not None else None
                group = campaign.name if campaign else (NO_CAMPAIGN if key is None else f"campaign {key}")
                ids = {"campaign_id": key, "channel": campaign.channel if campaign else None}
            rows.append({"group": group, **ids, "spend": _money(cents), "leads": n, "customers": k,
                         "cost_per_lead": _per(cents, n), "cost_per_customer": _per(cents, k)})
        rows.sort(key=lambda r: (-r["spend"], -r["leads"], r["group"]))
        cents = sum(spend.values())
        leads = sum(n for n, _ in counts.values())
        customers = sum(k for _, k in counts.values())
        total = {"spend": _money(cents), "leads": leads, "customers": customers,
                 "cost_per_lead": _per(cents, leads), "cost_per_customer": _per(cents, customers)}
        return {"rows": rows, "total": total}

    def time_to_convert(self) -> dict[str, Any]:
        days = self.conversion_days
        edges = [*HISTOGRAM_DAYS, np.inf]
        counts, _ = np.histogram(days, bins=np.array(edges, dtype=np.float64))
        histogram = [{"lower_days": lo, "upper_days": None if hi == np.inf else hi, "customers": int(n)}
                     for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True)]
        stages = [{"stage": s, "entered": n, "median_days": P.percentile(stays, 50),
                   "p90_days": P.percentile(stays, 90)}
                  for s, (n, stays) in self.stage_stays.items()]
        return {"customers": len(days), "median_days": P.percentile(days, 50), "p90_days": P.percentile(days, 90),
                "histogram": histogram, "stages": stages}

    def speed_to_lead(self) -> dict[str, Any]:
        sql_leads, hours = self.first_contact_hours
        return {"sql_leads": sql_leads, "contacted": len(hours), "median_hours": P.percentile(hours, 50),
                "p90_hours": P.percentile(hours, 90)}

    def score_effectiveness(self) -> dict[str, Any]:
        by_grade = [{"grade": g, "leads": n, "customers": k, "rate": _rate(k, n)}
                    for g, (n, k) in self._by_grade().items()]
        return {"by_grade": by_grade, "by_decile": self._deciles()}

    def summary(self) -> dict[str, Any]:
        leads, customers = self.totals.leads, self.customers
        cents = sum(self.counted_spend.values())
        days = self.conversion_days
        _, hours = self.first_contact_hours
        return {"date_from": self.scope.date_from.isoformat(), "date_to": self.scope.date_to.isoformat(),
                "timezone": self.scope.timezone, "leads": leads, "customers": customers,
                "conversion_rate": _rate(customers, leads), "spend": _money(cents),
                "cost_per_lead": _per(cents, leads), "cost_per_customer": _per(cents, customers),
                "median_days_to_convert": P.percentile(days, 50), "p90_days_to_convert": P.percentile(days, 90),
                "icp_share": _rate(self._by_grade()[ICP_GRADE][0], leads), "avg_score": self.totals.mean("score"),
                "median_hours_to_first_contact": P.percentile(hours, 50)}



# ---- public API ----------------------------------------------------------------------------------

def _kpis(session: Session, query: KpiQuery, now: datetime | None) -> _Kpis:
    return _Kpis(session, resolve(query, now=now))


def leads_generated(session: Session, *, query: KpiQuery, now: datetime | None = None) -> dict[str, Any]:
    """New leads per period and group: {rows: [{period, group, leads}], total}."""
    return _kpis(session, query, now).leads_generated()


def lead_quality(session: Session, *, query: KpiQuery, now: datetime | None = None) -> dict[str, Any]:
    """Fit grades, ICP share and average scores of the range's leads, in total and per period and group."""
    return _kpis(session, query, now).lead_quality()


def conversion(session: Session, *, query: KpiQuery, now: datetime | None = None) -> dict[str, Any]:
    """Customers / leads of the range's leads (cohort), the stage funnel, and rows per period and group."""
    return _kpis(session, query, now).conversion()


def cost(session: Session, *, query: KpiQuery, now: datetime | None = None) -> dict[str, Any]:
    """Spend, cost per lead and cost per customer per campaign (per channel with by=channel) and in total."""
    return _kpis(session, query, now).cost()


def time_to_convert(session: Session, *, query: KpiQuery, now: datetime | None = None) -> dict[str, Any]:
    """Median and p90 days from creation to customer, their histogram, and the time spent in each stage."""
    return _kpis(session, query, now).time_to_convert()


def speed_to_lead(session: Session, *, query: KpiQuery, now: datetime | None = None) -> dict[str, Any]:
    """Hours from entering sql to the first sales contact."""
    return _kpis(session, query, now).speed_to_lead()


def score_effectiveness(session: Session, *, query: KpiQuery, now: datetime | None = None) -> dict[str, Any]:
    """Conversion rate by fit grade and by score decile."""
    return _kpis(session, query, now).score_effectiveness()


def summary(session: Session, *, query: KpiQuery, now: datetime | None = None) -> dict[str, Any]:
    """The headline numbers of the range in one dict (period and breakdown play no part)."""
    return _kpis(session, query, now).summary()


KPIS: dict[str, Callable[..., dict[str, Any]]] = {
    "leads": leads_generated,
    "quality": lead_quality,
    "conversion": conversion,
    "cost": cost,
    "time_to_convert": time_to_convert,
    "speed_to_lead": speed_to_lead,
    "score_effectiveness": score_effectiveness,
}
# What the dashboard page shows, besides the summary: every KPI.
DASHBOARD: tuple[str, ...] = tuple(KPIS)


def dashboard(session: Session, *, query: KpiQuery, now: datetime | None = None,
              names: Iterable[str] = DASHBOARD) -> dict[str, dict[str, Any]]:
    """{"summary": ..., name: ... for NAMES}, as the KPI functions give them, each ingredient read once."""
    unknown = [n for n in names if n not in KPIS]
    if unknown:
        raise KpiError(f"unknown KPI {unknown[0]!r}; expected one of {', '.join(KPIS)}", field="name", status=404)
    kpis = _kpis(session, query, now)
    out = {"summary": kpis.summary()}
    for name in names:
        out[name] = getattr(kpis, KPIS[name].__name__)()
    return out
