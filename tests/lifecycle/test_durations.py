"""Time in stage and time to stage from a history, without a database."""

from datetime import datetime, timedelta
from types import SimpleNamespace

from leadflow.lifecycle.service import reach_from_history, spans_from_history


def _history(*moves):
    return [SimpleNamespace(to_stage=stage, changed_at=at) for stage, at in moves]


def test_each_stay_runs_until_the_next_move_and_the_last_until_now():
    """Suspect on 1 May, prospect 2 May 06:00, mql 4 May, customer 10 May; asked on 12 May."""
    history = _history(("suspect", datetime(2026, 5, 1)), ("prospect", datetime(2026, 5, 2, 6)),
                       ("mql", datetime(2026, 5, 4)), ("customer", datetime(2026, 5, 10)))
    spans = spans_from_history(history, now=datetime(2026, 5, 12))
    assert [(s.stage, s.duration) for s in spans] == [
        ("suspect", timedelta(days=1, hours=6)), ("prospect", timedelta(days=1, hours=18)),
        ("mql", timedelta(days=6)), ("customer", timedelta(days=2))]
    assert spans[-1].left_at is None and spans[0].left_at == datetime(2026, 5, 2, 6)
    reached = reach_from_history(history, created_at=datetime(2026, 5, 1))
    assert [(r.stage, r.elapsed) for r in reached] == [
        ("suspect", timedelta(0)), ("prospect", timedelta(days=1, hours=6)), ("mql", timedelta(days=3)),
        ("sql", None), ("customer", timedelta(days=9))]


def test_a_stage_visited_twice_has_two_stays_and_counts_from_its_first_visit():
    history = _history(("prospect", datetime(2026, 1, 1)), ("mql", datetime(2026, 1, 2)),
                       ("recycled", datetime(2026, 1, 5)), ("mql", datetime(2026, 2, 1)))
    spans = spans_from_history(history, now=datetime(2026, 2, 3))
    assert [(s.stage, s.duration.days) for s in spans] == [("prospect", 1), ("mql", 3), ("recycled", 27), ("mql", 2)]
    assert {r.stage: r.reached_at for r in reach_from_history(history, created_at=datetime(2026, 1, 1))}["mql"] == \
        datetime(2026, 1, 2)


def test_an_empty_history_has_no_stays():
    assert spans_from_history([], now=datetime(2026, 1, 1)) == []
    assert all(r.reached_at is None for r in reach_from_history([], created_at=datetime(2026, 1, 1)))
