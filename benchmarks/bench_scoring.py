"""Scoring benchmark: full rescore of N leads with ten events each, a bare NumPy baseline, incremental rescore.

    python benchmarks/bench_scoring.py                       # 1,000,000 leads, SQLite and PostgreSQL
    python benchmarks/bench_scoring.py --leads 100000 --only sqlite

Builds a migrated leadflow database once per size (SQLite file benchmarks/out/scoring-N.db,
PostgreSQL schema bench_scoring_N) and reuses it. Each full rescore runs in a child process:
load the leads, load the events, score_frames, write_scores, each phase timed (wall, CPU of the
process and of the loader's SQLite helper process), peak RSS of the process and of the helper.
In the same child, after the rescore, a bare NumPy computation of the same decayed sums over the
events already in memory gives the ratio. Last, leadflow.scoring.service.rescore_lead is timed on
single leads right after a new event (the events it adds are deleted again).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# The data's "now": fixed, so a cached database scores the same on every run.
NOW = datetime(2026, 11, 23, 12, 0, 0)
NOW_S = NOW.replace(tzinfo=UTC).timestamp()
# Each full rescore writes as a new model version, so every lead's row changes (the activation
# case; rows whose stored score is the same version's and equal would be skipped).
_VERSIONS = itertools.count(int(time.time()) % 1_000_000)
HISTORY_DAYS = 365  # events spread over the last 12 months
EVENTS_PER_LEAD = 10
ANONYMOUS_SHARE = 0.05  # extra page views of anonymous visitors (lead_id NULL), per lead event
SEED = 20261123
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S%.6f"  # as SQLAlchemy stores datetimes on SQLite
BUILD_ROWS = 1_000_000  # rows generated and written per batch while building
INCREMENTAL_SAMPLES = 200  # single-lead rescores timed, after 20 warm-up ones
INCREMENTAL_WARMUP = 20
INCREMENTAL_PREFIX = "bench-incremental-"  # external_id of the events the incremental run adds

SITE = "https://www.northwind.example"
# (path, title, relative weight): blog posts and the home page dominate, buying pages are rarer.
PAGES: list[tuple[str, str, float]] = [
    ("/", "Northwind Analytics", 14.0),
    ("/product", "Product tour", 6.0),
    ("/product/dashboards", "Dashboards", 3.0),
    ("/product/attribution", "Multi-touch attribution", 2.5),
    ("/integrations", "Integrations", 2.0),
    ("/integrations/salesforce", "Salesforce integration", 1.0),
    ("/integrations/hubspot", "HubSpot integration", 1.0),
    ("/customers", "Customer stories", 2.0),
    ("/customers/acme-retail", "Acme Retail grew pipeline 3x", 0.8),
    ("/pricing", "Pricing", 6.0),
    ("/pricing/enterprise", "Enterprise plan", 0.8),
    ("/demo", "Book a demo", 2.0),
    ("/careers", "Careers at Northwind", 2.0),
    ("/careers/senior-data-engineer", "Senior data engineer", 0.7),
    ("/security", "Security and compliance", 0.8),
    ("/docs/getting-started", "Getting started", 1.5),
    ("/docs/api", "API reference", 1.0),
    ("/about", "About us", 1.0),
    ("/es/precios", "Precios", 0.5),
]
BLOG_POSTS = [
    "what-is-a-good-conversion-rate", "cost-per-lead-benchmarks", "lead-scoring-101", "bant-qualification",
    "pipeline-forecasting", "multi-touch-attribution-explained", "marketing-qualified-leads", "icp-workshop",
    "b2b-funnel-metrics", "revops-stack-2026", "dashboards-that-drive-revenue", "sales-velocity",
    "churn-early-warning", "win-loss-analysis", "abm-playbook", "intent-data-primer", "utm-naming-conventions",
    "crm-hygiene-checklist", "quarterly-business-review-template", "forecast-accuracy",
]
BLOG_SHARE = 35.0  # weight of all blog posts together, split Zipf-like among them
REFERRERS = ["", "https://www.google.com/", "https://www.linkedin.com/", "https://duckduckgo.com/"]
REFERRER_WEIGHTS = [0.55, 0.3, 0.1, 0.05]
UTM_SUFFIX = "?utm_source=newsletter&utm_medium=email&utm_campaign=monthly"
EMAILS = ["newsletter-monthly", "nurture-1-welcome", "nurture-2-case-study", "nurture-3-demo-invite",
          "product-update", "webinar-invite"]
ASSETS = ["ebook-state-of-b2b-analytics", "roi-calculator", "whitepaper-data-governance",
          "case-study-acme-retail", "template-kpi-dashboard", "checklist-lead-qualification"]
FORMS = ["contact", "request-demo", "ebook", "webinar-registration", "newsletter"]
WEBINARS = ["Dashboards that drive revenue", "Attribution without the guesswork", "Analítica para equipos de ventas"]
TRIAL_FEATURES = ["dashboards", "attribution", "data-import", "alerts", "invite-teammates", "crm-sync"]
# Share of all lead events by type.
EVENT_MIX = {
    "page_view": 0.55, "email_sent": 0.10, "email_open": 0.17, "email_click": 0.05, "download": 0.04,
    "form_submit": 0.04, "webinar": 0.015, "trial_usage": 0.02, "meeting": 0.005, "call": 0.005,
    "unsubscribe": 0.005,
}

JOB_TITLES = [
    ("Marketing Manager", 8), ("Head of Marketing", 3), ("VP Marketing", 2), ("CMO", 1), ("Sales Manager", 6),
    ("VP Sales", 2), ("Head of Revenue Operations", 2), ("RevOps Analyst", 3), ("CEO", 3), ("Founder", 2),
    ("CTO", 1), ("Data Analyst", 6), ("Software Engineer", 6), ("Product Manager", 4), ("Consultant", 4),
    ("Account Executive", 4), ("SDR", 3), ("Student", 5), ("Intern", 2), ("Director of Growth", 2),
    ("Operations Manager", 3), ("Finance Manager", 2), ("Gerente de Marketing", 2), ("Director Comercial", 1),
]
INDUSTRIES = ["Software", "Financial Services", "Retail", "Healthcare", "Manufacturing", "Education",
              "Media", "Logistics", "Telecommunications", "Consulting", "Real Estate", "Energy"]
COMPANY_SIZES = [("1-10", 3), ("11-50", 4), ("51-200", 4), ("201-1000", 3), ("1001-5000", 2), ("5000+", 1)]
COUNTRIES = [("US", 30), ("GB", 8), ("DE", 6), ("ES", 8), ("MX", 7), ("FR", 4), ("CA", 4), ("BR", 5),
             ("AR", 3), ("CO", 3), ("IN", 8), ("NL", 2), ("AU", 2), ("IT", 3), ("CL", 2), ("PT", 1)]
FIRST_NAMES = ["Ana", "Luis", "María", "John", "Emma", "Olivia", "Liam", "Noah", "Lucía", "Carlos", "Sofía",
               "Mateo", "Priya", "Arjun", "Chen", "Yuki", "Fatima", "Omar", "Hannah", "Lukas"]
LAST_NAMES = ["García", "Smith", "Müller", "Martínez", "Johnson", "López", "Brown", "Rossi", "Dubois",
              "Silva", "Kumar", "Wang", "Tanaka", "Hernández", "Wilson", "Schmidt", "Pérez", "Taylor"]
LEAD_ORIGINS = ["Landing Page Submission", "API", "Lead Add Form", "Lead Import"]
LEAD_SOURCES = ["Google", "Direct Traffic", "Olark Chat", "Organic Search", "Reference", "Welingak Website"]
FREE_DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.es"]


# ---- building the database ---------------------------------------------------------------------


def _weights(items: list) -> np.ndarray:
    w = np.array([i[-1] for i in items], dtype=np.float64)
    return w / w.sum()


def _pick(rng: np.random.Generator, values: list[str], p: np.ndarray | None, n: int,
          null_share: float = 0.0) -> pl.Series:
    idx = rng.choice(len(values), size=n, p=p)
    out = pl.Series(values, dtype=pl.String).gather(idx)
    if null_share:
        out = out.scatter(np.nonzero(rng.random(n) < null_share)[0], None)
    return out


def _templates() -> tuple[list[str], list[str], list[str], np.ndarray]:
    """Every (type, properties JSON, source) an event can have, with its share of lead events."""
    types: list[str] = []
    props: list[str] = []
    sources: list[str] = []
    shares: list[float] = []

    def add(kind: str, options: list[tuple[dict, float]], source: str) -> None:
        total = sum(w for _, w in options)
        for p, w in options:
            types.append(kind)
            props.append(json.dumps(p))  # as leadflow stores event properties (leads.events)
            sources.append(source)
            shares.append(EVENT_MIX[kind] * w / total)

    zipf = [1 / (k + 1) for k in range(len(BLOG_POSTS))]
    pages = [(p, t, w) for p, t, w in PAGES] + [
        (f"/blog/{slug}", slug.replace("-", " ").capitalize(), BLOG_SHARE * z / sum(zipf))
        for slug, z in zip(BLOG_POSTS, zipf, strict=True)]
    views: list[tuple[dict, float]] = []
    for path, title, w in pages:
        for ref, rw in zip(REFERRERS, REFERRER_WEIGHTS, strict=True):
            props_ = {"url": SITE + path, "title": title}
            if ref:
                props_["referrer"] = ref
            views.append((props_, w * rw * 0.9))
        views.append(({"url": SITE + path + UTM_SUFFIX, "title": title}, w * 0.1))
    add("page_view", views, "tracking")
    add("email_sent", [({"email": e}, 1.0) for e in EMAILS], "email")
    add("email_open", [({"email": e}, 1.0) for e in EMAILS], "email")
    add("email_click", [({"email": e, "url": SITE + u}, 1.0) for e in EMAILS
                        for u in ("/pricing", "/demo", "/blog/lead-scoring-101", "/customers")], "email")
    add("download", [({"asset": a}, 1.0) for a in ASSETS], "lead_magnet")
    add("form_submit", [({"form": f, "url": SITE + ("/demo" if f == "request-demo" else "/")}, 1.0)
                        for f in FORMS], "form")
    add("webinar", [({"webinar": w, "attended": a}, 0.6 if a else 0.4) for w in WEBINARS for a in (True, False)],
        "api")
    add("trial_usage", [({"feature": f}, 1.0) for f in TRIAL_FEATURES], "api")
    add("meeting", [({"kind": k}, 1.0) for k in ("discovery", "demo", "pricing review")], "user")
    add("call", [({"result": r}, 1.0) for r in ("connected", "left voicemail", "no answer")], "user")
    add("unsubscribe", [({"email": e}, 1.0) for e in EMAILS], "email")
    p = np.array(shares)
    return types, props, sources, p / p.sum()


def generate(n_leads: int, seed: int = SEED) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """The leads, and the events in batches ordered by time (ids ascending with time, as appended)."""
    rng = np.random.default_rng(seed)
    n_events = EVENTS_PER_LEAD * n_leads
    start_s = NOW_S - HISTORY_DAYS * 86400
    # More leads arrive recently (a growing business): density grows linearly over the year.
    created = start_s + (NOW_S - start_s) * np.sqrt(rng.random(n_leads))
    # How active each lead is: lognormal, so a few leads have hundreds of events and many have none.
    activity = rng.lognormal(0.0, 1.3, n_leads)
    lead_of_event = rng.choice(n_leads, size=n_events, p=activity / activity.sum())
    counts = np.bincount(lead_of_event, minlength=n_leads)
    # Activity bunches up after a lead appears and fades (Beta(0.6, 1.8) of the time since).
    age_share = rng.beta(0.6, 1.8, n_events)
    t = created[lead_of_event] + (NOW_S - created[lead_of_event]) * age_share
    # Business hours: move each event to a working hour of its day (UTC, Europe and the Americas).
    day = np.floor(t / 86400) * 86400
    hour = np.clip(rng.normal(14.0, 3.5, n_events), 0, 23.999)
    t = day + hour * 3600
    t = np.where(t >= NOW_S, t - 86400, t)  # today's later hours have not happened yet
    t = np.clip(t, created[lead_of_event], NOW_S - 1)
    t = np.round(t * 1e6) / 1e6
    n_anon = int(n_events * ANONYMOUS_SHARE)
    t_anon = start_s + (NOW_S - start_s) * np.sqrt(rng.random(n_anon))
    lead_ids = np.concatenate([lead_of_event + 1, np.zeros(n_anon, dtype=np.int64)])
    times = np.concatenate([t, t_anon])
    order = np.argsort(times, kind="stable")
    lead_ids, times = lead_ids[order], times[order]
    del lead_of_event, t, age_share, day, hour

    types, props, sources, shares = _templates()
    page_views = [i for i, k in enumerate(types) if k == "page_view"]
    view_p = shares[page_views] / shares[page_views].sum()
    type_s, props_s, source_s = (pl.Series(x, dtype=pl.String) for x in (types, props, sources))
    batches: list[pl.DataFrame] = []
    for lo in range(0, len(times), BUILD_ROWS):
        lid = lead_ids[lo:lo + BUILD_ROWS]
        anon = lid == 0
        tpl = rng.choice(len(types), size=len(lid), p=shares)
        tpl[anon] = np.array(page_views)[rng.choice(len(page_views), size=int(anon.sum()), p=view_p)]
        at = pl.from_epoch(pl.Series((times[lo:lo + BUILD_ROWS] * 1e6).astype(np.int64)), time_unit="us") \
            .dt.strftime(SQLITE_DATETIME)
        visitor = pl.Series(rng.integers(0, max(n_anon // 4, 1), len(lid))).cast(pl.String)
        batches.append(pl.DataFrame({
            "id": np.arange(lo + 1, lo + len(lid) + 1, dtype=np.int64),
            "lead_id": pl.Series(lid).set(pl.Series(anon), None) if anon.any() else pl.Series(lid),
            "visitor_id": pl.select(pl.when(pl.Series(anon)).then(pl.lit("v") + visitor.str.zfill(12))).to_series(),
            "type": type_s.gather(tpl),
            "occurred_at": at,
            "properties": props_s.gather(tpl),
            "source": source_s.gather(tpl),
            "created_at": at,
        }))

    first_event = np.full(n_leads, np.inf)
    np.minimum.at(first_event, lead_ids[lead_ids > 0] - 1, times[lead_ids > 0])
    last_event = np.full(n_leads, -np.inf)
    np.maximum.at(last_event, lead_ids[lead_ids > 0] - 1, times[lead_ids > 0])
    ids = np.arange(1, n_leads + 1, dtype=np.int64)
    created = np.minimum(created, first_event)

    def ts(seconds: np.ndarray) -> pl.Series:
        return pl.from_epoch(pl.Series((seconds * 1e6).astype(np.int64)), time_unit="us").dt.strftime(SQLITE_DATETIME)

    first = _pick(rng, FIRST_NAMES, None, n_leads)
    last = _pick(rng, LAST_NAMES, None, n_leads)
    free = rng.random(n_leads) < 0.3
    company_no = rng.zipf(1.6, n_leads) % 200_000
    domain = pl.select(pl.lit("corp") + pl.Series(company_no).cast(pl.String) + pl.lit(".example")).to_series()
    domain = domain.scatter(np.nonzero(free)[0], _pick(rng, FREE_DOMAINS, None, int(free.sum())))
    visits = pl.Series(np.minimum(counts, 250)).cast(pl.String)
    spent = pl.Series(rng.integers(0, 2500, n_leads)).cast(pl.String)
    origin = _pick(rng, LEAD_ORIGINS, None, n_leads)
    source = _pick(rng, LEAD_SOURCES, None, n_leads)
    has_props = rng.random(n_leads) < 0.7
    # API-created leads carry numbers as JSON numbers, imported ones as strings.
    numeric = rng.random(n_leads) < 0.5
    q = pl.Series(np.where(numeric, "", '"'))
    properties = pl.select(
        pl.when(pl.Series(~has_props)).then(pl.lit("{}"))
        .otherwise(pl.concat_str([pl.lit('{"TotalVisits": '), q, visits, q, pl.lit(', "Total Time Spent on Website": '),
                                  q, spent, q, pl.lit(', "Lead Origin": "'), origin, pl.lit('", "Lead Source": "'),
                                  source, pl.lit('"}')]))).to_series()
    leads = pl.DataFrame({
        "id": ids,
        "email": pl.select(pl.concat_str([first.str.to_lowercase(), pl.lit("."), last.str.to_lowercase(),
                                          pl.Series(ids), pl.lit("@"), domain])).to_series(),
        "first_name": first,
        "last_name": last,
        "job_title": _pick(rng, [j for j, _ in JOB_TITLES], _weights(JOB_TITLES), n_leads, 0.15),
        "company_name": pl.select(pl.when(pl.Series(free)).then(None)
                                  .otherwise(pl.lit("Corp ") + pl.Series(company_no).cast(pl.String))).to_series(),
        "industry": _pick(rng, INDUSTRIES, None, n_leads, 0.1),
        "company_size": _pick(rng, [s for s, _ in COMPANY_SIZES], _weights(COMPANY_SIZES), n_leads, 0.2),
        "country": _pick(rng, [c for c, _ in COUNTRIES], _weights(COUNTRIES), n_leads, 0.05),
        "properties": properties,
        "consent_email": pl.Series(["granted"] * n_leads),
        "consent_tracking": pl.Series(["granted"] * n_leads),
        "stage": _pick(rng, ["suspect", "prospect", "mql", "sql", "customer"], np.array([.3, .5, .12, .05, .03]),
                       n_leads),
        "created_at": ts(created),
        "updated_at": ts(created),
        "last_activity_at": ts(np.where(np.isfinite(last_event), last_event, 0))
        .scatter(np.nonzero(~np.isfinite(last_event))[0], None),
    })
    return leads, batches


def _sqlite_build(path: Path, n_leads: int) -> None:
    """A migrated SQLite database at PATH with the generated leads and events (bulk, indexes built once)."""
    import adbc_driver_sqlite.dbapi as adbc

    from leadflow.db.migrate import upgrade
    from leadflow.db.session import make_engine

    partial = path.with_name(path.name + ".partial")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{partial}")
    upgrade(engine)
    # Closed before ADBC opens the file: two SQLite libraries must never have one file open at
    # once in a process (see leadflow.scoring.loader).
    engine.dispose()
    t0 = time.perf_counter()
    leads, batches = generate(n_leads)
    print(f"generated {n_leads:,} leads and {sum(b.height for b in batches):,} events in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    conn = adbc.connect(str(partial), autocommit=True)
    cur = conn.cursor()
    # Nobody else uses the file while it is built: no journal, no fsync, a large cache.
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1048576", "threads=2"):
        cur.execute(f"PRAGMA {pragma}")
        cur.fetchall()
    cur.execute("BEGIN")
    cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('leads', 'events') "
                "AND sql IS NOT NULL AND upper(sql) NOT LIKE 'CREATE UNIQUE%'")
    indexes = cur.fetchall()
    cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name = 'leads_fts_ai'")
    triggers = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    for name, _ in triggers:
        cur.execute(f'DROP TRIGGER "{name}"')
    cur.adbc_ingest("leads", leads.to_arrow(), mode="append")
    del leads
    for batch in batches:
        cur.adbc_ingest("events", batch.to_arrow(), mode="append")
    del batches
    print(f"inserted in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    from leadflow.leads.search import FTS_INSERT_ALL

    cur.execute(FTS_INSERT_ALL)
    for _, sql in triggers:
        cur.execute(sql)
    for _, sql in indexes:
        cur.execute(sql)
    cur.execute("COMMIT")
    # Statistics as `leadflow demo` leaves them, from a sample of each index (seconds, not a minute).
    cur.execute("PRAGMA analysis_limit=1000")
    cur.fetchall()
    cur.execute("ANALYZE")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.fetchall()
    cur.close()
    conn.close()
    partial.rename(path)
    print(f"indexed in {time.perf_counter() - t0:.1f} s: {path} ({path.stat().st_size / 2**30:.2f} GiB)", flush=True)


def _pg_build(base_url: str, schema: str, n_leads: int) -> None:
    """A migrated PostgreSQL schema with the generated leads and events (COPY, indexes built once)."""
    import sqlalchemy as sa

    from leadflow.db.migrate import upgrade
    from leadflow.db.session import make_engine
    from leadflow.leads.search import PG_SEARCH_FILL

    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    engine = make_engine(_pg_schema_url(base_url, schema))
    upgrade(engine)
    t0 = time.perf_counter()
    leads, batches = generate(n_leads)
    print(f"generated {n_leads:,} leads and {sum(b.height for b in batches):,} events in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        cur = conn.connection.driver_connection.cursor()
        cur.execute("SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
                    "WHERE t.relname IN ('leads', 'events') AND t.relnamespace = to_regnamespace(%s) "
                    "AND NOT i.indisunique AND NOT i.indisprimary", (schema,))
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        # Generated rows are consistent by construction: skip the per-row foreign key and search
        # triggers (a COPY checking each event's lead runs at ~30k rows/s); search is filled below.
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for table, frames in (("leads", [leads]), ("events", batches)):
            columns = ", ".join(f'"{c}"' for c in frames[0].columns)
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv, NULL '\\N')") as copy:
                for frame in frames:
                    copy.write(frame.write_csv(include_header=False, null_value="\\N").encode())
        del leads, batches
        print(f"copied in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        cur.execute(PG_SEARCH_FILL)
        for _, ddl in indexes:
            cur.execute(ddl)
        for table in ("leads", "events"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}) + 1, false)")
        cur.execute(f"COMMENT ON SCHEMA \"{schema}\" IS 'bench_scoring {n_leads} complete'")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("leads", "events", "lead_search"):
            conn.execute(sa.text(f"VACUUM ANALYZE {table}"))
    engine.dispose()
    print(f"indexed and vacuumed in {time.perf_counter() - t0:.1f} s (schema {schema})", flush=True)


def _pg_schema_url(base_url: str, schema: str) -> str:
    return f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"


def _pg_ready(base_url: str, schema: str, n_leads: int) -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(base_url)
    with engine.connect() as conn:
        note = conn.scalar(sa.text("SELECT obj_description(to_regnamespace(:s), 'pg_namespace')"), {"s": schema})
    engine.dispose()
    return note == f"bench_scoring {n_leads} complete"


# ---- measuring ---------------------------------------------------------------------------------


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class _HelperWatch:
    """Peak RSS of this process's child processes (the loader's SQLite helper), sampled from /proc.

    RUSAGE_CHILDREN cannot tell: a child is forked from this process, so its maximum counts this
    process's memory at the fork. VmHWM is the peak of the child's own address space after exec.
    """

    def __init__(self, every_s: float = 0.02):
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)
        self._thread.start()

    def _run(self, every_s: float) -> None:
        me = os.getpid()
        while not self._stop.wait(every_s):
            for task in Path(f"/proc/{me}/task").iterdir():
                try:
                    children = (task / "children").read_text().split()
                except OSError:
                    continue
                for pid in children:
                    try:
                        # Only once it runs the helper: between fork and exec a child still counts
                        # this process's pages.
                        if b"helper_main" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                            continue
                        status = Path(f"/proc/{pid}/status").read_text()
                    except OSError:
                        continue
                    for line in status.splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))

    def take(self) -> float:
        """The peak since the last take, in MiB."""
        peak, self.peak_kib = self.peak_kib, 0
        return peak / 1024

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


_WATCH: _HelperWatch | None = None


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _phase(phases: list[dict], name: str, fn):
    """Run FN as phase NAME: wall time, CPU of this process and of the helper processes it waited for, peak RSS."""
    wall, cpu, helpers = time.perf_counter(), time.process_time(), _children_cpu()
    _WATCH.take()  # type: ignore[union-attr]
    out = fn()
    phases.append({"phase": name, "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
                   "helper_cpu_s": _children_cpu() - helpers, "peak_rss_mib": _rss_mib(),
                   "helper_peak_rss_mib": _WATCH.take()})  # type: ignore[union-attr]
    return out


def _decay_table(model, type_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Points and half-life (s) per event type, from the model's plain rules (no url, no where)."""
    points = np.zeros(len(type_names))
    half_life = np.full(len(type_names), np.inf)
    for rule in model.engagement.rules:
        if rule.url is None and not rule.where:
            for t in rule.types:
                if t in type_names:
                    k = type_names.index(t)
                    points[k] = rule.points
                    half_life[k] = (rule.half_life_days or np.inf) * 86400.0
    return points, half_life


def _numpy_baseline(model, events: pl.DataFrame, n_leads: int, repeats: int = 5) -> dict:
    """The same decayed sums in bare NumPy: points[type] * 2^(-age / half-life[type]), summed per lead."""
    type_names = sorted(events.get_column("type").unique().to_list())
    code = events.get_column("type").replace_strict({t: i for i, t in enumerate(type_names)},
                                                    return_dtype=pl.Int32).to_numpy()
    lead = events.get_column("lead_id").to_numpy()
    t = events.get_column("t").to_numpy()
    points, half_life = _decay_table(model, type_names)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        w = points[code] * np.exp2(-(NOW_S - t) / half_life[code])
        sums = np.bincount(lead, weights=w, minlength=n_leads + 1)
        times.append(time.perf_counter() - start)
    return {"wall_s": statistics.median(times), "events": len(t), "total": float(sums.sum())}


def _child(url: str, n_leads: int, label: str) -> None:
    """One full rescore, phase by phase, then the NumPy baseline on the events in memory (JSON on stdout)."""
    from leadflow.db.session import make_engine
    from leadflow.scoring.loader import load_event_frame, load_lead_frame, write_scores

    global _WATCH
    _WATCH = _HelperWatch()
    engine = make_engine(url)
    out: dict = {"label": label, "rss_at_start_mib": _rss_mib()}
    try:
        from leadflow.scoring.engine import score_frames
        from leadflow.scoring.schemas import default_model

        model = default_model()
    except ImportError as exc:  # the engine is not there: time loading and writing alone
        score_frames, model = None, None
        out["engine"] = f"not available ({exc})"
    fields = model.lead_fields() if model else ["email", "job_title", "industry", "company_size", "country"]
    types = model.event_types() if model else None
    keys = model.event_property_keys() if model else ["url"]
    phases: list[dict] = []
    wall, cpu, helpers = time.perf_counter(), time.process_time(), _children_cpu()
    leads = _phase(phases, "load leads", lambda: load_lead_frame(engine, fields=fields))
    events = _phase(phases, "load events", lambda: load_event_frame(engine, types=types, prop_keys=keys))
    if score_frames is not None:
        scores = _phase(phases, "score_frames", lambda: score_frames(model, leads=leads, events=events, now=NOW_S))
    else:
        rng = np.random.default_rng(1)
        scores = pl.DataFrame({"lead_id": leads["lead_id"], "score": rng.random(leads.height) * 100,
                               "fit_points": 10.0, "fit_grade": "C", "engagement_score": 1.0, "intent_score": 0.0})
    updated = _phase(phases, "write_scores",
                     lambda: write_scores(engine, scores, version=next(_VERSIONS), scored_at=NOW.replace(microsecond=0)))
    out.update(phases=phases, total_wall_s=time.perf_counter() - wall,
               total_cpu_s=time.process_time() - cpu + _children_cpu() - helpers,
               leads=leads.height, events=events.height, updated=updated, peak_rss_mib=_rss_mib(),
               helper_peak_rss_mib=max(p["helper_peak_rss_mib"] for p in phases))
    _WATCH.stop()
    if model is not None:
        out["numpy"] = _numpy_baseline(model, events, n_leads)
    print(json.dumps(out), flush=True)


def _run_child(url: str, n_leads: int, label: str) -> dict:
    proc = subprocess.Popen([sys.executable, __file__, "--child", url, str(n_leads), label],
                            stdout=subprocess.PIPE, text=True)
    text = proc.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"rescore child failed ({status}): {text}")
    result = json.loads(text.strip().splitlines()[-1])
    result["child_peak_rss_mib"] = usage.ru_maxrss / 1024
    result["child_cpu_s"] = usage.ru_utime + usage.ru_stime
    return result


def _forget_incremental_events(session) -> None:
    """Delete the events the incremental benchmark added, so the database keeps its 10 N events."""
    from sqlalchemy import delete

    from leadflow.leads.models import Event

    session.execute(delete(Event).where(Event.external_id.like(f"{INCREMENTAL_PREFIX}%")))


def incremental(url: str, *, samples: int = INCREMENTAL_SAMPLES) -> dict | None:
    """Time leadflow.scoring.service.rescore_lead after a new event, for leads picked by activity; None if absent."""
    try:
        from leadflow.scoring import service
    except ImportError:
        return None
    if not hasattr(service, "rescore_lead"):
        return None
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from leadflow.db.base import import_all_models
    from leadflow.db.session import make_engine
    from leadflow.leads.events import append_events
    from leadflow.leads.models import Event
    from leadflow.leads.schemas import BatchEventIn

    import_all_models()
    engine = make_engine(url)
    rng = np.random.default_rng(7)
    with Session(engine) as session, session.begin():
        _forget_incremental_events(session)
        if hasattr(service, "seed_default_model"):
            service.seed_default_model(session)
        max_event = session.scalar(select(func.max(Event.id)))
    rescore_ms: list[float] = []
    commit_ms: list[float] = []
    event_counts: list[int] = []
    for i in range(INCREMENTAL_WARMUP + samples):
        with Session(engine) as session:
            # A lead that just did something: the lead of a random stored event (busy leads more often).
            lead_id = None
            while lead_id is None:
                lead_id = session.scalar(select(Event.lead_id).where(Event.id == int(rng.integers(1, max_event + 1))))
            when = NOW + timedelta(seconds=i)
            append_events(session, events=[BatchEventIn(lead_id=lead_id, type="page_view", occurred_at=when,
                                                        external_id=f"{INCREMENTAL_PREFIX}{i}",
                                                        properties={"url": f"{SITE}/pricing"})], now=when)
            session.flush()
            start = time.perf_counter()
            service.rescore_lead(session, lead_id=lead_id, now=when)
            middle = time.perf_counter()
            session.commit()
            end = time.perf_counter()
            if i >= INCREMENTAL_WARMUP:
                rescore_ms.append((middle - start) * 1000)
                commit_ms.append((end - start) * 1000)
                event_counts.append(session.scalar(select(func.count()).select_from(Event)
                                                   .where(Event.lead_id == lead_id)) or 0)
    with Session(engine) as session, session.begin():
        _forget_incremental_events(session)
    engine.dispose()

    def stats(xs: list[float]) -> dict:
        return {"p50": round(statistics.median(xs), 2), "p95": round(float(np.percentile(xs, 95)), 2),
                "max": round(max(xs), 2)}

    return {"samples": samples, "rescore_ms": stats(rescore_ms), "rescore_and_commit_ms": stats(commit_ms),
            "events_of_lead": {"p50": int(np.median(event_counts)), "max": int(max(event_counts))}}


def _report(target: str, r: dict) -> None:
    print(f"\n{target}: {r['label']}, {r['leads']:,} leads, {r['events']:,} events loaded, "
          f"{r['updated']:,} leads updated", flush=True)
    print("| phase | wall s | CPU s: process + helper | peak RSS MiB: process, helper |")
    print("|---|---:|---:|---:|")
    for p in r["phases"]:
        print(f"| {p['phase']} | {p['wall_s']:.2f} | {p['cpu_s']:.2f} + {p['helper_cpu_s']:.2f} | "
              f"{p['peak_rss_mib']:.0f}, {p['helper_peak_rss_mib']:.0f} |")
    print(f"| **total** | **{r['total_wall_s']:.2f}** | {r['total_cpu_s']:.2f} | "
          f"{r['peak_rss_mib']:.0f}, {r['helper_peak_rss_mib']:.0f} |")
    if "numpy" in r:
        np_s = r["numpy"]["wall_s"]
        score_s = next(p["wall_s"] for p in r["phases"] if p["phase"] == "score_frames")
        print(f"bare NumPy decayed sums over {r['numpy']['events']:,} events: {np_s * 1000:.0f} ms; "
              f"full rescore / NumPy = {r['total_wall_s'] / np_s:.0f}x, score_frames / NumPy = {score_s / np_s:.0f}x",
              flush=True)
    if "engine" in r:
        print(f"engine: {r['engine']}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="Leads (events: ten per lead).")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    parser.add_argument("--database-url", default=PG_URL, help="PostgreSQL server (schema bench_scoring_N).")
    parser.add_argument("--runs", type=int, default=2, help="Full rescores per database (the first after a "
                                                             "build writes scores where there were none).")
    parser.add_argument("--rebuild", action="store_true", help="Build the databases again.")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "leads": args.leads,
                     "load_average_at_start": os.getloadavg()}
    for target in [t for t in ("sqlite", "postgresql") if args.only in (None, t)]:
        t0 = time.perf_counter()
        if target == "sqlite":
            path = OUT / f"scoring-{args.leads}.db"
            if args.rebuild or not path.exists():
                _sqlite_build(path, args.leads)
            url = f"sqlite:///{path}"
        else:
            schema = f"bench_scoring_{args.leads}"
            if args.rebuild or not _pg_ready(args.database_url, schema, args.leads):
                _pg_build(args.database_url, schema, args.leads)
            url = _pg_schema_url(args.database_url, schema)
        build_s = time.perf_counter() - t0
        runs = []
        for k in range(args.runs):
            r = _run_child(url, args.leads, f"full rescore {k + 1}")
            _report(target, r)
            runs.append(r)
        inc = incremental(url)
        if inc is None:
            print(f"\n{target}: incremental rescore: not available (leadflow.scoring.service.rescore_lead)")
        else:
            print(f"\n{target}: incremental rescore of one lead after a new event ({inc['samples']} leads): "
                  f"rescore_lead p50 {inc['rescore_ms']['p50']} ms, p95 {inc['rescore_ms']['p95']} ms, "
                  f"max {inc['rescore_ms']['max']} ms; with the commit p50 {inc['rescore_and_commit_ms']['p50']} ms, "
                  f"p95 {inc['rescore_and_commit_ms']['p95']} ms (events per lead p50 "
                  f"{inc['events_of_lead']['p50']}, max {inc['events_of_lead']['max']})", flush=True)
        results[target] = {"build_or_reuse_s": build_s, "runs": runs, "incremental": inc}
    results["load_average_at_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
