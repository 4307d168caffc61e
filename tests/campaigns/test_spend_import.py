"""Spend CSV import: row-by-row checks, campaigns found by id, name or utm_campaign, the CLI."""

import json
from datetime import date
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from leadflow.campaigns.importing import import_spend_csv, parse_amount
from leadflow.campaigns.service import CampaignError, list_spend
from leadflow.cli import app
from leadflow.db.session import get_sessionmaker
from tests.factories import make_campaign

runner = CliRunner()


@pytest.fixture
def two_campaigns(engine_clean):
    """Two campaigns: "Spring search" (utm spring-search) and "Expo, Madrid" (no utm; a comma in its name)."""
    with get_sessionmaker()() as s, s.begin():
        a = make_campaign(s, name="Spring search", channel="paid_search", utm_campaign="spring-search")
        b = make_campaign(s, name="Expo, Madrid", channel="trade_show")
        return {"spring": a.id, "expo": b.id}


def _spend(campaign_id: int) -> dict[date, Decimal]:
    with get_sessionmaker()() as s:
        return {x.day: x.amount for x in list_spend(s, campaign_id=campaign_id)}


def _import(data: str, **kw):
    with get_sessionmaker()() as s, s.begin():
        return import_spend_csv(s, data=data.encode("utf-8"), **kw)


@pytest.mark.parametrize(("text", "value"), [
    ("1234.5", "1234.5"), ("1,234.50", "1234.50"), ("1.234,50", "1234.50"), ("1234,5", "1234.5"),
    ("1,234", "1234"), ("1,234,567", "1234567"), ("1.234.567", "1234567"), (" 80 ", "80"), ("0", "0"),
    ("12'000.00", "12000.00"),
])
def test_amounts_as_spreadsheets_write_them(text, value):
    assert parse_amount(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "abc", "1,2345", "12,34,5", "1e5x", "NaN", "Infinity"])
def test_what_is_not_an_amount(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_good_rows_are_recorded_and_bad_rows_reported_with_row_and_column(two_campaigns):
    ids = two_campaigns
    result = _import(
        "Campaign;Date;Spend\n"             # row 1: aliases of campaign, day, amount; semicolons
        f"{ids['spring']};2026-03-01;100\n"  # by id
        "SPRING-SEARCH;2026-03-02;1.234,50\n"  # by utm_campaign, any case; a decimal comma
        "Expo, Madrid;2026-03-01;900\n"      # by name
        "\n"                                 # blank: skipped, not counted
        "Nobody;2026-03-01;5\n"              # row 6: unknown campaign
        "spring-search;01/03/2026;5\n"       # row 7: not ISO
        "spring-search;2026-03-04;-5\n"      # row 8: negative
        "spring-search;2026-03-05;12.345\n"  # row 9: three decimals
        "spring-search;2026-03-06;\n"        # row 10: empty amount
        "spring-search;2026-03-07;7;oops\n"  # row 11: more values than columns
    )
    assert (result.rows, result.recorded, result.rejected, result.new_days) == (9, 3, 6, 3)
    assert result.total_amount == Decimal("2234.50")
    assert [(p.row, p.column, p.severity) for p in result.problems] == [
        (6, "Campaign", "error"), (7, "Date", "error"), (8, "Spend", "error"), (9, "Spend", "error"),
        (10, "Spend", "error"), (11, "(after the last column)", "error")]
    reasons = {p.row: p.reason for p in result.problems}
    assert "no campaign" in reasons[6] and "YYYY-MM-DD" in reasons[7] and "negative" in reasons[8]
    assert "2 decimals" in reasons[9] and reasons[10] == "empty"
    assert _spend(ids["spring"]) == {date(2026, 3, 1): Decimal("100.00"), date(2026, 3, 2): Decimal("1234.50")}
    assert _spend(ids["expo"]) == {date(2026, 3, 1): Decimal("900.00")}


def test_importing_again_sets_the_days_and_a_repeated_day_keeps_the_later_row(two_campaigns):
    ids = two_campaigns
    _import("campaign,day,amount\nspring-search,2026-03-01,100\nspring-search,2026-03-02,50\n")
    result = _import("campaign,day,amount\n"
                     "spring-search,2026-03-01,100\n"    # same amount
                     "spring-search,2026-03-02,60\n"     # changed
                     "spring-search,2026-03-02,70\n"     # row 4: the same day again, kept
                     "spring-search,2026-03-03,\"1,000.00\"\n")  # new; a quoted amount with a comma
    assert (result.recorded, result.unchanged_days, result.changed_days, result.new_days) == (3, 1, 1, 1)
    assert result.duplicates == 1 and result.rejected == 0
    assert [(p.row, p.severity) for p in result.problems] == [(4, "warning")]
    assert "row 3" in result.problems[0].reason
    assert _spend(ids["spring"]) == {date(2026, 3, 1): Decimal("100.00"), date(2026, 3, 2): Decimal("70.00"),
                                     date(2026, 3, 3): Decimal("1000.00")}


def test_a_dry_run_checks_everything_and_writes_nothing(two_campaigns):
    result = _import("campaign,day,amount\nspring-search,2026-03-01,100\nnobody,2026-03-01,1\n", dry_run=True)
    assert (result.recorded, result.rejected, result.dry_run) == (1, 1, True)
    assert _spend(two_campaigns["spring"]) == {}


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"campaign,amount\nx,1\n", "missing: day"),
    (b"PK\x03\x04\x00\x00binary", "NUL"),
])
def test_a_file_that_cannot_be_read_writes_nothing(two_campaigns, data, message):
    with get_sessionmaker()() as s, pytest.raises(CampaignError, match=message):
        import_spend_csv(s, data=data)


def test_latin1_files_and_utf8_with_bom_are_read(engine_clean):
    with get_sessionmaker()() as s, s.begin():
        make_campaign(s, name="Campaña de otoño", channel="email")
    result = _import_bytes("campaña;día;importe\nCampaña de otoño;2026-10-01;10\n".encode("cp1252"))
    assert (result.recorded, result.rejected) == (1, 0)
    result = _import_bytes("\ufeffcampaign,day,amount\ncampaña de otoño,2026-10-02,10\n".encode())
    assert (result.recorded, result.rejected) == (1, 0)


def _import_bytes(data: bytes):
    with get_sessionmaker()() as s, s.begin():
        return import_spend_csv(s, data=data)


# ---- the command line ------------------------------------------------------------------------

def test_cli_imports_prints_the_problems_and_writes_a_report(two_campaigns, tmp_path):
    f = tmp_path / "spend.csv"
    f.write_text("campaign,day,amount\nspring-search,2026-03-01,100\nnobody,2026-03-02,5\n", encoding="utf-8")
    report = tmp_path / "problems.csv"
    r = runner.invoke(app, ["campaigns", "spend", "import", str(f), "--report", str(report)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "recorded 1 day" in r.stdout and "row 3, column 'campaign'" in r.stdout
    assert report.read_text().splitlines()[1].startswith("3,campaign,nobody,\"no campaign")
    assert _spend(two_campaigns["spring"]) == {date(2026, 3, 1): Decimal("100.00")}


def test_cli_json_and_exit_codes(two_campaigns, tmp_path):
    f = tmp_path / "spend.csv"
    f.write_text("campaign,day,amount\nspring-search,2026-03-01,100\n", encoding="utf-8")
    r = runner.invoke(app, ["campaigns", "spend", "import", str(f), "--json", "--dry-run"], catch_exceptions=False)
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert (data["recorded"], data["dry_run"], data["total_amount"]) == (1, True, "100")
    assert _spend(two_campaigns["spring"]) == {}

    bad = tmp_path / "bad.csv"
    bad.write_text("campaign,day,amount\nnobody,2026-03-01,1\n", encoding="utf-8")
    r = runner.invoke(app, ["campaigns", "spend", "import", str(bad)], catch_exceptions=False)
    assert r.exit_code == 1 and "no row could be recorded" in r.output

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,value\na,1\n", encoding="utf-8")
    r = runner.invoke(app, ["campaigns", "spend", "import", str(wrong)], catch_exceptions=False)
    assert r.exit_code == 1 and "nothing recorded" in r.output
    r = runner.invoke(app, ["campaigns", "spend", "import", str(tmp_path / "missing.csv")], catch_exceptions=False)
    assert r.exit_code == 1 and "no such file" in r.output
