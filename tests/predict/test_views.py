"""The predictive-scoring pages over HTTP: overview, training, a version's evaluation, activation, the lead panel."""

from __future__ import annotations

import re

from leadflow.auth.service import create_user
from leadflow.db.session import get_sessionmaker
from leadflow.leads.models import Lead
from tests.web_fixtures import csrf, login


def test_train_from_the_page_then_activate_after_comparing(ui, history):
    page = ui.get("/predict")
    assert page.status_code == 200 and "No predictive model is active" in page.text
    r = ui.post("/predict/train", data={"csrf_token": csrf(ui), "positive_stages": ["customer"],
                                        "negative_stages": ["disqualified"], "exclude": "company_size",
                                        "name": "From the UI"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/predict/models/")
    url = r.headers["location"]
    page = ui.get(url)
    assert page.status_code == 200
    text = page.text
    assert "From the UI" in text and "evaluated on the newest leads" in text
    assert '<svg class="rel-chart"' in text and '<svg class="lift-chart"' in text
    assert "Baseline: logistic regression" in text and "Baseline: naive bayes" in text
    assert re.search(r"Left out by you</dt><dd>company_size</dd>", text)
    # The box that says the comparison was read is required; without it nothing changes.
    r = ui.post(f"{url}/activate", data={"csrf_token": csrf(ui)}, follow_redirects=True)
    assert "compare the candidate" in r.text
    r = ui.post(f"{url}/activate", data={"csrf_token": csrf(ui), "compared": "yes"}, follow_redirects=True)
    assert r.status_code == 200 and "leads priced" in r.text
    with get_sessionmaker()() as s:
        lead = s.get(Lead, history["open"][0])
        assert lead.conversion_probability is not None
    lead_page = ui.get(f"/leads/{history['open'][0]}").text
    assert "Chance to convert" in lead_page and "What moved it" in lead_page
    shown = float(re.search(r'data-probability="([0-9.e-]+)"', lead_page).group(1))
    assert abs(shown - lead.conversion_probability) < 1e-6
    overview = ui.get("/predict").text
    assert "Drift" in overview and "in sample" in overview
    listing = ui.get("/leads", params={"sort": "-conversion_probability"}).text
    assert "col-conversion_probability" in listing


def test_sales_users_read_but_do_not_train(app, admin, history):
    from fastapi.testclient import TestClient

    with get_sessionmaker()() as s, s.begin():
        create_user(s, email="rep@example.com", password="correct-horse-battery", name="Rep", role="sales")
    with TestClient(app) as c:
        login(c, "rep@example.com", "correct-horse-battery")
        page = c.get("/predict")
        assert page.status_code == 200 and "Train a new model" not in page.text
        r = c.post("/predict/train", data={"csrf_token": csrf(c)})
        assert r.status_code == 403


def test_lead_page_without_a_model_says_so(ui, history):
    page = ui.get(f"/leads/{history['won'][0]}").text
    assert "No predictive model is active" in page
