"""The dashboard's KPI queries on 1,000,000 demo leads: SQLite, PostgreSQL, and DuckDB doing the same aggregates.

    python benchmarks/bench_kpi.py                    # 1,000,000 leads: SQLite, PostgreSQL (schema bench_kpi), DuckDB
    python benchmarks/bench_kpi.py --leads 100000
    python benchmarks/bench_kpi.py --no-postgres

Data: the demo workspace's SQLite file, `benchmarks/out/predict-demo-N.db` (built by
bench_predict_workspace.py) if it exists, else `benchmarks/out/bench_list.db` (bench_leads_list.py,
1,000,000 leads), else one seeded here (`benchmarks/out/kpi-demo-N.db`, leadflow.demo). It is opened
read-only. The PostgreSQL schema `bench_kpi` is loaded from it once (COPY, indexes built after,
VACUUM ANALYZE) and reused while its row counts match; DuckDB gets the tables the KPIs read from the
same file through Polars (Arrow) in every run, in memory.

Timed, for five queries (the page's default of the last 90 days by month, by channel, one channel,
one campaign, the last 365 days): every KPI of `leadflow.kpi.service.DASHBOARD` and `summary`, each
called alone (it reads its own ingredients), and the whole page (`web.dashboard.run_kpis`: all of
them sharing ingredients, as `GET /` runs them). One warm-up, then the median of 5 runs, each in a
new session; server time (SQL and the Python that combines it), no HTTP. DuckDB runs the same
aggregates in SQL (the grouped counts, funnel reach, spend, medians and 90th percentiles, first
contacts, deciles) the same way; its results are checked against the service's, and `ratio` is the
leadflow time over DuckDB's. Prints a markdown table with the machine and the date.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE.parent / "src"))

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_kpi"
RUNS, WARMUP = 5, 1
TIMES = "\u00d7"  # the multiplication sign of the ratios
SQLITE_TARGET_MS, PG_TARGET_MS = 500.0, 300.0
# The tables the KPIs read (campaigns and forms for names), in load order.
TABLES = ("campaigns", "forms", "campaign_spend", "leads", "stage_changes", "events")
COPY_BATCH = 50_000
FUNNEL_SQL = "CASE {col} WHEN 'suspect' THEN 0 WHEN 'prospect' THEN 1 WHEN 'mql' THEN 2 WHEN 'sql' THEN 3 " \
             "WHEN 'customer' THEN 4 ELSE 0 END"
CUSTOMER_SQL = "(outcome = 'won' OR converted_at IS NOT NULL)"


# ---- the data ------------------------------------------------------------------------------------

def _growing(path: Path) -> bool:
    """True while another process is writing PATH (its write-ahead log changes size)."""
    wal = Path(f"{path}-wal")
    if not wal.exists():
        return False
    before = wal.stat().st_size
    time.sleep(3)
    return wal.exists() and wal.stat().st_size != before


def sqlite_source(n: int, explicit: Path | None) -> Path:
    """The SQLite file to measure: given, reused from another benchmark, or seeded here."""
    candidates = [explicit] if explicit else [OUT / f"predict-demo-{n}.db", OUT / f"kpi-demo-{n}.db"]
    if not explicit and n == 1_000_000:
        candidates.insert(1, OUT / "bench_list.db")
    for path in candidates:
        if path and path.exists():
            if _growing(path):
                sys.exit(f"{path} is being written by another process; run again when it is done")
            return path
    path = OUT / f"kpi-demo-{n}.db"
    from leadflow.db.migrate import upgrade
    from leadflow.db.session import make_engine
    from leadflow.demo.generator import default_now
    from leadflow.demo.service import seed_demo_workspace

    OUT.mkdir(exist_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    started = time.perf_counter()
    seed_demo_workspace(engine, n_leads=n, seed=42, now=default_now())
    engine.dispose()
    print(f"seeded {n:,} demo leads into {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def sqlite_engine(path: Path):
    """A read-only engine on PATH with the app's read settings (page cache, temp store)."""
    from sqlalchemy import create_engine, event

    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(conn, _record):  # the app's, without journal_mode (a read-only file keeps its own)
        cur = conn.cursor()
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    return engine


def _counts(conn_exec: Callable[[str], int]) -> dict[str, int]:
    return {t: conn_exec(f'SELECT count(*) FROM "{t}"') for t in TABLES}


def postgres_engine(source: Path):
    """The bench_kpi schema, loaded from SOURCE unless it already holds the same rows."""
    from sqlalchemy import text

    from leadflow.db.bulk import defer_indexes, restore_indexes
    from leadflow.db.migrate import upgrade
    from leadflow.db.session import make_engine

    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{PG_SCHEMA}"'))
    admin.dispose()
    engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{PG_SCHEMA}")
    upgrade(engine)
    lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    want = _counts(lambda sql: lite.execute(sql).fetchone()[0])
    with engine.connect() as conn:
        have = _counts(lambda sql: conn.execute(text(sql)).scalar())
    if have == want:
        lite.close()
        return engine
    started = time.perf_counter()
    print(f"loading {want['leads']:,} leads into PostgreSQL schema {PG_SCHEMA} ...", file=sys.stderr)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in TABLES) + " CASCADE"))
        defer_indexes(conn, list(TABLES))
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        # Triggers (the foreign keys, the search table) off: these rows come whole from a consistent file.
        cur.execute("SET session_replication_role = replica")
        for table in TABLES:
            pg_columns = [r[0] for r in cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
                (PG_SCHEMA, table)).fetchall()]
            lite_columns = [r[1] for r in lite.execute(f'PRAGMA table_info("{table}")')]
            columns = [c for c in lite_columns if c in pg_columns]
            names = ", ".join(f'"{c}"' for c in columns)
            rows = lite.execute(f'SELECT {names} FROM "{table}"')
            with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                while batch := rows.fetchmany(COPY_BATCH):
                    for row in batch:
                        copy.write_row(row)
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"COALESCE((SELECT max(id) FROM \"{table}\"), 0) + 1, false)")
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        restore_indexes(conn)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in TABLES:
            conn.execute(text(f'VACUUM ANALYZE "{table}"'))
    lite.close()
    print(f"loaded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return engine


def duckdb_connection(source: Path):
    """An in-memory DuckDB with the columns the KPIs read, from SOURCE through Polars (Arrow)."""
    import duckdb
    import polars as pl

    columns = {
        "leads": "id, created_at, first_channel, campaign_id, form_id, stage, outcome, converted_at, fit_grade, "
                 "score, fit_points, engagement_score, intent_score, conversion_probability",
        "stage_changes": "id, lead_id, to_stage, changed_at",
        "events": "id, lead_id, type, source, occurred_at",
        "campaign_spend": "campaign_id, day, amount",
        "campaigns": "id, name, channel",
    }
    stamps = {"created_at", "converted_at", "changed_at", "occurred_at"}
    con = duckdb.connect()
    lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    started = time.perf_counter()
    for table, cols in columns.items():
        frame = pl.read_database(f'SELECT {cols} FROM "{table}"', connection=lite, infer_schema_length=None)
        frame = frame.with_columns(
            [pl.col(c).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False) for c in frame.columns if c in stamps]
            + ([pl.col("day").str.to_date("%Y-%m-%d"), pl.col("amount").cast(pl.Float64)] if table == "campaign_spend"
               else []))
        arrow = frame.to_arrow()  # noqa: F841  (read by name below)
        con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM arrow')
    lite.close()
    print(f"DuckDB: tables loaded from SQLite through Polars in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    return con


# ---- the queries ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    name: str
    params: dict[str, str]


def variants(source: Path, today: date) -> list[Variant]:
    lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    row = lite.execute("SELECT id, name FROM campaigns WHERE utm_campaign = 'linkedin-abm'").fetchone() or \
        lite.execute("SELECT id, name FROM campaigns ORDER BY id").fetchone()
    lite.close()
    return [
        Variant("last 90 days, by month", {"range": "90", "period": "month"}),
        Variant("last 90 days, by week, by channel", {"range": "90", "period": "week", "by": "channel"}),
        Variant("last 90 days, channel=paid_search", {"range": "90", "period": "month", "channel": "paid_search"}),
        Variant(f"last 90 days, campaign {row[1]}", {"range": "90", "period": "month", "campaign_id": str(row[0])}),
        Variant("last 365 days, by month", {"range": "365", "period": "month"}),
    ]


def _filters(variant: Variant, today: date):
    from leadflow.web.dashboard import parse_filters

    return parse_filters({k: v for k, v in variant.params.items() if k != "by"}, today=today)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    result = None
    for _ in range(WARMUP):
        result = fn()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def leadflow_cases(engine, variant: Variant, today: date, now: datetime) -> dict[str, tuple[float, Any]]:
    """{KPI name: (median ms, result)} for each dashboard KPI, summary, and the whole page."""
    from sqlalchemy.orm import Session

    from leadflow.kpi.service import DASHBOARD, KPIS, summary
    from leadflow.web.dashboard import run_kpis

    filters = _filters(variant, today)
    query = filters.query(variant.params.get("by", "none"))
    out = {}
    for name, fn in [("summary", summary), *((n, KPIS[n]) for n in DASHBOARD)]:
        def one(fn=fn):
            with Session(engine) as s:
                return fn(s, query=query, now=now)
        out[name] = _timed(one)

    def page():
        with Session(engine) as s:
            return run_kpis(s, filters=filters, now=now)
    out["page (all of them)"] = _timed(page)
    return out


class DuckKpis:
    """The aggregates of each KPI, in DuckDB SQL over the same rows."""

    def __init__(self, con, filters, by: str):
        self.con = con
        self.f = filters
        self.by = by
        self.start = datetime.combine(filters.date_from, datetime.min.time())  # UTC workspace: local = UTC
        self.end = datetime.combine(filters.date_to + timedelta(days=1), datetime.min.time())

    def _where(self, alias: str = "") -> str:
        p = f"{alias}." if alias else ""
        parts = []
        if self.f.channel:
            parts.append(f"{p}first_channel IS NULL" if self.f.channel == "none" else f"{p}first_channel = '{self.f.channel}'")
        if self.f.campaign_id is not None:
            parts.append(f"{p}campaign_id = {int(self.f.campaign_id)}")
        return "".join(f" AND {c}" for c in parts)

    def _cohort(self, alias: str = "") -> str:
        p = f"{alias}." if alias else ""
        return f"{p}created_at >= $s AND {p}created_at < $e" + self._where(alias)

    def _q(self, sql: str) -> list[tuple]:
        return self.con.execute(sql, {"s": self.start, "e": self.end}).fetchall()

    def cube(self) -> list[tuple]:
        group = {"channel": "first_channel", "campaign": "campaign_id"}.get(self.by, "NULL")
        measures = ", ".join(f"sum({m}), count({m})" for m in
                             ("score", "fit_points", "engagement_score", "intent_score", "conversion_probability"))
        return self._q(f"SELECT date_trunc('{self.f.period}', created_at) p, fit_grade, {CUSTOMER_SQL}::int c, "
                       f"{group} g, count(*), {measures} FROM leads WHERE {self._cohort()} GROUP BY ALL")

    def funnel(self) -> list[int]:
        rows = self._q(
            f"WITH h AS (SELECT lead_id, max({FUNNEL_SQL.format(col='to_stage')}) m FROM stage_changes "
            f"WHERE lead_id IN (SELECT id FROM leads WHERE {self._cohort()}) GROUP BY lead_id) "
            f"SELECT CASE WHEN {CUSTOMER_SQL} THEN 4 WHEN stage = 'sql' THEN 3 ELSE coalesce(h.m, 0) END r, "
            f"{FUNNEL_SQL.format(col='stage')} cur, count(*) FROM leads LEFT JOIN h ON h.lead_id = leads.id "
            f"WHERE {self._cohort('leads')} GROUP BY ALL")
        reached = [0] * 5
        for r, cur, n in rows:
            for i in range(max(r, cur) + 1):
                reached[i] += n
        return reached

    def spend(self) -> dict:
        campaign = f" AND campaign_id = {int(self.f.campaign_id)}" if self.f.campaign_id is not None else ""
        spend = dict(self.con.execute(
            f"SELECT campaign_id, sum(CAST(round(amount * 100) AS BIGINT)) FROM campaign_spend "
            f"WHERE day >= $a AND day <= $b{campaign} GROUP BY 1",
            {"a": self.f.date_from, "b": self.f.date_to}).fetchall())
        if self.f.channel:
            channels = dict(self.con.execute("SELECT id, channel FROM campaigns").fetchall())
            spend = {k: v for k, v in spend.items() if channels.get(k) == self.f.channel}
        return spend

    def campaign_counts(self) -> list[tuple]:
        return self._q(f"SELECT campaign_id, count(*), sum({CUSTOMER_SQL}::int) FROM leads "
                       f"WHERE {self._cohort()} GROUP BY 1")

    def conversion_days(self) -> tuple:
        edges = (0, 7, 14, 30, 60, 90, 180)
        bins = ", ".join(f"count(*) FILTER (WHERE d >= {lo}{f' AND d < {hi}' if hi else ''})"
                         for lo, hi in zip(edges, (*edges[1:], None), strict=True))
        return self._q(
            f"WITH c AS (SELECT greatest(epoch(converted_at) - epoch(created_at), 0) / 86400.0 d FROM leads "
            f"WHERE converted_at >= $s AND converted_at < $e{self._where()}) "
            f"SELECT count(*), quantile_cont(d, 0.5), quantile_cont(d, 0.9), {bins} FROM c")[0]

    def stage_stays(self) -> list[tuple]:
        join = f" JOIN leads l ON l.id = sc.lead_id WHERE true{self._where('l')}" if self._where() else " WHERE true"
        return self._q(
            "WITH e AS (SELECT sc.lead_id, sc.to_stage, sc.changed_at, lead(sc.changed_at) OVER "
            "(PARTITION BY sc.lead_id ORDER BY sc.changed_at, sc.id) nxt FROM stage_changes sc"
            f"{join} AND sc.lead_id IN (SELECT lead_id FROM stage_changes WHERE changed_at >= $s AND changed_at < $e)) "
            # greatest() skips NULLs in DuckDB: the FILTER keeps stays that have not ended out, as the service does.
            "SELECT to_stage, count(*), quantile_cont(greatest(epoch(nxt) - epoch(changed_at), 0) / 86400.0, 0.5) "
            "FILTER (WHERE nxt IS NOT NULL), quantile_cont(greatest(epoch(nxt) - epoch(changed_at), 0) / 86400.0, 0.9) "
            "FILTER (WHERE nxt IS NOT NULL) FROM e "
            "WHERE changed_at >= $s AND changed_at < $e AND to_stage IN ('suspect', 'prospect', 'mql', 'sql', 'customer') "
            "GROUP BY 1 ORDER BY 1")

    def first_contact(self) -> tuple:
        join = f" JOIN leads l ON l.id = f.lead_id WHERE true{self._where('l')}" if self._where() else ""
        return self._q(
            "WITH s AS (SELECT lead_id, changed_at, row_number() OVER (PARTITION BY lead_id ORDER BY changed_at, id) rn "
            "FROM stage_changes WHERE to_stage = 'sql'), "
            f"f AS (SELECT s.lead_id, s.changed_at FROM s WHERE rn = 1 AND changed_at >= $s AND changed_at < $e), "
            f"ff AS (SELECT f.* FROM f{join}), "
            "c AS (SELECT ff.lead_id, ff.changed_at, min(ev.occurred_at) t FROM ff LEFT JOIN events ev "
            "ON ev.lead_id = ff.lead_id AND ev.source = 'user' AND ev.type NOT IN ('property_change', 'note') "
            "AND ev.occurred_at >= ff.changed_at GROUP BY ALL) "
            "SELECT count(*), count(t), quantile_cont(greatest(epoch(t) - epoch(changed_at), 0) / 3600.0, 0.5) "
            "FILTER (WHERE t IS NOT NULL), quantile_cont(greatest(epoch(t) - epoch(changed_at), 0) / 3600.0, 0.9) "
            "FILTER (WHERE t IS NOT NULL) FROM c")[0]

    def deciles(self) -> list[tuple]:
        return self._q(
            f"WITH r AS (SELECT score, {CUSTOMER_SQL}::int c, row_number() OVER (ORDER BY score DESC, id) rn, "
            f"count(*) OVER () n FROM leads WHERE {self._cohort()} AND score IS NOT NULL) "
            "SELECT ((rn - 1) * 10) // n + 1 d, count(*), sum(c), min(score), max(score) FROM r GROUP BY 1 ORDER BY 1")

    # One method per KPI: what the service reads for it.
    def run(self, name: str) -> dict[str, Any]:
        parts = {
            "summary": ("cube", "spend", "conversion_days", "first_contact"),
            "leads": ("cube",), "quality": ("cube",), "conversion": ("cube", "funnel"),
            "cost": ("spend", "campaign_counts"), "time_to_convert": ("conversion_days", "stage_stays"),
            "speed_to_lead": ("first_contact",), "score_effectiveness": ("cube", "deciles"),
            "page (all of them)": ("cube", "funnel", "spend", "campaign_counts", "conversion_days", "stage_stays",
                                   "first_contact", "deciles"),
        }[name]
        return {p: getattr(self, p)() for p in parts}


def check(name: str, ours: Any, duck: dict[str, Any]) -> str:
    """"ok" when the service's headline numbers equal DuckDB's, else what differs."""
    problems = []

    def same(label: str, a: Any, b: Any, tol: float = 1e-6) -> None:
        if a is None and b is None:
            return
        if a is None or b is None or abs(float(a) - float(b)) > tol * max(1.0, abs(float(b))):
            problems.append(f"{label} {a} vs {b}")

    if "cube" in duck:
        leads = sum(r[4] for r in duck["cube"])
        total = (ours.get("total") if name == "leads" else ours.get("leads") if name in ("summary", "quality")
                 else (ours.get("cohort") or {}).get("leads") if name == "conversion" else None)
        if name == "page (all of them)":
            total = ours["summary"]["leads"]
        if total is not None:
            same("leads", total, leads)
    if "funnel" in duck:
        funnel = (ours["conversion"] if name.startswith("page") else ours)["funnel"]
        if [s["reached"] for s in funnel] != duck["funnel"]:
            problems.append(f"funnel {[s['reached'] for s in funnel]} vs {duck['funnel']}")
    if "conversion_days" in duck and name in ("time_to_convert", "summary"):
        n, median, p90 = duck["conversion_days"][:3]
        if name == "time_to_convert":
            same("customers", ours["customers"], n)
            same("median days", ours["median_days"], median)
            same("p90 days", ours["p90_days"], p90)
            same("histogram", sum(b["customers"] for b in ours["histogram"]), sum(duck["conversion_days"][3:]))
        else:
            same("median days", ours["median_days_to_convert"], median)
    if "first_contact" in duck and name == "speed_to_lead":
        sql_leads, contacted, median, p90 = duck["first_contact"]
        same("sql leads", ours["sql_leads"], sql_leads)
        same("contacted", ours["contacted"], contacted)
        same("median hours", ours["median_hours"], median)
    if "spend" in duck and name in ("cost", "summary"):
        cents = sum(duck["spend"].values())
        same("spend", (ours["total"]["spend"] if name == "cost" else ours["spend"]), cents / 100)
    if ("deciles" in duck and name == "score_effectiveness"
            and [d["leads"] for d in ours["by_decile"]] != [r[1] for r in duck["deciles"]]):
        problems.append("deciles differ")
    return "ok" if not problems else "; ".join(problems)


# ---- the report ----------------------------------------------------------------------------------

def _machine() -> str:
    cpus = os.cpu_count()
    model = ""
    with contextlib.suppress(OSError, StopIteration):
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    mem = ""
    try:
        kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")))
        mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return f"{cpus} vCPU ({model}){mem}, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--sqlite", type=Path, default=None, help="Measure this SQLite file (read-only).")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--variant", action="append", default=[],
                        help="Only the queries whose name contains this (repeatable), e.g. '90 days, by month'.")
    args = parser.parse_args()

    os.environ.setdefault("LEADFLOW_TIMEZONE", "UTC")
    import duckdb
    import sqlalchemy

    from leadflow.db.base import import_all_models

    import_all_models()
    source = sqlite_source(args.leads, args.sqlite)
    lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    leads_n, newest = lite.execute("SELECT count(*), max(created_at) FROM leads").fetchone()
    sizes = {t: lite.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ("stage_changes", "events")}
    lite.close()
    # The workspace's "today": the day after its newest lead (the demo is anchored to its seeding day).
    today = datetime.fromisoformat(newest[:19]).date()
    now = datetime.combine(today + timedelta(days=1), datetime.min.time()) - timedelta(seconds=1)
    load = os.getloadavg()

    engines = {"SQLite": sqlite_engine(source)}
    if not args.no_postgres:
        engines["PostgreSQL"] = postgres_engine(source)
    con = duckdb_connection(source)

    rows = []
    chosen = [v for v in variants(source, today) if not args.variant or any(a in v.name for a in args.variant)]
    for variant in chosen:
        filters = _filters(variant, today)
        by = variant.params.get("by", "none")
        results = {label: leadflow_cases(engine, variant, today, now) for label, engine in engines.items()}
        duck = DuckKpis(con, filters, by)
        for name in results["SQLite"]:
            duck_ms, duck_result = _timed(lambda name=name, duck=duck: duck.run(name))
            sqlite_ms, ours = results["SQLite"][name]
            pg_ms = results["PostgreSQL"][name][0] if "PostgreSQL" in results else None
            rows.append((variant.name, name, sqlite_ms, pg_ms, duck_ms, check(name, ours, duck_result)))
            print(f"  {variant.name:<42} {name:<22} sqlite {sqlite_ms:8.1f}  pg {pg_ms or 0:8.1f}  "
                  f"duckdb {duck_ms:7.1f}", file=sys.stderr)

    print(f"\n## KPI dashboard queries, {leads_n:,} leads\n")
    after = os.getloadavg()
    print(f"- Machine: {_machine()}; load average (1 / 5 / 15 min) before the run {load[0]:.2f} / {load[1]:.2f} / "
          f"{load[2]:.2f}, after it {after[0]:.2f} / {after[1]:.2f} / {after[2]:.2f} (the run itself keeps one "
          "core busy).")
    print(f"- Date: {date.today().isoformat()}. Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"SQLAlchemy {sqlalchemy.__version__}, DuckDB {duckdb.__version__} "
          f"({con.execute('SELECT current_setting(' + repr('threads') + ')').fetchone()[0]} threads)"
          + (f", {_pg_version(engines['PostgreSQL'])}" if "PostgreSQL" in engines else "") + ".")
    print(f"- Data: {source.name}: {leads_n:,} leads, {sizes['stage_changes']:,} stage changes, "
          f"{sizes['events']:,} events; workspace today {today} (time zone UTC).")
    print(f"- Command: `python benchmarks/bench_kpi.py{' --leads ' + str(args.leads) if args.leads != 1_000_000 else ''}"
          f"{' --no-postgres' if args.no_postgres else ''}{''.join(f' --variant {a!r}' for a in args.variant)}`. Median of {RUNS} runs after {WARMUP} warm-up, ms; "
          f"ratio = leadflow ÷ DuckDB; targets {SQLITE_TARGET_MS:.0f} ms (SQLite), {PG_TARGET_MS:.0f} ms (PostgreSQL).\n")
    print("| query | KPI | SQLite ms | PostgreSQL ms | DuckDB ms | SQLite ÷ DuckDB | PostgreSQL ÷ DuckDB | same result |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for variant_name, name, s_ms, p_ms, d_ms, ok in rows:
        flag_s = " ⚠" if s_ms > SQLITE_TARGET_MS and not name.startswith("page") else ""
        flag_p = " ⚠" if p_ms is not None and p_ms > PG_TARGET_MS and not name.startswith("page") else ""
        p_text = f"{p_ms:.1f}{flag_p}" if p_ms is not None else "—"
        p_ratio = f"{p_ms / d_ms:.1f}{TIMES}" if p_ms is not None and d_ms else "—"
        print(f"| {variant_name} | {name} | {s_ms:.1f}{flag_s} | {p_text} | {d_ms:.1f} | {s_ms / d_ms:.1f}{TIMES} | "
              f"{p_ratio} | {ok} |")
    print("\n⚠: a single KPI above its target. The page row runs every KPI of the page together "
          "(summary, the KPIs by channel, cost per campaign).")


def _pg_version(engine) -> str:
    from sqlalchemy import text

    with engine.connect() as conn:
        return "PostgreSQL " + conn.execute(text("SHOW server_version")).scalar().split()[0]


if __name__ == "__main__":
    main()
