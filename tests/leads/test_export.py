"""CSV export safety: what a web form sent must not run as a spreadsheet formula."""

import csv
import io


def test_formula_cells_are_defused_but_phones_and_numbers_are_not(client):
    r = client.post("/api/v1/leads", json={
        "email": "eve@corp.io", "job_title": '=HYPERLINK("http://evil.example","click")',
        "company_name": "@SUM(A1:A9)", "phone": "+34 612 345 678", "city": "-", "lost_reason": "+cmd|' /C calc'!A0",
    })
    assert r.status_code == 201, r.text
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/leads.csv").text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["job_title"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["company_name"] == "'@SUM(A1:A9)"
    assert row["lost_reason"].startswith("'+cmd")
    assert row["phone"] == "+34612345678"
    assert row["city"] == "-"
    assert row["email"] == "eve@corp.io"
