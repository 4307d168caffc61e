"""Lead magnets: upload a file for a form, deliver it after a submission, record each download."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadflow.capture.models import Submission
from leadflow.capture.schemas import FormIn
from leadflow.capture.service import create_form, form_token
from leadflow.db.base import utcnow
from leadflow.db.session import get_sessionmaker, unit_of_work
from leadflow.leads.models import Event, Lead
from tests.capture.conftest import csrf

PDF = b"%PDF-1.4\n% the state of B2B analytics\n" + b"x" * 2048


@pytest.fixture
def form_id(engine_clean) -> int:
    with unit_of_work() as s:
        return create_form(s, data=FormIn(slug="ebook", name="Ebook", success_message="Here is your ebook.",
                                          fields=[{"key": "email", "type": "email"}])).id


def _ts(fid: int) -> str:
    return form_token(form_id=fid, now=utcnow() - timedelta(seconds=30))


def _upload(client, fid: int, name: str = "State of B2B analytics.pdf", content: bytes = PDF):
    return client.put(f"/api/v1/forms/{fid}/magnet", files={"file": (name, content, "application/pdf")})


def _events(kind: str) -> list[Event]:
    with get_sessionmaker()() as s:
        return list(s.scalars(select(Event).where(Event.type == kind).order_by(Event.id)))


def test_upload_then_each_download_is_an_event_on_the_lead(client, anon_client, form_id) -> None:
    r = _upload(client, form_id)
    assert r.status_code == 200, r.text
    assert (r.json()["magnet_filename"], r.json()["magnet_size"], r.json()["success_action"]) == (
        "State of B2B analytics.pdf", len(PDF), "magnet")
    sub = anon_client.post("/f/ebook/submit", json={"email": "ana@acme.io", "_ts": _ts(form_id)}).json()
    assert sub["message"] == "Here is your ebook." and sub["download_name"] == "State of B2B analytics.pdf"
    link = sub["download_url"]
    assert re.fullmatch(r"http://testserver/d/[\w.-]+", link)
    got = anon_client.get(link.removeprefix("http://testserver"))
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == "attachment; filename*=utf-8''State%20of%20B2B%20analytics.pdf"
    # The download converted the pending submission first: the lead exists and holds the event.
    with get_sessionmaker()() as s:
        lead = s.scalar(select(Lead))
        assert s.scalar(select(Submission.status)) == "processed"
    anon_client.get(link.removeprefix("http://testserver"))
    downloads = _events("download")
    assert [d.lead_id for d in downloads] == [lead.id, lead.id]
    assert downloads[0].properties["file"] == "State of B2B analytics.pdf"


def test_hosted_page_thank_you_offers_the_download(client, anon_client, form_id) -> None:
    _upload(client, form_id)
    page = anon_client.post("/f/ebook/submit", data={"email": "bo@corp.io", "_ts": _ts(form_id)})
    assert page.status_code == 200
    assert re.search(r'<a class="lf-submit lf-download" href="http://testserver/d/[\w.-]+" download>'
                     r'Download State of B2B analytics.pdf</a>', page.text)


def test_quarantined_visitor_gets_the_file_but_no_lead(client, anon_client, form_id) -> None:
    _upload(client, form_id)
    sub = anon_client.post("/f/ebook/submit", json={"email": "bot@mailinator.com", "_ts": _ts(form_id)}).json()
    assert anon_client.get(sub["download_url"].removeprefix("http://testserver")).status_code == 200
    with get_sessionmaker()() as s:
        assert s.scalar(select(Submission.status)) == "quarantined"
        assert s.scalar(select(Lead)) is None
    assert _events("download") == []


def test_forged_and_expired_links(client, anon_client, form_id, monkeypatch) -> None:
    _upload(client, form_id)
    link = anon_client.post("/f/ebook/submit", json={"email": "cy@corp.io", "_ts": _ts(form_id)}).json()["download_url"]
    path = link.removeprefix("http://testserver")
    assert anon_client.get(path[:-3] + "AAA").status_code == 404
    import leadflow.capture.magnets as magnets

    monkeypatch.setattr(magnets, "DOWNLOAD_LINK_MAX_AGE_S", -1)
    r = anon_client.get(path)
    assert r.status_code == 410 and "expired" in r.text


def test_bad_uploads_are_refused(client, form_id, monkeypatch) -> None:
    assert _upload(client, form_id, content=b"").status_code == 422
    import leadflow.capture.magnets as magnets

    monkeypatch.setattr(magnets, "MAX_MAGNET_BYTES", 100)
    r = _upload(client, form_id)
    assert r.status_code == 413 and "file" in r.json()["detail"]
    assert client.put(f"/api/v1/forms/{form_id}/magnet").status_code == 422  # no file at all


def test_ui_editor_uploads_the_magnet_and_requires_one(ui, form_id) -> None:
    page = ui.get(f"/forms/{form_id}/edit")
    assert 'enctype="multipart/form-data"' in page.text
    base = {"csrf_token": csrf(ui), "name": "Ebook", "language": "en", "success_action": "magnet",
            "f-0-type": "email", "f-0-key": "email", "f-0-label": "", "min_submit_seconds": "2", "is_active": "on"}
    missing = ui.post(f"/forms/{form_id}/edit", data=base, follow_redirects=False)
    assert missing.status_code == 422 and "choose the file to deliver" in missing.text
    done = ui.post(f"/forms/{form_id}/edit", data=base, files={"magnet_file": ("guide.pdf", PDF, "application/pdf")},
                   follow_redirects=False)
    assert done.status_code == 303, done.text
    detail = ui.get(f"/forms/{form_id}").text
    assert "Deliver guide.pdf" in detail
