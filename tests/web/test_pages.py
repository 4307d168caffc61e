"""The web UI over HTTP: login, the leads list and its export, the lead page, stage changes, settings."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient
from sqlalchemy import event, select

from leadflow.auth.models import ApiToken
from leadflow.db.session import get_sessionmaker
from leadflow.leads.schemas import EventIn, LeadUpdate
from leadflow.leads.service import append_event, get_lead, update_lead
from leadflow.lifecycle.service import list_stage_changes
from tests.factories import make_campaign, make_lead
from tests.web.conftest import csrf, login


def _session():
    return get_sessionmaker()()


# ---- login -----------------------------------------------------------------------------------

def test_login_page_is_a_card_with_the_product_name(app):
    with TestClient(app) as c:
        r = c.get("/login")
    assert r.status_code == 200
    assert "login-card" in r.text and "leadflow" in r.text
    assert 'name="csrf_token"' in r.text


def test_wrong_password_answers_401_with_a_message(app, admin):
    with TestClient(app) as c:
        r = login(c, admin["email"], "not-the-password")
    assert r.status_code == 401
    assert "Wrong email or password." in r.text


def test_login_without_csrf_answers_400(app, admin):
    with TestClient(app) as c:
        r = login(c, admin["email"], admin["password"], csrf=False)
    assert r.status_code == 400
    assert "expired" in r.text


def test_protected_pages_redirect_to_login(app):
    with TestClient(app) as c:
        for path in ("/", "/leads", "/leads/1", "/leads/import", "/campaigns", "/settings", "/leads/export.csv"):
            r = c.get(path, follow_redirects=False)
            assert r.status_code == 303, path
            assert r.headers["location"].startswith("/login?next=")


def test_login_then_logout(ui):
    assert ui.get("/").status_code == 200
    r = ui.post("/logout", data={"csrf_token": csrf(ui)}, follow_redirects=False)
    assert r.status_code == 303
    ui.cookies.clear()
    assert ui.get("/", follow_redirects=False).status_code == 303


def test_logout_without_csrf_is_refused_with_a_page(ui):
    r = ui.post("/logout", data={"csrf_token": "forged"})
    assert r.status_code == 400
    assert "This form has expired" in r.text
    assert ui.get("/", follow_redirects=False).status_code == 200


# ---- dashboard and layout ---------------------------------------------------------------------

def test_dashboard_shows_real_numbers(ui, db):
    for i in range(3):
        make_lead(db, email=f"d{i}@corp.io")
    lead = make_lead(db, email="buyer@corp.io")
    update_lead(db, lead=lead, data=LeadUpdate(stage="customer", stage_reason="won"), actor_type="user")
    db.commit()
    r = ui.get("/")
    assert r.status_code == 200
    assert re.search(r'data-kpi="leads">\s*4\s*<', r.text)
    assert re.search(r'data-kpi="conversion_rate">\s*25.0 %\s*<', r.text)  # 1 customer of 4 leads
    assert "buyer@corp.io" in r.text
    assert 'href="#main"' in r.text and 'aria-current="page"' in r.text


def test_coming_soon_areas_are_routed(ui):
    for path in ("/sales", "/nurture"):
        r = ui.get(path)
        assert r.status_code == 200 and "Coming soon" in r.text


# ---- leads list ------------------------------------------------------------------------------

def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/leads/\d+" class="row-link">.*?title="([^"]*)"', html)


def test_leads_list_filters_and_counts(ui, db):
    for i in range(4):
        lead = make_lead(db, email=f"mql{i}@acme.io", first_name=f"Mia{i}")
        update_lead(db, lead=lead, data=LeadUpdate(stage="mql"), actor_type="user")
    for i in range(3):
        make_lead(db, email=f"other{i}@globex.io", first_name=f"Otto{i}")
    db.commit()
    r = ui.get("/leads", params={"stage": "mql"})
    assert r.status_code == 200
    assert "of <strong>4</strong>" in r.text
    assert all(n.startswith("Mia") for n in _names(r.text))
    r = ui.get("/leads", params={"q": "globex"})
    assert "of <strong>3</strong>" in r.text
    assert all(n.startswith("Otto") for n in _names(r.text))


def test_leads_list_bad_filter_shows_a_banner_not_json(ui):
    r = ui.get("/leads", params={"created_from": "yesterday", "stage": "nope"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert "Some filters are not valid" in r.text


def test_sort_links_and_pagination(ui, db):
    for name in ("Carla", "Ana", "Bea", "Dora", "Eva"):
        make_lead(db, first_name="X", last_name=name, email=f"{name.lower()}@x.io")
    db.commit()
    r = ui.get("/leads", params={"sort": "last_name", "page_size": 2})
    assert [n.split()[-1] for n in _names(r.text)] == ["Ana", "Bea"]
    assert 'aria-sort="ascending"' in r.text
    assert "/leads?sort=-last_name&amp;page_size=2" in r.text  # clicking again reverses
    assert "1\u20132</strong> of <strong>5</strong>" in r.text
    assert 'rel="next" href="/leads?sort=last_name&amp;page_size=2&amp;page=2"' in r.text
    r = ui.get("/leads", params={"sort": "last_name", "page_size": 2, "page": 3})
    assert [n.split()[-1] for n in _names(r.text)] == ["Eva"]
    assert "5\u20135</strong> of <strong>5</strong>" in r.text
    r = ui.get("/leads", params={"sort": "-last_name", "page_size": 2})
    assert [n.split()[-1] for n in _names(r.text)] == ["Eva", "Dora"]
    assert 'aria-sort="descending"' in r.text


def test_export_csv_contains_exactly_the_filtered_leads(ui, db):
    campaign = make_campaign(db, name="Expo", utm_campaign="expo")
    wanted = {make_lead(db, email=f"expo{i}@fair.io", campaign_id=campaign.id).email for i in range(3)}
    for i in range(4):
        make_lead(db, email=f"web{i}@site.io")
    db.commit()
    page = ui.get("/leads", params={"campaign_id": campaign.id})
    link = re.search(r'href="(/leads/export\.csv\?[^"]*)"', page.text).group(1).replace("&amp;", "&")
    r = ui.get(link)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["email"] for row in rows} == wanted


def test_leads_list_query_count_does_not_depend_on_page_size(ui, db, engine_clean):
    from leadflow.auth.service import create_user

    owners = [create_user(db, email=f"o{i}@example.com", password="long-enough-pw", name=f"Owner {i}").id for i in range(3)]
    campaigns = [make_campaign(db).id for _ in range(3)]
    for i in range(50):
        make_lead(db, owner_id=owners[i % 3], campaign_id=campaigns[i % 3])
    db.commit()

    def count(params):
        statements = []

        def listener(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(engine_clean, "before_cursor_execute", listener)
        try:
            r = ui.get("/leads", params=params)
        finally:
            event.remove(engine_clean, "before_cursor_execute", listener)
        assert r.status_code == 200
        return len(statements), r.text

    few, html_few = count({"page_size": 5})
    many, html_many = count({"page_size": 50})
    assert len(_names(html_few)) == 5 and len(_names(html_many)) == 50
    assert "Owner 1" in html_many and "Campaign" in html_many
    assert few == many


# ---- lead page ------------------------------------------------------------------------------

def test_lead_page_shows_timeline_history_and_consent(ui, db):
    lead = make_lead(db, email="tl@acme-corp.com", company_name="Acme", country="ES", consent_email="granted",
                     properties={"favourite_colour": "teal"})
    append_event(db, lead=lead, data=EventIn(type="download", properties={"asset": "Pricing guide"}))
    append_event(db, lead=lead, data=EventIn(type="webinar", properties={"title": "BANT 101"}))
    update_lead(db, lead=lead, data=LeadUpdate(job_title="CMO"), actor_type="user")
    update_lead(db, lead=lead, data=LeadUpdate(stage="mql", stage_reason="score passed 60"), actor_type="user")
    db.commit()
    r = ui.get(f"/leads/{lead.id}")
    assert r.status_code == 200
    html = r.text
    assert "Pricing guide" in html and "BANT 101" in html
    assert "job_title</span>: <span class=\"old\">∅</span> → <span class=\"new\">CMO</span>" in html
    assert "score passed 60" in html and "Stage history" in html
    assert "Spain" in html
    assert 'class="badge consent-granted"' in html
    assert "favourite_colour" in html and "teal" in html
    assert 'href="https://acme-corp.com"' in html


def test_missing_lead_is_a_404_page(ui):
    r = ui.get("/leads/987654")
    assert r.status_code == 404
    assert "Lead not found" in r.text and r.headers["content-type"].startswith("text/html")


def test_change_stage_needs_a_reason_for_disqualified(ui, db):
    lead = make_lead(db, email="dq@x.io")
    db.commit()
    r = ui.post(f"/leads/{lead.id}/stage", data={"stage": "disqualified", "reason": "", "csrf_token": csrf(ui)})
    assert r.status_code == 200 and "needs a reason" in r.text
    with _session() as s:
        assert get_lead(s, lead_id=lead.id).stage == "prospect"
    r = ui.post(f"/leads/{lead.id}/stage", data={"stage": "disqualified", "reason": "Competitor", "csrf_token": csrf(ui)})
    assert "Moved to Disqualified" in r.text
    with _session() as s:
        assert get_lead(s, lead_id=lead.id).stage == "disqualified"
        last = list_stage_changes(s, lead_id=lead.id)[-1]
        assert (last.to_stage, last.reason, last.actor_type) == ("disqualified", "Competitor", "user")
    assert "Competitor" in ui.get(f"/leads/{lead.id}").text


def test_change_stage_without_csrf_is_refused(ui, db):
    lead = make_lead(db, email="csrf@x.io")
    db.commit()
    r = ui.post(f"/leads/{lead.id}/stage", data={"stage": "mql", "reason": "x", "csrf_token": "wrong"})
    assert r.status_code == 400 and "This form has expired" in r.text
    with _session() as s:
        assert get_lead(s, lead_id=lead.id).stage == "prospect"


# ---- campaigns ---------------------------------------------------------------------------------

def test_campaigns_page_lists_totals_and_links_to_leads(ui, db):
    campaign = make_campaign(db, name="Spring", channel="paid_search", utm_campaign="spring")
    for i in range(2):
        make_lead(db, email=f"s{i}@x.io", campaign_id=campaign.id)
    db.commit()
    r = ui.get("/campaigns")
    assert r.status_code == 200
    assert "Spring" in r.text and "Paid search" in r.text
    assert f'href="/leads?campaign_id={campaign.id}"' in r.text


# ---- settings -------------------------------------------------------------------------------

def test_create_token_shows_it_once_and_stores_only_its_hash(ui, admin):
    r = ui.post("/settings/tokens", data={"name": "Zapier", "csrf_token": csrf(ui)})
    assert r.status_code == 201
    plain = re.search(r'id="new-token" class="mono" type="text" value="([^"]+)"', r.text).group(1)
    assert plain.startswith("lf_")
    again = ui.get("/settings")
    assert plain not in again.text and "Zapier" in again.text
    with _session() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.name == "Zapier"))
        assert row.token_hash != plain and plain not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    with TestClient(ui.app) as api:
        assert api.get("/api/v1/leads", headers={"Authorization": f"Bearer {plain}"}).status_code == 200


def test_token_needs_a_name_and_csrf(ui):
    r = ui.post("/settings/tokens", data={"name": " ", "csrf_token": csrf(ui)})
    assert r.status_code == 422 and "needs a name" in r.text
    r = ui.post("/settings/tokens", data={"name": "x", "csrf_token": ""})
    assert r.status_code == 400


def test_revoke_token(ui, admin):
    with _session() as s:
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.name == "tests"))
    r = ui.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": "nope"})
    assert r.status_code == 400
    r = ui.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf(ui)})
    assert r.status_code == 200 and "revoked" in r.text
    with TestClient(ui.app) as api:
        assert api.get("/api/v1/leads", headers={"Authorization": f"Bearer {admin['token']}"}).status_code == 401
