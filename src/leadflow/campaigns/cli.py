"""`leadflow campaigns`: list campaigns with their leads and spend."""

from __future__ import annotations

from decimal import Decimal

import typer
from rich.table import Table

from leadflow.cli_support import console, ensure_database, print_json

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
