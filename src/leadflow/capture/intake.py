"""The submit endpoint's writer: one thread that stores submissions with group commit.

Every request hands its row to this thread and waits for the commit that contains it, so a 2xx
is only sent for a stored submission. Rows that arrive while a commit is in progress go into the
next one: under load, one transaction stores dozens of submissions. On SQLite this also keeps
writers from queueing on the database lock (whose busy-wait backs off in milliseconds); on
PostgreSQL it saves a commit (and its WAL flush) per submission.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from concurrent.futures import Future

from sqlalchemy import insert

from leadflow.capture.models import Submission
from leadflow.db.session import get_engine

log = logging.getLogger(__name__)

MAX_GROUP = 500  # rows per commit at most: a bounded transaction even under a flood


class SubmissionWriter:
    """Queue rows with `store(row)`; a Future gives the stored submission's id (or the error)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[dict, Future] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="leadflow-intake", daemon=True)
        self._thread.start()

    def store(self, row: dict) -> Future:
        future: Future = Future()
        self._queue.put((row, future))
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Store what is queued, then stop."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is None:
                return
            group = [item]
            while len(group) < MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stopping = True
                    break
                group.append(nxt)
            self._write(group)

    def _write(self, group: list[tuple[dict, Future]]) -> None:
        engine = get_engine()
        try:
            if engine.dialect.name == "sqlite":
                ids = _insert_sqlite(engine, [row for row, _ in group])
            else:
                with engine.begin() as conn:
                    ids = conn.execute(insert(Submission).returning(Submission.id, sort_by_parameter_order=True),
                                       [row for row, _ in group]).scalars().all()
        except Exception as exc:  # every waiting request gets the error (a 5xx): none is told "stored"
            log.exception("storing %d submissions failed", len(group))
            for _, future in group:
                future.set_exception(exc)
            return
        for (_, future), sub_id in zip(group, ids, strict=True):
            future.set_result(sub_id)


_COLUMNS = ("form_id", "received_at", "status", "reasons", "payload", "context", "visitor_id")
_INSERT = f"INSERT INTO submissions ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"


def _insert_sqlite(engine, rows: list[dict]) -> list[int]:
    """The group through the driver's executemany, holding the write lock from the start.

    SQLAlchemy's per-row parameter processing held the GIL long enough to stall the event loop
    under load. With the lock held (BEGIN IMMEDIATE) and no AUTOINCREMENT, the new ids are the
    last one and the n - 1 before it.
    """
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.executemany(_INSERT, [(
                r["form_id"], r["received_at"].strftime("%Y-%m-%d %H:%M:%S.%f"), r["status"],
                json.dumps(r["reasons"]), json.dumps(r["payload"]), json.dumps(r["context"]), r["visitor_id"],
            ) for r in rows])
            last = cur.execute("SELECT last_insert_rowid()").fetchone()[0]
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    finally:
        raw.close()
    return list(range(last - len(rows) + 1, last + 1))
