"""The unit-of-work helpers, against a real SQLite file."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from leadflow.db.session import begin_writing, make_engine


def _read_then_write(engine, *, lock_first: bool) -> None:
    """Read inside a SAVEPOINT, let another connection commit a row, then write."""
    with Session(engine) as a:
        if lock_first:
            begin_writing(a)
        a.begin_nested()  # the processor converts each submission inside a SAVEPOINT
        a.execute(text("SELECT count(*) FROM t")).scalar_one()

        def other_writer():
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO t VALUES (2)")

        other = threading.Thread(target=other_writer)
        other.start()
        other.join(0.5)  # with the lock taken it waits for A; without, it commits now
        try:
            a.execute(text("INSERT INTO t VALUES (1)"))
            a.commit()
        finally:
            other.join()


@pytest.mark.parametrize("lock_first", [False, True])
def test_begin_writing_lets_a_reading_transaction_write_after_another_commit(tmp_path, lock_first):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    if lock_first:
        _read_then_write(engine, lock_first=True)
        with engine.connect() as conn:
            assert sorted(conn.exec_driver_sql("SELECT x FROM t").scalars()) == [1, 2]
    else:
        # The failure begin_writing exists for: a stale snapshot cannot become a writer.
        with pytest.raises(OperationalError, match="database is locked"):
            _read_then_write(engine, lock_first=False)
    engine.dispose()


def test_begin_writing_inside_a_write_transaction_changes_nothing(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with Session(engine) as s:
        s.execute(text("INSERT INTO t VALUES (1)"))
        begin_writing(s)  # already writing: no second BEGIN (which SQLite would refuse)
        s.execute(text("INSERT INTO t VALUES (2)"))
        s.rollback()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 0
    engine.dispose()
