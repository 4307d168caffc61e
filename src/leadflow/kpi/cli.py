"""`leadflow kpi`: the lead KPIs of a date range, as tables or JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from rich.table import Table

from leadflow.cli_support import console, ensure_database, fail, print_json

app = typer.Typer(help="Lead KPIs over a date range, in the workspace's time zone (see docs/kpis.md).",
                  no_args_is_help=True)

# Where each KpiQuery field comes from on the command line.
OPTIONS = {"date_from": "--from", "date_to": "--to", "period": "--period", "by": "--by", "channel": "--channel",
           "campaign_id": "--campaign", "form_id": "--form", "timezone": "LEADFLOW_TIMEZONE"}
# The commands, one per KPI (the service's KPIS, checked by the tests), without importing the service
# (and NumPy) each time the CLI starts.
COMMANDS = {
    "summary": "Every headline KPI of the range: leads, conversion rate, cost per lead, time to convert, ...",
    "leads": "Leads generated per period (and group).",
    "quality": "Fit grade distribution, ICP share (grade A) and average scores.",
    "conversion": "Conversion rate of the range's leads (cohort), the stage funnel, rows per period.",
    "cost": "Spend, cost per lead and cost per customer per campaign (per channel with --by channel).",
    "time_to_convert": "Median and p90 days from creation to customer, histogram, time in each stage.",
    "speed_to_lead": "Hours from sales-ready (sql) to the first sales contact.",
    "score_effectiveness": "Conversion rate by fit grade and by score decile.",
}


def _query(**values: Any):
    from pydantic import ValidationError

    from leadflow.kpi.schemas import KpiQuery

    try:
        return KpiQuery(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        fail(f"{OPTIONS.get(str(err['loc'][0]), err['loc'][0])}: {err['msg']}")


def _format(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.1%}" if ("rate" in key or "share" in key) else f"{value:,.2f}"
    return str(value)


def _render(title: str, result: dict[str, Any]) -> None:
    scalars = Table("KPI", "value", title=title, title_justify="left")
    for key, value in result.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                scalars.add_row(f"{key}.{sub}", _format(sub, v))
        elif not isinstance(value, list):
            scalars.add_row(key, _format(key, value))
    if scalars.row_count:
        console.print(scalars)
    for key, rows in result.items():
        if not isinstance(rows, list) or not rows:
            continue
        columns = [c for c in rows[0] if c != "group_key"]
        table = Table(*columns, title=key, title_justify="left")
        for row in rows:
            table.add_row(*(_format(c, row.get(c)) for c in columns))
        console.print(table)


def _command(name: str) -> Callable[..., None]:
    def run(
        date_from: str = typer.Option(None, "--from", help="First local date, YYYY-MM-DD (default: 89 days before --to)."),
        date_to: str = typer.Option(None, "--to", help="Last local date, YYYY-MM-DD, inclusive (default: today)."),
        period: str = typer.Option("month", "--period", help="day, week (from Monday) or month."),
        by: str = typer.Option("none", "--by", help="Break down by none, channel, campaign or form."),
        channel: list[str] = typer.Option(None, "--channel", help="First-touch channel (repeatable); 'none' for no source."),
        campaign: list[str] = typer.Option(None, "--campaign", help="Campaign id (repeatable)."),
        form: list[str] = typer.Option(None, "--form", help="Form id (repeatable)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        from leadflow.db.session import unit_of_work
        from leadflow.kpi.schemas import KpiError
        from leadflow.kpi.service import KPIS, summary

        kpi = summary if name == "summary" else KPIS[name]
        query = _query(date_from=date_from or None, date_to=date_to or None, period=period, by=by,
                       channel=channel or None, campaign_id=campaign or None, form_id=form or None)
        ensure_database()
        try:
            with unit_of_work() as session:
                result = kpi(session, query=query)
        except KpiError as exc:
            fail(f"{OPTIONS.get(exc.field or '', exc.field)}: {exc}")
        if as_json:
            print_json(result)
        else:
            _render(name, result)

    run.__doc__ = COMMANDS[name]
    return run


for _name in COMMANDS:
    app.command(_name)(_command(_name))
