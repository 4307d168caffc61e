"""HTTP API for the lead KPIs under /api/v1/kpi: JSON, or a KPI's table as CSV."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from leadflow.auth.deps import DB, ApiUser
from leadflow.kpi.schemas import KpiError, KpiQuery
from leadflow.kpi.service import KPIS, summary

router = APIRouter(prefix="/api/v1", tags=["kpi"])

# The table a KPI's CSV export holds unless ?table= names another list of its result.
MAIN_TABLES = {"leads": "rows", "quality": "rows", "conversion": "rows", "cost": "rows",
               "time_to_convert": "histogram", "speed_to_lead": None, "score_effectiveness": "by_grade",
               "summary": None}


def kpi_query(
    date_from: str | None = Query(None, description="First local date, YYYY-MM-DD (default: date_to - 89 days)"),
    date_to: str | None = Query(None, description="Last local date, YYYY-MM-DD, inclusive (default: today)"),
    period: str = Query("month", description="day, week (from Monday) or month"),
    by: str = Query("none", description="none, channel, campaign or form"),
    channel: list[str] | None = Query(None, description="First-touch channel (repeatable); 'none' for leads without one"),
    campaign_id: list[str] | None = Query(None, description="Campaign id (repeatable)"),
    form_id: list[str] | None = Query(None, description="Form id (repeatable)"),
) -> KpiQuery:
    """The KPI query from query parameters, validated by KpiQuery (422 names the parameter)."""
    try:
        return KpiQuery(date_from=date_from or None, date_to=date_to or None, period=period, by=by,
                        channel=channel or None, campaign_id=campaign_id or None, form_id=form_id or None)
    except ValidationError as exc:
        # The parameter, not the position of a bad value among repeated ones.
        raise RequestValidationError([{**e, "loc": ("query", e["loc"][0])} for e in exc.errors()]) from None


QueryDep = Annotated[KpiQuery, Depends(kpi_query)]


def _kpi(name: str):
    if name not in KPIS:
        raise KpiError(f"unknown KPI {name[:40]!r}; expected summary or one of: {', '.join(KPIS)}",
                       field="name", status=404)
    return KPIS[name]


def _table(result: dict[str, Any], name: str, table: str | None) -> list[dict[str, Any]]:
    if table is None:
        table = MAIN_TABLES.get(name)
    if table is None:
        return [{k: v for k, v in result.items() if not isinstance(v, (list, dict))}]
    value = result.get(table)
    if not isinstance(value, list):
        tables = [k for k, v in result.items() if isinstance(v, list)]
        raise KpiError(f"{table[:40]!r} is not a table of {name}; expected one of: {', '.join(tables) or 'none'}",
                       field="table")
    return value


def _csv(rows: list[dict[str, Any]], filename: str) -> Response:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/kpi/summary", summary="Every headline KPI of a date range")
def api_kpi_summary(db: DB, user: ApiUser, query: QueryDep) -> dict[str, Any]:
    return summary(db, query=query)


@router.get("/kpi/summary.csv", summary="The summary as a one-row CSV", response_class=Response)
def api_kpi_summary_csv(db: DB, user: ApiUser, query: QueryDep) -> Response:
    return _csv(_table(summary(db, query=query), "summary", None), "kpi-summary.csv")


@router.get("/kpi/{name}.csv", summary="A KPI's table as CSV", response_class=Response)
def api_kpi_csv(
    name: str, db: DB, user: ApiUser, query: QueryDep,
    table: str | None = Query(None, description="Which list of the KPI's result (default: its main table)"),
) -> Response:
    kpi = _kpi(name)
    return _csv(_table(kpi(db, query=query), name, table), f"kpi-{name}.csv")


@router.get("/kpi/{name}", summary="One KPI, broken down by period and group")
def api_kpi(name: str, db: DB, user: ApiUser, query: QueryDep) -> dict[str, Any]:
    return _kpi(name)(db, query=query)
