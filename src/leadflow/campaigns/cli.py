"""`leadflow campaigns`: list campaigns with their leads and spend; import daily spend."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import typer
from rich.table import Table

from leadflow.cli_support import console, ensure_database, fail, print_json

app = typer.Typer(help="Campaigns and their spend.", no_args_is_help=True)


@app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List campaigns with lead count and total spend."""
    from leadflow.campaigns.service import list_campaigns, spend_by_campaign
    from leadflow.db.session import unit_of_work
    from leadflow.leads.service import count_leads_by_campaign

    ensure_database()
    with unit_of_work() as s:
        leads_by, spend_by = count_leads_by_campaign(s), spend_by_campaign(s)
        rows = [{"id": c.id, "name": c.name, "channel": c.channel, "utm_campaign": c.utm_campaign,
                 "leads": leads_by.get(c.id, 0), "spend": spend_by.get(c.id, Decimal(0))}
                for c in list_campaigns(s)]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "name", "channel", "utm_campaign", "leads", "spend")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["channel"], r["utm_campaign"] or "", str(r["leads"]), f"{r['spend']:,.2f}")
    console.print(table)


spend_app = typer.Typer(help="The daily spend ledger.", no_args_is_help=True)
app.add_typer(spend_app, name="spend")


@spend_app.command("import")
def spend_import_cmd(
    file: Path = typer.Argument(..., help="CSV with the columns campaign (id, name or utm_campaign), day, amount."),
    report: Path = typer.Option(None, "--report", help="Write every problem to this CSV (row, column, value, reason, severity)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row; record nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Record daily spend from a CSV file: good rows are recorded, bad rows reported by row and column."""
    from dataclasses import asdict

    from leadflow.campaigns.importing import import_spend_csv
    from leadflow.campaigns.service import CampaignError
    from leadflow.db.session import unit_of_work

    if not file.is_file():
        fail(f"no such file: {file}")
    ensure_database()
    try:
        with unit_of_work() as s:
            result = import_spend_csv(s, data=file.read_bytes(), dry_run=dry_run)
    except CampaignError as exc:
        fail(f"{file.name}: nothing recorded: {exc}")
    if report is not None:
        _write_report(report, result.problems)
    if as_json:
        print_json(asdict(result))
    else:
        verb = "would record" if dry_run else "recorded"
        days = "day" if result.recorded == 1 else "days"
        console.print(f"[green]{file.name}[/]: {result.rows:,} rows, {verb} {result.recorded:,} {days} "
                      f"({result.new_days:,} new, {result.changed_days:,} changed, {result.unchanged_days:,} same) "
                      f"totalling {result.total_amount:,.2f}; {result.rejected:,} rejected, "
                      f"{result.duplicates:,} repeated days", highlight=False)
        for p in result.problems[:10]:
            color = "red" if p.severity == "error" else "yellow"
            console.print(f"  [{color}]{p.severity}[/] row {p.row}, column {p.column!r}: {p.reason}"
                          + (f" ({p.value!r})" if p.value else ""), highlight=False)
        if len(result.problems) > 10:
            console.print(f"  … and {len(result.problems) - 10:,} more" + (f" in {report}" if report else
                          " (use --report FILE.csv for all)"), highlight=False)
    if result.rows and not result.recorded:
        fail(f"{file.name}: no row could be recorded")


def _write_report(path: Path, problems: list) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "column", "value", "reason", "severity"])
        for p in problems:
            writer.writerow([p.row, p.column, p.value, p.reason, p.severity])
