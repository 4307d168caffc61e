"""CLI for lifecycle actions on leads (registered under `leadflow leads`): move, accept, reject, bant, stages."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from leadflow.cli_support import console, ensure_database, fail, print_json
from leadflow.lifecycle.bant import BANT_BY_KEY, BANT_FIELDS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from leadflow.leads.models import Lead
    from leadflow.lifecycle.service import LifecycleError

# The option that carries each field a LifecycleError can name.
OPTION_OF = {"to": "--to", "reason_code": "--reason", "note": "--note", "stage": "LEAD",
             **{k: f"--{k}" for k in BANT_BY_KEY}}
MAX_LEAD_ID = 2**63 - 1

_LEAD = typer.Argument(..., metavar="LEAD", help="Lead id or email.")
_REASON = typer.Option(None, "--reason", help="Reason code (needed for disqualified and recycled; "
                                              "see GET /api/v1/lifecycle/reasons).")
_NOTE = typer.Option("", "--note", help="Free text kept with the move (needed with --reason other).")
_JSON = typer.Option(False, "--json", help="Print JSON.")


def _find(session: Session, ref: str) -> Lead:
    """The lead named by REF, an id or an email; exits naming LEAD when there is none."""
    from leadflow.leads.normalize import InvalidValue, normalize_email
    from leadflow.leads.service import find_lead, get_lead

    ref = ref.strip()
    if ref.isdigit():
        lead = get_lead(session, lead_id=int(ref)) if 1 <= int(ref) <= MAX_LEAD_ID else None
        if lead is None:
            fail(f"LEAD: no lead with id {ref}")
        return lead
    try:
        email = normalize_email(ref)
    except InvalidValue as exc:
        fail(f"LEAD: give a lead id or an email ({exc})")
    lead = find_lead(session, email=email, external_id=None) if email else None
    if lead is None:
        fail(f"LEAD: no lead with email {ref}")
    return lead


def _refused(exc: LifecycleError) -> NoReturn:
    if exc.field == "bant":
        fail(f"{exc}; set them with `leadflow leads bant LEAD --budget .. --authority .. --need .. --timeline ..`")
    option = OPTION_OF.get(exc.field or "")
    fail(f"{option}: {exc}" if option else str(exc))


def _moved(lead: Lead, change: Any, as_json: bool) -> None:
    from leadflow.leads.schemas import StageChangeOut

    if as_json:
        print_json({"lead_id": lead.id, "stage": lead.stage, "outcome": lead.outcome,
                    "change": StageChangeOut.model_validate(change).model_dump(mode="json")})
    else:
        console.print(f"lead {lead.id}: {change.from_stage} → {change.to_stage} ({change.reason})", highlight=False)


def move_cmd(
    lead_ref: str = _LEAD,
    to: str = typer.Option(..., "--to", help="Stage: suspect, prospect, mql, sql, customer, disqualified, recycled."),
    reason: str = _REASON, note: str = _NOTE, as_json: bool = _JSON,
) -> None:
    """Move a lead to a stage by hand (disqualified and recycled need --reason; sql needs BANT answered)."""
    from leadflow.db.session import unit_of_work
    from leadflow.lifecycle.service import LifecycleError, move_lead

    ensure_database()
    try:
        with unit_of_work() as s:
            lead = _find(s, lead_ref)
            change = move_lead(s, lead=lead, to_stage=to, reason_code=reason, note=note,
                               actor_type="user", actor_id=None)
            _moved(lead, change, as_json)
    except LifecycleError as exc:
        _refused(exc)


def accept_cmd(lead_ref: str = _LEAD, note: str = _NOTE, as_json: bool = _JSON) -> None:
    """Sales accepts a marketing-qualified lead: it becomes sales-ready (needs BANT answered)."""
    from leadflow.db.session import unit_of_work
    from leadflow.lifecycle.service import LifecycleError, accept_lead

    ensure_database()
    try:
        with unit_of_work() as s:
            lead = _find(s, lead_ref)
            _moved(lead, accept_lead(s, lead=lead, actor_id=None, note=note), as_json)
    except LifecycleError as exc:
        _refused(exc)


def reject_cmd(
    lead_ref: str = _LEAD,
    reason: str = typer.Option(..., "--reason", help="Recycle reason code: not_ready, no_response, bad_timing, "
                                                     "lost_to_status_quo, other."),
    note: str = _NOTE, as_json: bool = _JSON,
) -> None:
    """Sales rejects a marketing-qualified lead: back to nurture (recycled) with a reason code."""
    from leadflow.db.session import unit_of_work
    from leadflow.lifecycle.service import LifecycleError, reject_lead

    ensure_database()
    try:
        with unit_of_work() as s:
            lead = _find(s, lead_ref)
            _moved(lead, reject_lead(s, lead=lead, reason_code=reason, note=note, actor_id=None), as_json)
    except LifecycleError as exc:
        _refused(exc)


def _answer_option(key: str) -> Any:
    return typer.Option(None, f"--{key}", help=f"{', '.join(BANT_BY_KEY[key].allowed)}; \"\" clears it.")


def bant_cmd(
    lead_ref: str = _LEAD,
    budget: str = _answer_option("budget"),
    authority: str = _answer_option("authority"),
    need: str = _answer_option("need"),
    timeline: str = _answer_option("timeline"),
    as_json: bool = _JSON,
) -> None:
    """Show a lead's BANT answers, or change the ones given."""
    from leadflow.db.session import unit_of_work
    from leadflow.lifecycle.bant import bant_answered, bant_qualified, bant_values
    from leadflow.lifecycle.service import KEEP, LifecycleError, set_bant

    ensure_database()
    given = {k: KEEP if v is None else v
             for k, v in {"budget": budget, "authority": authority, "need": need, "timeline": timeline}.items()}
    try:
        with unit_of_work() as s:
            lead = _find(s, lead_ref)
            changes = set_bant(s, lead=lead, **given, actor_type="user", actor_id=None)
            out = {"lead_id": lead.id, **bant_values(lead), "answered": bant_answered(lead),
                   "qualified": bant_qualified(lead), "updated_at": lead.bant_updated_at,
                   "changed": sorted(changes)}
    except LifecycleError as exc:
        _refused(exc)
    if as_json:
        print_json(out)
        return
    for f in BANT_FIELDS:
        value = out[f.key]
        console.print(f"{f.label:<10} {f.label_of(value) if value else '[dim]not answered[/]'}", highlight=False)
    state = "qualified" if out["qualified"] else "answered" if out["answered"] else "not fully answered"
    console.print(f"BANT {state}" + (f"; changed: {', '.join(out['changed'])}" if out["changed"] else ""),
                  highlight=False)


def _minutes(at: datetime | None) -> str:
    return at.isoformat(sep=" ", timespec="minutes") if at else "now"


def stages_cmd(lead_ref: str = _LEAD, as_json: bool = _JSON) -> None:
    """A lead's stage history, time in each stage and time to each funnel stage."""
    from leadflow.db.base import utcnow
    from leadflow.db.session import unit_of_work
    from leadflow.leads.schemas import StageChangeOut
    from leadflow.lifecycle.service import get_stage_summary
    from leadflow.web.render import duration, stage_label

    ensure_database()
    with unit_of_work() as s:
        lead = _find(s, lead_ref)
        summary = get_stage_summary(s, lead_id=lead.id, created_at=lead.created_at, now=utcnow())
        out = {
            "lead_id": lead.id,
            "stage": lead.stage,
            "history": [StageChangeOut.model_validate(c).model_dump(mode="json") for c in summary.history],
            "durations": [{"stage": p.stage, "entered_at": p.entered_at, "left_at": p.left_at,
                           "seconds": int(p.duration.total_seconds())} for p in summary.spans],
            "time_to": [{"stage": r.stage, "reached_at": r.reached_at,
                         "seconds": int(r.elapsed.total_seconds()) if r.elapsed is not None else None}
                        for r in summary.reached],
        }
    if as_json:
        print_json(out)
        return
    console.print(f"[bold]lead {out['lead_id']}[/] is {stage_label(out['stage'])}", highlight=False)
    console.print("[bold]Time in stage[/]")
    for span, change in zip(summary.spans, summary.history, strict=True):
        console.print(f"  {span.stage:<13} {duration(span.duration):>12}  {_minutes(span.entered_at)} → "
                      f"{_minutes(span.left_at)}  ({change.actor_type}: {change.reason or '—'})", highlight=False)
    console.print("[bold]Time to stage[/] (from creation)")
    for r in summary.reached:
        console.print(f"  {r.stage:<13} {duration(r.elapsed) if r.elapsed is not None else 'not reached':>12}",
                      highlight=False)


def register(leads_app: typer.Typer) -> None:
    """Add the lifecycle commands to `leadflow leads`."""
    leads_app.command("move")(move_cmd)
    leads_app.command("accept")(accept_cmd)
    leads_app.command("reject")(reject_cmd)
    leads_app.command("bant")(bant_cmd)
    leads_app.command("stages")(stages_cmd)
