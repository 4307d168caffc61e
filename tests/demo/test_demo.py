"""The demo workspace: deterministic, consistent, telling the truth, idempotent, and its CLI.

The world: Northwind Analytics, a B2B analytics vendor, with a year of leads anchored to a fixed
"now" (2026-11-23 00:00 UTC) so every run of these tests sees the same dates.
"""

from __future__ import annotations

import os
from datetime import datetime

import polars as pl
import pytest
from sqlalchemy import Engine, Select, select, text
from typer.testing import CliRunner

from leadflow.config import get_settings
from leadflow.db.session import reset_engine_cache
from leadflow.demo import catalog
from leadflow.demo.generator import generate_workspace
from leadflow.demo.service import seed_demo_workspace
from leadflow.lifecycle.stages import STAGE_KEYS

NOW = datetime(2026, 11, 23)
N = 1500
USER_IDS = list(range(1, len(catalog.USERS) + 1))
# Lower bound on how much more often good-fit, engaged leads become customers than the rest.
CONVERSION_LIFT = 3.0


def _rows(engine: Engine, sql: str | Select) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql) if isinstance(sql, str) else sql)]


def _dump(engine: Engine) -> dict[str, list[tuple]]:
    """The seeded rows that come from the generator (users differ only by their password salt)."""
    return {
        "leads": _rows(engine, "SELECT id, email, first_name, last_name, phone, job_title, company_id, stage, "
                               "owner_id, outcome, deal_value, created_at, converted_at, last_activity_at, "
                               "first_channel, last_campaign FROM leads ORDER BY id"),
        "events": _rows(engine, "SELECT id, lead_id, type, occurred_at FROM events ORDER BY id"),
        "stage_changes": _rows(engine, "SELECT id, lead_id, from_stage, to_stage, changed_at "
                                       "FROM stage_changes ORDER BY id"),
        "spend": _rows(engine, "SELECT campaign_id, day, amount FROM campaign_spend ORDER BY id"),
        "submissions": _rows(engine, "SELECT id, form_id, status, lead_id, received_at, processed_at "
                                     "FROM submissions ORDER BY id"),
    }


def _seed(engine: Engine, *, n: int = N, seed: int = 7):
    return seed_demo_workspace(engine, n_leads=n, seed=seed, now=NOW)


@pytest.fixture(scope="module")
def world() -> dict[str, pl.DataFrame]:
    """A generated workspace (no database) for the statistical checks."""
    return generate_workspace(n_leads=4000, seed=11, now=NOW, user_ids=USER_IDS).tables


def test_same_seed_same_rows_different_seed_different(engine_clean: Engine) -> None:
    from tests.conftest import truncate_all

    _seed(engine_clean)
    first = _dump(engine_clean)
    truncate_all(engine_clean)
    _seed(engine_clean)
    assert _dump(engine_clean) == first
    truncate_all(engine_clean)
    _seed(engine_clean, seed=8)
    other = _dump(engine_clean)
    assert other["leads"] != first["leads"]
    assert len(first["leads"]) == len(other["leads"]) == N


def test_generator_is_pure_for_a_fixed_now() -> None:
    a = generate_workspace(n_leads=300, seed=3, now=NOW, user_ids=USER_IDS).tables
    b = generate_workspace(n_leads=300, seed=3, now=NOW, user_ids=USER_IDS).tables
    assert all(a[name].equals(b[name]) for name in a)


def test_every_stage_and_channel_present(world) -> None:
    leads = world["leads"]
    assert set(leads["stage"].unique()) == set(STAGE_KEYS)
    channels = set(leads["first_channel"].unique())
    assert {"organic_search", "paid_search", "social", "paid_social", "email", "webinar", "trade_show",
            "referral", "direct"} <= channels
    assert leads["phone"].drop_nulls().str.contains(r"^\+[1-9]\d{7,14}$").all(), "E.164"
    assert leads["email"].n_unique() == leads.height
    direct = leads.filter(pl.col("first_channel") == "direct")
    assert direct["campaign_id"].null_count() == direct.height


def test_stage_history_is_consistent(engine_clean: Engine) -> None:
    _seed(engine_clean)
    from leadflow.leads.models import Lead
    from leadflow.lifecycle.models import StageChange

    changes = pl.DataFrame(_rows(engine_clean, select(
        StageChange.lead_id, StageChange.from_stage, StageChange.to_stage, StageChange.changed_at,
    ).order_by(StageChange.lead_id, StageChange.changed_at, StageChange.id)),
        schema=["lead_id", "from_stage", "to_stage", "changed_at"], orient="row")
    leads = pl.DataFrame(_rows(engine_clean, select(
        Lead.id, Lead.stage, Lead.created_at, Lead.converted_at, Lead.outcome, Lead.lost_reason, Lead.owner_id,
        Lead.deal_value)),
        schema=["id", "stage", "created_at", "converted_at", "outcome", "lost_reason", "owner_id", "deal_value"],
        orient="row")
    per_lead = changes.group_by("lead_id", maintain_order=True).agg(
        first_from=pl.col("from_stage").first(), last_to=pl.col("to_stage").last(),
        chain_ok=(pl.col("from_stage").slice(1) == pl.col("to_stage").slice(0, pl.len() - 1)).all(),
        increasing=(pl.col("changed_at").diff().slice(1) > pl.duration(seconds=0)).all(),
        first_at=pl.col("changed_at").first(),
    )
    joined = leads.join(per_lead, left_on="id", right_on="lead_id", how="left")
    assert joined["last_to"].null_count() == 0, "every lead has a history"
    assert (joined["last_to"] == joined["stage"]).all()
    assert joined["first_from"].null_count() == joined.height
    assert joined["chain_ok"].fill_null(True).all()
    assert joined["increasing"].fill_null(True).all()
    assert (joined["first_at"] == joined["created_at"]).all()
    customers = joined.filter(pl.col("stage") == "customer")
    assert customers.height > 0
    assert customers["converted_at"].null_count() == 0
    assert (customers["outcome"] == "won").all() and customers["deal_value"].null_count() == 0
    assert customers["owner_id"].null_count() == 0
    lost = joined.filter(pl.col("stage") == "disqualified")
    assert (lost["outcome"] == "lost").all()
    assert set(lost["lost_reason"].unique()) <= set(catalog.LOST_REASONS)
    assert joined.filter(pl.col("stage") == "sql")["owner_id"].null_count() == 0


def test_last_activity_is_the_latest_event(engine_clean: Engine) -> None:
    _seed(engine_clean)
    mismatched = _rows(engine_clean, """
        SELECT count(*) FROM leads l LEFT JOIN (SELECT lead_id, max(occurred_at) AS m FROM events GROUP BY lead_id) e
        ON e.lead_id = l.id
        WHERE NOT ((l.last_activity_at IS NULL AND e.m IS NULL) OR l.last_activity_at = e.m)""")
    assert mismatched == [(0,)]
    assert _rows(engine_clean, "SELECT count(*) FROM events e JOIN leads l ON l.id = e.lead_id "
                               "WHERE e.occurred_at < l.created_at") == [(0,)]
    kinds = {r[0] for r in _rows(engine_clean, "SELECT DISTINCT type FROM events")}
    assert {"page_view", "download", "email_open", "email_click", "webinar", "trial_usage", "form_submit",
            "meeting", "call"} <= kinds


def test_good_fit_engaged_leads_convert_much_more(world) -> None:
    leads = world["leads"]
    events = world["events"]
    intent = events.filter(
        pl.col("properties").str.contains("/pricing|/demo\"") | pl.col("type").is_in(["webinar", "trial_usage"])
    )["lead_id"].unique()
    senior = pl.col("job_title").is_in([t for level in (0, 1, 2) for t in catalog.TITLES_EN[level]]
                                       + [t for level in (0, 1, 2) for t in catalog.TITLES_ES[level]])
    scored = leads.with_columns(
        good=senior & pl.col("industry").is_in(catalog.INDUSTRIES[:catalog.TARGET_INDUSTRIES])
        & pl.col("company_size").is_in(["51-200", "201-1000"]) & pl.col("company_id").is_not_null(),
        engaged=pl.col("id").is_in(intent.implode()),
        won=pl.col("stage") == "customer",
    )
    best = scored.filter(pl.col("good") & pl.col("engaged"))["won"].mean()
    rest = scored.filter(~pl.col("good") & ~pl.col("engaged"))["won"].mean()
    assert best is not None and rest is not None
    assert best > CONVERSION_LIFT * max(rest, 0.001), (best, rest)


def test_channels_convert_differently(world) -> None:
    rates = dict(world["leads"].group_by("first_channel").agg((pl.col("stage") == "customer").mean()).rows())
    assert rates["referral"] > rates["paid_search"] > rates["paid_social"]
    assert rates["webinar"] > 2 * rates["paid_social"]


def test_spend_rows_per_campaign_and_campaign_touches(engine_clean: Engine) -> None:
    _seed(engine_clean)
    spend = dict(_rows(engine_clean, "SELECT c.channel || ':' || c.name, count(s.id) FROM campaigns c "
                                     "LEFT JOIN campaign_spend s ON s.campaign_id = c.id GROUP BY c.id, c.name, c.channel"))
    assert len(spend) == sum(1 for s in catalog.SOURCES if s.is_campaign)
    assert all(count > 0 for count in spend.values()), spend
    paid = [n for key, n in spend.items() if key.startswith("paid_search:Google Ads - Brand")]
    assert paid and paid[0] >= 360, "paid search spends every day"
    inconsistent = _rows(engine_clean, "SELECT count(*) FROM leads l JOIN campaigns c ON c.id = l.campaign_id "
                                       "WHERE l.first_channel <> c.channel OR l.first_campaign <> c.utm_campaign")
    assert inconsistent == [(0,)]
    assert _rows(engine_clean, "SELECT count(*) FROM consent_records WHERE state = 'granted'")[0][0] == _rows(
        engine_clean, "SELECT (SELECT count(*) FROM leads WHERE consent_email = 'granted') + "
                      "(SELECT count(*) FROM leads WHERE consent_tracking = 'granted')")[0][0]


def test_seeding_twice_does_not_duplicate(engine_clean: Engine) -> None:
    first = _seed(engine_clean, n=200)
    again = _seed(engine_clean, n=200)
    assert first.seeded and not again.seeded and again.reason == "demo"
    assert _rows(engine_clean, "SELECT count(*) FROM leads") == [(200,)]
    assert _rows(engine_clean, "SELECT count(*) FROM users") == [(len(catalog.USERS),)]


def test_full_text_search_finds_seeded_leads(engine_clean: Engine) -> None:
    from leadflow.db.session import get_sessionmaker
    from leadflow.leads.schemas import LeadFilter
    from leadflow.leads.service import list_leads

    _seed(engine_clean, n=300)
    with get_sessionmaker()() as session:
        some = session.execute(text("SELECT last_name, email FROM leads WHERE id = 17")).one()
        word = some.email.split("@")[1].split(".")[0]
        total, page = list_leads(session, filter=LeadFilter(q=word), page=1)
    assert total >= 1 and any(lead.email == some.email for lead in page)


@pytest.fixture
def demo_env(engine_clean: Engine, tmp_path):
    """Point the settings at a scratch data dir (SQLite) or the test database (PostgreSQL)."""
    saved = {k: os.environ.get(k) for k in ("LEADFLOW_DATA_DIR", "LEADFLOW_DATABASE_URL")}
    os.environ["LEADFLOW_DATA_DIR"] = str(tmp_path / "data")
    if engine_clean.dialect.name == "sqlite":
        os.environ.pop("LEADFLOW_DATABASE_URL", None)
    get_settings.cache_clear()
    reset_engine_cache()
    try:
        yield tmp_path / "data"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        reset_engine_cache()


def test_cli_demo_seeds_then_only_prints_the_login(demo_env) -> None:
    from leadflow.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["demo", "--no-serve", "--leads", "500"])
    assert result.exit_code == 0, result.output
    assert "seeded 500 leads" in result.output
    assert catalog.ADMIN_EMAIL in result.output and catalog.DEMO_PASSWORD in result.output
    again = runner.invoke(app, ["demo", "--no-serve", "--leads", "500"])
    assert again.exit_code == 0, again.output
    assert "already seeded" in again.output and catalog.ADMIN_EMAIL in again.output
    fresh = runner.invoke(app, ["demo", "--no-serve", "--leads", "300", "--fresh"])
    assert fresh.exit_code == 0, fresh.output
    assert "seeded 300 leads" in fresh.output
    from leadflow.db.session import get_engine

    engine = get_engine()
    assert _rows(engine, "SELECT count(*) FROM leads") == [(300,)]
    if engine.dialect.name == "sqlite":
        assert (demo_env / "leadflow.db").exists()
        assert _rows(engine, "PRAGMA journal_mode") == [("wal",)]


def test_demo_admin_can_log_in(engine_clean: Engine) -> None:
    from leadflow.auth.service import authenticate
    from leadflow.db.session import get_sessionmaker

    _seed(engine_clean, n=50)
    with get_sessionmaker()() as session:
        assert authenticate(session, email=catalog.ADMIN_EMAIL, password=catalog.DEMO_PASSWORD) is not None


def test_submissions_show_each_form_lead_and_the_spam_caught(engine_clean: Engine, ui) -> None:
    from leadflow.capture.models import Form, Submission
    from leadflow.capture.service import SubmissionContext, assess_submission
    from leadflow.db.session import get_sessionmaker

    _seed(engine_clean)
    form_leads = _rows(engine_clean, "SELECT count(*) FROM leads WHERE form_id IS NOT NULL")[0][0]
    counts = dict(_rows(engine_clean, "SELECT status, count(*) FROM submissions GROUP BY status"))
    assert counts["processed"] == form_leads > 0
    assert counts["quarantined"] >= 20 and 1 <= counts["invalid"] < counts["quarantined"]
    assert set(counts) == {"processed", "quarantined", "invalid"}
    assert _rows(engine_clean, """
        SELECT count(*) FROM submissions s LEFT JOIN leads l ON l.id = s.lead_id
        WHERE s.status = 'processed' AND (l.id IS NULL OR l.form_id <> s.form_id OR s.received_at <> l.created_at
              OR s.processed_at <= s.received_at)""") == [(0,)]
    assert _rows(engine_clean, "SELECT count(*) FROM submissions WHERE status <> 'processed' "
                               "AND (lead_id IS NOT NULL OR processed_at IS NOT NULL)") == [(0,)]
    with get_sessionmaker()() as session:
        forms = {f.id: f for f in session.scalars(select(Form))}
        subs = session.scalars(select(Submission).order_by(Submission.id)).all()
        session.expunge_all()
    lead_email = dict(_rows(engine_clean, "SELECT id, email FROM leads WHERE form_id IS NOT NULL"))
    for sub in subs:
        form = forms[sub.form_id]
        assert set(sub.payload) - {"consent", "_hp"} == {f["key"] for f in form.fields}
        assert sub.context["channel"] == "form" and sub.context["ip"] and sub.context["user_agent"]
        # What the product itself says about this payload (minus what needs the request: timing, rate).
        assessed = assess_submission(form=form, payload=sub.payload, context=SubmissionContext(), now=NOW)
        if sub.status == "processed":
            assert sub.payload["email"] == lead_email[sub.lead_id] and sub.reasons == []
            assert assessed.status == "pending", (sub.payload, assessed.row["reasons"])  # the product accepts it
        elif sub.status == "quarantined":
            assert sub.reasons and assessed.errors == []
            assert assessed.row["reasons"] == [r for r in sub.reasons
                                               if not r.startswith(("submitted ", "too many submissions"))]
        else:
            assert assessed.status == "invalid" and assessed.row["reasons"] == sub.reasons
            assert sub.reasons[0].startswith("email: not a valid email address: ")

    listing = ui.get("/submissions", params={"status": "quarantined"})
    assert listing.status_code == 200 and f"of <strong>{counts['quarantined']}</strong>" in listing.text
    assert "honeypot field filled (bots fill every input)" in listing.text
    latest = max((s for s in subs if s.form_id == 1), key=lambda s: s.id)
    detail = ui.get("/forms/1")
    assert detail.status_code == 200 and latest.payload["email"] in detail.text
    for sub in (subs[0], next(s for s in subs if s.status == "quarantined")):
        page = ui.get(f"/submissions/{sub.id}")
        assert page.status_code == 200 and sub.payload["email"] in page.text
    # The next submission gets a fresh id on both engines (sequences advanced past the seeded ids).
    with get_sessionmaker()() as session:
        new = Submission(form_id=1, status="pending", payload={}, reasons=[], context={})
        session.add(new)
        session.flush()
        assert new.id == len(subs) + 1
        session.rollback()
