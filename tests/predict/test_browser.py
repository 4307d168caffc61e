"""Predictive scoring in a real Chromium: train from the page, compare, activate, read a lead's chance."""

from __future__ import annotations

import re

import pytest

from leadflow.db.session import get_sessionmaker
from leadflow.leads.models import Lead
from tests.web_fixtures import keyboard_login

pytestmark = pytest.mark.browser


def test_train_compare_activate_and_read_the_lead_panel(page, admin, history):
    keyboard_login(page, admin)
    page.goto("/predict")
    page.get_by_label("Leave out").fill("company_size")
    page.get_by_role("button", name="Train").click()
    page.wait_for_url(re.compile(r".*/predict/models/\d+$"))
    # The evaluation, its charts and the baselines, drawn by leadflow.
    assert page.locator("svg.rel-chart circle.rel-dot").count() >= 2
    assert page.locator("svg.lift-chart rect.lift-bar").count() == 10
    assert page.get_by_text("Baseline: logistic regression").is_visible()
    # Activation needs the "I have compared" box: the browser refuses the form without it.
    activate = page.get_by_role("button", name=re.compile("Activate version"))
    activate.click()
    assert page.locator("#compared:invalid").count() == 1
    page.get_by_label(re.compile("I have compared")).check()
    activate.click()
    page.locator(".flash", has_text="leads priced").wait_for()
    lead_id = history["open"][0]
    page.goto(f"/leads/{lead_id}")
    panel = page.locator("#prediction")
    shown = float(panel.locator(".pr-prob").get_attribute("data-probability"))
    with get_sessionmaker()() as s:
        stored = s.get(Lead, lead_id).conversion_probability
    assert shown == pytest.approx(stored, abs=1e-6)
    assert panel.locator(".pr-factor").count() >= 1
    assert re.search(r"(raises|lowers) the chance", panel.locator(".pr-factor").first.inner_text())
