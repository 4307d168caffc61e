"""Bulk imports: secondary indexes set aside during a large import and built again after, on the real database."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from leadflow.config import get_settings
from leadflow.db.bulk import (
    DeferredIndex,
    defer_indexes,
    forget_stale_connections,
    pending_indexes,
    restore_indexes,
    secondary_indexes,
)
from leadflow.db.migrate import upgrade
from leadflow.db.session import get_sessionmaker
from leadflow.leads.importing import BULK_TABLES, ImportInterrupted, import_csv
from leadflow.leads.schemas import LeadFilter
from leadflow.leads.service import list_leads


def _tables(engine: Engine) -> tuple[str, ...]:
    return BULK_TABLES[engine.dialect.name]


def _indexes(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {name: ddl for t in _tables(engine) for name, ddl in secondary_indexes(conn, t)}


def _unique_indexes(engine: Engine) -> set[str]:
    from sqlalchemy import inspect

    with engine.connect() as conn:
        insp = inspect(conn)
        return {i["name"] for t in _tables(engine) for i in insp.get_indexes(t) if i["unique"]} | {
            c["name"] for t in _tables(engine) for c in insp.get_unique_constraints(t)}


def _csv(path: Path, n: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Email", "First Name", "Last Name", "Company"])
        for i in range(n):
            w.writerow([f"person{i}@corp{i % 3}.io", "María" if i % 2 else "Ana", f"Pérez{i}", f"Corp {i % 3}"])
    return path


def test_defer_and_restore_keep_every_index_as_it_was(engine_clean: Engine) -> None:
    before, unique = _indexes(engine_clean), _unique_indexes(engine_clean)
    assert "ix_leads_created_at" in before and "ix_stage_changes_lead_at" in before
    with engine_clean.begin() as conn:
        dropped = defer_indexes(conn, _tables(engine_clean))
    forget_stale_connections(engine_clean)
    assert sorted(dropped) == sorted(before)
    assert _indexes(engine_clean) == {}
    assert _unique_indexes(engine_clean) == unique  # constraints never leave
    with engine_clean.connect() as conn:
        assert pending_indexes(conn) == sorted(before)
    with engine_clean.begin() as conn:
        assert sorted(restore_indexes(conn)) == sorted(before)
        assert restore_indexes(conn) == []
    assert _indexes(engine_clean) == before


def test_a_killed_bulk_load_is_repaired_by_db_upgrade(engine_clean: Engine) -> None:
    before = _indexes(engine_clean)
    with engine_clean.begin() as conn:
        defer_indexes(conn, _tables(engine_clean))
    forget_stale_connections(engine_clean)
    # The process that deferred them is gone; the next `leadflow db upgrade` (or serve) builds them.
    upgrade(engine_clean)
    assert _indexes(engine_clean) == before
    with engine_clean.connect() as conn:
        assert conn.scalar(select(DeferredIndex.name)) is None


def test_restore_leaves_an_index_someone_already_rebuilt(engine_clean: Engine) -> None:
    before = _indexes(engine_clean)
    with engine_clean.begin() as conn:
        defer_indexes(conn, _tables(engine_clean))
    forget_stale_connections(engine_clean)
    from sqlalchemy import text

    with engine_clean.begin() as conn:
        conn.execute(text(before["ix_leads_created_at"]))
    with engine_clean.begin() as conn:
        restore_indexes(conn)
    assert _indexes(engine_clean) == before


def test_large_import_sets_indexes_aside_and_builds_them_after(engine_clean: Engine, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    before = _indexes(engine_clean)
    seen_during: list[dict[str, str]] = []
    monkeypatch.setattr(get_settings(), "import_bulk_min_rows", 10)
    monkeypatch.setattr(get_settings(), "import_chunk_rows", 7)
    result = import_csv(_csv(tmp_path / "big.csv", 30), progress=lambda d, t: seen_during.append(_indexes(engine_clean)))
    assert (result.created, result.status) == (30, "done")
    assert seen_during and seen_during[0] == {}  # the load ran without them
    assert _indexes(engine_clean) == before
    with get_sessionmaker()() as s:
        total, page = list_leads(s, filter=LeadFilter(q="maria"), page=1, page_size=50)
        by_company, _ = list_leads(s, filter=LeadFilter(q="corp", sort="last_name"), page=1, page_size=5)
    # The search index got every bulk-inserted lead (SQLite FTS / PostgreSQL lead_search).
    assert total == 15 and all(lead.first_name == "María" for lead in page)
    assert by_company == 30


def test_small_import_or_large_table_keeps_indexes(engine_clean: Engine, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "import_bulk_min_rows", 10)
    import_csv(_csv(tmp_path / "a.csv", 20))
    seen: list[dict[str, str]] = []
    # 30 rows into a table of 20 leads (less than twice its size): maintained row by row.
    import_csv(_csv(tmp_path / "b.csv", 30), progress=lambda d, t: seen.append(_indexes(engine_clean)))
    assert seen and all(s == _indexes(engine_clean) != {} for s in seen)


def test_interrupted_bulk_import_still_rebuilds_indexes(engine_clean: Engine, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    before = _indexes(engine_clean)
    monkeypatch.setattr(get_settings(), "import_bulk_min_rows", 10)
    monkeypatch.setattr(get_settings(), "import_chunk_rows", 5)

    def stop(done: int, total: int) -> None:
        if done >= 5:
            raise KeyboardInterrupt

    with pytest.raises(ImportInterrupted) as info:
        import_csv(_csv(tmp_path / "c.csv", 20), progress=stop)
    assert info.value.result.created == 5
    assert _indexes(engine_clean) == before
