"""`leadflow score`: scoring models, rescoring, explanations and backtests."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from leadflow.cli_support import console, ensure_database, fail, print_json

app = typer.Typer(help="Scoring models, rescoring, explanations and backtests.", no_args_is_help=True)

FileArg = typer.Argument(..., exists=False, help="A scoring model document (YAML or JSON).")


def _read_model(path: Path):
    from leadflow.scoring.schemas import ModelError, parse_model_text

    if not path.is_file():
        fail(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read it ({exc})")
    try:
        return text, parse_model_text(text)
    except ModelError as exc:
        lines = "\n".join(f"  {loc or '(document)'}: {msg}" for loc, msg in exc.errors)
        fail(f"{path} is not a valid scoring model:\n{lines}")


def _version_row(s, version: int | None):
    from leadflow.scoring.service import get_active_version, get_model_version

    row = get_active_version(s) if version is None else get_model_version(s, version=version)
    if row is None:
        fail("no scoring model is active" if version is None else f"no scoring model version {version}")
    return row


@app.command("models")
def models_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the scoring model versions (the active one marked)."""
    from leadflow.db.session import unit_of_work
    from leadflow.scoring.service import list_model_versions

    ensure_database()
    with unit_of_work() as s:
        rows = [{"version": r.version, "name": r.name, "status": r.status, "created_at": r.created_at,
                 "activated_at": r.activated_at, "notes": r.notes,
                 "backtest_roc_auc": (r.backtest or {}).get("roc_auc")} for r in list_model_versions(s)]
    if as_json:
        print_json(rows)
        return
    table = Table("version", "name", "status", "created", "backtest AUC", "notes")
    for r in rows:
        auc = r["backtest_roc_auc"]
        table.add_row(str(r["version"]), r["name"], ("[bold green]active[/]" if r["status"] == "active" else r["status"]),
                      r["created_at"].strftime("%Y-%m-%d %H:%M"), f"{auc:.3f}" if auc is not None else "—", r["notes"])
    console.print(table)


@app.command("show")
def show_cmd(
    version: int = typer.Argument(None, help="Version (default: the active one)."),
    as_json: bool = typer.Option(False, "--json", help="Print the document as JSON instead of YAML."),
) -> None:
    """Print a model version's document (YAML; JSON with --json)."""
    from leadflow.db.session import unit_of_work
    from leadflow.scoring.schemas import model_to_yaml
    from leadflow.scoring.service import model_of

    ensure_database()
    with unit_of_work() as s:
        row = _version_row(s, version)
        doc, data = model_of(row), {"version": row.version, "status": row.status, "document": row.document}
    if as_json:
        print_json(data)
    else:
        typer.echo(f"# version {data['version']} ({data['status']})\n" + model_to_yaml(doc), nl=False)


@app.command("default")
def default_cmd() -> None:
    """Print the default model that ships with leadflow (a starting point for your own)."""
    from leadflow.scoring.schemas import default_model_text

    typer.echo(default_model_text(), nl=False)


@app.command("validate")
def validate_cmd(path: Path = FileArg) -> None:
    """Check a model document; exit 1 with each bad key otherwise."""
    _, doc = _read_model(path)
    console.print(f"[green]valid[/]: {doc.name} ({len(doc.fit.rules)} fit rules, {len(doc.engagement.rules)} engagement rules)")


@app.command("create")
def create_cmd(
    path: Path = FileArg,
    notes: str = typer.Option("", help="What changed and why."),
    activate: bool = typer.Option(False, "--activate", help="Activate it at once (rescores every lead)."),
    force: bool = typer.Option(False, "--force", help="With --activate: even when its backtest is worse."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Store a model document as a new draft version (optionally activate it)."""
    from leadflow.db.session import unit_of_work
    from leadflow.scoring.schemas import model_to_data
    from leadflow.scoring.service import create_model_version

    _, doc = _read_model(path)
    ensure_database()
    with unit_of_work() as s:
        row = create_model_version(s, data=model_to_data(doc), notes=notes)
        version = row.version
    if activate:
        _activate(version, force=force, as_json=as_json)
        return
    if as_json:
        print_json({"version": version, "status": "draft"})
    else:
        console.print(f"stored version {version} (draft); `leadflow score backtest --version {version}` "
                      f"then `leadflow score activate {version}`")


def _activate(version: int, *, force: bool, as_json: bool) -> None:
    import time

    from leadflow.db.session import get_engine, unit_of_work
    from leadflow.scoring.service import (
        activate_model_version,
        backtest_model,
        model_of,
        rescore_everyone,
    )

    with unit_of_work() as s:
        row = _version_row(s, version)
        report = backtest_model(s, doc=model_of(row), version=row.version)
        row.backtest = report.to_dict()
    if report.worse and not force:
        fail(f"version {version} ranks leads worse than the active model ({'; '.join(report.warnings)}); "
             "use --force to activate it anyway", code=2)
    started = time.perf_counter()
    with unit_of_work() as s:
        activate_model_version(s, version=version, rescore=False)
    rescore_everyone(get_engine())
    seconds = time.perf_counter() - started
    if as_json:
        print_json({"version": version, "status": "active", "rescore_seconds": round(seconds, 3)})
    else:
        console.print(f"version {version} is active; every lead rescored in {seconds:.1f} s")


@app.command("activate")
def activate_cmd(
    version: int = typer.Argument(..., help="The version to make active."),
    force: bool = typer.Option(False, "--force", help="Even when its backtest is worse than the active model's."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Backtest a version against the active one, activate it, rescore every lead."""
    ensure_database()
    _activate(version, force=force, as_json=as_json)


@app.command("rescore")
def rescore_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Score every lead with the active model now."""
    import time

    from leadflow.db.session import get_engine
    from leadflow.scoring.service import rescore_everyone

    ensure_database()
    started = time.perf_counter()
    n = rescore_everyone(get_engine())
    seconds = time.perf_counter() - started
    if as_json:
        print_json({"scored": n, "seconds": round(seconds, 3)})
    else:
        console.print(f"scored {n:,} leads in {seconds:.1f} s")


@app.command("explain")
def explain_cmd(
    lead: str = typer.Argument(..., help="Lead id or email."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Why a lead has its score: every contribution, largest first, fit, intent and engagement apart."""
    from leadflow.db.session import unit_of_work
    from leadflow.scoring.api import explanation_dict
    from leadflow.scoring.service import explain_lead

    ensure_database()
    with unit_of_work() as s:
        lead_id = _lead_id(s, lead)
        found = explain_lead(s, lead_id=lead_id)
        if found is None:
            fail("no scoring model is active")
        data = explanation_dict(*found)
    if as_json:
        print_json(data)
        return
    console.print(f"lead {data['lead_id']}: score [bold]{data['score']:.1f}[/] = fit {data['fit_points']:.0f} "
                  f"(grade {data['fit_grade']}) + engagement {data['engagement']:.1f} + intent {data['intent']:.1f}"
                  f"  [dim](model v{data['version']}, at {data['at'][:16]})[/]")
    for title, key in (("Fit", "fit"), ("Intent", "intent_lines"), ("Engagement", "engagement_lines")):
        rows = data[key]
        if not rows:
            continue
        table = Table("rule", "points", "now", "when", "note", title=title, title_justify="left")
        for x in rows:
            table.add_row(x["label"], f"{x['points']:g}", f"{x['value']:+.2f}", (x["occurred_at"] or "")[:16], x["note"])
        console.print(table)


def _lead_id(s, ref: str) -> int:
    from leadflow.leads.normalize import InvalidValue, normalize_email
    from leadflow.leads.service import find_lead, get_lead

    if ref.isdigit():
        if get_lead(s, lead_id=int(ref)) is None:
            fail(f"LEAD: no lead with id {ref}")
        return int(ref)
    try:
        email = normalize_email(ref)
    except InvalidValue as exc:
        fail(f"LEAD: {ref!r} is neither a lead id nor an email address ({exc})")
    lead = find_lead(s, email=email, external_id=None)
    if lead is None:
        fail(f"LEAD: no lead with email {email}")
    return lead.id


@app.command("backtest")
def backtest_cmd(
    model: Path = typer.Option(None, "--model", help="A model document to test (default: the active model)."),
    version: int = typer.Option(None, "--version", help="A stored version to test."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON (ROC AUC under roc_auc)."),
) -> None:
    """Replay a model over leads whose outcome is known: AUC, conversion by grade and decile, mql/sql today."""
    from leadflow.db.session import unit_of_work
    from leadflow.scoring.service import backtest_model, model_of

    if model is not None and version is not None:
        fail("give --model or --version, not both")
    doc = _read_model(model)[1] if model is not None else None
    ensure_database()
    with unit_of_work() as s:
        if doc is None:
            row = _version_row(s, version)
            doc, v = model_of(row), row.version
        else:
            v = None
        report = backtest_model(s, doc=doc, version=v)
        if v is not None:
            _version_row(s, v).backtest = report.to_dict()
    data = report.to_dict()
    if as_json:
        print_json(data)
        return
    _print_report(data)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def _print_report(d: dict) -> None:
    auc = d["roc_auc"]
    console.print(f"[bold]{d['name']}[/] ({'version ' + str(d['version']) if d['version'] else 'file'}): "
                  f"ROC AUC [bold]{auc:.3f}[/] over {d['leads_with_outcome']:,} leads with an outcome "
                  f"({d['converted']:,} converted, {_pct(d['base_rate'])})" if auc is not None else
                  f"[bold]{d['name']}[/]: no AUC ({d['leads_with_outcome']} leads with an outcome)")
    for title, key in (("Conversion by grade", "by_grade"), ("Conversion by score decile (1 = top)", "by_decile")):
        table = Table("bucket", "leads", "converted", "rate", "lift", title=title, title_justify="left")
        for b in d[key]:
            table.add_row(b["label"], f"{b['leads']:,}", f"{b['converted']:,}", _pct(b["rate"]),
                          "—" if b["lift"] is None else f"{b['lift']:.2f}x")
        console.print(table)
    console.print(f"today: {d['mql_today']:,} leads would be mql, {d['sql_today']:,} sql")
    c = d.get("compared_to")
    if c:
        delta = c["roc_auc_delta"]
        console.print(f"vs active v{c['version']} ({c['name']}): AUC {c['roc_auc'] or 0:.3f} "
                      f"({'' if delta is None else f'{delta:+.3f}'}), mql {c['mql_today_delta']:+,}, sql {c['sql_today_delta']:+,}")
    for w in d["warnings"]:
        console.print(f"[yellow]warning:[/] {w}")
