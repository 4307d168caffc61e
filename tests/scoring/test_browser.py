"""The scoring pages in a real Chromium: the model editor checks as you type; backtest, lead page.

Screenshots go to $LEADFLOW_SCREENSHOTS when it is set (they are for people to look at, not kept
in the repository).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from leadflow.db.session import get_sessionmaker
from leadflow.scoring.models import ScoringModel
from tests.scoring.test_views import UPSIDE_DOWN, world  # noqa: F401  (world: MODEL active, leads with outcomes)
from tests.web_fixtures import keyboard_login

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("LEADFLOW_SCREENSHOTS")


def shot(page, name: str, *, full_page: bool = True) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=full_page)


def _select_in_editor(page, needle: str, occurrence: int) -> None:
    """Select the OCCURRENCE-th (0-based) NEEDLE in the model textarea, as a person double-clicking it."""
    page.evaluate("""([needle, occurrence]) => {
        const box = document.getElementById("model-text");
        let at = -1;
        for (let i = 0; i <= occurrence; i++) { at = box.value.indexOf(needle, at + 1); }
        box.focus();
        box.setSelectionRange(at, at + needle.length);
    }""", [needle, occurrence])


def _versions() -> dict[int, ScoringModel]:
    with get_sessionmaker()() as s:
        return {r.version: r for r in s.query(ScoringModel)}


def test_the_editor_checks_as_you_type_and_saves(page, admin, world):  # noqa: F811
    keyboard_login(page, admin)
    page.goto("/scoring/new")
    status = page.locator("[data-model-status]")
    assert status.get_attribute("data-state") == "idle"
    # The second engagement rule (index 1, the pricing page) gets a negative half-life.
    _select_in_editor(page, "half_life_days: 10", 1)
    page.keyboard.type("half_life_days: -2")
    problem = page.locator(".sc-errors code", has_text="engagement.rules.1.half_life_days")
    problem.wait_for()
    assert status.get_attribute("data-state") == "invalid"
    assert "positive number of days" in page.locator(".sc-errors li").first.inner_text()
    assert page.url.endswith("/scoring/new") and page.locator("#model-text").get_attribute("aria-invalid") == "true"
    shot(page, "scoring-editor-invalid", full_page=False)

    _select_in_editor(page, "half_life_days: -2", 0)
    page.keyboard.type("half_life_days: 12")
    page.locator(".sc-state-valid").wait_for()
    assert page.locator(".sc-errors li").count() == 0
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "model-notes"
    page.keyboard.type("Pricing intent lasts longer")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Save as draft"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "saved as a draft" in page.locator("[role=status]").inner_text()
    newest = max(_versions().values(), key=lambda r: r.version)
    assert newest.status == "draft" and newest.notes == "Pricing intent lasts longer"
    assert newest.document["engagement"]["rules"][1]["half_life_days"] == 12


def test_screens_of_the_scoring_pages(page, admin, world):  # noqa: F811
    """Not an assertion of looks: the pages render with no horizontal scroll, on a desktop and a phone."""
    keyboard_login(page, admin)
    page.goto("/scoring")
    shot(page, "scoring-overview")
    page.goto("/scoring/new")
    page.locator("#model-text").fill(UPSIDE_DOWN)
    with page.expect_navigation():
        page.get_by_role("button", name="Save as draft").click()
    version = max(_versions())
    with page.expect_navigation():
        page.get_by_role("button", name="Run backtest").click()
    assert page.locator("svg.lift-chart rect.lift-bar").count() == 10
    assert page.get_by_text("Worse than the active model.").is_visible()
    shot(page, "scoring-version-backtest")
    page.goto(f"/leads/{world['hot']}")
    card = page.locator("#score")
    assert card.get_by_role("heading", name="Why this score").is_visible()
    shot(page, "lead-why-this-score")
    if SHOTS:
        card.screenshot(path=str(Path(SHOTS) / "lead-why-this-score-card.png"))
    for width, path in ((390, f"/scoring/models/{version}"), (390, f"/leads/{world['hot']}"), (390, "/scoring"),
                        (1024, "/scoring")):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(path)
        name = path.strip("/").replace("/", "-")
        shot(page, f"{name}-{width}")
        if SHOTS and path.startswith("/leads/"):
            page.locator("#score").screenshot(path=str(Path(SHOTS) / f"lead-why-this-score-card-{width}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width)
