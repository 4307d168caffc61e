"""`leadflow kpi summary|NAME`, run in-process against the test database."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.db.session import get_sessionmaker
from leadflow.kpi import cli as kpi_cli
from leadflow.kpi.service import KPIS
from tests.factories import make_campaign
from tests.kpi.conftest import add_lead, move, spend

runner = CliRunner()
RANGE = ("--from", "2026-05-01", "--to", "2026-05-31")


def run(*args: str):
    return runner.invoke(app, ["kpi", *args], catch_exceptions=False)


@pytest.fixture
def may(engine_clean):
    """Four May leads of campaign "Mail" (20.00 spent), one a customer after 10 days."""
    with get_sessionmaker()() as s, s.begin():
        campaign = make_campaign(s, name="Mail", channel="email")
        spend(s, campaign, {date(2026, 5, 2): "20.00"})
        for i in range(4):
            lead = add_lead(s, created_at=datetime(2026, 5, 4 + i), channel="email", campaign_id=campaign.id)
            if i == 0:
                move(s, lead, "customer", datetime(2026, 5, 14))
        return campaign.id


def test_summary_json_has_the_headline_keys(may):
    r = run("summary", *RANGE, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["leads"], out["conversion_rate"], out["cost_per_lead"], out["median_days_to_convert"]) == (
        4, 0.25, 5.0, 10.0)


def test_summary_table(may):
    r = run("summary", *RANGE)
    assert r.exit_code == 0, r.output
    assert "conversion_rate" in r.stdout and "25.0%" in r.stdout and "5.00" in r.stdout


def test_every_kpi_has_a_command_with_json_and_a_table(may):
    assert set(kpi_cli.COMMANDS) == {"summary", *KPIS}
    for name in KPIS:
        r = run(name, *RANGE, "--period", "week", "--by", "campaign", "--json")
        assert r.exit_code == 0, (name, r.output)
        assert isinstance(json.loads(r.stdout), dict)
        r = run(name, *RANGE, "--by", "channel", "--channel", "email", "--campaign", str(may))
        assert r.exit_code == 0, (name, r.output)


def test_a_breakdown_with_filters(may):
    out = json.loads(run("leads", *RANGE, "--period", "week", "--by", "channel", "--channel", "email",
                         "--channel", "none", "--json").stdout)
    assert out["total"] == 4
    assert {r["group"] for r in out["rows"]} == {"email"}
    assert json.loads(run("leads", *RANGE, "--form", "7", "--json").stdout)["total"] == 0


@pytest.mark.parametrize(("args", "option"), [
    (["--from", "2026-05-32"], "--from"),
    (["--from", "2026-05-02", "--to", "2026-05-01"], "--to"),
    (["--from", "1990-01-01", "--to", "2026-05-01"], "--from"),
    (["--period", "year"], "--period"),
    (["--by", "owner"], "--by"),
    (["--campaign", "x"], "--campaign"),
    (["--form", "0"], "--form"),
])
def test_bad_options_exit_non_zero_naming_the_option(engine_clean, args, option):
    r = run("conversion", *args)
    assert r.exit_code != 0
    assert option in r.stderr


def test_an_unknown_kpi_exits_non_zero():
    r = runner.invoke(app, ["kpi", "vanity"])
    assert r.exit_code != 0
    assert "vanity" in r.output
