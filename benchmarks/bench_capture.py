"""Capture benchmarks on SQLite: form submissions over HTTP (wrk) against leadflow and a minimal
ASGI app that only inserts the raw row, and the events batch API.

    python benchmarks/bench_capture.py                 # both
    python benchmarks/bench_capture.py --only submissions --duration 30 --connections 64
    python benchmarks/bench_capture.py --only events

Each server runs as `uvicorn` in its own process (one worker, uvloop + httptools) on loopback,
with a fresh SQLite database under benchmarks/out/capture/. wrk must be installed (Debian: wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "capture"
BODY = ("email=ana%40acme.io&first_name=Ana&last_name=Garc%C3%ADa&company_name=Acme&"
        "utm_source=google&utm_medium=cpc&utm_campaign=spring&consent=true")

# The baseline: an ASGI app that reads the body and inserts it into SQLite, nothing else.
MINIMAL_APP = '''
import os, sqlite3, threading, json
from urllib.parse import parse_qsl
DB = os.environ["BENCH_DB"]
_local = threading.local()
def _conn():
    c = getattr(_local, "c", None)
    if c is None:
        c = sqlite3.connect(DB, isolation_level=None, check_same_thread=False)
        c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=NORMAL"); c.execute("PRAGMA busy_timeout=5000")
        _local.c = c
    return c
c = _conn(); c.execute("CREATE TABLE IF NOT EXISTS raw (id INTEGER PRIMARY KEY, payload TEXT, received_at TEXT DEFAULT CURRENT_TIMESTAMP)")
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        m = await receive(); body += m.get("body", b"")
        if not m.get("more_body"): break
    _conn().execute("INSERT INTO raw (payload) VALUES (?)", (json.dumps(dict(parse_qsl(body.decode()))),))
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})
'''

WRK_LUA = '''
wrk.method = "POST"
wrk.body = "{BODY}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
done = function(summary, latency, requests)
  local codes = 0
  io.write(string.format("LATENCY p50=%d p90=%d p99=%d max=%d\\n", latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  io.write(string.format("SUMMARY requests=%d non2xx=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d errors_status=%d\\n",
    summary.requests, summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status))
end
'''.replace("{BODY}", BODY)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def _serve(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "uvicorn", *args, "--loop", "uvloop", "--http", "httptools",
                             "--log-level", "warning", "--no-access-log"], env={**os.environ, **env},
                            start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def _wrk(url: str, *, duration: int, connections: int, threads: int = 2) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_LUA)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", fh.name, url],
                         capture_output=True, text=True, check=True).stdout
    lat = dict((k, int(v) / 1000) for k, v in re.findall(r"(p50|p90|p99|max)=(\d+)", out))
    summ = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", out.split("SUMMARY", 1)[1]))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"requests_per_s": rps, "latency_ms": lat, **summ, "raw": out}


def _leadflow_env(data: Path, processing: bool = True) -> dict:
    return {"LEADFLOW_DATA_DIR": str(data), "LEADFLOW_SUBMIT_RATE_LIMIT": "100000000/minute",
            "LEADFLOW_DATABASE_URL": f"sqlite:///{data / 'leadflow.db'}",
            "LEADFLOW_SUBMISSION_PROCESSING": "true" if processing else "false"}


def _prepare_leadflow(data: Path) -> None:
    env = {**os.environ, **_leadflow_env(data)}
    code = ("from leadflow.db.migrate import upgrade; from leadflow.db.session import get_engine, unit_of_work;"
            "from leadflow.capture.service import create_form; from leadflow.capture.schemas import FormIn;"
            "upgrade(get_engine());\n"
            "with unit_of_work() as s: create_form(s, data=FormIn(slug='bench', name='Bench', min_submit_seconds=0,"
            " consent_enabled=True, consent_text='Yes, email me.', fields=[{'key':'email','type':'email'},"
            "{'key':'first_name','type':'first_name'},{'key':'last_name','type':'last_name'},"
            "{'key':'company_name','type':'company_name'}]))")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def bench_submissions(duration: int, connections: int, processing: bool = True) -> dict:
    results = {}
    # leadflow
    data = OUT / "leadflow"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    _prepare_leadflow(data)
    port = _port()
    proc = _serve(["leadflow.app:create_app", "--factory", "--port", str(port)], _leadflow_env(data, processing))
    try:
        _wait(f"http://127.0.0.1:{port}/healthz")
        run = _wrk(f"http://127.0.0.1:{port}/f/bench/submit", duration=duration, connections=connections)
        time.sleep(1)
        db = sqlite3.connect(data / "leadflow.db")
        stored = db.execute("SELECT count(*) FROM submissions").fetchone()[0]
        statuses = dict(db.execute("SELECT status, count(*) FROM submissions GROUP BY status").fetchall())
        # How far behind the lead conversion was when the load stopped, and how long it takes to catch up.
        t0 = time.monotonic()
        while processing and db.execute("SELECT count(*) FROM submissions WHERE status = 'pending'").fetchone()[0] \
                and time.monotonic() - t0 < 600:
            time.sleep(0.5)
        catch_up = time.monotonic() - t0
        statuses_after = dict(db.execute("SELECT status, count(*) FROM submissions GROUP BY status").fetchall())
    finally:
        _stop(proc)
    ok = run["requests"] - run["non2xx"]
    results["leadflow"] = {**{k: v for k, v in run.items() if k != "raw"}, "stored": stored, "statuses_at_end": statuses,
                           "statuses_after_catch_up": statuses_after, "catch_up_s": round(catch_up, 1),
                           "lost": ok - stored}
    # minimal ASGI baseline
    base = OUT / "minimal"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    (base / "minimal_app.py").write_text(MINIMAL_APP)
    port = _port()
    proc = _serve(["minimal_app:app", "--app-dir", str(base), "--port", str(port)], {"BENCH_DB": str(base / "raw.db")})
    try:
        _wait(f"http://127.0.0.1:{port}/")
        run = _wrk(f"http://127.0.0.1:{port}/f/bench/submit", duration=duration, connections=connections)
        time.sleep(0.5)
        stored = sqlite3.connect(base / "raw.db").execute("SELECT count(*) FROM raw").fetchone()[0]
    finally:
        _stop(proc)
    results["minimal"] = {**{k: v for k, v in run.items() if k != "raw"}, "stored": stored - 1 if stored else 0}
    results["ratio_leadflow_to_minimal"] = round(results["leadflow"]["requests_per_s"] / run["requests_per_s"], 3)
    return results


def bench_events(duration: int, threads: int, leads: int = 10_000) -> dict:
    import httpx

    data = OUT / "events"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    env = _leadflow_env(data)
    code = ("import os; from leadflow.db.migrate import upgrade; from leadflow.db.session import get_engine, unit_of_work;"
            "from leadflow.auth.service import create_user, create_token; upgrade(get_engine()); import sqlalchemy as sa\n"
            "with unit_of_work() as s:\n"
            " u = create_user(s, email='b@example.com', password='correct-horse-battery', name='B', role='admin')\n"
            " _, t = create_token(s, user=u, name='bench'); print(t)\n"
            f" s.execute(sa.text(\"WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < {leads}) \"\n"
            f"  \"INSERT INTO leads (email, stage, properties, consent_email, consent_tracking, created_at, updated_at) \"\n"
            f"  \"SELECT 'p' || value || '@corp.io', 'prospect', '{{}}', 'unknown', 'unknown', datetime('now'), datetime('now') \"\n"
            f"  \"FROM n\"))\n")
    token = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, check=True, capture_output=True,
                           text=True).stdout.strip().splitlines()[-1]
    port = _port()
    proc = _serve(["leadflow.app:create_app", "--factory", "--port", str(port)], env)
    sent = [0]
    lat: list[float] = []
    lock = threading.Lock()
    try:
        _wait(f"http://127.0.0.1:{port}/healthz")
        stop = time.monotonic() + duration

        def worker(k: int) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                              timeout=60) as c:
                i = 0
                while time.monotonic() < stop:
                    batch = {"events": [{"type": "trial_usage", "email": f"p{(k * 7919 + i * 1000 + j) % leads + 1}@corp.io",
                                         "external_id": f"w{k}-{i}-{j}", "properties": {"feature": "export", "n": j}}
                                        for j in range(1000)]}
                    t = time.perf_counter()
                    r = c.post("/api/v1/events", json=batch)
                    dt = time.perf_counter() - t
                    r.raise_for_status()
                    with lock:
                        sent[0] += r.json()["stored"]
                        lat.append(dt)
                    i += 1

        t0 = time.perf_counter()
        ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wall = time.perf_counter() - t0
        stored = sqlite3.connect(data / "leadflow.db").execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        _stop(proc)
    lat.sort()
    return {"events_stored": stored, "acknowledged": sent[0], "wall_s": round(wall, 1),
            "events_per_s": round(stored / wall), "batches": len(lat),
            "batch_latency_ms": {"p50": round(lat[len(lat) // 2] * 1000, 1), "p99": round(lat[int(len(lat) * 0.99)] * 1000, 1)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["submissions", "events"])
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--event-threads", type=int, default=4)
    parser.add_argument("--no-processing", action="store_true",
                        help="Measure intake alone (LEADFLOW_SUBMISSION_PROCESSING=false).")
    args = parser.parse_args()
    out: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count()}
    if args.only in (None, "submissions"):
        out["submissions"] = bench_submissions(args.duration, args.connections, processing=not args.no_processing)
    if args.only in (None, "events"):
        out["events"] = bench_events(min(args.duration, 20), args.event_threads)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
