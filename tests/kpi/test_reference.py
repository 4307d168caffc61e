"""Every KPI against an independent plain-Python computation over the same rows (docs/kpis.md).

The reference reads the world back with simple ORM queries and applies the definitions lead by
lead: zoneinfo per timestamp (no periods.py), its own percentile, sorting for deciles. It shares
nothing with the service but the names of the output keys.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from leadflow.campaigns.models import Campaign, CampaignSpend
from leadflow.capture.models import Form
from leadflow.db.session import get_sessionmaker
from leadflow.kpi import service
from leadflow.kpi.schemas import KpiQuery
from leadflow.leads.models import Event, Lead
from leadflow.lifecycle.models import StageChange
from tests.kpi.conftest import MADRID

FUNNEL = ("suspect", "prospect", "mql", "sql", "customer")
BINS = (0, 7, 14, 30, 60, 90, 180)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    h = (len(s) - 1) * q / 100
    lo = int(h)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (h - lo) * (s[hi] - s[lo])


def _rate(a: int, b: int) -> float | None:
    return a / b if b else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


class Reference:
    """The KPIs of one query, computed lead by lead from rows read back with the ORM."""

    def __init__(self, session, query: KpiQuery, tz_name: str):
        self.q = query
        self.tz = ZoneInfo(tz_name)
        self.tz_name = tz_name
        self.all_leads = list(session.scalars(select(Lead).order_by(Lead.id)))
        self.history: dict[int, list[StageChange]] = defaultdict(list)
        for c in session.scalars(select(StageChange).order_by(StageChange.changed_at, StageChange.id)):
            self.history[c.lead_id].append(c)
        self.events: dict[int, list[Event]] = defaultdict(list)
        for e in session.scalars(select(Event).where(Event.lead_id.is_not(None))):
            self.events[e.lead_id].append(e)
        self.spend = list(session.scalars(select(CampaignSpend)))
        self.campaigns = {c.id: c for c in session.scalars(select(Campaign))}
        self.forms = {f.id: f for f in session.scalars(select(Form))}
        self.cohort = [lead for lead in self.all_leads if self.in_range(lead.created_at) and self.passes(lead)]

    def local(self, value: datetime) -> date:
        return value.replace(tzinfo=UTC).astimezone(self.tz).date()

    def in_range(self, value: datetime) -> bool:
        return self.q.date_from <= self.local(value) <= self.q.date_to

    def passes(self, lead: Lead) -> bool:
        q = self.q
        if q.channel and not (lead.first_channel in q.channel or (lead.first_channel is None and "none" in q.channel)):
            return False
        if q.campaign_id and lead.campaign_id not in q.campaign_id:
            return False
        return not (q.form_id and lead.form_id not in q.form_id)

    @staticmethod
    def customer(lead: Lead) -> bool:
        return lead.outcome == "won" or lead.converted_at is not None

    def period(self, d: date) -> date:
        if self.q.period == "day":
            return d
        if self.q.period == "week":
            return d - timedelta(days=d.weekday())
        return d.replace(day=1)

    def periods(self) -> list[date]:
        out: list[date] = []
        d = self.q.date_from
        while d <= self.q.date_to:
            if self.period(d) not in out:
                out.append(self.period(d))
            d += timedelta(days=1)
        return out

    def key(self, lead: Lead) -> Any:
        return {"none": None, "channel": lead.first_channel, "campaign": lead.campaign_id,
                "form": lead.form_id}[self.q.by]

    def label(self, key: Any) -> str | None:
        by = self.q.by
        if by == "none":
            return None
        if key is None:
            return {"channel": "(no source)", "campaign": "(no campaign)", "form": "(no form)"}[by]
        if by == "channel":
            return key
        return self.campaigns[key].name if by == "campaign" else self.forms[key].name

    def grid(self, measure) -> list[dict]:
        cells: dict[tuple, list[Lead]] = defaultdict(list)
        size: dict[Any, int] = defaultdict(int)
        for lead in self.cohort:
            cells[(self.period(self.local(lead.created_at)), self.key(lead))].append(lead)
            size[self.key(lead)] += 1
        groups = [None] if self.q.by == "none" else sorted(size, key=lambda g: (-size[g], g is None, str(self.label(g))))
        rows = []
        for p in self.periods():
            for g in groups:
                row = {"period": p.isoformat(), "group": self.label(g)}
                if self.q.by != "none":
                    row["group_key"] = g
                row.update(measure(cells.get((p, g), [])))
                rows.append(row)
        return rows

    # -- KPIs

    def leads(self) -> dict:
        return {"rows": self.grid(lambda ls: {"leads": len(ls)}), "total": len(self.cohort)}

    def quality(self) -> dict:
        grades = {g: sum(1 for x in self.cohort if x.fit_grade == g) for g in "ABCD"}
        grades["ungraded"] = len(self.cohort) - sum(grades.values())

        def avg(attr: str, leads: list[Lead]) -> float | None:
            return _mean([getattr(x, attr) for x in leads if getattr(x, attr) is not None])

        def measure(ls: list[Lead]) -> dict:
            a = sum(1 for x in ls if x.fit_grade == "A")
            return {"leads": len(ls), "grade_a": a, "icp_share": _rate(a, len(ls)), "avg_score": avg("score", ls)}

        c = self.cohort
        return {"leads": len(c), "grades": grades, "icp_share": _rate(grades["A"], len(c)),
                "avg_score": avg("score", c), "avg_fit_points": avg("fit_points", c),
                "avg_engagement": avg("engagement_score", c), "avg_intent": avg("intent_score", c),
                "avg_probability": avg("conversion_probability", c), "rows": self.grid(measure)}

    def reach(self, lead: Lead) -> int:
        seen = {0}
        if lead.stage in FUNNEL:
            seen.add(FUNNEL.index(lead.stage))
        seen |= {FUNNEL.index(c.to_stage) for c in self.history[lead.id] if c.to_stage in FUNNEL}
        if self.customer(lead):
            seen.add(4)
        return max(seen)

    def conversion(self) -> dict:
        customers = sum(1 for x in self.cohort if self.customer(x))
        reached = [sum(1 for x in self.cohort if self.reach(x) >= i) for i in range(5)]
        funnel = [{"stage": s, "reached": reached[i],
                   "rate_from_previous": _rate(reached[i], reached[i - 1]) if i else None,
                   "rate_from_start": _rate(reached[i], reached[0])} for i, s in enumerate(FUNNEL)]

        def measure(ls: list[Lead]) -> dict:
            k = sum(1 for x in ls if self.customer(x))
            return {"leads": len(ls), "customers": k, "rate": _rate(k, len(ls))}

        return {"cohort": {"leads": len(self.cohort), "customers": customers, "rate": _rate(customers, len(self.cohort))},
                "funnel": funnel, "rows": self.grid(measure)}

    def counted_spend(self) -> dict[int, int]:
        out: dict[int, int] = defaultdict(int)
        for s in self.spend:
            if not (self.q.date_from <= s.day <= self.q.date_to):
                continue
            if self.q.campaign_id and s.campaign_id not in self.q.campaign_id:
                continue
            if self.q.channel and self.campaigns[s.campaign_id].channel not in self.q.channel:
                continue
            out[s.campaign_id] += int(Decimal(s.amount) * 100)
        return out

    def cost(self) -> dict:
        spend = self.counted_spend()
        by_channel = self.q.by == "channel"

        def key(cid):
            if not by_channel:
                return cid
            return self.campaigns[cid].channel if cid is not None else None

        groups: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])
        for cid, cents in spend.items():
            groups[key(cid)][0] += cents
        for x in self.cohort:
            groups[key(x.campaign_id)][1] += 1
            groups[key(x.campaign_id)][2] += self.customer(x)

        def per(cents: int, n: int) -> float | None:
            return float(Decimal(cents) / 100 / n) if n else None

        rows = []
        for k, (cents, n, c) in groups.items():
            if not (cents or n):
                continue
            if by_channel:
                ids = {"group": k if k is not None else "(no campaign)", "campaign_id": None, "channel": k}
            else:
                ids = {"group": self.campaigns[k].name if k is not None else "(no campaign)", "campaign_id": k,
                       "channel": self.campaigns[k].channel if k is not None else None}
            rows.append({**ids, "spend": cents / 100, "leads": n, "customers": c,
                         "cost_per_lead": per(cents, n), "cost_per_customer": per(cents, c)})
        rows.sort(key=lambda r: (-r["spend"], -r["leads"], r["group"]))
        cents, n = sum(spend.values()), len(self.cohort)
        c = sum(1 for x in self.cohort if self.customer(x))
        return {"rows": rows, "total": {"spend": cents / 100, "leads": n, "customers": c,
                                        "cost_per_lead": per(cents, n), "cost_per_customer": per(cents, c)}}

    def conversion_days(self) -> list[float]:
        return [max((x.converted_at - x.created_at).total_seconds(), 0) / 86400 for x in self.all_leads
                if x.converted_at is not None and self.in_range(x.converted_at) and self.passes(x)]

    def time_to_convert(self) -> dict:
        days = self.conversion_days()
        edges = [*BINS, None]
        histogram = [{"lower_days": lo, "upper_days": hi,
                      "customers": sum(1 for d in days if lo <= d and (hi is None or d < hi))}
                     for lo, hi in pairwise(edges)]
        entered: dict[str, int] = defaultdict(int)
        stays: dict[str, list[float]] = defaultdict(list)
        by_id = {x.id: x for x in self.all_leads}
        for lead_id, changes in self.history.items():
            if not self.passes(by_id[lead_id]):
                continue
            for i, c in enumerate(changes):
                if c.to_stage in FUNNEL and self.in_range(c.changed_at):
                    entered[c.to_stage] += 1
                    if i + 1 < len(changes):
                        stays[c.to_stage].append(max((changes[i + 1].changed_at - c.changed_at).total_seconds(), 0) / 86400)
        stages = [{"stage": s, "entered": entered[s], "median_days": _percentile(stays[s], 50),
                   "p90_days": _percentile(stays[s], 90)} for s in FUNNEL]
        return {"customers": len(days), "median_days": _percentile(days, 50), "p90_days": _percentile(days, 90),
                "histogram": histogram, "stages": stages}

    def contact_hours(self) -> tuple[int, list[float]]:
        sql_leads, hours = 0, []
        for lead in self.all_leads:
            first = next((c for c in self.history[lead.id] if c.to_stage == "sql"), None)
            if first is None or not self.in_range(first.changed_at) or not self.passes(lead):
                continue
            sql_leads += 1
            contacts = [e.occurred_at for e in self.events[lead.id] if e.source == "user"
                        and e.type not in ("property_change", "note") and e.occurred_at >= first.changed_at]
            if contacts:
                hours.append(max((min(contacts) - first.changed_at).total_seconds(), 0) / 3600)
        return sql_leads, hours

    def speed_to_lead(self) -> dict:
        n, hours = self.contact_hours()
        return {"sql_leads": n, "contacted": len(hours), "median_hours": _percentile(hours, 50),
                "p90_hours": _percentile(hours, 90)}

    def score_effectiveness(self) -> dict:
        by_grade = []
        for g in ("A", "B", "C", "D", "ungraded"):
            ls = [x for x in self.cohort if (x.fit_grade if x.fit_grade in "ABCD" and x.fit_grade else "ungraded") == g]
            k = sum(1 for x in ls if self.customer(x))
            by_grade.append({"grade": g, "leads": len(ls), "customers": k, "rate": _rate(k, len(ls))})
        scored = sorted((x for x in self.cohort if x.score is not None), key=lambda x: (-x.score, x.id))
        deciles: dict[int, list[Lead]] = defaultdict(list)
        for r, x in enumerate(scored):
            deciles[r * 10 // len(scored) + 1].append(x)
        by_decile = [{"decile": d, "leads": len(ls), "customers": sum(1 for x in ls if self.customer(x)),
                      "rate": _rate(sum(1 for x in ls if self.customer(x)), len(ls)),
                      "min_score": min(x.score for x in ls), "max_score": max(x.score for x in ls)}
                     for d, ls in sorted(deciles.items())]
        return {"by_grade": by_grade, "by_decile": by_decile}

    def summary(self) -> dict:
        n = len(self.cohort)
        c = sum(1 for x in self.cohort if self.customer(x))
        cents = sum(self.counted_spend().values())
        days = self.conversion_days()
        _, hours = self.contact_hours()
        return {"date_from": self.q.date_from.isoformat(), "date_to": self.q.date_to.isoformat(),
                "timezone": self.tz_name, "leads": n, "customers": c, "conversion_rate": _rate(c, n),
                "spend": cents / 100, "cost_per_lead": float(Decimal(cents) / 100 / n) if n else None,
                "cost_per_customer": float(Decimal(cents) / 100 / c) if c else None,
                "median_days_to_convert": _percentile(days, 50), "p90_days_to_convert": _percentile(days, 90),
                "icp_share": _rate(sum(1 for x in self.cohort if x.fit_grade == "A"), n),
                "avg_score": _mean([x.score for x in self.cohort if x.score is not None]),
                "median_hours_to_first_contact": _percentile(hours, 50)}


def assert_same(actual: Any, expected: Any, path: str = "") -> None:
    """Equal, floats to 1e-9 relative (SQL sums in another order; SQLite times to ~50 µs: 1e-6 days)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), f"{path}: keys {actual} != {expected}"
        for k in expected:
            assert_same(actual[k], expected[k], f"{path}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{path}: {actual} != {expected}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{path}[{i}]")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-6), f"{path}: {actual} != {expected}"
    else:
        assert actual == expected and type(actual) is type(expected), f"{path}: {actual!r} != {expected!r}"


SPRING = {"date_from": date(2026, 3, 20), "date_to": date(2026, 4, 30)}
AUTUMN = {"date_from": date(2026, 10, 1), "date_to": date(2026, 11, 30)}
YEAR = {"date_from": date(2026, 1, 1), "date_to": date(2026, 12, 31)}
QUERIES = {
    "spring by month": {**SPRING},
    "spring by day": {**SPRING, "period": "day"},
    "spring by week and channel": {**SPRING, "period": "week", "by": "channel"},
    "spring by week and campaign": {**SPRING, "period": "week", "by": "campaign"},
    "autumn by day and form": {**AUTUMN, "period": "day", "by": "form"},
    "autumn by channel, filtered to paid search and no source": {**AUTUMN, "by": "channel",
                                                                 "channel": ["paid_search", "none"]},
    "year by campaign": {**YEAR, "by": "campaign"},
    "year by week": {**YEAR, "period": "week"},
    "the spring-forward day": {"date_from": date(2026, 3, 29), "date_to": date(2026, 3, 29), "period": "day",
                               "by": "channel"},
    "the fall-back day": {"date_from": date(2026, 10, 25), "date_to": date(2026, 10, 25), "period": "day"},
    "two days around the fall-back": {"date_from": date(2026, 10, 24), "date_to": date(2026, 10, 26),
                                      "period": "day", "by": "form"},
    "an empty range": {"date_from": date(2025, 1, 1), "date_to": date(2025, 1, 31), "by": "campaign"},
}
FILTERED = {
    "campaign filter": {"campaign_id": ["brand"]},
    "form filter": {"form_id": ["demo"]},
    "all filters": {"channel": ["paid_search", "webinar"], "campaign_id": ["brand", "webinar"],
                    "form_id": ["demo", "ebook"], "by": "campaign"},
}


def _query(world, **kwargs) -> KpiQuery:
    if "campaign_id" in kwargs:
        kwargs["campaign_id"] = [world.campaigns[k] for k in kwargs["campaign_id"]]
    if "form_id" in kwargs:
        kwargs["form_id"] = [world.forms[k] for k in kwargs["form_id"]]
    return KpiQuery(**kwargs)


def _compare(query: KpiQuery) -> None:
    with get_sessionmaker()() as s:
        ref = Reference(s, query, MADRID)
        results = service.dashboard(s, query=query)
        assert_same(results["summary"], ref.summary(), "summary")
        for name, fn in service.KPIS.items():
            assert_same(fn(s, query=query), getattr(ref, name)(), name)
            assert_same(results[name], getattr(ref, name)(), f"dashboard.{name}")


@pytest.mark.parametrize("name", QUERIES)
def test_every_kpi_matches_the_reference(world, name):
    _compare(_query(world, **QUERIES[name]))


@pytest.mark.parametrize("name", FILTERED)
def test_filters_match_the_reference(world, name):
    _compare(_query(world, **SPRING, **FILTERED[name]))
    _compare(_query(world, **AUTUMN, **FILTERED[name]))


def test_the_world_covers_the_edge_cases(world):
    """The reference comparisons are only as good as the world: it holds what they must exercise."""
    with get_sessionmaker()() as s:
        ref = Reference(s, KpiQuery(**YEAR), MADRID)
        cohort = ref.cohort
        assert len(cohort) > 100
        assert any(x.first_channel is None for x in cohort)
        assert any(x.campaign_id is None for x in cohort) and any(x.form_id is None for x in cohort)
        assert {x.fit_grade for x in cohort} >= {"A", "B", "C", "D"}
        assert any(x.outcome == "won" and x.converted_at is None for x in cohort)
        assert any(x.converted_at and ref.local(x.converted_at) > date(2026, 4, 30) and ref.local(x.created_at)
                   <= date(2026, 4, 30) for x in cohort)  # converted after the spring range
        histories = [[c.to_stage for c in ref.history[x.id]] for x in cohort]
        assert any("recycled" in h and h.index("recycled") < len(h) - 1 for h in histories)  # recycled and back
        assert any("customer" in h and h[-1] != "customer" for h in histories)  # reopened customer
        assert any("disqualified" in h for h in histories)
        stl = ref.speed_to_lead()
        assert 0 < stl["contacted"] < stl["sql_leads"]
        assert ref.time_to_convert()["customers"] > 5
        assert len(ref.score_effectiveness()["by_decile"]) == 10
        # Leads at the instants where Madrid's days, weeks and months begin, on both sides of them.
        assert sum(1 for x in cohort if x.created_at in (datetime(2026, 3, 28, 23), datetime(2026, 3, 29, 22))) >= 2
