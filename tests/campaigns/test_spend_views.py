"""The spend ledger on the campaign pages: entering a day or a range, the table, the CSV upload."""

import re
from datetime import date
from decimal import Decimal

import pytest

from leadflow.campaigns.service import list_spend
from leadflow.db.session import get_sessionmaker
from tests.factories import make_campaign
from tests.web.conftest import csrf


@pytest.fixture
def campaign_id(ui):
    """One campaign, "Spring search" (utm spring-search), with no spend yet."""
    with get_sessionmaker()() as s, s.begin():
        return make_campaign(s, name="Spring search", channel="paid_search", utm_campaign="spring-search",
                             budget=Decimal("1000")).id


def _spend(campaign_id: int) -> dict[date, Decimal]:
    with get_sessionmaker()() as s:
        return {x.day: x.amount for x in list_spend(s, campaign_id=campaign_id)}


def _post(ui, campaign_id, **form):
    return ui.post(f"/campaigns/{campaign_id}/spend", data={"csrf_token": csrf(ui), **form}, follow_redirects=False)


def test_the_list_links_to_each_campaign_and_offers_the_spend_upload(ui, campaign_id):
    r = ui.get("/campaigns")
    assert f'href="/campaigns/{campaign_id}"' in r.text
    assert 'action="/campaigns/spend/import"' in r.text and 'id="spend-import"' in r.text


def test_a_day_then_a_range_are_recorded_and_the_table_totals_them(ui, campaign_id):
    r = _post(ui, campaign_id, first_day="2026-03-01", last_day="", amount="250")
    assert r.status_code == 303 and r.headers["location"] == f"/campaigns/{campaign_id}"
    r = _post(ui, campaign_id, first_day="2026-03-02", last_day="2026-03-05", amount="1,000.50")
    assert r.status_code == 303
    assert _spend(campaign_id) == {date(2026, 3, 1): Decimal("250.00"),
                                   **{date(2026, 3, d): Decimal("1000.50") for d in range(2, 6)}}
    page = ui.get(f"/campaigns/{campaign_id}")
    assert "Recorded 1,000.50 a day for 4 days, 2026-03-02 to 2026-03-05." in page.text  # the flash
    assert "4,252.00" in page.text  # 250 + 4 x 1000.50
    assert re.search(r"Total, 5 days</th><td class=\"num\">4,252.00", page.text)
    assert "March 2026" in page.text and "425 %" in page.text  # of the 1,000 budget

    # A day entered again takes the new amount.
    _post(ui, campaign_id, first_day="2026-03-01", amount="0")
    assert _spend(campaign_id)[date(2026, 3, 1)] == Decimal("0.00")


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"first_day": "", "amount": "10"}, "first_day", "Give the day"),
    ({"first_day": "2026-03-05", "last_day": "2026-03-01", "amount": "10"}, "last_day", "before the first day"),
    ({"first_day": "2025-01-01", "last_day": "2026-03-01", "amount": "10"}, "last_day", "at most 366 days"),
    ({"first_day": "2026-03-01", "amount": "-3"}, "amount", "Negative"),
    ({"first_day": "2026-03-01", "amount": "ten"}, "amount", "Not an amount"),
    ({"first_day": "2026-03-01", "amount": ""}, "amount", "Give the amount"),
])
def test_a_wrong_entry_records_nothing_and_says_why_next_to_the_field(ui, campaign_id, form, field, message):
    r = _post(ui, campaign_id, **form)
    assert r.status_code == 422
    assert message.lower() in r.text.lower() and "Nothing was recorded" in r.text
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', r.text)
    assert _spend(campaign_id) == {}


def test_the_spend_form_needs_its_csrf_token_and_an_existing_campaign(ui, campaign_id):
    r = ui.post(f"/campaigns/{campaign_id}/spend", data={"first_day": "2026-03-01", "amount": "5"})
    assert r.status_code == 400 and _spend(campaign_id) == {}
    assert ui.get("/campaigns/999999").status_code == 404
    assert _post(ui, 999999, first_day="2026-03-01", amount="5").status_code == 404


def test_uploading_a_spend_csv_records_the_good_rows_and_lists_the_bad(ui, campaign_id):
    data = "campaign,day,amount\nspring-search,2026-03-01,100\nNobody,2026-03-02,5\n<b>x</b>,2026-03-03,1\n"
    r = ui.post("/campaigns/spend/import", data={"csrf_token": csrf(ui)},
                files={"file": ("spend.csv", data.encode(), "text/csv")})
    assert r.status_code == 200
    assert "Recorded 1 day of spend" in r.text and "2 rows refused" in r.text
    assert re.search(r'<td class="num">3</td><td>campaign</td>', r.text)
    assert "&lt;b&gt;x&lt;/b&gt;" in r.text and "<b>x</b>" not in r.text
    assert _spend(campaign_id) == {date(2026, 3, 1): Decimal("100.00")}


def test_a_check_only_upload_and_an_unreadable_file_record_nothing(ui, campaign_id):
    r = ui.post("/campaigns/spend/import", data={"csrf_token": csrf(ui), "dry_run": "true"},
                files={"file": ("spend.csv", b"campaign,day,amount\nspring-search,2026-03-01,100\n", "text/csv")})
    assert r.status_code == 200 and "would be recorded" in r.text and "Check only" in r.text
    r = ui.post("/campaigns/spend/import", data={"csrf_token": csrf(ui)},
                files={"file": ("x.csv", b"name,value\na,1\n", "text/csv")})
    assert r.status_code == 422 and "Nothing was recorded" in r.text and "missing: campaign, day, amount" in r.text
    r = ui.post("/campaigns/spend/import", data={"csrf_token": csrf(ui)},
                files={"file": ("x.csv", b"campaign,day,amount\nnobody,2026-03-01,1\n", "text/csv")})
    assert r.status_code == 422 and "No row could be recorded" in r.text
    assert _spend(campaign_id) == {}
    r = ui.post("/campaigns/spend/import", data={"csrf_token": ""},
                files={"file": ("spend.csv", b"campaign,day,amount\nspring-search,2026-03-01,100\n", "text/csv")})
    assert r.status_code == 400 and _spend(campaign_id) == {}
