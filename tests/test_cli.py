"""The `leadflow` command line, run in-process against the test database."""

import csv
import json

import pytest
from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.db.session import get_sessionmaker
from tests.factories import make_lead

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def five_leads(engine_clean):
    """Five leads: two in mql from Spain (acme.es), three prospects elsewhere; ids in creation order."""
    with get_sessionmaker()() as s, s.begin():
        ids = [make_lead(s, email=f"m{i}@acme.es", country="ES", stage="mql", company_name="Acme").id for i in range(2)]
        ids += [make_lead(s, email=f"p{i}@other.io", country="DE").id for i in range(3)]
    return ids


def test_help_lists_every_command_group():
    r = run("--help")
    assert r.exit_code == 0
    for name in ("serve", "db", "user", "token", "leads", "demo", "campaigns"):
        assert name in r.stdout


def test_version():
    from leadflow import __version__

    assert run("--version").stdout.strip() == __version__


def test_user_create_and_list(engine_clean):
    r = run("user", "create", "--email", "Rita@Example.com", "--password", "long-enough-pw", "--name", "Rita",
            "--role", "sales", "--json")
    assert r.exit_code == 0, r.output
    created = json.loads(r.stdout)
    assert (created["email"], created["role"], created["name"]) == ("rita@example.com", "sales", "Rita")
    listed = json.loads(run("user", "list", "--json").stdout)
    assert [u["email"] for u in listed] == ["rita@example.com"]


@pytest.mark.parametrize(("args", "field"), [
    (["--email", "not-an-email", "--password", "long-enough-pw"], "email"),
    (["--email", "a@b.com", "--password", "short"], "password"),
    (["--email", "a@b.com", "--password", "long-enough-pw", "--role", "god"], "role"),
])
def test_user_create_refuses_bad_input_naming_the_field(engine_clean, args, field):
    r = run("user", "create", *args)
    assert r.exit_code != 0
    assert field in r.stderr
    assert json.loads(run("user", "list", "--json").stdout) == []


def test_token_create_prints_a_token_that_authenticates(engine_clean, anon_client):
    run("user", "create", "--email", "ops@example.com", "--password", "long-enough-pw")
    r = run("token", "create", "--user", "ops@example.com", "--name", "ci", "--json")
    assert r.exit_code == 0, r.output
    token = json.loads(r.stdout)["token"]
    assert anon_client.get("/api/v1/leads", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert anon_client.get("/api/v1/leads", headers={"Authorization": "Bearer lf_wrong"}).status_code == 401
    listed = json.loads(run("token", "list", "--json").stdout)
    assert [t["name"] for t in listed] == ["ci"]
    assert token not in run("token", "list", "--json").stdout


def test_token_for_unknown_user_fails(engine_clean):
    r = run("token", "create", "--user", "ghost@example.com")
    assert r.exit_code != 0
    assert "--user" in r.stderr


def test_leads_list_json_has_total_and_the_page(five_leads):
    r = run("leads", "list", "--json", "--page-size", "2")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["total"] == 5
    assert len(out["items"]) == 2
    assert [i["id"] for i in out["items"]] == sorted(five_leads, reverse=True)[:2]


def test_leads_list_filters(five_leads):
    out = json.loads(run("leads", "list", "--json", "--stage", "mql").stdout)
    assert (out["total"], {i["id"] for i in out["items"]}) == (2, set(five_leads[:2]))
    out = json.loads(run("leads", "list", "--json", "-q", "other", "--country", "de", "--sort", "email").stdout)
    assert [i["email"] for i in out["items"]] == ["p0@other.io", "p1@other.io", "p2@other.io"]
    out = json.loads(run("leads", "list", "--json", "--owner-id", "0", "--outcome", "open").stdout)
    assert out["total"] == 5


def test_leads_list_bad_filter_names_the_option(five_leads):
    r = run("leads", "list", "--stage", "hot")
    assert r.exit_code != 0
    assert "--stage" in r.stderr
    r = run("leads", "list", "--sort", "nonsense")
    assert r.exit_code != 0
    assert "--sort" in r.stderr


def test_leads_show_json(five_leads):
    r = run("leads", "show", str(five_leads[0]), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["lead"]["id"] == five_leads[0]
    assert out["lead"]["email"] == "m0@acme.es"
    assert [(c["from_stage"], c["to_stage"]) for c in out["stage_changes"]] == [(None, "prospect"), ("prospect", "mql")]
    assert isinstance(out["events"], list)


def test_leads_show_plain_text(five_leads):
    r = run("leads", "show", str(five_leads[0]))
    assert r.exit_code == 0
    assert "m0@acme.es" in r.stdout


def test_leads_show_unknown_id_fails(five_leads):
    r = run("leads", "show", "999999")
    assert r.exit_code != 0
    assert "999999" in r.stderr


def test_leads_export_writes_the_filtered_csv(five_leads, tmp_path):
    out = tmp_path / "mql.csv"
    r = run("leads", "export", "--stage", "mql", "-o", str(out))
    assert r.exit_code == 0, r.output
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {int(row["id"]) for row in rows} == set(five_leads[:2])
    assert {row["stage"] for row in rows} == {"mql"}
    assert not (tmp_path / "mql.csv.part").exists()


def test_leads_export_to_stdout(five_leads):
    r = run("leads", "export", "--country", "DE")
    assert r.exit_code == 0
    rows = list(csv.DictReader(r.stdout.splitlines()))
    assert {int(row["id"]) for row in rows} == set(five_leads[2:])


def test_campaigns_list_json_counts_leads_and_spend(engine_clean):
    from datetime import date

    from leadflow.campaigns.schemas import SpendIn
    from leadflow.campaigns.service import record_spend
    from tests.factories import make_campaign

    with get_sessionmaker()() as s, s.begin():
        c = make_campaign(s, name="Spring", utm_campaign="spring")
        make_lead(s, first_touch={"campaign": "spring"})
        record_spend(s, campaign=c, entries=[SpendIn(day=date(2026, 3, 1), amount="12.50")])
    out = json.loads(run("campaigns", "list", "--json").stdout)
    assert [(r["name"], r["leads"], r["spend"]) for r in out] == [("Spring", 1, "12.50")]


def test_db_upgrade_is_idempotent(engine_clean):
    assert run("db", "upgrade").exit_code == 0
    assert run("db", "upgrade").exit_code == 0
