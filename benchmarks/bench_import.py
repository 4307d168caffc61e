"""CSV import benchmark: rows/s, wall time and peak RSS on SQLite and PostgreSQL, first import and re-imports.

    python benchmarks/bench_import.py --rows 1000000
    python benchmarks/bench_import.py --rows 1000000 --only sqlite

Each import runs in a child process; its peak RSS comes from os.wait4's rusage for that child.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_import"


def _child(url: str, data_dir: str, csv_path: str) -> None:
    os.environ["LEADFLOW_DATABASE_URL"] = url
    os.environ["LEADFLOW_DATA_DIR"] = data_dir
    from leadflow.db.migrate import upgrade
    from leadflow.db.session import get_engine
    from leadflow.leads.importing import import_csv

    upgrade(get_engine())
    t0 = time.perf_counter()
    result = import_csv(Path(csv_path))
    wall = time.perf_counter() - t0
    print(json.dumps({"wall_s": wall, **result.__dict__}))


def _run(url: str, data_dir: Path, csv_path: Path) -> dict:
    proc = subprocess.Popen([sys.executable, __file__, "--child", url, str(data_dir), str(csv_path)],
                            stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"import child failed ({status}): {out}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mib"] = usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux
    # CPU time of the importing process: less sensitive than wall time to other load on the machine.
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    result["rows_per_s"] = result["total_rows"] / result["wall_s"]
    return result


def _fresh_sqlite(root: Path) -> tuple[str, Path]:
    data = root / "sqlite"
    for f in data.glob("leadflow.db*"):
        f.unlink()
    data.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data / 'leadflow.db'}", data


def _fresh_pg(base: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {PG_SCHEMA}"))
    engine.dispose()
    return f"{base}?options=-csearch_path%3D{PG_SCHEMA}"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=PG_URL, help="PostgreSQL server (a fresh schema is used).")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from gen_leads_csv import generate, modified

    csv_path = OUT / f"leads-{args.rows}.csv"
    if not csv_path.exists():
        t0 = time.perf_counter()
        generate(csv_path, rows=args.rows)
        print(f"generated {csv_path} ({csv_path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t0:.1f}s")
    changed = modified(csv_path, OUT / f"leads-{args.rows}-changed.csv")
    targets = [t for t in ("sqlite", "postgresql") if args.only in (None, t)]
    for target in targets:
        if target == "sqlite":
            url, data = _fresh_sqlite(OUT)
        else:
            url, data = _fresh_pg(args.database_url), OUT / "pg"
        for label, path in (("first import", csv_path), ("same file again", csv_path), ("every lead changed", changed)):
            r = _run(url, data, path)
            print(f"{target:10} {label:18} {r['total_rows']:>9,} rows {r['wall_s']:7.1f}s {r['rows_per_s']:>9,.0f} rows/s "
                  f"cpu {r['cpu_s']:6.1f}s peak RSS {r['peak_rss_mib']:6.0f} MiB  created {r['created']:,} updated {r['updated']:,} "
                  f"unchanged {r['unchanged']:,} rejected {r['rejected']:,} duplicates {r['duplicates']:,}",
                  flush=True)


if __name__ == "__main__":
    main()
