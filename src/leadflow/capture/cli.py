"""`leadflow forms` and `leadflow submissions`: lead capture forms and what they received."""

from __future__ import annotations

from typing import Any

import typer
from pydantic import ValidationError
from rich.table import Column, Table

from leadflow.cli_support import console, ensure_database, fail, print_json

forms_app = typer.Typer(help="Lead capture forms.", no_args_is_help=True)
submissions_app = typer.Typer(help="Form submissions: review the quarantine, release, process.",
                              no_args_is_help=True)

# The schema field each `forms create` option fills, to name the option in errors.
_OPTIONS = {"slug": "--slug", "name": "--name", "language": "--language", "fields": "--field",
            "campaign_id": "--campaign-id", "consent_text": "--consent-text", "consent_enabled": "--consent-text",
            "allowed_origins": "--allowed-origin", "redirect_url": "--redirect", "success_action": "--redirect"}
DEFAULT_FIELDS = ("email:email:required", "first_name:first_name", "last_name:last_name",
                  "company_name:company_name")
SHOWN_COUNTS = ("pending", "processed", "quarantined")


def parse_field(spec: str) -> dict[str, Any]:
    """A form field from KEY:TYPE[:required][:Label]; TYPE `select=A|B|C` gives a select its choices.

    A standard field may omit the type (`phone` means `phone:phone`).
    """
    key, _, rest = spec.strip().partition(":")
    kind, _, rest = rest.partition(":")
    if not kind:
        kind = key
    required = False
    flag, _, label = rest.partition(":")
    if flag == "required":
        required = True
    else:
        label = rest
    kind, _, options = kind.partition("=")
    field: dict[str, Any] = {"key": key, "type": kind, "required": required, "label": label.strip()}
    if options:
        field["options"] = [o.strip() for o in options.split("|") if o.strip()]
    return field


def _validation_message(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    msg = err["msg"].removeprefix("Value error, ")
    if not loc:
        return msg
    option = _OPTIONS.get(loc[0], f"--{loc[0].replace('_', '-')}")
    if loc[0] == "fields" and len(loc) > 1:
        # loc is ("fields", index, attribute): name the --field by its position, as typed.
        option = f"--field #{int(loc[1]) + 1}" + (f" ({loc[2]})" if len(loc) > 2 else "")
    return f"{option}: {msg}"


def _resolve_form(session, ref: str):
    """The form whose slug is REF, else whose id is REF; None when neither exists."""
    from leadflow.capture.service import get_form, get_form_by_slug

    form = get_form_by_slug(session, slug=ref)
    if form is None and ref.isdigit() and 1 <= int(ref) <= 2_147_483_647:
        form = get_form(session, form_id=int(ref))
    return form


def _url(slug: str) -> str:
    return f"/f/{slug}"


def _form_json(form) -> dict[str, Any]:
    """FORM as `GET /api/v1/forms/{id}` shows it."""
    from leadflow.capture.schemas import FormOut

    return FormOut.model_validate(form).model_copy(update={"url": _url(form.slug)}).model_dump(mode="json")


@forms_app.command("list")
def forms_list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List forms with their submission counts and hosted page URL."""
    from leadflow.capture.models import SUBMISSION_STATUSES
    from leadflow.capture.service import count_submissions_by_form, list_forms
    from leadflow.db.session import unit_of_work

    ensure_database()
    with unit_of_work() as s:
        counts = count_submissions_by_form(s)
        rows = [{"id": f.id, "slug": f.slug, "name": f.name, "language": f.language, "is_active": f.is_active,
                 "url": _url(f.slug),
                 "submissions": {st: counts.get(f.id, {}).get(st, 0) for st in SUBMISSION_STATUSES}}
                for f in list_forms(s)]
    if as_json:
        print_json(rows)
        return
    # The page URL is a caption, not a column: it repeats the slug, and the table fits 80 columns.
    table = Table("id", Column("slug", no_wrap=True), "name", "lang", "active", *SHOWN_COUNTS,
                  caption=f"hosted page of each form: {_url('SLUG')}")
    for r in rows:
        table.add_row(str(r["id"]), r["slug"], r["name"], r["language"], "yes" if r["is_active"] else "no",
                      *(f"{r['submissions'][st]:,}" for st in SHOWN_COUNTS))
    console.print(table)


@forms_app.command("show")
def forms_show_cmd(
    ref: str = typer.Argument(..., metavar="SLUG_OR_ID", help="The form's slug or id (a slug wins)."),
    as_json: bool = typer.Option(False, "--json", help="Print the form as JSON."),
) -> None:
    """Show one form: settings, fields and consent text history."""
    from leadflow.db.session import unit_of_work

    ensure_database()
    with unit_of_work() as s:
        form = _resolve_form(s, ref)
        if form is None:
            fail(f"no form with slug or id {ref}")
        out = _form_json(form)
    if as_json:
        print_json(out)
        return
    _print_form(out)


def _print_form(out: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None)
    for key, value in out.items():
        if key not in ("fields", "consent_versions") and value not in (None, "", [], {}):
            table.add_row(f"[dim]{key}[/]", str(value))
    console.print(table)
    fields = Table("key", "type", "required", "label", "options", title="Fields")
    for f in out["fields"]:
        fields.add_row(f["key"], f["type"], "yes" if f.get("required") else "", f.get("label") or "",
                       ", ".join(f.get("options") or []))
    console.print(fields)
    for v in out["consent_versions"]:
        console.print(f"consent v{v['version']} ({str(v.get('at', ''))[:16]}): {v['text']}", highlight=False)


@forms_app.command("create")
def forms_create_cmd(
    slug: str = typer.Option(..., "--slug", help="URL name: the hosted page is /f/SLUG."),
    name: str = typer.Option(..., "--name", help="Name shown in the UI."),
    language: str = typer.Option("en", "--language", help="en or es."),
    field: list[str] = typer.Option(None, "--field", help="KEY:TYPE[:required][:Label] (repeatable); TYPE "
                                    "select=A|B gives choices. Default: email (required), first_name, "
                                    "last_name, company_name."),
    campaign_id: int = typer.Option(None, "--campaign-id", help="Campaign the leads belong to."),
    consent_text: str = typer.Option(None, "--consent-text", help="Shows a consent checkbox with this text."),
    allowed_origin: list[str] = typer.Option(None, "--allowed-origin",
                                             help="Site allowed to embed the form, scheme://host (repeatable)."),
    redirect: str = typer.Option(None, "--redirect", help="Send the visitor to this URL after submitting."),
    as_json: bool = typer.Option(False, "--json", help="Print the form as JSON."),
) -> None:
    """Create a form."""
    from leadflow.capture.schemas import FormIn
    from leadflow.capture.service import CaptureError, create_form
    from leadflow.db.session import unit_of_work

    body: dict[str, Any] = {
        "slug": slug, "name": name, "language": language,
        "fields": [parse_field(f) for f in (field or DEFAULT_FIELDS)],
        "campaign_id": campaign_id, "allowed_origins": allowed_origin or [],
    }
    if consent_text:
        body.update(consent_enabled=True, consent_text=consent_text)
    if redirect:
        body.update(success_action="redirect", redirect_url=redirect)
    try:
        data = FormIn(**body)
    except ValidationError as exc:
        fail(_validation_message(exc))
    ensure_database()
    try:
        with unit_of_work() as s:
            out = _form_json(create_form(s, data=data))
    except CaptureError as exc:
        fail(f"{_OPTIONS.get(exc.field or '', exc.field or 'form')}: {exc}")
    if as_json:
        print_json(out)
    else:
        console.print(f"[green]created form[/] {out['slug']} (id {out['id']}) — page {out['url']}", highlight=False)


@submissions_app.command("list")
def submissions_list_cmd(
    quarantined: bool = typer.Option(False, "--quarantined", help="Only quarantined ones (same as --status quarantined)."),
    status: str = typer.Option(None, "--status", help="pending, processed, quarantined, invalid or failed."),
    form: str = typer.Option(None, "--form", help="Only this form's (slug or id)."),
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="How many, newest first."),
    offset: int = typer.Option(0, "--offset", min=0, help="Skip this many first."),
    as_json: bool = typer.Option(False, "--json", help="Print {total, items} as JSON."),
) -> None:
    """List submissions, newest first."""
    from leadflow.capture.models import SUBMISSION_STATUSES
    from leadflow.capture.schemas import SubmissionOut
    from leadflow.capture.service import list_forms, list_submissions
    from leadflow.db.session import unit_of_work

    if quarantined:
        if status not in (None, "quarantined"):
            fail(f"--status: {status} contradicts --quarantined")
        status = "quarantined"
    if status is not None and status not in SUBMISSION_STATUSES:
        fail(f"--status: {status!r} is not one of {', '.join(SUBMISSION_STATUSES)}")
    ensure_database()
    with unit_of_work() as s:
        form_id = None
        if form is not None:
            found = _resolve_form(s, form)
            if found is None:
                fail(f"--form: no form with slug or id {form}")
            form_id = found.id
        total, items = list_submissions(s, status=status, form_id=form_id, limit=limit, offset=offset)
        rows = [SubmissionOut.model_validate(i).model_dump(mode="json") for i in items]
        slugs = {f.id: f.slug for f in list_forms(s)}
    if as_json:
        print_json({"total": total, "items": rows})
        return
    table = Table("id", Column("form", overflow="fold"), Column("received", no_wrap=True),
                  Column("status", no_wrap=True), Column("email", overflow="fold"), "lead", "reasons",
                  title=f"{total:,} submissions")
    for r in rows:
        email = r["payload"].get("email")
        table.add_row(str(r["id"]), slugs.get(r["form_id"], str(r["form_id"])), r["received_at"][:16].replace("T", " "), r["status"],
                      str(email)[:80] if email is not None else "", str(r["lead_id"] or ""),
                      "; ".join(r["reasons"] or ([r["error"]] if r["error"] else [])))
    console.print(table)
    if total > offset + len(rows):
        console.print(f"showing {offset + 1:,}-{offset + len(rows):,} — use --offset")


@submissions_app.command("release")
def submissions_release_cmd(
    submission_id: int = typer.Argument(..., help="Submission id."),
    user: str = typer.Option(None, "--user", help="Email of the user recorded as releasing it."),
    as_json: bool = typer.Option(False, "--json", help="Print the submission as JSON."),
) -> None:
    """Release a quarantined (or failed) submission: it becomes a lead now."""
    from leadflow.auth.service import get_user_by_email
    from leadflow.capture.schemas import SubmissionOut
    from leadflow.capture.service import CaptureError, get_submission, release_submission
    from leadflow.db.session import unit_of_work

    ensure_database()
    try:
        with unit_of_work() as s:
            user_id = None
            if user is not None:
                owner = get_user_by_email(s, email=user)
                if owner is None:
                    fail(f"--user: no user with email {user}")
                user_id = owner.id
            sub = get_submission(s, submission_id=submission_id) if 1 <= submission_id < 2**63 else None
            if sub is None:
                fail(f"no submission with id {submission_id}")
            out = SubmissionOut.model_validate(release_submission(s, submission=sub, user_id=user_id))
            out = out.model_dump(mode="json")
    except CaptureError as exc:
        fail(str(exc))
    if as_json:
        print_json(out)
    elif out["status"] == "processed":
        console.print(f"[green]released[/] submission {out['id']} → lead {out['lead_id']}", highlight=False)
    if out["status"] != "processed":
        # Kept as failed (with the error) for another try; the exit code tells scripts.
        fail(f"submission {out['id']} could not become a lead: {out['error']}")


@submissions_app.command("process")
def submissions_process_cmd(
    limit: int = typer.Option(None, "--limit", min=1, help="Process at most this many (default: all pending)."),
    as_json: bool = typer.Option(False, "--json", help="Print {processed} as JSON."),
) -> None:
    """Turn pending submissions into leads, oldest first, until none is left."""
    from leadflow.capture.service import process_pending_submissions
    from leadflow.db.session import unit_of_work

    batch = 200
    ensure_database()
    done = 0
    while limit is None or done < limit:
        # One transaction per batch: an interruption keeps what was done.
        with unit_of_work() as s:
            n = process_pending_submissions(s, limit=batch if limit is None else min(batch, limit - done))
        done += n
        if n == 0:
            break
    if as_json:
        print_json({"processed": done})
    else:
        console.print(f"processed {done:,} submission{'s' if done != 1 else ''}")


@submissions_app.command("send-emails")
def submissions_send_emails_cmd(
    limit: int = typer.Option(200, "--limit", min=1, help="Send at most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print {sent} as JSON."),
) -> None:
    """Send queued emails (double opt-in confirmations) over LEADFLOW_SMTP_HOST."""
    from leadflow.capture.mailer import send_pending_emails
    from leadflow.config import get_settings
    from leadflow.db.session import get_sessionmaker

    ensure_database()
    if not get_settings().smtp_host:
        fail("set LEADFLOW_SMTP_HOST to send emails; until then they stay queued")
    sent = send_pending_emails(get_sessionmaker(), limit=limit)
    if as_json:
        print_json({"sent": sent})
    else:
        console.print(f"sent {sent:,} email{'s' if sent != 1 else ''}")
