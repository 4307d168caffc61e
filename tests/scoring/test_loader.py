"""Bulk reads of leads and events for the scoring engine, and the bulk write of scores, on the real database."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from leadflow.db.bulk import secondary_indexes
from leadflow.leads.events import append_events
from leadflow.leads.models import Lead
from leadflow.leads.schemas import BatchEventIn
from leadflow.scoring import loader
from leadflow.scoring.loader import load_event_frame, load_lead_frame, write_scores
from tests.factories import make_lead

SITE = "https://www.northwind.example"
T0 = datetime(2026, 11, 20, 9, 30, 15, 123456)


def _epoch(dt: datetime) -> float:
    return dt.replace(tzinfo=UTC).timestamp()


def _events(db: Session, rows: list[dict]) -> None:
    result = append_events(db, events=[BatchEventIn(**r) for r in rows])
    assert not result.rejected


@pytest.fixture
def world(db: Session) -> dict:
    """Two identified leads with custom properties and page views, a third without events, and an
    anonymous visitor's page views (lead_id NULL) that must never be loaded; committed, since the
    loader reads through connections of its own."""
    ana = make_lead(db, email="ana@acme.io", job_title="VP Marketing", company_size="51-200", country="ES",
                    industry="Software", properties={"TotalVisits": 5, "Lead Source": "Google", "ratio": 2.5,
                                                     "opted": True, "declined": False, "Score Text": "7"})
    bob = make_lead(db, email="bob@gmail.com", job_title="Student", properties={"TotalVisits": "12"})
    cid = make_lead(db, email="cid@corp.io")
    _events(db, [
        {"lead_id": ana.id, "type": "page_view", "occurred_at": T0, "properties": {"url": f"{SITE}/pricing", "title": "Pricing"}},
        {"lead_id": ana.id, "type": "email_open", "occurred_at": datetime(2026, 11, 21, 8, 0), "properties": {"email": "newsletter"}},
        {"lead_id": ana.id, "type": "webinar", "occurred_at": datetime(2026, 11, 22, 16, 0), "properties": {"attended": True, "url": 42}},
        {"lead_id": bob.id, "type": "page_view", "occurred_at": datetime(2026, 11, 22, 10, 0), "properties": {"url": f"{SITE}/careers"}},
        {"lead_id": bob.id, "type": "page_view", "occurred_at": datetime(2026, 11, 23, 11, 59, 59), "properties": {"url": f"{SITE}/demo?utm_source=x"}},
        {"visitor_id": "v-anonymous-1", "type": "page_view", "occurred_at": T0, "properties": {"url": f"{SITE}/pricing"}},
        {"visitor_id": "v-anonymous-1", "type": "page_view", "occurred_at": T0, "properties": {"url": f"{SITE}/"}},
    ])
    db.commit()
    return {"ana": ana.id, "bob": bob.id, "cid": cid.id}


def test_lead_frame_has_the_fields_as_text(engine_clean: Engine, world: dict) -> None:
    fields = ["email", "job_title", "company_size", "country", "industry", "properties.TotalVisits",
              "properties.Lead Source", "properties.ratio", "properties.opted", "properties.declined",
              "properties.Score Text", "properties.missing"]
    frame = load_lead_frame(engine_clean, fields=fields).sort("lead_id")
    assert frame.schema == {"lead_id": pl.Int64, **{f: pl.String for f in fields}}
    rows = {r["lead_id"]: r for r in frame.iter_rows(named=True)}
    assert set(rows) == set(world.values())
    ana, bob, cid = rows[world["ana"]], rows[world["bob"]], rows[world["cid"]]
    assert (ana["email"], ana["job_title"], ana["company_size"], ana["country"], ana["industry"]) == \
        ("ana@acme.io", "VP Marketing", "51-200", "ES", "Software")
    # JSON numbers and booleans come as text, as PostgreSQL's ->> writes them.
    assert (ana["properties.TotalVisits"], ana["properties.Lead Source"], ana["properties.ratio"]) == ("5", "Google", "2.5")
    assert (ana["properties.opted"], ana["properties.declined"], ana["properties.Score Text"]) == ("true", "false", "7")
    assert ana["properties.missing"] is None
    assert (bob["properties.TotalVisits"], bob["job_title"], bob["industry"]) == ("12", "Student", None)
    assert cid["properties.TotalVisits"] is None and cid["company_size"] is None


def test_lead_frame_of_some_leads(engine_clean: Engine, world: dict) -> None:
    frame = load_lead_frame(engine_clean, fields=["email"], lead_ids=[world["bob"], world["cid"], 999_999])
    assert sorted(frame.rows()) == sorted([(world["bob"], "bob@gmail.com"), (world["cid"], "cid@corp.io")])
    empty = load_lead_frame(engine_clean, fields=["email", "properties.TotalVisits"], lead_ids=[])
    assert empty.height == 0 and empty.schema == {"lead_id": pl.Int64, "email": pl.String,
                                                  "properties.TotalVisits": pl.String}


@pytest.mark.parametrize("field", ["nope", "properties", "email; DROP TABLE leads", "properties.it's",
                                   'properties.a"b', "properties."])
def test_fields_that_are_not_lead_fields_are_refused(engine_clean: Engine, field: str) -> None:
    with pytest.raises(ValueError):
        load_lead_frame(engine_clean, fields=[field])


def test_event_frame_has_every_event_of_a_lead_and_no_anonymous_one(engine_clean: Engine, world: dict) -> None:
    frame = load_event_frame(engine_clean, types=None, prop_keys=["url", "attended"]).sort("t")
    assert frame.schema == {"lead_id": pl.Int64, "event_id": pl.Int64, "type": pl.String, "t": pl.Float64,
                            "prop.url": pl.String, "prop.attended": pl.String}
    assert frame.height == 5 and frame["lead_id"].null_count() == 0
    ana, bob = world["ana"], world["bob"]
    assert [(r["lead_id"], r["type"], r["prop.url"], r["prop.attended"]) for r in frame.iter_rows(named=True)] == [
        (ana, "page_view", f"{SITE}/pricing", None),
        (ana, "email_open", None, None),
        (bob, "page_view", f"{SITE}/careers", None),
        (ana, "webinar", "42", "true"),
        (bob, "page_view", f"{SITE}/demo?utm_source=x", None),
    ]
    assert frame["event_id"].n_unique() == 5
    # Epoch seconds (UTC), exact to the second and to the millisecond.
    expected = [_epoch(T0), _epoch(datetime(2026, 11, 21, 8)), _epoch(datetime(2026, 11, 22, 10)),
                _epoch(datetime(2026, 11, 22, 16)), _epoch(datetime(2026, 11, 23, 11, 59, 59))]
    assert [int(t) for t in frame["t"]] == [int(t) for t in expected]
    assert all(abs(a - b) < 1e-3 for a, b in zip(frame["t"], expected, strict=True))


def test_event_frame_filters_types_leads_and_time(engine_clean: Engine, world: dict) -> None:
    ana, bob = world["ana"], world["bob"]
    views = load_event_frame(engine_clean, types=["page_view"], prop_keys=["url"])
    assert sorted(views["lead_id"].to_list()) == [ana, bob, bob]
    of_bob = load_event_frame(engine_clean, types=None, prop_keys=[], lead_ids=[bob])
    assert of_bob["lead_id"].to_list() == [bob, bob] and of_bob.columns == ["lead_id", "event_id", "type", "t"]
    # UNTIL keeps events at or before it, to the microsecond.
    until = load_event_frame(engine_clean, types=None, prop_keys=["url"], until=datetime(2026, 11, 22, 10, 0))
    assert sorted(until["type"].to_list()) == ["email_open", "page_view", "page_view"]
    just_before = load_event_frame(engine_clean, types=None, prop_keys=[], until=datetime(2026, 11, 20, 9, 30, 15, 123455))
    assert just_before.height == 0
    both = load_event_frame(engine_clean, types=["page_view", "webinar"], prop_keys=["url"], lead_ids=[ana],
                            until=datetime(2026, 11, 23))
    assert sorted(both["type"].to_list()) == ["page_view", "webinar"]
    assert load_event_frame(engine_clean, types=[], prop_keys=["url"]).height == 0
    nothing = load_event_frame(engine_clean, types=None, prop_keys=["url"], lead_ids=[])
    assert nothing.height == 0 and nothing.schema["prop.url"] == pl.String


def test_event_frame_of_an_empty_database_is_typed(engine_clean: Engine) -> None:
    frame = load_event_frame(engine_clean, types=None, prop_keys=["url"])
    assert frame.height == 0
    assert frame.schema == {"lead_id": pl.Int64, "event_id": pl.Int64, "type": pl.String, "t": pl.Float64,
                            "prop.url": pl.String}


def test_a_property_missing_from_the_first_batches_is_still_text(engine_clean: Engine, world: dict,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite's Arrow reader types a column from its first batch: an all-NULL batch must not make
    # "prop.url" numeric (and the read fail on the first URL after it).
    monkeypatch.setattr(loader, "SQLITE_BATCH_ROWS", 1)
    frame = load_event_frame(engine_clean, types=["email_open", "page_view"], prop_keys=["url", "email"])
    assert frame.height == 4 and frame.schema["prop.url"] == pl.String
    assert sorted(u for u in frame["prop.url"].to_list() if u) == [f"{SITE}/careers", f"{SITE}/demo?utm_source=x",
                                                                    f"{SITE}/pricing"]


def test_parallel_slices_read_every_event_once(engine_clean: Engine, world: dict,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(loader, "READ_THREADS", 3)
    frame = load_event_frame(engine_clean, types=None, prop_keys=["url"])
    assert frame.height == 5 and frame["event_id"].n_unique() == 5


def _scores(ids: list[int]) -> pl.DataFrame:
    return pl.DataFrame({
        "lead_id": ids,
        "fit_points": [40.0 + i for i in range(len(ids))],
        "fit_grade": ["B"] * len(ids),
        "engagement_score": [12.5] * len(ids),
        "intent_score": [3.25] * len(ids),
        "score": [55.75 + i for i in range(len(ids))],
    })


def _score_rows(engine: Engine) -> dict[int, tuple]:
    with Session(engine) as s:
        return {r[0]: tuple(r[1:]) for r in s.execute(select(
            Lead.id, Lead.score, Lead.fit_points, Lead.fit_grade, Lead.engagement_score, Lead.intent_score,
            Lead.score_version, Lead.scored_at, Lead.updated_at))}


def test_write_scores_updates_exactly_the_given_leads(engine_clean: Engine, world: dict) -> None:
    before = _score_rows(engine_clean)
    at = datetime(2026, 11, 23, 12, 0, 0, 500000)
    assert write_scores(engine_clean, _scores([world["ana"], world["bob"]]), version=3, scored_at=at) == 2
    after = _score_rows(engine_clean)
    assert after[world["ana"]][:7] == (55.75, 40.0, "B", 12.5, 3.25, 3, at)
    assert after[world["bob"]][:7] == (56.75, 41.0, "B", 12.5, 3.25, 3, at)
    assert after[world["cid"]] == before[world["cid"]]
    # A new score is not an edit: updated_at stays.
    assert all(after[i][7] == before[i][7] for i in after)
    assert write_scores(engine_clean, _scores([]), version=3, scored_at=at) == 0


def test_unchanged_scores_are_not_written_again(engine_clean: Engine, world: dict) -> None:
    first, later = datetime(2026, 11, 23, 12), datetime(2026, 11, 24, 12)
    assert write_scores(engine_clean, _scores([world["ana"], world["bob"]]), version=3, scored_at=first) == 2
    changed = _scores([world["ana"], world["bob"]]).with_columns(
        pl.when(pl.col("lead_id") == world["bob"]).then(pl.col("score") + 1).otherwise(pl.col("score")).alias("score"))
    assert write_scores(engine_clean, changed, version=3, scored_at=later) == 1  # only bob's score moved
    rows = _score_rows(engine_clean)
    assert rows[world["ana"]][6] == first and rows[world["bob"]][6] == later
    # A new version rewrites every row, even with equal values: each score names its version.
    assert write_scores(engine_clean, changed, version=4, scored_at=later) == 2


def test_a_write_of_most_leads_builds_the_score_indexes_again(engine_clean: Engine, world: dict,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "REBUILD_INDEXES_SHARE", 0.5)
    with engine_clean.connect() as conn:
        before = secondary_indexes(conn, "leads")
    ids = list(world.values())
    assert write_scores(engine_clean, _scores(ids), version=1, scored_at=datetime(2026, 11, 23)) == 3
    with engine_clean.connect() as conn:
        assert secondary_indexes(conn, "leads") == before
    assert {i: r[0] for i, r in _score_rows(engine_clean).items()} == {i: 55.75 + k for k, i in enumerate(ids)}


def _refuse_scores_of(engine: Engine, lead_id: int) -> None:
    """A trigger that fails any score update of LEAD_ID (dropped by _allow_scores)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(f"CREATE TRIGGER refuse_scores BEFORE UPDATE OF score ON leads WHEN NEW.id = {lead_id} "
                                 "BEGIN SELECT RAISE(ABORT, 'scores refused'); END")
        else:
            conn.exec_driver_sql("CREATE FUNCTION refuse_scores() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                 f"IF NEW.id = {lead_id} THEN RAISE EXCEPTION 'scores refused'; END IF; "
                                 "RETURN NEW; END $$")
            conn.exec_driver_sql("CREATE TRIGGER refuse_scores BEFORE UPDATE OF score ON leads "
                                 "FOR EACH ROW EXECUTE FUNCTION refuse_scores()")


def _allow_scores(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS refuse_scores")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS refuse_scores ON leads")
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS refuse_scores()")


def test_a_write_that_fails_changes_nothing(engine_clean: Engine, world: dict,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # With the index rebuild on (SQLite), the indexes are dropped before the update fails.
    monkeypatch.setattr(loader, "REBUILD_INDEXES_SHARE", 0.0)
    with engine_clean.connect() as conn:
        indexes = secondary_indexes(conn, "leads")
    before = _score_rows(engine_clean)
    _refuse_scores_of(engine_clean, world["cid"])
    try:
        with pytest.raises(Exception, match="scores refused"):
            write_scores(engine_clean, _scores(list(world.values())), version=1, scored_at=datetime(2026, 11, 23))
    finally:
        _allow_scores(engine_clean)
    assert _score_rows(engine_clean) == before
    with engine_clean.connect() as conn:
        assert secondary_indexes(conn, "leads") == indexes


def test_the_sqlite_helper_reports_its_error(tmp_path) -> None:
    from leadflow.db.session import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'not-migrated.db'}")
    with pytest.raises(loader.LoaderError, match="no such table: leads"):
        load_lead_frame(engine, fields=["email"])
    with pytest.raises(loader.LoaderError, match="no such table: events"):
        load_event_frame(engine, types=None, prop_keys=["url"])
    with pytest.raises(loader.LoaderError, match="no such table: leads"):
        write_scores(engine, _scores([1]), version=1, scored_at=datetime(2026, 11, 23))
    engine.dispose()
