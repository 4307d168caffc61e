"""The scoring HTTP API and `leadflow score`, in-process against the test database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from leadflow.cli import app as cli_app
from leadflow.db.session import get_sessionmaker
from tests.factories import make_lead
from tests.scoring.test_service import MODEL

runner = CliRunner()


def run(*args: str):
    return runner.invoke(cli_app, list(args), catch_exceptions=False)


@pytest.fixture
def outcomes(engine_clean):
    """Two converted VPs and two lost analysts, all with corporate emails."""
    with get_sessionmaker()() as s, s.begin():
        ids = [make_lead(s, email=f"vp{i}@corp.io", job_title="VP Sales", outcome="won").id for i in range(2)]
        ids += [make_lead(s, email=f"an{i}@corp.io", job_title="Analyst", outcome="lost").id for i in range(2)]
    return ids


def test_create_validate_backtest_activate_over_http(client, outcomes):
    r = client.post("/api/v1/scoring/models/validate", json={"text": MODEL.replace("half_life_days: 1,", "half_life_days: 0,")})
    assert r.status_code == 200
    assert r.json()["valid"] is False and r.json()["errors"][0]["field"] == "document.engagement.rules.1.half_life_days"
    r = client.post("/api/v1/scoring/models", json={"text": MODEL, "notes": "VPs first"})
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    assert r.json()["status"] == "draft" and "Test model" in r.json()["yaml"]
    report = client.post(f"/api/v1/scoring/models/{version}/backtest").json()
    assert report["roc_auc"] == 1.0 and report["worse"] is False
    assert report["compared_to"]["version"] == 1
    r = client.post(f"/api/v1/scoring/models/{version}/activate")
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert client.get("/api/v1/scoring/models/active").json()["version"] == version
    lead = client.get(f"/api/v1/leads/{outcomes[0]}").json()
    why = client.get(f"/api/v1/leads/{outcomes[0]}/score").json()
    assert why["version"] == version and why["fit_grade"] == "A" and why["score"] == 50.0
    assert sum(x["value"] for x in why["fit"] + why["engagement_lines"] + why["intent_lines"]) == why["score"]
    assert lead["id"] == outcomes[0]


def test_a_worse_version_needs_confirmation(client, outcomes):
    good = client.post("/api/v1/scoring/models", json={"text": MODEL}).json()["version"]
    client.post(f"/api/v1/scoring/models/{good}/activate")
    bad = client.post("/api/v1/scoring/models", json={"text": MODEL.replace("'(?i)\\bvp\\b'", "'(?i)analyst'")}).json()
    assert client.post(f"/api/v1/scoring/models/{bad['version']}/backtest").json()["worse"] is True
    r = client.post(f"/api/v1/scoring/models/{bad['version']}/activate")
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "confirm_worse"
    assert client.get("/api/v1/scoring/models/active").json()["version"] == good
    r = client.post(f"/api/v1/scoring/models/{bad['version']}/activate", json={"confirm_worse": True})
    assert r.status_code == 200


@pytest.mark.parametrize(("body", "field"), [
    ({"text": "name: x\nfoo: 1"}, "document.foo"),
    ({"document": {"name": "x", "fit": {"grades": {"A": 1, "B": 1, "C": 0}}}}, "document.fit.grades"),
    ({"text": "name: x", "document": {"name": "x"}}, "text"),
    ({}, "text"),
    ({"text": "name: [unclosed"}, "document"),
])
def test_bad_documents_are_refused_naming_the_key(client, body, field):
    before = client.get("/api/v1/scoring/models").json()
    r = client.post("/api/v1/scoring/models", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    assert client.get("/api/v1/scoring/models").json() == before


def test_unknown_versions_and_leads_are_404_and_anonymous_is_401(client, anon_client):
    assert client.get("/api/v1/scoring/models/42").status_code == 404
    assert client.post("/api/v1/scoring/models/42/activate").status_code == 404
    assert client.get("/api/v1/leads/999/score").status_code == 404
    assert client.get("/api/v1/scoring/models/0").status_code == 422
    assert anon_client.get("/api/v1/scoring/models").status_code == 401
    assert anon_client.get("/api/v1/leads/1/score").status_code == 401


def test_sales_users_cannot_change_models(app, admin, engine_clean):
    from fastapi.testclient import TestClient

    from leadflow.auth.service import create_token, create_user

    with get_sessionmaker()() as s, s.begin():
        rep = create_user(s, email="rep@example.com", password="long-enough-pw", role="sales")
        _, token = create_token(s, user=rep, name="t")
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        assert c.get("/api/v1/scoring/models").status_code == 200
        r = c.post("/api/v1/scoring/models", json={"text": MODEL})
        assert r.status_code == 403 and "role" in r.json()["detail"]
        assert c.post("/api/v1/scoring/rescore").status_code == 403


def test_cli_round_trip(outcomes, tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text(MODEL, encoding="utf-8")
    assert run("score", "validate", str(path)).exit_code == 0
    r = run("score", "backtest", "--model", str(path), "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["roc_auc"] == 1.0 and report["leads_with_outcome"] == 4
    r = run("score", "create", str(path), "--activate", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["status"] == "active"
    models = json.loads(run("score", "models", "--json").stdout)
    assert [m["status"] for m in models] == ["active", "retired"]
    why = json.loads(run("score", "explain", "vp0@corp.io", "--json").stdout)
    assert why["score"] == 50.0 and [x["rule"] for x in why["fit"]] == ["vp", "corporate"]
    assert json.loads(run("score", "rescore", "--json").stdout)["scored"] == 4
    assert "name: Test model" in run("score", "show").stdout


def _said(result) -> str:
    return " ".join(result.output.split())  # Rich wraps long messages


def test_cli_refuses_a_bad_model_naming_the_key(engine_clean, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(MODEL.replace("half_life_days: 1,", "half_life_days: -2,"), encoding="utf-8")
    r = runner.invoke(cli_app, ["score", "validate", str(path)])
    assert r.exit_code == 1 and "engagement.rules.1.half_life_days" in _said(r)
    r = runner.invoke(cli_app, ["score", "backtest", "--model", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 1 and "no such file" in _said(r)
    r = runner.invoke(cli_app, ["score", "activate", "77"])
    assert r.exit_code == 1 and "no scoring model version 77" in _said(r)
    r = runner.invoke(cli_app, ["score", "explain", "not-an-email"])
    assert r.exit_code == 1 and "LEAD" in _said(r)


def test_the_shipped_default_prints_and_validates(tmp_path):
    text = run("score", "default").stdout
    path = tmp_path / "default.yaml"
    path.write_text(text, encoding="utf-8")
    assert run("score", "validate", str(path)).exit_code == 0


def test_an_import_scores_the_leads_it_wrote(engine_clean, tmp_path):
    path = tmp_path / "fair.csv"
    path.write_text("Email,Job Title,Industry,Company size\n"
                    "ceo@corp.io,CEO,Software,51-200\n"
                    "kid@gmail.com,Student,Education,1-10\n", encoding="utf-8")
    r = run("leads", "import", str(path))
    assert r.exit_code == 0, r.output
    assert "scored 2 leads" in " ".join(r.output.split())
    leads = {x["email"]: x for x in json.loads(run("leads", "list", "--json").stdout)["items"]}
    # The shipped model: executive 30 + target industry 15 + 51-200 15 + corporate email 10 = 70 (A);
    # student -30, free email -5 = -35 (D).
    assert (leads["ceo@corp.io"]["fit_grade"], leads["ceo@corp.io"]["fit_points"]) == ("A", 70.0)
    assert (leads["kid@gmail.com"]["fit_grade"], leads["kid@gmail.com"]["fit_points"]) == ("D", -35.0)
    # With --json the output stays one JSON document.
    r = run("leads", "import", str(path), "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["created"] == 0  # parses: nothing printed after it
