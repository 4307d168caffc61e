"""The predictive-scoring HTTP API and `leadflow predict`, in-process against the test database."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from leadflow.cli import app as cli_app
from leadflow.db.session import get_sessionmaker
from leadflow.leads.models import Lead

runner = CliRunner()


def run(*args: str, input: str | None = None):
    return runner.invoke(cli_app, list(args), catch_exceptions=False, input=input)


def test_train_compare_activate_explain_over_http(client, history):
    r = client.post("/api/v1/predict/models", json={"name": "v1", "exclude": ["company_size"]})
    assert r.status_code == 201, r.text
    body = r.json()
    version = body["version"]
    assert body["status"] == "draft" and body["report"]["evaluation"] == "time_split"
    assert "company_size" not in body["features"]
    assert client.get("/api/v1/predict/models/active").status_code == 404
    r = client.post(f"/api/v1/predict/models/{version}/activate")
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "compared"
    assert r.json()["comparison"]["candidate"] == version
    cmp = client.get(f"/api/v1/predict/models/{version}/compare").json()
    assert [m["metric"] for m in cmp["metrics"]] == ["roc_auc", "pr_auc", "log_loss", "brier", "ece"]
    r = client.post(f"/api/v1/predict/models/{version}/activate", json={"compared": True})
    assert r.status_code == 200 and r.json()["status"] == "active"
    lead_id = history["open"][0]
    why = client.get(f"/api/v1/leads/{lead_id}/prediction").json()
    assert why["version"] == version and 0 < why["probability"] < 1
    stored = client.get(f"/api/v1/leads/{lead_id}").json()["conversion_probability"]
    assert stored == pytest.approx(why["probability"], abs=1e-6)
    # The sales-ready order: by probability, highest first.
    page = client.get("/api/v1/leads", params={"sort": "-conversion_probability", "page_size": 500}).json()
    probs = [i["conversion_probability"] for i in page["items"]]
    assert probs == sorted(probs, reverse=True)
    high = client.get("/api/v1/leads", params={"min_probability": "0.5"}).json()
    assert all(i["conversion_probability"] >= 0.5 for i in high["items"])
    drift = client.get("/api/v1/predict/drift").json()
    assert drift["version"] == version and drift["periods"]


def test_bad_requests_name_the_field(client, history):
    r = client.post("/api/v1/predict/models", json={"positive_stages": ["won"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "positive_stages.0"
    r = client.post("/api/v1/predict/models", json={"positive_stages": ["customer"], "negative_stages": ["customer"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "negative_stages"
    assert client.get("/api/v1/predict/models/99").status_code == 404
    assert client.get("/api/v1/leads", params={"min_probability": "2"}).status_code == 422
    assert client.get("/api/v1/predict/drift", params={"period": "year"}).status_code == 422
    assert client.get("/api/v1/leads/1/prediction").status_code == 404


def test_only_editors_train(client, history):
    from leadflow.auth.service import create_token, create_user

    with get_sessionmaker()() as s, s.begin():
        user = create_user(s, email="rep@example.com", password="correct-horse-battery", name="Rep", role="sales")
        _, token = create_token(s, user=user, name="t")
    r = client.post("/api/v1/predict/models", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and "role" in r.json()["detail"]


def _write_csv(path: Path, rows: int = 400, *, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Prospect ID", "Lead Source", "TotalVisits", "Converted", "Tags"])
        for i in range(rows):
            source = rng.choice(["Google", "Referral", "Olark Chat"])
            visits = int(rng.integers(0, 12))
            p = 1 / (1 + np.exp(-(-2 + (source == "Referral") * 2 + visits * 0.25)))
            won = int(rng.random() < p)
            w.writerow([f"id-{i}", source, visits, won, "Will revert" if won else "Ringing"])


def test_train_and_score_a_csv(engine_clean, tmp_path):
    path = tmp_path / "history.csv"
    _write_csv(path)
    r = run("predict", "train", "--csv", str(path), "--target", "Converted", "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    for key in ("roc_auc", "pr_auc", "log_loss", "brier", "ece"):
        assert isinstance(report[key], float)
    assert report["evaluation"] == "stratified_cv"
    # The copy of the outcome is caught; the id column too.
    assert "Tags" in report["dropped"] and "Prospect ID" in report["dropped"]
    version = report["version"]
    out = tmp_path / "scored.csv"
    r = run("predict", "score", "--csv", str(path), "--model", str(version), "--out", str(out), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rows"] == 400
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 400 and all(0 < float(x["conversion_probability"]) < 1 for x in rows)
    # A CSV model prices CSV files, not the workspace's leads.
    r = run("predict", "activate", str(version), "--yes")
    assert r.exit_code == 2 and "CSV" in r.output


def test_csv_mistakes_are_clear(engine_clean, tmp_path):
    path = tmp_path / "history.csv"
    _write_csv(path)
    r = run("predict", "train", "--csv", str(path), "--target", "Won")
    assert r.exit_code == 1 and "Won" in r.output
    r = run("predict", "train", "--csv", str(path))
    assert r.exit_code == 1 and "--target" in r.output
    small = tmp_path / "small.csv"
    _write_csv(small, rows=60)
    r = run("predict", "train", "--csv", str(small), "--target", "Converted")
    assert r.exit_code == 1 and "50" in r.output
    r = run("predict", "score", "--csv", str(path), "--model", "7")
    assert r.exit_code != 0 and "7" in r.output


def test_workspace_cli(history):
    r = run("predict", "train", "--json", "--exclude", "company_size")
    assert r.exit_code == 0, r.output
    version = json.loads(r.stdout)["version"]
    r = run("predict", "activate", str(version), input="n\n")
    assert r.exit_code == 2 and "ROC AUC" in r.output
    r = run("predict", "activate", str(version), "--yes", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["leads"] > 0
    lead_id = history["open"][0]
    r = run("predict", "explain", str(lead_id), "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["factors"]
    with get_sessionmaker()() as s:
        stored = s.get(Lead, lead_id).conversion_probability
    assert json.loads(r.stdout)["probability"] == pytest.approx(stored, abs=1e-6)
    r = run("predict", "rescore", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["leads"] == sum(len(v) for v in history.values())
    r = run("predict", "models", "--json")
    assert [m["status"] for m in json.loads(r.stdout)] == ["active"]
    r = run("predict", "drift", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["version"] == version
    r = run("predict", "recalibrate", "--days", "3650", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["status"] == "draft"
    r = run("leads", "list", "--sort", "-expected_value", "--json")
    assert r.exit_code == 0
    r = run("predict", "train", "--positive-stage", "won")
    assert r.exit_code == 1 and "won" in r.output


def test_sales_ready_order_is_expected_value_then_probability(client):
    from decimal import Decimal

    from tests.factories import make_lead

    # (probability, deal value): expected values 300, 250, 100, then no deal value (by probability).
    cases = {"a@x.io": (0.3, 1000), "b@x.io": (0.5, 500), "c@x.io": (0.9, None), "d@x.io": (0.1, 1000),
             "e@x.io": (0.2, None)}
    with get_sessionmaker()() as s, s.begin():
        for email, (p, value) in cases.items():
            lead = make_lead(s, email=email)
            lead.conversion_probability = p
            lead.deal_value = Decimal(value) if value is not None else None
    items = client.get("/api/v1/leads", params={"sort": "-expected_value"}).json()["items"]
    assert [i["email"] for i in items] == ["a@x.io", "b@x.io", "d@x.io", "c@x.io", "e@x.io"]
    items = client.get("/api/v1/leads", params={"sort": "expected_value"}).json()["items"]
    assert [i["email"] for i in items][-3:] == ["d@x.io", "b@x.io", "a@x.io"]
