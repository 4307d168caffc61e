"""`leadflow leads`: list, show, import and export leads."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.table import Table

from leadflow.cli_support import console, ensure_database, fail, print_json

app = typer.Typer(help="Leads: list, show, import, export.", no_args_is_help=True)


def _filter(q, stage, channel, campaign_id, owner_id, outcome, country, created_from, created_to, sort,
            grade=None, min_score=None, max_score=None, min_intent=None, min_probability=None):
    from leadflow.leads.schemas import LeadFilter

    try:
        return LeadFilter(q=q, stage=stage or None, channel=channel or None, campaign_id=campaign_id or None,
                          owner_id=owner_id or None, outcome=outcome or None, country=country or None,
                          created_from=created_from, created_to=created_to, grade=grade or None,
                          min_score=min_score, max_score=max_score, min_intent=min_intent,
                          min_probability=min_probability, sort=sort)
    except ValidationError as exc:
        err = exc.errors()[0]
        fail(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']}")


_Q = typer.Option(None, "--q", "-q", help="Words starting a name, email, company or external id.")
_STAGE = typer.Option(None, "--stage", help="Stage (repeatable).")
_CHANNEL = typer.Option(None, "--channel", help="First-touch channel (repeatable).")
_CAMPAIGN = typer.Option(None, "--campaign-id", help="Campaign id (repeatable).")
_OWNER = typer.Option(None, "--owner-id", help="Owner user id, 0 for unassigned (repeatable).")
_OUTCOME = typer.Option(None, "--outcome", help="won, lost or open (repeatable).")
_COUNTRY = typer.Option(None, "--country", help="ISO country code (repeatable).")
_FROM = typer.Option(None, "--created-from", help="YYYY-MM-DD")
_TO = typer.Option(None, "--created-to", help="YYYY-MM-DD (inclusive)")
_SORT = typer.Option("-created_at", "--sort",
                     help="Field, '-' for descending: created_at, last_name, score, fit_grade, intent_score, "
                          "conversion_probability, expected_value, ...")
_GRADE = typer.Option(None, "--grade", help="Fit grade A-D (repeatable).")
_MIN_SCORE = typer.Option(None, "--min-score", help="Score at least this.")
_MAX_SCORE = typer.Option(None, "--max-score", help="Score at most this.")
_MIN_INTENT = typer.Option(None, "--min-intent", help="Intent score at least this.")
_MIN_PROBABILITY = typer.Option(None, "--min-probability", help="Conversion probability at least this (0 to 1).")


@app.command("list")
def list_cmd(
    q: str = _Q, stage: list[str] = _STAGE, channel: list[str] = _CHANNEL, campaign_id: list[int] = _CAMPAIGN,
    owner_id: list[int] = _OWNER, outcome: list[str] = _OUTCOME, country: list[str] = _COUNTRY,
    created_from: str = _FROM, created_to: str = _TO, grade: list[str] = _GRADE, min_score: float = _MIN_SCORE,
    max_score: float = _MAX_SCORE, min_intent: float = _MIN_INTENT, sort: str = _SORT,
    min_probability: float = _MIN_PROBABILITY,
    page: int = typer.Option(1, min=1, help="Page number."),
    page_size: int = typer.Option(50, min=1, max=500, help="Leads per page."),
    as_json: bool = typer.Option(False, "--json", help="Print {total, items} as JSON."),
) -> None:
    """List leads matching the filters."""
    from leadflow.db.session import unit_of_work
    from leadflow.leads.schemas import LeadOut
    from leadflow.leads.service import list_leads

    f = _filter(q, stage, channel, campaign_id, owner_id, outcome, country, created_from, created_to, sort,
                grade, min_score, max_score, min_intent, min_probability)
    ensure_database()
    with unit_of_work() as s:
        total, items = list_leads(s, filter=f, page=page, page_size=page_size)
        rows = [LeadOut.model_validate(i).model_dump(mode="json") for i in items]
    if as_json:
        print_json({"total": total, "page": page, "page_size": page_size, "items": rows})
        return
    table = Table("id", "name", "email", "company", "stage", "grade", "score", "channel", "created",
                  title=f"{total:,} leads")
    for r in rows:
        name = " ".join(p for p in (r["first_name"], r["last_name"]) if p)
        score = "" if r["score"] is None else f"{r['score']:.0f}"
        table.add_row(str(r["id"]), name, r["email"] or r["external_id"] or "", r["company_name"] or "",
                      r["stage"], r["fit_grade"] or "", score, r["first_channel"] or "", (r["created_at"] or "")[:10])
    console.print(table)
    if total > page * page_size:
        console.print(f"page {page} of {-(-total // page_size):,} — use --page")


@app.command("show")
def show_cmd(
    lead_id: int = typer.Argument(..., help="Lead id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (lead, events, stage history, consent)."),
) -> None:
    """Show one lead with its timeline and stage history."""
    from leadflow.db.session import unit_of_work
    from leadflow.leads.schemas import ConsentOut, EventOut, LeadOut, StageChangeOut
    from leadflow.leads.service import get_lead, list_consent, list_events
    from leadflow.lifecycle.service import list_stage_changes

    ensure_database()
    with unit_of_work() as s:
        lead = get_lead(s, lead_id=lead_id)
        if lead is None:
            fail(f"no lead with id {lead_id}")
        out = {
            "lead": LeadOut.model_validate(lead).model_dump(mode="json"),
            "events": [EventOut.model_validate(e).model_dump(mode="json") for e in list_events(s, lead_id=lead_id)],
            "stage_changes": [StageChangeOut.model_validate(c).model_dump(mode="json")
                              for c in list_stage_changes(s, lead_id=lead_id)],
            "consent": [ConsentOut.model_validate(c).model_dump(mode="json") for c in list_consent(s, lead_id=lead_id)],
        }
    if as_json:
        print_json(out)
        return
    lead = out["lead"]
    table = Table(show_header=False, box=None)
    for key, value in lead.items():
        if value not in (None, "", {}):
            table.add_row(f"[dim]{key}[/]", str(value))
    console.print(table)
    console.print("[bold]Stage history[/]")
    for c in out["stage_changes"]:
        console.print(f"  {c['changed_at'][:16]}  {c['from_stage'] or '—'} → {c['to_stage']}  ({c['actor_type']}: {c['reason']})")
    console.print(f"[bold]Timeline[/] ({len(out['events'])} most recent)")
    for e in out["events"][:30]:
        console.print(f"  {e['occurred_at'][:16]}  {e['type']}  {e['properties']}")


@app.command("export")
def export_cmd(
    q: str = _Q, stage: list[str] = _STAGE, channel: list[str] = _CHANNEL, campaign_id: list[int] = _CAMPAIGN,
    owner_id: list[int] = _OWNER, outcome: list[str] = _OUTCOME, country: list[str] = _COUNTRY,
    created_from: str = _FROM, created_to: str = _TO, grade: list[str] = _GRADE, min_score: float = _MIN_SCORE,
    max_score: float = _MAX_SCORE, min_intent: float = _MIN_INTENT, sort: str = _SORT,
    min_probability: float = _MIN_PROBABILITY,
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),
) -> None:
    """Export the leads matching the filters as CSV."""
    from leadflow.db.session import get_engine
    from leadflow.leads.exporting import iter_csv

    f = _filter(q, stage, channel, campaign_id, owner_id, outcome, country, created_from, created_to, sort,
                grade, min_score, max_score, min_intent, min_probability)
    ensure_database()
    chunks = iter_csv(get_engine(), f)
    if output is None:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        return
    tmp = output.with_suffix(output.suffix + ".part")
    with tmp.open("wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
    tmp.replace(output)
    console.print(f"[green]wrote[/] {output}", highlight=False)


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., exists=False, help="CSV file (UTF-8, UTF-8 with BOM or Latin-1; any delimiter)."),
    map_: list[str] = typer.Option(None, "--map", help="column=field, overriding the detected mapping (repeatable)."),
    report: Path = typer.Option(None, "--report", help="Where to write the per-row error report CSV."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and show the mapping; write nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Import leads from a CSV file (deduplicated; re-importing creates no duplicates)."""
    from leadflow.leads.importing import cli_import

    ensure_database()
    cli_import(file=file, mapping_args=map_ or [], report=report, dry_run=dry_run, as_json=as_json)
    if not dry_run:
        _score_after_import(quiet=as_json)


def _score_after_import(*, quiet: bool) -> None:
    """Score the workspace after an import (imports write leads set-based, without the per-lead rescoring)."""
    import time

    from leadflow.db.session import get_engine
    from leadflow.scoring.service import rescore_everyone

    started = time.perf_counter()
    n = rescore_everyone(get_engine())
    if not quiet:
        console.print(f"scored {n:,} leads with the active model in {time.perf_counter() - started:.1f} s")
