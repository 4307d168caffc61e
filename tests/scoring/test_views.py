"""The scoring pages over HTTP: overview, editor, backtest, activation, rescoring, and "Why this score"."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from leadflow.auth.service import create_user
from leadflow.db.base import utcnow
from leadflow.db.session import get_sessionmaker
from leadflow.leads.models import Lead
from leadflow.leads.schemas import EventIn
from leadflow.leads.service import append_event
from leadflow.scoring.models import ScoringModel
from leadflow.scoring.service import activate_model_version, create_model_version
from tests.factories import make_lead
from tests.web_fixtures import csrf, login

# Fit: a VP or head of something is worth 40 and a company address 10 (grade A at 50); a student
# loses 20. Engagement: 2 per page view (at most 15), intent: 10 per pricing page view.
MODEL = """
name: View test model
fit:
  grades: {A: 50, B: 35, C: 10}
  rules:
    - {id: vp, label: VP or head, field: job_title, regex: '(?i)\\b(vp|head)\\b', points: 40}
    - {id: corporate, label: Corporate email, field: email, free_email: false, points: 10}
    - {id: student, label: Student, field: job_title, regex: '(?i)student', points: -20}
engagement:
  intent_cap: 50
  rules:
    - {id: view, label: Page view, event: page_view, points: 2, half_life_days: 10, cap: 15}
    - {id: pricing, label: Viewed pricing, event: page_view, url: /pricing, points: 10, half_life_days: 10, intent: true}
lifecycle:
  mql: {min_grade: B, min_engagement: 30}
  sql: {auto: false}
"""
# The same model with the fit points turned upside down: it ranks the known outcomes backwards.
UPSIDE_DOWN = (MODEL.replace("name: View test model", "name: Upside down")
               .replace("points: 40}", "points: -40}").replace("points: -20}", "points: 40}")
               .replace("grades: {A: 50, B: 35, C: 10}", "grades: {A: 40, B: 20, C: 10}"))


@pytest.fixture
def world(engine_clean):
    """MODEL active (version 2); 12 VPs at companies (8 won, 4 lost), 12 students on gmail (2 won,
    10 lost), and one open VP with 12 page views, 3 of them on the pricing page."""
    with get_sessionmaker()() as s, s.begin():
        row = create_model_version(s, text=MODEL, notes="for the view tests")
        activate_model_version(s, version=row.version)
        for i in range(12):
            make_lead(s, email=f"vp{i}@corp{i}.io", job_title="VP Sales", outcome="won" if i < 8 else "lost")
            make_lead(s, email=f"student{i}@gmail.com", job_title="Student", outcome="won" if i < 2 else "lost")
        hot = make_lead(s, email="hot@acme.io", job_title="Head of Growth", first_name="Hana", last_name="Hot")
        now = utcnow()
        for k in range(12):
            url = "https://acme.example/pricing" if k < 3 else f"https://acme.example/blog/{k}"
            append_event(s, lead=hot, data=EventIn(type="page_view", occurred_at=now - timedelta(days=k, hours=1),
                                                   properties={"url": url}))
        return {"version": row.version, "hot": hot.id}


def _score(lead_id: int) -> float:
    with get_sessionmaker()() as s:
        return s.get(Lead, lead_id).score


def _versions() -> dict[int, ScoringModel]:
    with get_sessionmaker()() as s:
        return {r.version: r for r in s.scalars(select(ScoringModel))}


def _draft(text: str = MODEL) -> int:
    with get_sessionmaker()() as s, s.begin():
        return create_model_version(s, text=text).version


def test_pages_render_for_an_admin(ui, world):
    r = ui.get("/scoring")
    assert r.status_code == 200
    assert "View test model" in r.text and "Coming soon" not in r.text
    for text in ("Fit rules", "VP or head", "Corporate email", "Viewed pricing", "10 d",
                 "Stage thresholds", "Versions", "Rescore all", 'href="/scoring/new"', 'href="/leads?grade=A&amp;sort=-score"'):
        assert text in r.text, text
    assert re.search(r"<strong>13</strong> leads", r.text)  # 12 VPs and the open one are grade A
    assert 'aria-current="page"' in r.text and 'href="/scoring" class="nav-link active"' in r.text

    r = ui.get(f"/scoring/models/{world['version']}")
    assert r.status_code == 200 and "Not backtested yet" in r.text and "half_life_days" in r.text
    assert "This is the active model" in r.text

    r = ui.get("/scoring/new")
    assert r.status_code == 200
    assert re.search(r'<textarea id="model-text" name="text"[^>]*>[^<]*name: View test model', r.text)
    assert 'data-validate-url="/api/v1/scoring/models/validate"' in r.text
    assert "Default B2B model" in ui.get("/scoring/new?from=1").text
    assert ui.get("/scoring/new?from=999").status_code == 404
    assert ui.get("/scoring/models/999").status_code == 404


def test_the_editor_saves_a_draft(ui, world, admin):
    text = MODEL.replace("name: View test model", "name: Pricing counts more").replace("points: 10, half", "points: 15, half")
    r = ui.post("/scoring/new", data={"text": text, "notes": "pricing views count more", "from": str(world["version"]),
                                      "csrf_token": csrf(ui)}, follow_redirects=False)
    assert r.status_code == 303
    version = int(r.headers["location"].rsplit("/", 1)[1])
    page = ui.get(r.headers["location"])
    assert "saved as a draft" in page.text and "Pricing counts more" in page.text and "pricing views count more" in page.text
    row = _versions()[version]
    assert (row.status, row.name, row.notes, row.created_by) == ("draft", "Pricing counts more", "pricing views count more",
                                                                admin["id"])
    assert row.document["engagement"]["rules"][1]["points"] == 15


def test_an_invalid_model_is_shown_again_with_the_key_path_and_the_text_kept(ui, world):
    text = MODEL.replace("points: 2, half_life_days: 10", "points: 2, half_life_days: -3")
    before = len(_versions())
    r = ui.post("/scoring/new", data={"text": text, "notes": "oops", "csrf_token": csrf(ui)})
    assert r.status_code == 422
    assert "<code>engagement.rules.0.half_life_days</code>" in r.text
    assert "the half-life must be a positive number of days" in r.text
    kept = re.search(r'<textarea id="model-text"[^>]*>(.*?)</textarea>', r.text, re.S).group(1)
    assert html.unescape(kept) == text
    assert 'aria-invalid="true"' in r.text and ">oops</textarea>" in r.text

    r = ui.post("/scoring/new", data={"text": "name: [unclosed", "csrf_token": csrf(ui)})
    assert r.status_code == 422 and "not valid YAML at line 1" in r.text
    assert len(_versions()) == before


def test_the_backtest_button_stores_a_report_and_the_page_shows_auc_and_the_lift_chart(ui, world):
    version = _draft(MODEL.replace("View test model", "Candidate"))
    r = ui.post(f"/scoring/models/{version}/backtest", data={"csrf_token": csrf(ui)}, follow_redirects=False)
    assert r.status_code == 303
    report = _versions()[version].backtest
    assert report["leads_with_outcome"] == 24 and report["roc_auc"] > 0.7 and report["worse"] is False
    assert report["compared_to"]["version"] == world["version"] and report["ran_at"]
    page = ui.get(r.headers["location"]).text
    assert "Backtest done: ROC AUC" in page
    assert f"{report['roc_auc']:.3f}" in page and "ROC AUC" in page
    svg = re.search(r'<svg class="lift-chart".*?</svg>', page, re.S).group(0)
    assert svg.count('class="lift-bar') == 10 and 'class="lift-base"' in svg and "base rate 41.7 %" in svg
    assert "Conversion by grade" in page and "MQL today" in page and "Worse than the active model" not in page


def test_activating_a_version_rescores_every_lead(ui, world):
    before = _score(world["hot"])
    version = _draft(MODEL.replace("points: 40}", "points: 45}"))
    r = ui.post(f"/scoring/models/{version}/activate", data={"csrf_token": csrf(ui)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/scoring"
    page = ui.get("/scoring").text
    assert f"Version {version} is now the active model: 25 leads rescored." in page
    assert _score(world["hot"]) == pytest.approx(before + 5, abs=0.01)
    versions = _versions()
    assert versions[version].status == "active" and versions[world["version"]].status == "retired"


def test_a_worse_version_needs_activate_anyway(ui, world):
    version = _draft(UPSIDE_DOWN)
    ui.post(f"/scoring/models/{version}/backtest", data={"csrf_token": csrf(ui)})
    page = ui.get(f"/scoring/models/{version}").text
    assert "Worse than the active model." in page and 'name="confirm_worse"' in page
    r = ui.post(f"/scoring/models/{version}/activate", data={"csrf_token": csrf(ui)})
    assert "tick “Activate anyway”" in r.text and _versions()[version].status == "draft"
    r = ui.post(f"/scoring/models/{version}/activate", data={"csrf_token": csrf(ui), "confirm_worse": "yes"})
    assert r.status_code == 200 and "is now the active model" in r.text
    assert _versions()[version].status == "active"


def test_rescore_all_from_the_page(ui, world):
    with get_sessionmaker()() as s, s.begin():
        # A set-based write, as if the lead had never been scored (an ORM change would rescore it).
        s.execute(update(Lead).where(Lead.id == world["hot"]).values(score=None))
    assert _score(world["hot"]) is None
    r = ui.post("/scoring/rescore", data={"csrf_token": csrf(ui)})
    assert r.status_code == 200 and f"Rescored 25 leads with version {world['version']}." in r.text
    assert _score(world["hot"]) is not None


def test_a_sales_user_cannot_change_the_model(app, world):
    from fastapi.testclient import TestClient

    with get_sessionmaker()() as s, s.begin():
        create_user(s, email="sam@example.com", password="correct-horse-battery", name="Sam Seller", role="sales")
    version = _draft(MODEL.replace("points: 40}", "points: 45}"))
    with TestClient(app, base_url="http://testserver") as c:
        assert login(c, "sam@example.com", "correct-horse-battery").status_code == 303
        page = c.get("/scoring").text
        assert "View test model" in page and "Rescore all" not in page and "Only admin and marketing users" in page
        assert "Only admin and marketing users can activate" in c.get(f"/scoring/models/{version}").text
        r = c.post(f"/scoring/models/{version}/activate", data={"csrf_token": csrf(c)})
        assert r.status_code == 403 and "Only admin and marketing users can do this" in r.text
        assert c.post("/scoring/rescore", data={"csrf_token": csrf(c)}).status_code == 403
        assert c.get("/scoring/new").status_code == 403
        assert c.post("/scoring/new", data={"text": MODEL, "csrf_token": csrf(c)}).status_code == 403
    assert _versions()[version].status == "draft"


def test_forms_without_a_valid_csrf_token_are_refused(ui, world):
    version = _draft()
    for path in (f"/scoring/models/{version}/activate", f"/scoring/models/{version}/backtest", "/scoring/rescore"):
        assert ui.post(path, data={"csrf_token": "wrong"}).status_code == 400
    assert ui.post("/scoring/new", data={"text": MODEL, "csrf_token": "wrong"}).status_code == 400
    assert _versions()[version].status == "draft" and _versions()[version].backtest is None


def _tenths(text: str) -> int:
    return round(float(text.replace("\u2212", "-").replace("+", "").replace(",", "")) * 10)


def test_the_lead_page_explains_the_score_with_lines_that_add_up(ui, world):
    page = ui.get(f"/leads/{world['hot']}").text
    panel = re.search(r'<section class="card ws-card".*?</section>', page, re.S).group(0)
    assert "Why this score" in panel and f"v{world['version']}" in panel and "as of" in panel
    assert 'class="grade grade-A grade-lg"' in panel
    exact = float(re.search(r'data-score="([^"]+)"', panel).group(1))
    shown_score = _tenths(re.search(r'class="ws-score"[^>]*>([^<]+)<', panel).group(1))
    tables = re.findall(r'<table class="table table-compact ws-table"[^>]*data-part="(\w+)">(.*?)</table>', panel, re.S)
    assert [kind for kind, _ in tables] == ["fit", "intent", "engagement"]
    exact_sum = shown_sum = 0
    for kind, table in tables:
        body, foot = table.split("<tfoot>")
        values = [float(v) for v in re.findall(r'data-value="([^"]+)"', body)]
        shown = [_tenths(v) for v in re.findall(r'class="num ws-now[^"]*">([^<]+)<', body)]
        total = _tenths(re.search(r'class="num ws-now">([^<]+)<', foot).group(1))
        assert sum(shown) == total, kind  # the lines of each part add up to its total as shown
        exact_sum += sum(values)
        shown_sum += total
    assert exact_sum == pytest.approx(exact, abs=1e-6)
    assert shown_sum == shown_score and abs(shown_score / 10 - exact) <= 0.05
    # Fit: 40 + 10; twelve page views fold the smaller ones into one row, listed in full below.
    assert "VP or head" in panel and "Corporate email" in panel and "Viewed pricing" in panel
    assert "smaller line" in panel and "All 13 engagement lines" in panel
    assert "capped at 15" in panel


def test_the_lead_page_without_an_active_model(ui, world):
    with get_sessionmaker()() as s, s.begin():
        for row in s.scalars(select(ScoringModel)):
            row.status = "retired"
    page = ui.get(f"/leads/{world['hot']}").text
    assert "Why this score" in page and "No scoring model is active" in page
    assert "No scoring model is active" in ui.get("/scoring").text
