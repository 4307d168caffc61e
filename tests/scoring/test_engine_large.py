"""The engine's large-frame path (conditions once per distinct value) against the same reference.

Frames up to `engine.SMALL_FRAME` rows are matched row by row, larger ones value by value; the
property test of test_engine.py runs with small frames, so here it runs again with every frame
counted as large.
"""

from leadflow.scoring import engine
from tests.scoring import test_engine


def test_the_distinct_value_path_agrees_with_the_reference(monkeypatch):
    monkeypatch.setattr(engine, "SMALL_FRAME", -1)
    test_engine.test_scores_match_the_reference_and_explanations_add_up()


def test_the_default_model_scores_a_big_frame_like_a_small_one(monkeypatch):
    import polars as pl

    from leadflow.scoring.schemas import default_model

    model = default_model()
    titles = ["VP Sales", "Student", None, "Head of Data", "Marketing Manager", "CEO", "intern"]
    leads = pl.DataFrame({"lead_id": list(range(1, 3001)),
                          "email": [f"a{i}@{'gmail.com' if i % 3 else 'corp.io'}" for i in range(3000)],
                          "job_title": [titles[i % len(titles)] for i in range(3000)],
                          "industry": ["Software" if i % 2 else "Education" for i in range(3000)],
                          "company_size": ["51-200" if i % 5 else None for i in range(3000)]})
    urls = ["https://x.io/pricing", "https://x.io/", "https://x.io/careers", None, "https://x.io/demo"]
    events = pl.DataFrame({"lead_id": [1 + i % 3000 for i in range(9000)], "event_id": list(range(9000)),
                           "type": ["page_view" if i % 4 else "download" for i in range(9000)],
                           "t": [1.79e9 - 3600.0 * (i % 500) for i in range(9000)],
                           "prop.url": [urls[i % len(urls)] for i in range(9000)]})
    big = engine.score_frames(model, leads=leads, events=events, now=1.79e9)
    monkeypatch.setattr(engine, "SMALL_FRAME", 10**9)
    small = engine.score_frames(model, leads=leads, events=events, now=1.79e9)
    assert big.equals(small)
    assert big.get_column("score").n_unique() > 5  # the frames are not trivially equal
