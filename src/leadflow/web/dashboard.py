"""The dashboard: filters read from the query string, the KPI service's figures, charts and their tables.

The page is a GET form, so every filtered view is a link. A range is a rolling preset (the last
30, 90 or 365 days up to today) or two dates; the period of the time chart is chosen from the
range unless the user picks one. Every figure comes from `leadflow.kpi.service` with the same
`KpiQuery` its CSV export link carries, so the page, the API and the CSV agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from leadflow.kpi.schemas import DEFAULT_DAYS, MAX_DAYS, KpiError, KpiQuery
from leadflow.schemas import MAX_ID
from leadflow.web import charts

PRESETS = (30, DEFAULT_DAYS, 365)
PERIODS = ("day", "week", "month")
# Below these spans (in days) the time chart reads best by day, then by week, else by month:
# about 10 to 60 bars on a laptop.
AUTO_DAY_MAX, AUTO_WEEK_MAX = 45, 200
# The page asks for every KPI broken down by channel (the time chart needs it; the funnel, the
# tiles and the grades do not depend on it), except cost, which without a breakdown is per campaign.
PAGE_BY = "channel"
PER_CAMPAIGN = "cost"
# Each chart's CSV export: the leads per channel; for the funnel, the conversion KPI's funnel table.
CSV_BY = {"leads": "channel"}
CSV_TABLE = {"conversion": "funnel"}
GRADES = ("A", "B", "C", "D", "ungraded")
RECENT_LEADS = 8


@dataclass(frozen=True)
class Filters:
    """What the page shows: a resolved range and period, and the channel and campaign chosen."""

    range: str  # "30", "90", "365" (the last N days up to today) or "custom"
    date_from: date
    date_to: date
    period: str  # the period used
    period_choice: str  # what the user picked; "" is automatic
    channel: str | None = None
    campaign_id: int | None = None
    errors: tuple[str, ...] = field(default=())

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def params(self, **extra: Any) -> dict[str, str]:
        """The KPI API's query parameters for these filters (plus EXTRA), in a stable order."""
        out = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(), "period": self.period}
        if self.channel:
            out["channel"] = self.channel
        if self.campaign_id is not None:
            out["campaign_id"] = str(self.campaign_id)
        out.update({k: str(v) for k, v in extra.items() if v is not None})
        return out

    def page_link(self, **changes: Any) -> str:
        """A link to the dashboard with these filters and CHANGES (None drops a filter)."""
        current: dict[str, Any] = {"range": self.range, "period": self.period_choice or None,
                                   "channel": self.channel, "campaign_id": self.campaign_id}
        if self.range == "custom":
            current.update(date_from=self.date_from.isoformat(), date_to=self.date_to.isoformat())
        current.update(changes)
        if current.get("range") != "custom":
            current.pop("date_from", None)
            current.pop("date_to", None)
        if current.get("range") == str(DEFAULT_DAYS):
            current.pop("range")
        query = urlencode({k: v for k, v in current.items() if v not in (None, "")})
        return "/" + (f"?{query}" if query else "")

    def query(self, by: str = "none") -> KpiQuery:
        return KpiQuery(date_from=self.date_from, date_to=self.date_to, period=self.period, by=by,
                        channel=[self.channel] if self.channel else None,
                        campaign_id=[self.campaign_id] if self.campaign_id is not None else None)

    def csv_link(self, name: str) -> str:
        return f"/api/v1/kpi/{name}.csv?" + urlencode(self.params(by=CSV_BY.get(name), table=CSV_TABLE.get(name)))


def auto_period(date_from: date, date_to: date) -> str:
    span = (date_to - date_from).days + 1
    return "day" if span <= AUTO_DAY_MAX else "week" if span <= AUTO_WEEK_MAX else "month"


def _first(params: Mapping[str, Any], key: str) -> str:
    """The first non-empty value of KEY (a query string may repeat it)."""
    getter = getattr(params, "getlist", None)
    values = getter(key) if getter else ([params[key]] if key in params else [])
    for v in values:
        if isinstance(v, str) and v.strip():
            return v.strip()
    return ""


def parse_filters(params: Mapping[str, Any], *, today: date) -> Filters:
    """Filters from the query string; a value that cannot be used is reported and left at its default.

    `range=30|90|365` is a rolling preset. Dates win over it, and dates that are exactly a preset's
    (what the form sends after a preset link) are that preset, so the form needs no range field.
    """
    errors: list[str] = []
    presets = {str(p): p for p in PRESETS}
    preset = _first(params, "range")
    if preset and preset not in presets:
        errors.append(f"range {preset!r} is not one of {', '.join(presets)}")
    days = presets.get(preset, DEFAULT_DAYS)
    date_from, date_to, chosen = today - timedelta(days=days - 1), today, str(days)
    raw_from, raw_to = _first(params, "date_from"), _first(params, "date_to")
    if raw_from or raw_to:
        try:
            given_from = date.fromisoformat(raw_from) if raw_from else date_from
            given_to = date.fromisoformat(raw_to) if raw_to else date_to
        except ValueError:
            errors.append("dates are written YYYY-MM-DD")
        else:
            if given_to < given_from:
                errors.append(f"the range ends ({given_to}) before it starts ({given_from})")
            elif (given_to - given_from).days >= MAX_DAYS:
                errors.append(f"a range is at most {MAX_DAYS} days")
            else:
                date_from, date_to = given_from, given_to
                span = (date_to - date_from).days + 1
                chosen = str(span) if date_to == today and span in PRESETS else "custom"
    period_choice = _first(params, "period")
    if period_choice and period_choice not in PERIODS:
        errors.append(f"period {period_choice!r} is not day, week or month")
        period_choice = ""
    channel = _first(params, "channel") or None
    campaign_id: int | None = None
    raw_campaign = _first(params, "campaign_id")
    if raw_campaign:
        if raw_campaign.isdigit() and 0 < int(raw_campaign) <= MAX_ID:
            campaign_id = int(raw_campaign)
        else:
            errors.append(f"campaign_id {raw_campaign!r} is not a campaign id")
    return Filters(range=chosen, date_from=date_from, date_to=date_to,
                   period=period_choice or auto_period(date_from, date_to), period_choice=period_choice,
                   channel=channel, campaign_id=campaign_id, errors=tuple(errors))


def kpi_queries(filters: Filters) -> dict[str, KpiQuery]:
    """The two queries the page runs: every KPI by channel, and cost (per campaign)."""
    return {"dashboard": filters.query(PAGE_BY), PER_CAMPAIGN: filters.query("none")}


def run_kpis(session: Session, *, filters: Filters, now: datetime | None = None) -> dict[str, dict]:
    """{"summary": ..., KPI name: its result} for every KPI of the dashboard, through the KPI service."""
    from leadflow.kpi.service import DASHBOARD, KPIS, dashboard

    queries = kpi_queries(filters)
    results = dashboard(session, query=queries["dashboard"], now=now,
                        names=[n for n in DASHBOARD if n != PER_CAMPAIGN])
    if PER_CAMPAIGN in DASHBOARD:
        results[PER_CAMPAIGN] = KPIS[PER_CAMPAIGN](session, query=queries[PER_CAMPAIGN], now=now)
    return results


# ---- from KPI results to charts and tables ---------------------------------------------------

def _num(v: Any) -> float | None:
    return None if v is None else float(v)


def grade_items(by_grade: list[dict]) -> list[dict]:
    """Conversion by grade in the order A, B, C, D, ungraded (when there are some), with the labels shown."""
    by = {(r.get("grade") or "ungraded"): r for r in by_grade}
    if "ungraded" in by and not by["ungraded"].get("leads"):
        del by["ungraded"]
    order = [g for g in GRADES if g in by] + [g for g in by if g not in GRADES]
    return [{"key": g, "label": "Ungraded" if g == "ungraded" else g, "leads": by[g].get("leads") or 0,
             "customers": by[g].get("customers") or 0, "rate": _num(by[g].get("rate"))} for g in order]


def cost_items(rows: list[dict]) -> list[dict]:
    """Campaigns with spend or leads, the costliest lead first (campaigns without leads last)."""
    items = []
    for r in rows:
        if r.get("campaign_id") is None or not (_num(r.get("spend")) or r.get("leads")):
            continue
        spend = _num(r.get("spend")) or 0.0
        items.append({"label": r.get("group") or f"Campaign {r['campaign_id']}", "value": _num(r.get("cost_per_lead")),
                      "note": f"{charts.fmt_money(spend)} spent, {charts.fmt_int(r.get('leads'))} leads"})
    return sorted(items, key=lambda i: (i["value"] is None, -(i["value"] or 0)))


def hours_label(hours: float | None) -> str:
    """A median response time: "45 min", "3.2 h", "2.5 d"."""
    if hours is None:
        return "—"
    if hours < 1:
        return f"{max(hours * 60, 1):.0f} min"
    if hours < 48:
        return f"{hours:.1f}".rstrip("0").rstrip(".") + " h"
    return f"{hours / 24:.1f}".rstrip("0").rstrip(".") + " d"


def build_charts(results: dict[str, dict], filters: Filters, *, channel_label: Callable[[str | None], str],
                 stage_label: Callable[[str], str]) -> dict[str, Any]:
    """The five charts' SVG from the KPI results."""
    out: dict[str, Any] = {}
    if "leads" in results:
        out["leads"] = charts.stacked_bar_chart(
            results["leads"].get("rows") or [], chart_id="ch-leads", title="Leads over time by channel",
            period=filters.period, group_label=group_label(channel_label), width=680, height=300)
    if "conversion" in results:
        out["funnel"] = charts.funnel_chart(results["conversion"].get("funnel") or [], chart_id="ch-funnel",
                                            title="Funnel of the leads created in the range", stage_label=stage_label)
    if "cost" in results:
        out["cost"] = charts.hbar_chart(cost_items(results["cost"].get("rows") or []), chart_id="ch-cost",
                                        title="Cost per lead by campaign", desc_unit="Cost per lead")
    if "time_to_convert" in results:
        t = results["time_to_convert"]
        out["ttc"] = charts.histogram_chart(t.get("histogram") or [], chart_id="ch-ttc",
                                            title="Time from lead to customer", median=_num(t.get("median_days")),
                                            p90=_num(t.get("p90_days")))
    if "score_effectiveness" in results:
        items = grade_items(results["score_effectiveness"].get("by_grade") or [])
        leads = sum(i["leads"] for i in items)
        base = sum(i["customers"] for i in items) / leads if leads else None
        out["grades"] = charts.rate_chart(items, chart_id="ch-grades", title="Conversion by fit grade", base_rate=base)
    return out


def group_label(channel_label: Callable[[str | None], str]) -> Callable[[str | None], str]:
    """How a channel group of the KPI rows reads ("(no source)" and None: "No source")."""
    from leadflow.kpi.service import NO_SOURCE

    return lambda g: "No source" if g in (None, NO_SOURCE) else channel_label(g)


def leads_table(rows: list[dict], *, channel_label: Callable[[str | None], str]) -> dict[str, Any]:
    """Leads per period (rows) and channel (columns), the largest channel first, with totals."""
    totals: dict[str | None, int] = {}
    cells: dict[tuple[str, str | None], int] = {}
    for r in rows:
        g, n = r.get("group"), int(r.get("leads") or 0)
        totals[g] = totals.get(g, 0) + n
        cells[(r["period"], g)] = cells.get((r["period"], g), 0) + n
    groups = sorted(totals, key=lambda g: (-totals[g], g is None, str(g)))
    periods = sorted({p for p, _ in cells})
    return {
        "columns": [group_label(channel_label)(g) for g in groups],
        "rows": [{"period": p, "values": [cells.get((p, g), 0) for g in groups],
                  "total": sum(cells.get((p, g), 0) for g in groups)} for p in periods],
        "totals": [totals[g] for g in groups], "total": sum(totals.values()),
    }


def dashboard_context(session: Session, *, filters: Filters, now: datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard template shows: tiles, charts, tables, export links, the latest leads."""
    from leadflow.campaigns.models import CHANNELS
    from leadflow.campaigns.service import list_campaigns
    from leadflow.leads.schemas import LeadFilter
    from leadflow.leads.service import list_latest_leads
    from leadflow.web.render import channel_label, stage_label

    error = None
    try:
        results = run_kpis(session, filters=filters, now=now)
    except KpiError as exc:
        results, error = {}, str(exc)
    lead_filter = LeadFilter(channel=[filters.channel] if filters.channel else None,
                             campaign_id=[filters.campaign_id] if filters.campaign_id else None,
                             created_from=filters.date_from, created_to=filters.date_to)
    leads_link = "/leads?" + urlencode({k: v for k, v in {
        "channel": filters.channel, "campaign_id": filters.campaign_id,
        "created_from": filters.date_from.isoformat(), "created_to": filters.date_to.isoformat()}.items() if v})
    gen = results.get("leads") or {}
    return {
        "f": filters,
        "presets": PRESETS,
        "periods": PERIODS,
        "auto_period": auto_period(filters.date_from, filters.date_to),
        "channels": CHANNELS,
        "campaigns": list_campaigns(session),
        "errors": list(filters.errors) + ([error] if error else []),
        "k": results,
        "s": results.get("summary") or {},
        "charts": build_charts(results, filters, channel_label=channel_label, stage_label=stage_label),
        "leads_table": leads_table(gen.get("rows") or [], channel_label=channel_label),
        "grade_rows": grade_items((results.get("score_effectiveness") or {}).get("by_grade") or []),
        "hours_label": hours_label,
        "period_label": charts.period_label,
        "recent_leads": list_latest_leads(session, filter=lead_filter, limit=RECENT_LEADS),
        "leads_link": leads_link,
    }
