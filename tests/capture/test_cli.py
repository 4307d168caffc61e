"""`leadflow forms` and `leadflow submissions`, run in-process against the test database."""

import json

import pytest
from typer.testing import CliRunner

from leadflow.capture.cli import parse_field
from leadflow.cli import app
from leadflow.db.session import get_sessionmaker

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _create(*args: str) -> dict:
    r = run("forms", "create", *args, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def _receive(slug: str, *emails: str) -> list[int]:
    """Submissions of the form SLUG, one per email, received through the service as the API would."""
    from leadflow.capture.service import SubmissionContext, get_form_by_slug, receive_submission

    with get_sessionmaker()() as s, s.begin():
        form = get_form_by_slug(s, slug=slug)
        return [receive_submission(s, form=form, payload={"email": e}, context=SubmissionContext(channel="api"))
                .submission.id for e in emails]


@pytest.fixture
def contact_form(engine_clean) -> dict:
    """One form `contact` with the default fields, and three submissions: two pending (ana, ben), one
    quarantined (a disposable address)."""
    form = _create("--slug", "contact", "--name", "Contact us")
    form["submission_ids"] = _receive("contact", "ana@acme.io", "ben@acme.io", "bot@mailinator.com")
    return form


@pytest.mark.parametrize(("spec", "field"), [
    ("email", {"key": "email", "type": "email", "required": False, "label": ""}),
    ("email:email:required", {"key": "email", "type": "email", "required": True, "label": ""}),
    ("phone:phone:Your phone", {"key": "phone", "type": "phone", "required": False, "label": "Your phone"}),
    ("topic:select=Pricing|Demo:required:Topic: what about?",
     {"key": "topic", "type": "select", "required": True, "label": "Topic: what about?", "options": ["Pricing", "Demo"]}),
])
def test_parse_field(spec, field):
    assert parse_field(spec) == field


def test_help_lists_the_capture_groups():
    r = run("--help")
    assert "forms" in r.stdout
    assert "submissions" in r.stdout


def test_forms_create_with_default_fields(engine_clean):
    form = _create("--slug", "contact", "--name", "Contact us")
    assert (form["slug"], form["name"], form["language"], form["url"]) == ("contact", "Contact us", "en", "/f/contact")
    assert [(f["key"], f["type"], f["required"]) for f in form["fields"]] == [
        ("email", "email", True), ("first_name", "first_name", False), ("last_name", "last_name", False),
        ("company_name", "company_name", False)]
    assert (form["consent_enabled"], form["consent_version"], form["success_action"]) == (False, 0, "message")


def test_forms_create_with_every_option(engine_clean):
    from tests.factories import make_campaign

    with get_sessionmaker()() as s, s.begin():
        campaign_id = make_campaign(s, name="Spring").id
    form = _create("--slug", "oferta", "--name", "Oferta", "--language", "es", "--field", "email",
                   "--field", "phone:phone:required:Teléfono", "--field", "topic:select=Precio|Demo",
                   "--campaign-id", str(campaign_id), "--consent-text", "Acepto recibir correos.",
                   "--allowed-origin", "https://Acme.es/", "--allowed-origin", "https://www.acme.es",
                   "--redirect", "https://acme.es/gracias")
    assert [(f["key"], f["required"], f.get("label")) for f in form["fields"]] == [
        ("email", True, ""), ("phone", True, "Teléfono"), ("topic", False, "")]
    assert form["fields"][2]["options"] == ["Precio", "Demo"]
    assert (form["language"], form["campaign_id"]) == ("es", campaign_id)
    assert (form["consent_enabled"], form["consent_text"], form["consent_version"]) == (
        True, "Acepto recibir correos.", 1)
    assert form["allowed_origins"] == ["https://acme.es", "https://www.acme.es"]
    assert (form["success_action"], form["redirect_url"]) == ("redirect", "https://acme.es/gracias")


@pytest.mark.parametrize(("args", "words"), [
    (["--field", "phone:telephone"], "--field #1 (type)"),
    (["--field", "email", "--field", "topic:select"], "options"),
    (["--field", "email", "--field", "Bad Key:text"], "--field #2"),
    (["--field", "first_name"], "email field"),
    (["--field", "email:text"], "standard field"),
    (["--language", "fr"], "--language"),
    (["--allowed-origin", "https://acme.es/page"], "--allowed-origin"),
    (["--redirect", "javascript:alert(1)"], "--redirect"),
    (["--campaign-id", "999"], "--campaign-id"),
    (["--slug", "Not A Slug"], "--slug"),
])
def test_forms_create_refuses_bad_input_naming_the_option(engine_clean, args, words):
    base = {"--slug": "contact", "--name": "Contact"}
    for i in range(0, len(args), 2):
        base.pop(args[i], None)
    r = run("forms", "create", *(x for kv in base.items() for x in kv), *args)
    assert r.exit_code != 0
    assert words in r.stderr
    assert "Traceback" not in r.output
    assert json.loads(run("forms", "list", "--json").stdout) == []


def test_forms_create_duplicate_slug_fails(contact_form):
    r = run("forms", "create", "--slug", "contact", "--name", "Again")
    assert r.exit_code != 0
    assert "--slug" in r.stderr
    assert "exists" in r.stderr


def test_forms_list_json_and_table(contact_form):
    _create("--slug", "newsletter", "--name", "Newsletter")
    rows = json.loads(run("forms", "list", "--json").stdout)
    assert [(r["slug"], r["url"]) for r in rows] == [("contact", "/f/contact"), ("newsletter", "/f/newsletter")]
    assert rows[0]["submissions"] == {"pending": 2, "processed": 0, "quarantined": 1, "invalid": 0, "failed": 0}
    assert rows[1]["submissions"]["pending"] == 0
    r = run("forms", "list")
    assert r.exit_code == 0
    assert "contact" in r.stdout
    assert "newsletter" in r.stdout
    assert "/f/SLUG" in r.stdout


def test_forms_show_by_slug_or_id(contact_form):
    by_slug = run("forms", "show", "contact", "--json")
    assert by_slug.exit_code == 0, by_slug.output
    out = json.loads(by_slug.stdout)
    assert (out["id"], out["slug"], out["url"]) == (contact_form["id"], "contact", "/f/contact")
    assert json.loads(run("forms", "show", str(contact_form["id"]), "--json").stdout) == out
    r = run("forms", "show", "contact")
    assert r.exit_code == 0
    assert "company_name" in r.stdout


def test_forms_show_unknown_fails(engine_clean):
    for ref in ("nope", "4242", str(2**70)):
        r = run("forms", "show", ref)
        assert r.exit_code != 0
        assert ref in r.stderr


def test_submissions_list_quarantined_json(contact_form):
    r = run("submissions", "list", "--quarantined", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["total"] == 1
    [item] = out["items"]
    assert (item["id"], item["status"], item["payload"]["email"]) == (
        contact_form["submission_ids"][2], "quarantined", "bot@mailinator.com")
    assert any("disposable" in reason for reason in item["reasons"])


def test_submissions_list_filters(contact_form):
    _create("--slug", "newsletter", "--name", "Newsletter")
    _receive("newsletter", "cat@acme.io")
    out = json.loads(run("submissions", "list", "--json").stdout)
    assert out["total"] == 4
    out = json.loads(run("submissions", "list", "--form", "contact", "--status", "pending", "--json").stdout)
    assert [i["payload"]["email"] for i in out["items"]] == ["ben@acme.io", "ana@acme.io"]
    out = json.loads(run("submissions", "list", "--limit", "1", "--json").stdout)
    assert (out["total"], [i["payload"]["email"] for i in out["items"]]) == (4, ["cat@acme.io"])
    r = run("submissions", "list")
    assert r.exit_code == 0
    assert "4 submissions" in r.stdout
    assert "quarantined" in r.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["--status", "spam"], "--status"),
    (["--quarantined", "--status", "pending"], "--quarantined"),
    (["--form", "nope"], "--form"),
])
def test_submissions_list_bad_filter_fails(contact_form, args, words):
    r = run("submissions", "list", *args)
    assert r.exit_code != 0
    assert words in r.stderr


def test_submissions_release(contact_form, admin):
    quarantined = contact_form["submission_ids"][2]
    r = run("submissions", "release", str(quarantined), "--user", admin["email"], "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["status"], out["released_by"]) == ("processed", admin["id"])
    assert out["lead_id"] is not None
    assert json.loads(run("submissions", "list", "--quarantined", "--json").stdout)["total"] == 0

    again = run("submissions", "release", str(quarantined))
    assert again.exit_code != 0
    assert "processed" in again.stderr


def test_submissions_release_refusals(contact_form):
    pending = contact_form["submission_ids"][0]
    for args, words in [([str(pending)], "pending"), (["4242"], "4242"), ([str(2**70)], str(2**70)),
                        ([str(contact_form["submission_ids"][2]), "--user", "ghost@example.com"], "--user")]:
        r = run("submissions", "release", *args)
        assert r.exit_code != 0
        assert words in r.stderr
    assert json.loads(run("submissions", "list", "--quarantined", "--json").stdout)["total"] == 1


def test_submissions_process(contact_form):
    r = run("submissions", "process", "--limit", "1", "--json")
    assert (r.exit_code, json.loads(r.stdout)) == (0, {"processed": 1})
    r = run("submissions", "process")
    assert r.exit_code == 0, r.output
    assert "processed 1 submission" in r.stdout
    out = json.loads(run("submissions", "list", "--status", "processed", "--json").stdout)
    assert {i["payload"]["email"] for i in out["items"]} == {"ana@acme.io", "ben@acme.io"}
    assert all(i["lead_id"] for i in out["items"])
    leads = json.loads(run("leads", "list", "--json").stdout)
    assert {i["email"] for i in leads["items"]} == {"ana@acme.io", "ben@acme.io"}
    assert json.loads(run("submissions", "process", "--json").stdout) == {"processed": 0}


def test_submissions_process_drains_more_than_one_batch(contact_form):
    _receive("contact", *(f"p{i}@acme.io" for i in range(205)))
    r = run("submissions", "process", "--json")
    assert json.loads(r.stdout) == {"processed": 207}
    assert json.loads(run("submissions", "list", "--status", "pending", "--json").stdout)["total"] == 0
