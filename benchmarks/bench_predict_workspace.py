"""Predictive scoring inside a workspace: train on its outcomes, price every lead, price one lead.

    python benchmarks/bench_predict_workspace.py                 # 1,000,000 demo leads, SQLite
    python benchmarks/bench_predict_workspace.py --leads 100000 --postgres

Seeds the demo workspace once per size (SQLite file benchmarks/out/predict-demo-N.db, PostgreSQL
schema bench_predict_N) and reuses it. Then, timed: training a model on the workspace's outcomes
(point-in-time features read in bulk, evaluation, final fit); activating it, which re-prices
every lead (read leads and events, features, the model, the write); re-pricing when nothing
changed; and pricing single leads as a commit does (`predict_leads`, 200 samples after 20 warm-up).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SAMPLES, WARMUP = 200, 20


def _engine(n: int, postgres: bool) -> Engine:
    from leadflow.db.migrate import upgrade
    from leadflow.db.session import make_engine
    from leadflow.demo.generator import default_now
    from leadflow.demo.service import seed_demo_workspace
    from leadflow.leads.models import Lead

    if postgres:
        schema = f"bench_predict_{n}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        admin.dispose()
        engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    else:
        OUT.mkdir(exist_ok=True)
        engine = make_engine(f"sqlite:///{OUT / f'predict-demo-{n}.db'}")
    upgrade(engine)
    with Session(engine) as s:
        have = s.scalar(select(func.count()).select_from(Lead))
    if not have:
        started = time.perf_counter()
        seed_demo_workspace(engine, n_leads=n, seed=42, now=default_now())
        print(f"seeded {n:,} demo leads in {time.perf_counter() - started:.0f} s")
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()

    from leadflow.db.base import import_all_models
    from leadflow.demo.generator import default_now
    from leadflow.leads.models import Event, Lead
    from leadflow.predict.service import (
        TrainOptions,
        activate_version,
        get_version,
        predict_everyone,
        predict_leads,
        train_workspace_model,
    )

    import_all_models()
    engine = _engine(args.leads, args.postgres)
    now = default_now()
    with Session(engine) as s:
        leads = s.scalar(select(func.count()).select_from(Lead))
        events = s.scalar(select(func.count()).select_from(Event))
    print(f"# predictive scoring in a workspace: {leads:,} leads, {events:,} events, "
          f"{engine.dialect.name}; {os.cpu_count()} CPU, Python {platform.python_version()}, {date.today()}")

    started = time.perf_counter()
    version = train_workspace_model(engine, options=TrainOptions(name="benchmark"), now=now)
    train_s = time.perf_counter() - started
    with Session(engine) as s:
        report = get_version(s, version=version).report
        activate_version(s, version=version, compared=True, now=now)
        s.commit()
    started = time.perf_counter()
    priced = predict_everyone(engine, now=now)
    all_s = time.perf_counter() - started
    started = time.perf_counter()
    predict_everyone(engine, now=now)
    again_s = time.perf_counter() - started

    with Session(engine) as s:
        ids = list(s.scalars(select(Lead.id).order_by(Lead.id)))
        step = max(1, len(ids) // (SAMPLES + WARMUP))
        times = []
        for lead_id in ids[::step][:SAMPLES + WARMUP]:
            t = time.perf_counter()
            predict_leads(s, lead_ids=[lead_id], now=now)
            times.append(time.perf_counter() - t)
        s.rollback()
    times = sorted(times[WARMUP:])

    rows = [
        ("train on the workspace's outcomes", f"{train_s:.1f} s",
         f"{report['rows']:,} leads with an outcome, {report['evaluation']}, ROC AUC {report['roc_auc']:.3f}, "
         f"ECE {report['ece']:.3f}"),
        ("price every lead (activation: every row changes)", f"{all_s:.1f} s", f"{priced / all_s:,.0f} leads/s"),
        ("price every lead again (nothing changed)", f"{again_s:.1f} s", f"{priced / again_s:,.0f} leads/s"),
        ("price one lead, as a commit does", f"p50 {statistics.median(times) * 1000:.1f} ms",
         f"p95 {times[int(len(times) * 0.95)] * 1000:.1f} ms"),
    ]
    print("\n| step | time | |\n|---|---:|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} |")


if __name__ == "__main__":
    main()
