"""The lifecycle panel in a real Chromium, by keyboard: answer BANT, accept the lead, see the time in stage."""

from __future__ import annotations

import pytest

from leadflow.db.session import get_sessionmaker
from leadflow.lifecycle.service import move_to_stage
from tests.factories import make_lead
from tests.web_fixtures import keyboard_login, shot

pytestmark = pytest.mark.browser


def _choose(page, select_id: str, label: str) -> None:
    """Focus a select and pick LABEL with the keyboard (typing its first letters)."""
    page.locator(f"#{select_id}").focus()
    page.keyboard.type(label)
    assert page.locator(f"#{select_id} option:checked").inner_text() == label


def test_answer_bant_and_accept_by_keyboard(page, admin):
    with get_sessionmaker()() as s, s.begin():
        lead = make_lead(s, email="kb@acme.io", first_name="Kai", last_name="Board", company_name="Acme")
        move_to_stage(s, lead=lead, to_stage="mql", reason="set by the CRM", actor_type="api")
        lead_id = lead.id
    keyboard_login(page, admin)
    page.goto(f"/leads/{lead_id}")
    assert page.locator("#lifecycle").is_visible()
    assert page.get_by_role("button", name="Accept as Sales-ready").is_disabled()
    shot(page, "lifecycle-01-mql-without-bant")

    _choose(page, "bant-budget", "Confirmed")
    page.keyboard.press("Tab")  # to the authority select
    assert page.evaluate("document.activeElement.id") == "bant-authority"
    page.keyboard.type("Decision maker")
    _choose(page, "bant-need", "Possible")
    _choose(page, "bant-timeline", "Under 3 months")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Save BANT"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "BANT saved." in page.locator("[role=status]").inner_text()
    assert page.locator("#bant-authority option:checked").inner_text() == "Decision maker"

    accept = page.get_by_role("button", name="Accept as Sales-ready")
    assert accept.is_enabled()
    accept.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Accepted: the lead is Sales-ready." in page.locator("[role=status]").inner_text()
    assert "In Sales-ready for" in page.locator("#lifecycle").inner_text()
    shot(page, "lifecycle-02-accepted")

    # The disclosure widgets open with the keyboard too.
    page.locator("#lifecycle summary", has_text="Disqualify…").focus()
    page.keyboard.press("Enter")
    assert page.locator("#lc-dq-code").is_visible()
    _choose(page, "lc-dq-code", "Competitor")
    page.locator("#lc-dq-note").focus()
    page.keyboard.type("went with a rival")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # Enter in a text field submits its form
    assert "Moved to Disqualified." in page.locator("[role=status]").inner_text()
    shot(page, "lifecycle-03-disqualified")
