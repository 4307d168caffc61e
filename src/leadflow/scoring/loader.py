"""Bulk reads of leads and events into the engine's frames, and the bulk write of scores.

A full rescore reads every lead and every event of a lead (ten million rows) and writes a
million score rows; SQLAlchemy rows or Python tuples would cost minutes. Here the database hands
over Arrow columns instead:

- SQLite: ADBC (`adbc_driver_sqlite`) turns SQLite's rows into Arrow in C. It carries its own
  copy of the SQLite library, and two SQLite libraries in one process break each other's file
  locks (closing one's connection drops the other's locks: stale reads, then "disk I/O error";
  see sqlite.org/howtocorrupt.html, 2.2.1). So ADBC runs in a helper process that streams Arrow
  IPC back through a pipe, while this process keeps using Python's sqlite3. The helper reads the
  events as id-range slices on two connections at once (SQLite runs a query on one core).
- PostgreSQL: ADBC (`adbc_driver_postgresql`) reads with `COPY ... TO STDOUT (FORMAT binary)`
  straight into Arrow; on 890k events it took half the wall time and CPU of psycopg's text COPY
  parsed by Polars' CSV reader.

Times become epoch seconds and JSON properties text in SQL, the same on both databases. Scores
are written in one transaction: the rows go into a temporary table (ADBC ingest on SQLite, COPY
on PostgreSQL) and one `UPDATE ... FROM` applies them.

This is the bulk path: on SQLite every call starts the helper (~0.3 s). A few leads are cheaper
through the session's own queries (scoring.service).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from sqlalchemy import Engine

PROPERTY_PREFIX = "properties."
EVENT_PROPERTY_PREFIX = "prop."
# How SQLAlchemy stores (and compares) datetimes on SQLite; PostgreSQL reads it as a timestamp.
DATETIME_TEXT = "%Y-%m-%d %H:%M:%S.%f"
# A property name goes into SQL inside quotes (a JSON path on SQLite, a literal on PostgreSQL):
# anything but quotes, backslashes and control characters ("Lead Source" is fine).
_PROPERTY_NAME = re.compile(r"[^'\"\\\x00-\x1f]{1,100}")
# Keys no JSON encoder escapes (ASCII letters, digits and a few marks).
_PLAIN_KEY = re.compile(r"[A-Za-z0-9 _.:-]+")
# Connections reading the events at once, one core each: on 2 vCPUs two read 9M events in 6.4 s
# instead of 11.8 s (more cores untried).
READ_THREADS = max(1, min(2, os.cpu_count() or 1))
# Below this many events a second connection costs more than it saves.
PARALLEL_MIN_ROWS = 200_000
# Rows per Arrow batch read from SQLite: big enough that a batch costs little to pass on.
SQLITE_BATCH_ROWS = 65_536
SQLITE_BUSY_TIMEOUT_MS = 10_000  # as the application's connections (db.session)
PIPE_BYTES = 1 << 20  # the largest pipe buffer an unprivileged process may ask for (fs.pipe-max-size)
HELPER_STOP_S = 2.0  # after this side failed, how long a helper may take to notice before it is killed
# The write holds SQLite's write lock for its whole transaction; a bigger page cache for that
# connection keeps the score indexes in memory while they are rewritten or built.
SQLITE_WRITE_CACHE_KIB = 262_144
# Writing scores for at least this share of the leads, SQLite drops the indexes on the score
# columns and builds them again in the same transaction (readers never see them missing):
# keeping them costs ~17 µs a lead in random B-tree updates, building the four of a million
# leads ~4.5 s. Measured on 1M leads: 17.5 s CPU kept, 6.9 s CPU dropped and built again.
REBUILD_INDEXES_SHARE = 0.25

SCORE_COLUMNS = ("score", "fit_points", "fit_grade", "engagement_score", "intent_score")
WRITTEN_COLUMNS = (*SCORE_COLUMNS, "score_version", "scored_at")
_SCORE_SCHEMA = {"lead_id": pl.Int64, "score": pl.Float64, "fit_points": pl.Float64, "fit_grade": pl.String,
                 "engagement_score": pl.Float64, "intent_score": pl.Float64}
_TYPE_NAMES = {pl.Int64: "int64", pl.Float64: "float64", pl.String: "string"}
_HELPER_ERROR = "leadflow scoring loader: "


class LoaderError(RuntimeError):
    """The SQLite helper process failed; the message is its error."""


# ---------------------------------------------------------------- SQL pieces


def _lead_column(field: str) -> tuple[str, bool]:
    """(column, whether it holds text) of a plain lead field, after checking it is one."""
    # Imported here: the SQLite helper process imports this module and needs neither.
    from sqlalchemy import String, Text

    from leadflow.leads.models import Lead

    column = Lead.__table__.columns.get(field)
    if column is None or field == "properties":
        raise ValueError(f"unknown lead field {field!r}")
    return field, isinstance(column.type, String | Text)


def _property_name(field: str, prefix: str) -> str:
    name = field[len(prefix):]
    if not _PROPERTY_NAME.fullmatch(name):
        raise ValueError(f"unsupported property name {name!r}")
    return name


def _json_text(name: str, pg: bool) -> str:
    """Property NAME of the row's JSON `properties` as text: strings as they are, numbers as
    written, true/false, NULL when missing (PostgreSQL's ->>; SQLite's json_extract would give
    1/0 for booleans)."""
    if pg:
        return f"(properties ->> '{name}')"
    path = f"'$.\"{name}\"'"
    value = (f"CASE json_type(properties, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
             f"ELSE CAST(json_extract(properties, {path}) AS TEXT) END")
    if not _PLAIN_KEY.fullmatch(name):
        return value
    # Most rows lack most keys (no "url" in an email open): a substring test skips parsing their
    # JSON, ~0.5 s of CPU over 9M events. A plain key is written the same by any JSON encoder.
    return f"CASE WHEN instr(properties, '\"{name}\"') THEN {value} END"


def _lead_select(fields: Sequence[str], pg: bool) -> list[str]:
    out = []
    for field in fields:
        if field.startswith(PROPERTY_PREFIX):
            expr = _json_text(_property_name(field, PROPERTY_PREFIX), pg)
        else:
            column, is_text = _lead_column(field)
            expr = column if is_text else (f"{column}::text" if pg else f"CAST({column} AS TEXT)")
        out.append(f'{expr} AS "{field}"')
    return out


def _id_list(lead_ids: Sequence[int]) -> str:
    return ", ".join(str(int(i)) for i in lead_ids)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _typed(frame: pl.DataFrame, schema: dict) -> pl.DataFrame:
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


# ---------------------------------------------------------------- public


def load_lead_frame(engine: Engine, *, fields: Sequence[str], lead_ids: Sequence[int] | None = None) -> pl.DataFrame:
    """lead_id and one text column per field ("job_title", "properties.TotalVisits", ...), for all or LEAD_IDS."""
    fields = list(dict.fromkeys(fields))
    schema = {"lead_id": pl.Int64, **{f: pl.String for f in fields}}
    pg = engine.dialect.name == "postgresql"
    select = ", ".join(["id AS lead_id", *_lead_select(fields, pg)])
    if lead_ids is not None and not len(lead_ids):
        return pl.DataFrame(schema=schema)
    sql = f"SELECT {select} FROM leads" + (f" WHERE id IN ({_id_list(lead_ids)})" if lead_ids is not None else "")
    if pg:
        return _typed(_pg_read(engine, sql, schema), schema)
    return _typed(_sqlite_read(engine, {"queries": [sql]}, schema), schema)


def load_event_frame(engine: Engine, *, types: Sequence[str] | None, prop_keys: Sequence[str],
                     lead_ids: Sequence[int] | None = None, until: datetime | None = None) -> pl.DataFrame:
    """The events of leads (anonymous visitors' left out): lead_id, event_id, type, t (epoch s), prop.<key>.

    TYPES None means every type; UNTIL (naive UTC) keeps the events that occurred at or before it.
    """
    prop_keys = list(dict.fromkeys(prop_keys))
    names = [_property_name(EVENT_PROPERTY_PREFIX + k, EVENT_PROPERTY_PREFIX) for k in prop_keys]
    schema = {"lead_id": pl.Int64, "event_id": pl.Int64, "type": pl.String, "t": pl.Float64,
              **{f"{EVENT_PROPERTY_PREFIX}{n}": pl.String for n in names}}
    if (lead_ids is not None and not len(lead_ids)) or (types is not None and not len(types)):
        return pl.DataFrame(schema=schema)
    pg = engine.dialect.name == "postgresql"
    t = "extract(epoch FROM occurred_at)::float8" if pg else "unixepoch(occurred_at, 'subsec')"
    columns = ", ".join(["lead_id", "id AS event_id", "type", f"{t} AS t",
                         *(f'{_json_text(n, pg)} AS "prop.{n}"' for n in names)])
    where = ["lead_id IS NOT NULL"]
    if lead_ids is not None:
        where.append(f"lead_id IN ({_id_list(lead_ids)})")
    if types is not None:
        where.append(f"type IN ({', '.join(_quote(x) for x in types)})")
    if until is not None:
        where.append(f"occurred_at <= {_quote(until.strftime(DATETIME_TEXT))}" + ("::timestamp" if pg else ""))
    if pg:
        return _typed(_pg_read(engine, f"SELECT {columns} FROM events WHERE {' AND '.join(where)}", schema), schema)
    if lead_ids is not None:
        # Some leads: through ix_events_lead_occurred, in one query.
        return _typed(_sqlite_read(engine, {"queries": [f"SELECT {columns} FROM events WHERE {' AND '.join(where)}"]},
                                   schema), schema)
    # Every lead: a scan in rowid order, cut into id ranges read at once. NOT INDEXED keeps the
    # planner from walking ix_events_lead_occurred (or the type index) and fetching every row
    # from the table at random.
    return _typed(_sqlite_read(engine, {"sliced": f"SELECT {columns} FROM events NOT INDEXED "
                                                  f"WHERE {' AND '.join(where)}"}, schema), schema)


def write_scores(engine: Engine, scores: pl.DataFrame, *, version: int, scored_at: datetime) -> int:
    """Store the score columns, score_version and scored_at of the leads in SCORES, in one transaction; rows updated.

    updated_at is left alone: a new score is not an edit of the lead.
    """
    frame = _typed(scores, _SCORE_SCHEMA)
    if frame.height == 0:
        return 0
    if engine.dialect.name == "postgresql":
        return _pg_write(engine, frame, version=version, scored_at=scored_at)
    request = {"op": "write", "version": int(version), "scored_at": scored_at.strftime(DATETIME_TEXT),
               "rebuild_share": REBUILD_INDEXES_SHARE}
    return _sqlite_helper_write(engine, request, frame)["updated"]


# ---------------------------------------------------------------- SQLite: this process


def _sqlite_path(engine: Engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise ValueError(f"scoring loads need a SQLite database file, not {path!r}")
    return str(Path(path).resolve())


@contextmanager
def _helper(request: dict):
    """The helper process, REQUEST sent as the first line of its stdin; LoaderError with its error if it fails."""
    import leadflow

    env = dict(os.environ)
    # The helper imports leadflow from where this process did.
    root = str(Path(leadflow.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-c", "from leadflow.scoring.loader import helper_main; helper_main()"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env)
        for pipe in (proc.stdin, proc.stdout):
            _widen(pipe)
        try:
            proc.stdin.write(json.dumps(request).encode() + b"\n")  # type: ignore[union-attr]
            yield proc
        except BaseException as exc:
            # A helper that failed first (a broken pipe or a cut stream here) is the error to
            # report; one still running when this side failed is stopped.
            code = _stop(proc, wait_s=HELPER_STOP_S)
            message = _last_line(err)
            if code and message and "BrokenPipeError" not in message:
                raise LoaderError(message) from exc
            raise
        code = _stop(proc)
        if code:
            raise LoaderError(_last_line(err) or f"the SQLite helper exited with {code}")


def _widen(pipe: IO[bytes] | None) -> None:
    """A larger pipe buffer on Linux: hundreds of MB go through it, 64 KiB at a time by default
    (measured: ~1 s less CPU for 9M events)."""
    if pipe is None or not sys.platform.startswith("linux"):
        return
    import fcntl

    with suppress(OSError):
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _stop(proc: subprocess.Popen, *, wait_s: float | None = None) -> int:
    """Close the pipes and wait for the helper's exit code (killing it after WAIT_S seconds, if given)."""
    for pipe in (proc.stdin, proc.stdout):
        if pipe and not pipe.closed:
            with suppress(OSError):
                pipe.close()
    try:
        return proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def _last_line(err: IO[bytes]) -> str:
    """The helper's error: its own report line, else the last line it wrote."""
    err.seek(0)
    lines = err.read().decode(errors="replace").strip().splitlines()
    reported = [line.removeprefix(_HELPER_ERROR) for line in lines if line.startswith(_HELPER_ERROR)]
    return reported[-1] if reported else (lines[-1] if lines else "")


def _sqlite_read(engine: Engine, request: dict, schema: dict) -> pl.DataFrame:
    import pyarrow as pa

    request = {"op": "read", "path": _sqlite_path(engine), "batch_rows": SQLITE_BATCH_ROWS,
               "threads": READ_THREADS, "parallel_min_rows": PARALLEL_MIN_ROWS,
               "schema": [[name, _TYPE_NAMES[dtype]] for name, dtype in schema.items()], **request}
    parts: list[pl.DataFrame] = []
    with _helper(request) as proc:
        proc.stdin.close()  # type: ignore[union-attr]
        # Batch by batch while the helper reads on: the whole Arrow result never exists at once.
        for batch in pa.ipc.open_stream(proc.stdout):
            parts.append(pl.from_arrow(batch))  # type: ignore[arg-type]
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts, rechunk=False)


def _sqlite_helper_write(engine: Engine, request: dict, frame: pl.DataFrame) -> dict:
    import pyarrow as pa

    table = frame.to_arrow()
    with _helper({**request, "path": _sqlite_path(engine)}) as proc:
        with pa.ipc.new_stream(proc.stdin, table.schema) as writer:
            writer.write_table(table)
        proc.stdin.close()  # type: ignore[union-attr]
        out = proc.stdout.read()  # type: ignore[union-attr]
    return json.loads(out)


# ---------------------------------------------------------------- SQLite: the helper process


def helper_main() -> None:
    """Entry point of the SQLite helper process: one request (JSON line on stdin), then exit."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        request = json.loads(stdin.readline())
        if request["op"] == "read":
            _helper_read(request, stdout)
        else:
            stdout.write(json.dumps(_helper_write(request, stdin)).encode())
        stdout.flush()
    except Exception as exc:
        # One line the caller raises again (the driver's messages run over several lines).
        sys.stderr.write(f"{_HELPER_ERROR}{type(exc).__name__}: {' '.join(str(exc).split())}\n")
        sys.stderr.flush()
        os._exit(1)


@contextmanager
def _adbc(path: str):
    import adbc_driver_sqlite.dbapi as adbc

    # Autocommit at the driver level: transactions are begun and ended explicitly.
    conn = adbc.connect(path, autocommit=True)
    try:
        cur = conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.fetchall()
        yield cur
        cur.close()
    finally:
        conn.close()


def _sentinel_row(schema: list) -> str:
    """A first row of the right SQL types: ADBC types each column from the first batch it reads,
    and a column of only NULLs there would become an integer column and fail on the first text
    value after it."""
    literal = {"int64": "0", "float64": "0.0", "string": "''"}
    return "SELECT " + ", ".join(f'{literal[kind]} AS "{name}"' for name, kind in schema)


def _id_slices(path: str, parts: int, min_rows: int) -> list[tuple[int, int]]:
    with _adbc(path) as cur:
        cur.execute("SELECT min(id), max(id) FROM events")
        lo, hi = cur.fetchone()
    if lo is None:
        return [(0, 0)]
    parts = parts if hi - lo + 1 >= min_rows else 1
    bounds = [lo - 1 + (hi - lo + 1) * i // parts for i in range(parts + 1)]
    return list(itertools.pairwise(bounds))


def _helper_read(request: dict, out: IO[bytes]) -> None:
    import pyarrow as pa

    path, schema = request["path"], request["schema"]
    target = pa.schema([(name, getattr(pa, kind)()) for name, kind in schema])
    queries = request.get("queries") or [
        f"{request['sliced']} AND id > {lo} AND id <= {hi}"
        for lo, hi in _id_slices(path, request["threads"], request["parallel_min_rows"])]
    lock = threading.Lock()
    with pa.ipc.new_stream(out, target) as writer:

        def read(sql: str) -> None:
            with _adbc(path) as cur:
                cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(request["batch_rows"])})
                # One read transaction per query: its rows are one snapshot however long it takes.
                # Slices read at once are separate snapshots: a commit between them can show in
                # one only, which a score cannot tell from being computed a moment apart.
                cur.execute("BEGIN")
                cur.execute(f"{_sentinel_row(schema)} UNION ALL {sql}")
                first = True
                for batch in cur.fetch_record_batch():
                    if first:
                        batch, first = batch.slice(1), False
                    with lock:
                        writer.write_batch(batch.cast(target))
                cur.execute("COMMIT")

        if len(queries) == 1:
            read(queries[0])
        else:
            with ThreadPoolExecutor(len(queries)) as pool:
                list(pool.map(read, queries))


def _helper_write(request: dict, stdin: IO[bytes]) -> dict:
    import pyarrow as pa

    table = pa.ipc.open_stream(stdin).read_all()
    sets = ", ".join(f"{c} = s.{c}" for c in SCORE_COLUMNS)
    with _adbc(request["path"]) as cur:
        for pragma in (f"cache_size=-{SQLITE_WRITE_CACHE_KIB}", "synchronous=NORMAL", "temp_store=MEMORY"):
            cur.execute(f"PRAGMA {pragma}")
            cur.fetchall()
        # The write lock first: waits for another writer instead of failing half way.
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute("DROP TABLE IF EXISTS temp.score_rows")
            cur.adbc_ingest("score_rows", table, mode="create", temporary=True)
            changed = f"({_changed('IS NOT', int(request['version']))})"
            rebuild = []
            if table.num_rows >= request["rebuild_share"] * _lead_count(cur):
                # Rebuilding pays only when most rows really change (a new version, a day's decay);
                # a rescore that finds the same scores updates in place.
                cur.execute(f"SELECT count(*) FROM leads JOIN temp.score_rows AS s ON leads.id = s.lead_id "
                            f"WHERE {changed}")
                if cur.fetchone()[0] >= request["rebuild_share"] * _lead_count(cur):
                    rebuild = _score_indexes(cur)
            for name, _ in rebuild:
                cur.execute(f'DROP INDEX "{name}"')
            # Literals, not parameters: after a failed statement the driver keeps its parameters
            # bound to the cursor, and the ROLLBACK below would fail on them instead.
            # Rows whose stored score is already this version's and the same are left alone: a
            # daily rescore rewrites only the leads whose scores decayed or changed.
            cur.execute(f"UPDATE leads SET {sets}, score_version = {int(request['version'])}, "
                        f"scored_at = {_quote(request['scored_at'])} FROM temp.score_rows AS s "
                        f"WHERE leads.id = s.lead_id AND {changed}")
            cur.execute("SELECT changes()")
            updated = cur.fetchone()[0]
            for _, ddl in rebuild:
                cur.execute(ddl)
            cur.execute("DROP TABLE temp.score_rows")
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    return {"updated": updated, "rebuilt_indexes": [name for name, _ in rebuild]}


def _changed(distinct: str, version: int) -> str:
    """SQL true when a lead's stored score differs from the new one in temp table `s` (null-safe)."""
    return " OR ".join([f"leads.score_version {distinct} {version}",
                        *(f"leads.{c} {distinct} s.{c}" for c in SCORE_COLUMNS)])


def _lead_count(cur) -> int:
    # Ids are handed out in order and rarely deleted: the largest is close enough, and free.
    cur.execute("SELECT coalesce(max(id), 0) FROM leads")
    return cur.fetchone()[0]


def _score_indexes(cur) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the non-unique indexes of leads on a column the write changes."""
    cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leads' "
                "AND sql IS NOT NULL AND upper(sql) NOT LIKE 'CREATE UNIQUE%'")
    out = []
    for name, ddl in cur.fetchall():
        cur.execute(f"SELECT name FROM pragma_index_info('{name}')")
        if {row[0] for row in cur.fetchall()} & set(WRITTEN_COLUMNS):
            out.append((name, ddl))
    return out


# ---------------------------------------------------------------- PostgreSQL


def _pg_uri(engine: Engine) -> str:
    """The engine's database as a libpq URI (options such as search_path included)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_read(engine: Engine, sql: str, schema: dict) -> pl.DataFrame:
    import adbc_driver_postgresql.dbapi as adbc

    # A transaction of its own (the driver begins it): one snapshot, read with COPY in binary.
    with adbc.connect(_pg_uri(engine)) as conn, conn.cursor() as cur:
        cur.execute(sql)
        parts = [pl.from_arrow(batch) for batch in cur.fetch_record_batch()]
        conn.rollback()
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts, rechunk=False)  # type: ignore[arg-type]


def _pg_write(engine: Engine, frame: pl.DataFrame, *, version: int, scored_at: datetime) -> int:
    sets = ", ".join(f"{c} = s.{c}" for c in SCORE_COLUMNS)
    data = frame.select("lead_id", *SCORE_COLUMNS).write_csv(include_header=False).encode()
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute("CREATE TEMP TABLE score_rows (lead_id bigint, score float8, fit_points float8, "
                       "fit_grade varchar(1), engagement_score float8, intent_score float8) ON COMMIT DROP")
        with cursor.copy(f"COPY score_rows (lead_id, {', '.join(SCORE_COLUMNS)}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(data)
        cursor.execute(f"UPDATE leads SET {sets}, score_version = %s, scored_at = %s FROM score_rows AS s "
                       f"WHERE leads.id = s.lead_id AND ({_changed('IS DISTINCT FROM', int(version))})",
                       (int(version), scored_at))
        return cursor.rowcount
