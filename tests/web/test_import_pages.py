"""CSV import through the web UI: upload, mapping preview, import, result with rejections."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from leadflow.db.session import get_sessionmaker
from leadflow.leads.models import Lead
from tests.web.conftest import csrf

CSV = (
    "E-mail;Nombre;Apellidos;Empresa;Favourite fruit\n"
    "ana@acme.io;Ana;García;Acme;apple\n"
    "luis@globex.com;Luis;Pérez;Globex;pear\n"
    "not-an-email;Bad;Row;Nope;kiwi\n"
).encode()


def _upload(ui, content: bytes = CSV, name: str = "expo.csv"):
    return ui.post("/leads/import", data={"csrf_token": csrf(ui)}, files={"file": (name, content, "text/csv")},
                   follow_redirects=False)


def test_upload_preview_import_and_result(ui):
    r = _upload(ui)
    assert r.status_code == 303
    preview_url = r.headers["location"]
    assert re.fullmatch(r"/leads/import/[0-9a-f]{32}", preview_url)
    page = ui.get(preview_url)
    assert page.status_code == 200
    assert "expo.csv" in page.text and "Favourite fruit" in page.text
    assert 'value="email" selected' in page.text
    headers = re.findall(r'name="header" value="([^"]*)"', page.text)
    assert headers == ["E-mail", "Nombre", "Apellidos", "Empresa", "Favourite fruit"]
    targets = {h: "-" for h in headers}
    targets.update({"E-mail": "email", "Nombre": "first_name", "Apellidos": "last_name", "Empresa": "company_name",
                    "Favourite fruit": "properties.favourite_fruit"})
    form = {"csrf_token": csrf(ui), "action": "import", "header": headers, "target": [targets[h] for h in headers]}
    done = ui.post(preview_url, data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    result = ui.get(done.headers["location"])
    assert result.status_code == 200
    assert re.search(r'data-count="created">2<', result.text)
    assert re.search(r'data-count="rejected">1<', result.text)
    assert "not-an-email" in result.text or "email" in result.text
    with get_sessionmaker()() as s:
        assert s.scalar(select(func.count()).select_from(Lead)) == 2
        assert s.scalar(select(Lead).where(Lead.email == "ana@acme.io")).properties.get("favourite_fruit") == "apple"


def test_upload_needs_csrf_and_a_file(ui):
    r = ui.post("/leads/import", data={"csrf_token": "x"}, files={"file": ("a.csv", CSV, "text/csv")})
    assert r.status_code == 400
    r = _upload(ui, content=b"", name="empty.csv")
    assert r.status_code == 303 and r.headers["location"] == "/leads/import"


def test_unknown_upload_token_is_a_404_page(ui):
    r = ui.get("/leads/import/" + "0" * 32)
    assert r.status_code == 404 and "Upload not found" in r.text
    assert ui.get("/leads/import/..%2F..%2Fetc").status_code == 404
