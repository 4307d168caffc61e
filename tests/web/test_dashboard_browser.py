"""The dashboard in a real Chromium: a filter changes, the charts follow without a reload; without
JavaScript the Apply button does the same; printing hides the controls.

Screenshots go to $LEADFLOW_SCREENSHOTS when it is set.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from leadflow.db.session import get_sessionmaker
from leadflow.kpi.service import summary
from leadflow.web.dashboard import parse_filters
from leadflow.web.render import local_today, num
from tests.web_fixtures import keyboard_login

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("LEADFLOW_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _expected_leads(**params: str) -> str:
    with get_sessionmaker()() as s:
        return num(summary(s, query=parse_filters(params, today=local_today()).query())["leads"])


def _columns(page) -> int:
    return page.locator("#dash-body svg.chart-stack g.chart-col").count()


def test_changing_a_filter_updates_the_charts_in_place(page, admin, seeded):
    keyboard_login(page, admin)
    page.goto("/")
    leads = page.locator('[data-kpi="leads"]')
    assert leads.inner_text() == _expected_leads()
    weeks = _columns(page)
    assert 13 <= weeks <= 14  # 90 days by week
    page.evaluate("window.__sameDocument = true")
    shot(page, "dashboard-1440")

    page.select_option("#d-period", "day")
    page.wait_for_url(re.compile(r".*period=day.*"))
    page.wait_for_function("document.querySelectorAll('#dash-body svg.chart-stack g.chart-col').length === 90")
    assert page.locator("#dash-scope").inner_text().count("by day") == 1

    page.select_option("#d-channel", "paid_search")
    page.wait_for_url(re.compile(r".*channel=paid_search.*"))
    expected = _expected_leads(channel="paid_search", period="day")
    page.wait_for_function("t => document.querySelector('[data-kpi=leads]').textContent.trim() === t", arg=expected)
    legend = page.locator("#dash-body svg.chart-stack .chart-legend").text_content()
    assert "Paid search" in legend and "Organic search" not in legend
    assert "channel=paid_search" in page.locator("#dash-body a.dash-export").first.get_attribute("href")

    # A preset link: 365 days, the dates in the form follow; the other filters stay.
    page.locator("[data-dash-presets] a", has_text="365 days").click()
    page.wait_for_url(re.compile(r".*range=365.*"))
    page.wait_for_function("document.querySelector('[data-dash-presets] [aria-current]').textContent.trim() === '365 days'")
    assert page.input_value("#d-from") == (local_today() - timedelta(days=364)).isoformat()
    assert page.input_value("#d-channel") == "paid_search"
    assert page.evaluate("window.__sameDocument") is True  # no reload on the way

    # Back goes to the previous view.
    page.go_back()
    page.wait_for_function("document.querySelector('[data-dash-presets] [aria-current]').textContent.trim() === '90 days'")
    page.wait_for_function("document.querySelectorAll('#dash-body svg.chart-stack g.chart-col').length === 90")

    # A chart's table opens, with its export link beside it.
    details = page.locator("#dash-body details.dash-details").first
    details.locator("summary").click()
    assert details.locator("table tbody tr").count() == 90

    # On paper: no navigation, filters or buttons; the figures stay.
    page.emulate_media(media="print")
    assert not page.locator(".dash-filters").is_visible() and not page.locator("#sidebar").is_visible()
    assert not page.locator(".dash-export").first.is_visible()
    assert page.locator("#dash-body svg.chart-stack").is_visible()
    page.emulate_media(media="screen")


def test_without_javascript_the_form_applies_the_filters(chromium, live_server, admin, seeded):
    context = chromium.new_context(base_url=live_server, viewport={"width": 390, "height": 844},
                                   java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/login")
        page.fill("input[name=email]", admin["email"])
        page.fill("input[name=password]", admin["password"])
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/$"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll on a phone
        shot(page, "dashboard-390")
        page.select_option("#d-channel", "paid_search")
        page.select_option("#d-period", "month")
        with page.expect_navigation():
            page.click(".dash-apply button[type=submit]")
        assert "channel=paid_search" in page.url and "period=month" in page.url
        assert page.locator('[data-kpi="leads"]').inner_text() == _expected_leads(channel="paid_search", period="month")
        assert page.input_value("#d-channel") == "paid_search"
    finally:
        context.close()
