"""Leads list latency on 1,000,000 demo leads, on SQLite and PostgreSQL.

Seeds the demo workspace (leadflow.demo) into a fresh SQLite file and a fresh PostgreSQL schema,
then times leads.service.list_leads (a COUNT for the total plus the page query) for the filters
and sorts people use, and checks each call runs exactly two SQL statements (no query per row).

    /work/venv/bin/python benchmarks/bench_leads_list.py            # seed both, then measure
    /work/venv/bin/python benchmarks/bench_leads_list.py --no-seed  # measure the existing databases
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import typer
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session

from leadflow.db.migrate import upgrade
from leadflow.db.session import make_engine
from leadflow.demo.generator import default_now
from leadflow.demo.service import seed_demo_workspace
from leadflow.leads.schemas import LeadFilter
from leadflow.leads.service import list_leads

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_list"
SQLITE_PATH = Path(__file__).resolve().parent / "out" / "bench_list.db"  # git-ignored
REPEATS = 7  # timed runs per case, after one warm-up run
TARGET_MS = 100.0  # first page of any filter and sort
STATEMENTS_PER_CALL = 2  # COUNT for the total, then the page


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    filter: LeadFilter


def _cases(session: Session) -> list[Case]:
    from leadflow.auth.models import User
    from leadflow.campaigns.models import Campaign
    from leadflow.leads.models import Lead

    campaign = session.scalar(select(Campaign.id).where(Campaign.utm_campaign == "linkedin-abm"))
    owner = session.scalar(select(User.id).where(User.role == "sales").order_by(User.id))
    newest = session.scalar(select(func.max(Lead.created_at)))
    since = (newest - timedelta(days=30)).date()
    return [
        Case("all, sort -created_at", LeadFilter(sort="-created_at")),
        Case("all, sort last_name", LeadFilter(sort="last_name")),
        Case("all, sort company_name", LeadFilter(sort="company_name")),
        Case("all, sort -last_activity_at", LeadFilter(sort="-last_activity_at")),
        Case("all, sort email", LeadFilter(sort="email")),
        Case('q="maria"', LeadFilter(q="maria")),
        Case('q="acme"', LeadFilter(q="acme")),
        Case("stage=mql", LeadFilter(stage=["mql"])),
        Case("channel=paid_search", LeadFilter(channel=["paid_search"])),
        Case(f"campaign_id={campaign}", LeadFilter(campaign_id=[campaign])),
        Case(f"owner_id={owner}", LeadFilter(owner_id=[owner])),
        Case("created last 30 days", LeadFilter(created_from=since)),
        Case("stage=mql + channel=paid_search", LeadFilter(stage=["mql"], channel=["paid_search"])),
        Case("stage=mql, sort last_name", LeadFilter(stage=["mql"], sort="last_name")),
    ]


def _seed(engine: Engine, *, leads: int) -> float:
    upgrade(engine)
    started = time.perf_counter()
    outcome = seed_demo_workspace(engine, n_leads=leads, seed=42, now=default_now())
    assert outcome.seeded, outcome
    return time.perf_counter() - started


def _measure(engine: Engine, label: str) -> list[tuple]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    rows = []
    try:
        with Session(engine) as session:
            cases = _cases(session)
        for case in cases:
            times, per_call, total = [], set(), 0
            for run in range(REPEATS + 1):
                with Session(engine) as session:
                    statements.clear()
                    started = time.perf_counter()
                    total, page = list_leads(session, filter=case.filter, page=1, page_size=50)
                    elapsed = (time.perf_counter() - started) * 1000
                    per_call.add(len(statements))
                    assert len(page) == min(50, total)
                if run:
                    times.append(elapsed)
            p95 = float(np.percentile(times, 95))
            rows.append((label, case.name, total, statistics.median(times), p95, sorted(per_call)))
            print(f"{label:10} {case.name:34} total={total:>9,}  median={statistics.median(times):8.1f} ms  "
                  f"p95={p95:8.1f} ms  statements={sorted(per_call)}"
                  f"{'' if p95 <= TARGET_MS else '  > target'}", flush=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return rows


def main(
    leads: int = typer.Option(1_000_000, help="Leads to seed."),
    seed_data: bool = typer.Option(True, "--seed/--no-seed", help="Seed fresh databases first."),
    sqlite: bool = typer.Option(True, help="Benchmark SQLite."),
    postgres: bool = typer.Option(True, help="Benchmark PostgreSQL."),
    pg_url: str = typer.Option(DEFAULT_PG, help="PostgreSQL server (a schema bench_list is dropped and created)."),
    sqlite_path: Path = typer.Option(SQLITE_PATH, help="SQLite file (deleted and re-created when seeding)."),
) -> None:
    """Seed the demo workspace and time the leads list."""
    print(f"leadflow leads-list benchmark, {datetime.now():%Y-%m-%d %H:%M}, {leads:,} leads", flush=True)
    results = []
    if sqlite:
        url = f"sqlite:///{sqlite_path.resolve()}"
        if seed_data:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        engine = make_engine(url)
        if seed_data:
            print(f"sqlite     seeded in {_seed(engine, leads=leads):.1f} s ({sqlite_path})", flush=True)
        results += _measure(engine, "sqlite")
        engine.dispose()
    if postgres:
        admin = make_engine(pg_url)
        if seed_data:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
                conn.execute(text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
        admin.dispose()
        sep = "&" if "?" in pg_url else "?"
        engine = make_engine(f"{pg_url}{sep}options=-csearch_path%3D{PG_SCHEMA}")
        if seed_data:
            print(f"postgres   seeded in {_seed(engine, leads=leads):.1f} s (schema {PG_SCHEMA})", flush=True)
        results += _measure(engine, "postgres")
        engine.dispose()
    print("\n| database | case | matches | median ms | p95 ms | statements/call |")
    print("|---|---|---:|---:|---:|---:|")
    for label, name, total, median, p95, per_call in results:
        print(f"| {label} | {name} | {total:,} | {median:.1f} | {p95:.1f} | {'/'.join(map(str, per_call))} |")


if __name__ == "__main__":
    typer.run(main)
