"""The lifecycle panel on the lead page and the forms it posts (BANT, moves, sales review), over HTTP."""

import re

from leadflow.db.session import get_sessionmaker
from leadflow.leads.service import get_lead, list_events
from leadflow.lifecycle.service import list_stage_changes, set_bant
from tests.factories import make_lead
from tests.web_fixtures import csrf

ANSWERED = {"budget": "confirmed", "authority": "decision_maker", "need": "confirmed", "timeline": "under_3_months"}


def _lead(**bant):
    with get_sessionmaker()() as s, s.begin():
        lead = make_lead(s, email="panel@acme.io")
        if bant:
            set_bant(s, lead=lead, **bant, actor_type="user")
        return lead.id



def _stored(lead_id):
    s = get_sessionmaker()()
    return s, get_lead(s, lead_id=lead_id)


def _selected(html: str, name: str) -> str | None:
    select = re.search(rf'<select id="bant-{name}" name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    chosen = re.search(r'<option value="([^"]*)" selected>', select)
    return chosen.group(1) if chosen else None


def test_lead_page_shows_the_panel_with_labelled_bant_selects(ui):
    lead_id = _lead(budget="planned")
    html = ui.get(f"/leads/{lead_id}").text
    assert 'id="lifecycle"' in html and "Time to stage" in html and "In Prospect for" in html
    for key, label in (("budget", "Budget"), ("authority", "Authority"), ("need", "Need"), ("timeline", "Timeline")):
        assert f'<label for="bant-{key}">{label}</label>' in html
    assert _selected(html, "budget") == "planned" and _selected(html, "need") is None
    assert "1 of 4 answered" in html
    assert f'action="/leads/{lead_id}/move"' in html and "Disqualify…" in html and "Recycle…" in html
    assert f'action="/leads/{lead_id}/accept"' not in html  # only marketing-qualified leads are reviewed
    assert html.count('name="csrf_token"') >= 5


def test_bant_form_saves_with_csrf_and_shows_on_the_timeline(ui):
    lead_id = _lead()
    r = ui.post(f"/leads/{lead_id}/bant", data={**ANSWERED, "need": "possible", "csrf_token": csrf(ui)})
    assert r.status_code == 200 and "BANT saved." in r.text
    assert _selected(r.text, "need") == "possible" and _selected(r.text, "timeline") == "under_3_months"
    assert 'class="badge bant-qualified"' in r.text
    assert "bant_budget</span>: <span class=\"old\">∅</span> → <span class=\"new\">confirmed</span>" in r.text
    s, lead = _stored(lead_id)
    with s:
        assert (lead.bant_budget, lead.bant_need, lead.bant_updated_at is not None) == ("confirmed", "possible", True)
    r = ui.post(f"/leads/{lead_id}/bant", data={**ANSWERED, "need": "possible", "budget": "", "csrf_token": csrf(ui)})
    assert "BANT saved." in r.text and _selected(r.text, "budget") is None


def test_bant_form_without_csrf_is_refused(ui):
    lead_id = _lead()
    r = ui.post(f"/leads/{lead_id}/bant", data={**ANSWERED, "csrf_token": "wrong"})
    assert r.status_code == 400 and "This form has expired" in r.text
    s, lead = _stored(lead_id)
    with s:
        assert lead.bant_budget is None
        assert list_events(s, lead_id=lead_id) == []


def test_bant_form_with_a_bad_value_names_the_field(ui):
    lead_id = _lead()
    r = ui.post(f"/leads/{lead_id}/bant", data={**ANSWERED, "timeline": "someday", "csrf_token": csrf(ui)})
    assert 'class="flash flash-error"' in r.text and "Timeline: " in r.text and "under_3_months" in r.text
    s, lead = _stored(lead_id)
    with s:
        assert lead.bant_budget is None


def test_disqualify_form_needs_a_reason_code_then_stores_it(ui):
    lead_id = _lead()
    r = ui.post(f"/leads/{lead_id}/move", data={"to": "disqualified", "reason_code": "", "csrf_token": csrf(ui)})
    assert "Reason: moving to Disqualified needs a reason code" in r.text
    r = ui.post(f"/leads/{lead_id}/move", data={"to": "disqualified", "reason_code": "other", "note": "",
                                                "csrf_token": csrf(ui)})
    assert "Note: reason code &#39;other&#39; needs a note" in r.text
    r = ui.post(f"/leads/{lead_id}/move", data={"to": "disqualified", "reason_code": "competitor",
                                                "note": "uses a rival", "csrf_token": csrf(ui)})
    assert "Moved to Disqualified." in r.text
    s, lead = _stored(lead_id)
    with s:
        assert (lead.stage, lead.outcome, lead.lost_reason) == ("disqualified", "lost", "competitor")
        assert list_stage_changes(s, lead_id=lead_id)[-1].reason == "competitor: uses a rival"
    assert "Disqualify…" not in r.text  # already disqualified


def test_move_form_without_csrf_is_refused(ui):
    lead_id = _lead()
    r = ui.post(f"/leads/{lead_id}/move", data={"to": "mql", "csrf_token": ""})
    assert r.status_code == 400
    s, lead = _stored(lead_id)
    with s:
        assert lead.stage == "prospect"


def test_accept_is_offered_for_mql_and_refused_without_bant(ui, mql_id):
    html = ui.get(f"/leads/{mql_id}").text
    assert f'action="/leads/{mql_id}/accept"' in html and f'action="/leads/{mql_id}/reject"' in html
    assert "disabled" in re.search(r"<button[^>]*>[^<]*<svg[^>]*>.*?</svg> Accept as Sales-ready", html, re.S).group(0)
    assert "Answer BANT first: Budget, Authority, Need, Timeline are not answered." in html
    r = ui.post(f"/leads/{mql_id}/accept", data={"csrf_token": csrf(ui)})
    assert "BANT: answer BANT first" in r.text
    ui.post(f"/leads/{mql_id}/bant", data={**ANSWERED, "csrf_token": csrf(ui)})
    r = ui.post(f"/leads/{mql_id}/accept", data={"csrf_token": csrf(ui)})
    assert "Accepted: the lead is Sales-ready." in r.text
    s, lead = _stored(mql_id)
    with s:
        assert lead.stage == "sql"


def test_reject_sends_an_mql_back_to_nurture(ui, mql_id):
    r = ui.post(f"/leads/{mql_id}/reject", data={"reason_code": "no_response", "note": "", "csrf_token": csrf(ui)})
    assert "back in nurture" in r.text
    s, lead = _stored(mql_id)
    with s:
        assert lead.stage == "recycled"
        assert list_stage_changes(s, lead_id=mql_id)[-1].reason == "no_response: rejected by sales"


def test_forms_need_a_login_and_an_existing_lead(app, ui):
    from fastapi.testclient import TestClient

    lead_id = _lead()
    with TestClient(app) as anon:
        r = anon.post(f"/leads/{lead_id}/bant", data=ANSWERED, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = ui.post("/leads/987654/move", data={"to": "mql", "csrf_token": csrf(ui)})
    assert r.status_code == 404 and "Lead not found" in r.text
