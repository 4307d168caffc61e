"""The capture pages of the web UI: the forms list, the form editor, a form's embed codes, submissions and release."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from leadflow.capture.models import Form, Submission
from leadflow.capture.schemas import FormIn, FormSettings
from leadflow.capture.service import (
    SubmissionContext,
    create_form,
    get_form,
    receive_submission,
    update_form,
)
from leadflow.db.session import get_sessionmaker
from leadflow.leads.service import find_lead
from tests.capture.conftest import csrf
from tests.factories import make_campaign

SCREENSHOT = Path("/tmp/forms-ui.png")


def _session():
    return get_sessionmaker()()


def _editor_data(ui: TestClient, **changes: str) -> dict[str, str]:
    """A filled-in editor as the browser posts it: three field rows and two blank spare rows."""
    data = {
        "csrf_token": csrf(ui), "name": "Lead scoring ebook", "slug": "ebook", "language": "en",
        "title": "Get the ebook", "description": "Twelve pages on scoring.", "submit_label": "Download",
        "campaign_id": "", "success_action": "message", "success_message": "Check your inbox.",
        "redirect_url": "", "consent_enabled": "on", "consent_required": "on",
        "consent_text": "I agree to receive marketing emails.", "allowed_origins": "https://www.example.com\n",
        "min_submit_seconds": "3", "is_active": "on",
        "f-0-type": "email", "f-0-key": "email", "f-0-label": "", "f-0-required": "on",
        "f-1-type": "first_name", "f-1-key": "", "f-1-label": "Your name",
        "f-2-type": "select", "f-2-key": "team_size", "f-2-label": "Team size", "f-2-options": "1-10, 11-50, 51+",
        "f-3-type": "", "f-3-key": "", "f-3-label": "", "f-4-type": "", "f-4-key": "",
    }
    data.update(changes)
    return data


def _make_form(db, slug: str = "demo", **settings) -> Form:
    fields = settings.pop("fields", [{"key": "email", "type": "email", "required": True},
                                     {"key": "company_name", "type": "company_name"}])
    form = create_form(db, data=FormIn(slug=slug, name=settings.pop("name", f"Form {slug}"), fields=fields,
                                       **settings))
    db.commit()
    return form


def _receive(db, form: Form, **payload) -> Submission:
    sub = receive_submission(db, form=form, payload=payload, context=SubmissionContext(ip="203.0.113.9")).submission
    db.commit()
    return sub


# ---- the forms list and the editor ------------------------------------------------------

def test_forms_page_replaces_coming_soon_with_an_empty_state(ui):
    r = ui.get("/forms")
    assert r.status_code == 200
    assert "Coming soon" not in r.text and "No forms yet" in r.text
    assert 'href="/forms/new"' in r.text and 'href="/submissions"' in r.text
    assert 'aria-current="page"' in r.text


def test_create_form_through_the_editor_and_see_it_listed(ui, db):
    campaign = make_campaign(db, name="Spring ebook", utm_campaign="spring-ebook")
    db.commit()
    page = ui.get("/forms/new")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    assert page.text.count("data-spare") == 3  # rows for browsers without JavaScript
    r = ui.post("/forms/new", data=_editor_data(ui, campaign_id=str(campaign.id)), follow_redirects=False)
    assert r.status_code == 303, r.text
    with _session() as s:
        form = s.scalar(select(Form).where(Form.slug == "ebook"))
        assert r.headers["location"] == f"/forms/{form.id}"
        assert [f["key"] for f in form.fields] == ["email", "first_name", "team_size"]  # blank rows ignored
        assert form.fields[0]["required"] is True and form.fields[1]["label"] == "Your name"
        assert form.fields[2]["options"] == ["1-10", "11-50", "51+"]
        assert (form.campaign_id, form.consent_version, form.min_submit_seconds) == (campaign.id, 1, 3)
        assert form.allowed_origins == ["https://www.example.com"]
    detail = ui.get(r.headers["location"])
    assert "Form “Lead scoring ebook” created" in detail.text and 'class="flash flash-ok"' in detail.text
    listing = ui.get("/forms")
    assert "Lead scoring ebook" in listing.text and "Spring ebook" in listing.text
    assert 'href="/f/ebook"' in listing.text and f'href="/forms/{form.id}"' in listing.text


def test_an_empty_slug_is_made_from_the_name(ui, db):
    r = ui.post("/forms/new", data=_editor_data(ui, name="Demo día Madrid", slug=""), follow_redirects=False)
    assert r.status_code == 303
    with _session() as s:
        assert s.scalar(select(Form.slug)) == "demo-dia-madrid"


def test_create_without_csrf_is_refused(ui, db):
    r = ui.post("/forms/new", data=_editor_data(ui, csrf_token="forged"))
    assert r.status_code == 400 and "This form has expired" in r.text
    with _session() as s:
        assert s.scalar(select(func.count()).select_from(Form)) == 0


def test_validation_errors_keep_what_was_typed_and_name_the_field(ui, db):
    data = _editor_data(ui, slug="Not A Slug!", title="My typed title", **{"f-2-options": "", "f-2-label": "Pick one"})
    r = ui.post("/forms/new", data=data)
    assert r.status_code == 422
    text = r.text
    assert 'value="Not A Slug!"' in text and 'value="My typed title"' in text and 'value="Pick one"' in text
    assert "Twelve pages on scoring." in text and "I agree to receive marketing emails." in text
    assert re.search(r'id="form-slug"[^>]*aria-invalid="true"', text)
    assert 'id="form-slug-error">use lowercase letters, digits and hyphens' in text
    assert "select field &#39;team_size&#39; needs options" in text
    assert re.search(r'id="f-2-options"[^>]*aria-invalid="true"', text)
    assert 'href="#form-slug">Slug</a>' in text and 'href="#f-2-type">Field 3</a>' in text
    with _session() as s:
        assert s.scalar(select(func.count()).select_from(Form)) == 0


def test_form_wide_rules_and_a_taken_slug_are_shown_next_to_their_input(ui, db):
    _make_form(db, slug="ebook")
    r = ui.post("/forms/new", data=_editor_data(ui, success_action="redirect", redirect_url=""))
    assert r.status_code == 422
    assert 'id="form-redirect_url-error">a redirect needs redirect_url' in r.text
    r = ui.post("/forms/new", data=_editor_data(ui))
    assert r.status_code == 422
    assert 'id="form-slug-error">a form with slug &#39;ebook&#39; exists' in r.text
    assert 'value="Lead scoring ebook"' in r.text


def test_edit_changes_the_consent_text_into_a_new_version(ui, db):
    form = _make_form(db, slug="webinar", consent_enabled=True, consent_text="Old consent wording.")
    page = ui.get(f"/forms/{form.id}/edit")
    assert page.status_code == 200
    assert 'value="webinar" readonly' in page.text and 'name="slug"' not in page.text
    assert "Old consent wording." in page.text
    data = _editor_data(ui, slug="renamed", name="Webinar signup", consent_text="New consent wording.")
    r = ui.post(f"/forms/{form.id}/edit", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/forms/{form.id}"
    detail = ui.get(f"/forms/{form.id}")
    assert "The consent text is now version 2." in detail.text
    assert "Version 2" in detail.text and "Version 1" in detail.text
    assert detail.text.index("New consent wording.") < detail.text.index("Old consent wording.")
    with _session() as s:
        saved = get_form(s, form_id=form.id)
        assert (saved.slug, saved.name, saved.consent_version) == ("webinar", "Webinar signup", 2)


def test_edit_with_errors_rerenders_the_editor_and_changes_nothing(ui, db):
    form = _make_form(db, slug="trial")
    data = _editor_data(ui, name="", **{"f-5-type": "text", "f-5-key": "Bad Key", "f-5-label": "Notes"})
    r = ui.post(f"/forms/{form.id}/edit", data=data)
    assert r.status_code == 422
    assert 'id="form-name-error"' in r.text and 'value="Bad Key"' in r.text
    assert "field key &#39;Bad Key&#39; must be lowercase" in r.text
    with _session() as s:
        assert get_form(s, form_id=form.id).name == "Form trial"


# ---- one form -------------------------------------------------------------------------

def _code(page: str, element_id: str) -> str:
    return html.unescape(re.search(rf'<code id="{element_id}">(.*?)</code>', page, re.S).group(1))


def test_detail_shows_both_embed_snippets_and_a_live_preview(ui, db):
    form = _make_form(db, slug="contact", consent_enabled=True, consent_required=True,
                      consent_text="I accept <the> terms.", fields=[
                          {"key": "email", "type": "email"}, {"key": "topic", "type": "select", "options": ["A", "B"]},
                          {"key": "source", "type": "hidden", "value": "ads"}])
    r = ui.get(f"/forms/{form.id}")
    assert r.status_code == 200
    assert _code(r.text, "embed-script") == ('<div data-leadflow-form="contact"></div>\n'
                                             '<script src="http://testserver/static/forms.js" async></script>')
    plain = _code(r.text, "embed-html")
    assert plain.startswith('<form method="post" action="http://testserver/f/contact/submit"')
    assert 'type="email" name="email" required' in plain
    assert '<select name="topic">' in plain and "<option>B</option>" in plain
    assert '<input type="hidden" name="source" value="ads">' in plain
    assert 'name="consent" value="yes" required> I accept &lt;the&gt; terms.' in plain
    assert 'name="_hp"' in plain and "left:-10000px" in plain
    assert r.text.count('data-copy-text="#embed-') == 2
    assert '<iframe class="preview" src="/f/contact" title="Preview"' in r.text
    assert f'href="/forms/{form.id}/edit"' in r.text


def test_the_plain_html_embed_posts_a_working_submission(ui, db):
    form = _make_form(db, slug="plain")
    plain = _code(ui.get(f"/forms/{form.id}").text, "embed-html")
    names = re.findall(r'name="([^"]+)"', plain)
    assert names == ["email", "company_name", "_hp"]
    action = re.search(r'action="http://testserver(/f/plain/submit)"', plain).group(1)
    r = ui.post(action, data={"email": "ana@acme-analytics.com", "company_name": "Acme", "_hp": ""})
    assert r.status_code == 200
    with _session() as s:
        sub = s.scalar(select(Submission).where(Submission.form_id == form.id))
        assert sub.status in ("pending", "processed") and sub.payload["email"] == "ana@acme-analytics.com"


def test_unknown_form_and_submission_are_404_pages(ui):
    for path in ("/forms/987654", "/forms/987654/edit", "/forms/99999999999", "/submissions/987654"):
        r = ui.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("text/html")
    assert "Form not found" in ui.get("/forms/987654").text
    assert "Submission not found" in ui.get("/submissions/987654").text


def test_capture_pages_need_a_login(app, db):
    form = _make_form(db, slug="private")
    with TestClient(app) as c:
        for path in ("/forms", "/forms/new", f"/forms/{form.id}", f"/forms/{form.id}/edit", "/submissions",
                     "/submissions/1"):
            r = c.get(path, follow_redirects=False)
            assert r.status_code == 303, path
            assert r.headers["location"].startswith("/login?next=")
        r = c.post("/forms/new", data={"name": "x"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


# ---- submissions ------------------------------------------------------------------------

def test_submissions_filter_by_status_with_counts(ui, db):
    form = _make_form(db, slug="filters")
    _receive(db, form, email="real@acme-analytics.com")
    _receive(db, form, email="x@mailinator.com")
    _receive(db, form, company_name="No email")
    r = ui.get("/submissions")
    assert r.status_code == 200 and "of <strong>3</strong>" in r.text
    assert re.search(r'Quarantined <span class="tab-count">1</span>', r.text)
    r = ui.get("/submissions", params={"status": "quarantined"})
    assert "x@mailinator.com" in r.text and "real@acme-analytics.com" not in r.text
    assert "disposable email domain mailinator.com" in r.text
    assert 'aria-current="page">Quarantined' in r.text
    r = ui.get("/submissions", params={"status": "invalid", "form_id": form.id})
    assert "email: an email address is required" in r.text and "mailinator" not in r.text
    assert "Release" not in r.text.split("<tbody>")[1]  # invalid submissions cannot be released
    r = ui.get("/submissions", params={"status": "nonsense", "page": "x"})
    assert r.status_code == 200 and "of <strong>3</strong>" in r.text
    listing = ui.get("/forms")
    assert "Quarantine (1)" in listing.text and 'href="/submissions?status=quarantined"' in listing.text


def test_submissions_are_paginated_by_fifty(ui, db):
    form = _make_form(db, slug="many")
    for i in range(53):
        receive_submission(db, form=form, payload={"email": f"p{i}@acme-analytics.com"}, context=SubmissionContext())
    db.commit()
    r = ui.get("/submissions")
    assert "1\u201350</strong> of <strong>53</strong>" in r.text and "p52@acme-analytics.com" in r.text
    assert 'rel="next" href="/submissions?page=2"' in r.text
    r = ui.get("/submissions", params={"page": 2})
    assert "51\u201353</strong> of <strong>53</strong>" in r.text and "p0@acme-analytics.com" in r.text


def test_submissions_list_query_count_does_not_depend_on_the_rows(ui, db, engine_clean):
    forms = [_make_form(db, slug=f"q{i}") for i in range(3)]

    def count() -> int:
        statements = []

        def listener(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(engine_clean, "before_cursor_execute", listener)
        try:
            assert ui.get("/submissions").status_code == 200
        finally:
            event.remove(engine_clean, "before_cursor_execute", listener)
        return len(statements)

    _receive(db, forms[0], email="one@acme-analytics.com")
    few = count()
    for i in range(30):
        _receive(db, forms[i % 3], email=f"many{i}@mailinator.com")
    assert count() == few


def test_release_a_quarantined_submission_from_the_list(ui, db, admin):
    form = _make_form(db, slug="release")
    sub = _receive(db, form, email="x@mailinator.com", company_name="Acme")
    assert sub.status == "quarantined"
    back = "/submissions?status=quarantined"
    r = ui.post(f"/submissions/{sub.id}/release", data={"csrf_token": "forged", "back": back})
    assert r.status_code == 400
    r = ui.post(f"/submissions/{sub.id}/release", data={"csrf_token": csrf(ui), "back": back}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == back
    with _session() as s:
        lead = find_lead(s, email="x@mailinator.com", external_id=None)
        assert lead is not None and lead.company_name == "Acme"
        row = s.get(Submission, sub.id)
        assert (row.status, row.lead_id, row.released_by) == ("processed", lead.id, admin["id"])
    page = ui.get(back)
    assert f"Released: lead #{lead.id} created." in page.text
    assert "x@mailinator.com" not in page.text  # no longer quarantined
    again = ui.post(f"/submissions/{sub.id}/release", data={"csrf_token": csrf(ui), "back": "https://evil.example/"})
    assert again.url.path == f"/submissions/{sub.id}"  # an outside target falls back to the submission
    assert "only quarantined or failed ones can be released" in again.text and "flash-error" in again.text


def test_release_of_a_known_email_says_the_lead_was_updated(ui, db):
    form = _make_form(db, slug="known")
    first = _receive(db, form, email="y@mailinator.com")
    second = _receive(db, form, email="y@mailinator.com", company_name="Later Inc")
    ui.post(f"/submissions/{first.id}/release", data={"csrf_token": csrf(ui)})
    r = ui.post(f"/submissions/{second.id}/release", data={"csrf_token": csrf(ui)})
    assert re.search(r"Released: lead #\d+ updated\.", r.text)


def test_submission_page_shows_the_raw_payload_escaped(ui, db):
    form = _make_form(db, slug="raw", fields=[{"key": "email", "type": "email"},
                                              {"key": "first_name", "type": "first_name"}])
    sub = _receive(db, form, email="z@mailinator.com", first_name="<script>alert(1)</script>")
    r = ui.get(f"/submissions/{sub.id}")
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text
    assert "&#34;first_name&#34;: &#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34;" in r.text
    assert "&#34;ip&#34;: &#34;203.0.113.9&#34;" in r.text
    assert "link or HTML in first_name" in r.text
    assert f'action="/submissions/{sub.id}/release"' in r.text


def test_form_detail_lists_recent_submissions(ui, db):
    form = _make_form(db, slug="recent")
    for i in range(12):
        _receive(db, form, email=f"r{i}@acme-analytics.com")
    update_form(db, form=form, data=FormSettings(name="Recent", fields=[{"key": "email", "type": "email"}]))
    db.commit()
    r = ui.get(f"/forms/{form.id}")
    assert "r11@acme-analytics.com" in r.text and "r2@acme-analytics.com" in r.text
    assert "r1@acme-analytics.com" not in r.text  # the last 10 only
    assert f'href="/submissions?form_id={form.id}"' in r.text


# ---- in a real browser --------------------------------------------------------------------

@pytest.mark.browser
def test_create_a_form_with_add_field_in_the_browser(page, admin):
    page.goto("/login")
    page.fill("#login-email", admin["email"])
    page.fill("#login-password", admin["password"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/$"))
    page.goto("/forms")
    page.get_by_role("link", name="New form").click()
    page.wait_for_url(re.compile(r".*/forms/new$"))
    assert page.locator("[data-spare]").count() == 0  # JavaScript replaces the spare rows with "Add field"
    page.fill("#form-name", "Webinar: qualifying leads")
    page.fill("#form-slug", "webinar-bant")
    page.select_option("#form-language", "es")
    page.fill("#form-title", "Apúntate al webinar")
    rows = page.locator("[data-field-row]")
    before = rows.count()
    page.get_by_role("button", name="Add field").click()
    assert rows.count() == before + 1
    new = rows.nth(before)
    assert page.evaluate("document.activeElement.name") == new.locator("select").get_attribute("name")
    new.locator("select").select_option("select")
    assert new.locator("input[name$='-options']").is_visible()
    assert not new.locator("input[name$='-value']").is_visible()
    new.locator("input[name$='-key']").fill("seats")
    new.locator("input[name$='-label']").fill("Plazas")
    new.locator("input[name$='-options']").fill("1, 2, 3+")
    new.locator("input[type=checkbox]").check()
    # A standard type names its key itself; removing a row takes it out of the form.
    rows.nth(1).locator("select").select_option("phone")
    assert rows.nth(1).locator("input[name$='-key']").input_value() == "phone"
    rows.nth(3).get_by_role("button", name="Remove this field").click()
    page.check("#form-consent_enabled")
    page.fill("#form-consent_text", "Acepto recibir correos.")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(SCREENSHOT.with_name("forms-ui-editor.png")), full_page=True)
    page.get_by_role("button", name="Create form").click()
    page.wait_for_url(re.compile(r".*/forms/\d+$"))
    assert "Form “Webinar: qualifying leads” created" in page.locator(".flash").inner_text()
    fields = page.locator("table.table-compact").first.inner_text()
    assert "seats" in fields and "phone" in fields and "Plazas" in fields and "company_name" not in fields
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    # "Copy" puts the snippet on the clipboard exactly as shown.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("[data-copy-text='#embed-script']").click()
    page.wait_for_function("document.querySelector(\"[data-copy-text='#embed-script'] span\").textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == page.locator("#embed-script").inner_text()
    assert 'data-leadflow-form="webinar-bant"' in page.locator("#embed-script").inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOT.with_name("forms-ui-detail-390.png")), full_page=True)
    page.goto("/forms/new")
    page.screenshot(path=str(SCREENSHOT.with_name("forms-ui-editor-390.png")), full_page=True)
