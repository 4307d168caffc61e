"""The web UI in a real Chromium, keyboard first, with full-page screenshots in screenshots/."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import shot

pytestmark = pytest.mark.browser


def _login_with_keyboard(page, admin) -> None:
    page.goto("/login")
    shot(page, "01-login")
    # The email field has autofocus: type, Tab to the password, Enter submits.
    page.keyboard.type(admin["email"])
    page.keyboard.press("Tab")
    page.keyboard.type(admin["password"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/$"))


def test_keyboard_login_search_filter_sort_and_stage_change(page, admin, seeded):
    page.goto("/login")
    page.keyboard.type(admin["email"])
    page.keyboard.press("Tab")
    page.keyboard.type("wrong password")
    page.keyboard.press("Enter")
    assert "Wrong email or password." in page.locator("[role=alert]").inner_text()

    _login_with_keyboard(page, admin)
    assert page.locator("h1").first.inner_text() == "Dashboard"
    shot(page, "02-dashboard")

    page.goto("/leads")
    shot(page, "03-leads")
    # "/" focuses the search box, Enter submits it.
    page.locator("body").press("/")
    assert page.evaluate("document.activeElement.name") == "q"
    page.keyboard.type("acme")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*q=acme.*"))
    rows = page.locator("table.table-leads tbody tr")
    assert rows.count() > 0
    assert all("Acme" in t for t in rows.locator("td:nth-child(3)").all_inner_texts())

    # Stage chips apply at once (keyboard: Tab to the chip, Space toggles it).
    page.goto("/leads")
    page.locator("label.stage-chip-mql input").focus()
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(r".*stage=mql.*"))
    badges = page.locator("table.table-leads tbody td:nth-child(4) .badge[class*=stage-]").all_inner_texts()
    assert badges and set(badges) == {"Marketing-qualified"}

    # Sorting by a column header.
    page.locator("th.col-last_name a").click()
    page.wait_for_url(re.compile(r".*sort=last_name.*"))
    assert page.locator("th.col-last_name").get_attribute("aria-sort") == "ascending"
    names = page.locator("table.table-leads tbody td.cell-main .row-link .truncate").all_inner_texts()
    last_names = [n.split(" ", 1)[1] for n in names]
    assert last_names == sorted(last_names, key=str.casefold) or len(set(last_names)) < len(last_names)

    # Open the first lead with the keyboard, move it to Recycled with a reason.
    page.locator("table.table-leads tbody tr").first.locator("a.row-link").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/leads/\d+$"))
    shot(page, "04-lead")
    page.select_option("#stage-select", "recycled")
    assert page.locator("#stage-reason").get_attribute("required") is not None
    page.fill("#stage-reason", "No budget until next fiscal year")
    page.locator("#stage-reason").press("Enter")
    page.wait_for_selector(".flash-ok")
    assert "Moved to Recycled" in page.locator(".flash").inner_text()
    history = page.locator("ol.history li").first.inner_text()
    assert "No budget until next fiscal year" in history and "Recycled" in history
    assert "Ada Admin" in history


def test_narrow_screen_has_a_menu(page, admin, seeded):
    _login_with_keyboard(page, admin)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/leads")
    shot(page, "08-leads-390px")
    toggle = page.locator(".nav-toggle")
    assert toggle.is_visible()
    assert not page.locator("#sidebar").is_visible()
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    page.locator("#sidebar a.nav-link", has_text="Campaigns").click()
    page.wait_for_url(re.compile(r".*/campaigns$"))
    page.goto(f"/leads/{seeded['lead_ids'][0]}")
    shot(page, "09-lead-390px")
    page.goto("/")
    shot(page, "10-dashboard-390px")


def test_import_csv_in_the_browser(page, admin, tmp_path):
    csv_file = tmp_path / "expo-madrid.csv"
    csv_file.write_text(
        "Email,First name,Last name,Company,Job title,Country,Booth notes\n"
        "marta@acme-analytics.com,Marta,Ruiz,Acme Analytics,CMO,Spain,Wants a demo\n"
        "john@globex.com,John,Smith,Globex,VP Sales,US,Follow up in May\n"
        "nope,Bad,Email,Unknown,,,\n"
        "li@hooli.dev,Li,Wei,Hooli,CTO,China,\n",
        encoding="utf-8",
    )
    _login_with_keyboard(page, admin)
    page.goto("/leads/import")
    page.set_input_files("#csv-file", str(csv_file))
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(re.compile(r".*/leads/import/[0-9a-f]{32}$"))
    assert page.locator("h1").first.inner_text() == "Map columns"
    assert page.locator("#map-0").input_value() == "email"
    shot(page, "05-import-preview")
    page.get_by_role("button", name="Import leads").click()
    page.wait_for_url(re.compile(r".*/leads/imports/\d+$"))
    assert page.locator("[data-count=created]").inner_text() == "3"
    assert page.locator("[data-count=rejected]").inner_text() == "1"
    shot(page, "06-import-result")


def test_settings_token_is_shown_once(page, admin, seeded):
    _login_with_keyboard(page, admin)
    page.goto("/settings")
    page.fill("#token-name", "Website form")
    page.get_by_role("button", name="Create API token").click()
    token = page.locator("#new-token").input_value()
    assert token.startswith("lf_")
    assert "will not be shown again" in page.locator(".token-once").inner_text()
    shot(page, "07-settings")
    page.goto("/settings")
    assert page.locator("#new-token").count() == 0
    assert token not in page.content()
    assert "Website form" in page.locator("table").first.inner_text()
