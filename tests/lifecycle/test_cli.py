"""`leadflow leads move|accept|reject|bant|stages`, run in-process against the test database."""

import json

import pytest
from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.db.session import get_sessionmaker
from leadflow.leads.service import get_lead
from leadflow.lifecycle.service import list_stage_changes

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["leads", *args], catch_exceptions=False)




def _stage(lead_id: int) -> str:
    with get_sessionmaker()() as s:
        return get_lead(s, lead_id=lead_id).stage


def test_move_by_id_or_email_with_a_reason_code(lead_id):
    r = run("move", "ANA@acme.io", "--to", "disqualified", "--reason", "no_budget", "--note", "frozen", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["lead_id"], out["stage"], out["outcome"]) == (lead_id, "disqualified", "lost")
    assert (out["change"]["reason"], out["change"]["actor_type"]) == ("no_budget: frozen", "user")
    r = run("move", str(lead_id), "--to", "prospect")
    assert r.exit_code == 0, r.output
    assert "disqualified → prospect" in r.stdout
    assert _stage(lead_id) == "prospect"


@pytest.mark.parametrize(("args", "option"), [
    (["--to", "disqualified"], "--reason"),
    (["--to", "recycled", "--reason", "competitor"], "--reason"),
    (["--to", "recycled", "--reason", "other"], "--note"),
    (["--to", "warm"], "--to"),
    (["--to", "sql"], "--budget"),
])
def test_move_refusals_exit_non_zero_naming_the_option(lead_id, args, option):
    r = run("move", str(lead_id), *args)
    assert r.exit_code != 0
    assert option in r.stderr
    assert _stage(lead_id) == "prospect"
    with get_sessionmaker()() as s:
        assert len(list_stage_changes(s, lead_id=lead_id)) == 1


@pytest.mark.parametrize("ref", ["987654", "nobody@acme.io", "not an email"])
def test_unknown_lead_exits_non_zero_naming_lead(engine_clean, ref):
    r = run("move", ref, "--to", "mql")
    assert r.exit_code != 0
    assert "LEAD" in r.stderr


def test_bant_sets_the_options_given_and_shows_them(lead_id):
    r = run("bant", str(lead_id), "--budget", "confirmed", "--need", "possible", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["budget"], out["need"], out["authority"], out["answered"]) == ("confirmed", "possible", None, False)
    assert out["changed"] == ["budget", "need"]
    r = run("bant", "ana@acme.io", "--budget", "")
    assert r.exit_code == 0, r.output
    assert "not answered" in r.stdout
    out = json.loads(run("bant", str(lead_id), "--json").stdout)
    assert (out["budget"], out["need"], out["changed"]) == (None, "possible", [])


def test_bant_refuses_a_bad_value_naming_the_option(lead_id):
    r = run("bant", str(lead_id), "--budget", "confirmed", "--timeline", "soon")
    assert r.exit_code != 0
    assert "--timeline" in r.stderr and "under_3_months" in r.stderr
    assert json.loads(run("bant", str(lead_id), "--json").stdout)["budget"] is None


def test_accept_needs_bant_then_moves_to_sql(mql_id):
    r = run("accept", str(mql_id))
    assert r.exit_code != 0
    assert "BANT" in r.stderr or "--budget" in r.stderr
    assert _stage(mql_id) == "mql"
    assert run("bant", str(mql_id), "--budget", "planned", "--authority", "influencer", "--need", "confirmed",
               "--timeline", "3_to_12_months").exit_code == 0
    r = run("accept", "mql@acme.io", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["stage"] == "sql"


def test_reject_recycles_with_a_code(mql_id):
    r = run("reject", str(mql_id), "--reason", "competitor")
    assert r.exit_code != 0 and "--reason" in r.stderr
    r = run("reject", str(mql_id), "--reason", "not_ready", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["change"]["reason"] == "not_ready: rejected by sales"


def test_stages_prints_history_durations_and_time_to(mql_id):
    r = run("stages", str(mql_id), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["stage"] == "mql"
    assert [d["stage"] for d in out["durations"]] == ["prospect", "mql"]
    assert out["durations"][-1]["left_at"] is None
    assert [t["stage"] for t in out["time_to"]] == ["suspect", "prospect", "mql", "sql", "customer"]
    r = run("stages", "mql@acme.io")
    assert r.exit_code == 0, r.output
    assert "Time in stage" in r.stdout and "not reached" in r.stdout
