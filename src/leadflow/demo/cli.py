"""`leadflow demo`: migrate, seed the demo workspace, start the server."""

from __future__ import annotations

import time

import typer

DEFAULT_LEADS = 3000
DEFAULT_SEED = 42


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        leads: int = typer.Option(DEFAULT_LEADS, "--leads", min=0, help="How many leads to generate."),
        serve: bool = typer.Option(True, "--serve/--no-serve", help="Start the server afterwards."),
        seed: int = typer.Option(DEFAULT_SEED, help="Random seed (same seed on the same day, same workspace)."),
        fresh: bool = typer.Option(False, "--fresh", help="Wipe all data first and seed again."),
    ) -> None:
        """Create the database, seed a realistic demo workspace (Northwind Analytics) and start the server.

        Dates are anchored to today at 00:00 UTC: the same seed on another day gives the same
        workspace shifted by the days in between.
        """
        run_demo(leads=leads, serve=serve, seed=seed, fresh=fresh)


def run_demo(*, leads: int, serve: bool, seed: int, fresh: bool) -> None:
    """Migrate, seed unless already seeded, print the login, then serve unless told not to."""
    from rich.panel import Panel
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from leadflow.cli_support import console
    from leadflow.config import get_settings
    from leadflow.db.migrate import upgrade
    from leadflow.db.session import get_engine
    from leadflow.demo import catalog
    from leadflow.demo.generator import default_now
    from leadflow.demo.service import seed_demo_workspace, wipe_database

    settings = get_settings()
    engine = get_engine()
    if fresh:
        engine = wipe_database(engine)
        console.print("[yellow]wiped all data[/] (--fresh)")
    upgrade(engine)
    started = time.perf_counter()
    with Progress(TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        tasks: dict[str, int] = {}

        def on_progress(table: str, rows: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task(table, total=total)
            progress.advance(tasks[table], rows)

        outcome = seed_demo_workspace(engine, n_leads=leads, seed=seed, now=default_now(), on_progress=on_progress)
    elapsed = time.perf_counter() - started
    if outcome.seeded:
        console.print(f"[green]seeded {outcome.rows['leads']:,} leads[/] with {outcome.rows['events']:,} events "
                      f"and {outcome.rows['stage_changes']:,} stage changes in {elapsed:.1f} s")
    elif outcome.reason == "demo":
        console.print("[cyan]the demo workspace is already seeded[/] (use --fresh to start over)")
    else:
        console.print("[yellow]this database already holds leads; not adding demo data[/] "
                      "(use --fresh to wipe it and seed the demo)")
    url = f"http://{settings.host}:{settings.port}/"
    login = (f"[bold]{catalog.COMPANY_NAME}[/] demo workspace\n\n"
             f"URL:       [link={url}]{url}[/link]\n"
             f"Email:     [bold]{catalog.ADMIN_EMAIL}[/]\n"
             f"Password:  [bold]{catalog.DEMO_PASSWORD}[/]  (a demo password: fine on your machine, "
             f"never for real data)\n"
             f"Database:  {settings.resolved_database_url.split('@')[-1]}")
    if outcome.seeded or outcome.reason == "demo":
        console.print(Panel(login, title="leadflow demo", expand=False))
    if serve:
        from leadflow.cli import serve as serve_command

        serve_command(host=None, port=None, workers=1, migrate=False)
