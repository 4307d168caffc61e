"""HTML pages for campaigns: the list with leads and spend, one campaign's spend ledger, spend CSV import."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from leadflow.auth.deps import DB, UiUser
from leadflow.auth.sessions import csrf_ok
from leadflow.campaigns.importing import COLUMNS, amount_problem, import_spend_csv, parse_amount
from leadflow.campaigns.models import Campaign
from leadflow.campaigns.service import (
    MAX_SPEND_RANGE_DAYS,
    CampaignError,
    get_campaign,
    list_campaigns,
    list_spend,
    record_daily_spend,
    spend_by_campaign,
)
from leadflow.leads.service import count_leads_by_campaign
from leadflow.schemas import MAX_ID
from leadflow.web.render import PageError, csrf_failed, local_today, redirect, render

router = APIRouter(include_in_schema=False)


def campaign_page_or_404(campaign_id: int, db: DB, user: UiUser) -> Campaign:
    campaign = get_campaign(db, campaign_id=campaign_id) if 1 <= campaign_id <= MAX_ID else None
    if campaign is None:
        raise PageError(404, "Campaign not found", "It may have been deleted. Go back to the campaigns list.")
    return campaign


CampaignPage = Annotated[Campaign, Depends(campaign_page_or_404)]


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request, user: UiUser, db: DB) -> HTMLResponse:
    campaigns = list_campaigns(db)
    leads_by, spend_by = count_leads_by_campaign(db), spend_by_campaign(db)
    rows = []
    for c in campaigns:
        leads, spend = leads_by.get(c.id, 0), spend_by.get(c.id, Decimal(0))
        rows.append({"c": c, "leads": leads, "spend": spend, "cpl": (spend / leads) if leads and spend else None})
    return render(request, "campaigns/list.html", {
        "rows": rows,
        "total_leads": sum(r["leads"] for r in rows),
        "total_spend": sum((r["spend"] for r in rows), Decimal(0)),
        "columns": COLUMNS,
        "today_example": local_today().isoformat(),
    }, active="campaigns")


def _ledger_context(db: DB, campaign: Campaign) -> dict:
    """The recorded days, newest month first, with monthly and overall totals."""
    spend = list_spend(db, campaign_id=campaign.id)
    months = []
    for month, days in groupby(reversed(spend), key=lambda s: s.day.replace(day=1)):
        days = list(days)
        months.append({"month": month, "days": days, "total": sum((d.amount for d in days), Decimal(0))})
    total = sum((s.amount for s in spend), Decimal(0))
    leads = count_leads_by_campaign(db).get(campaign.id, 0)
    return {
        "campaign": campaign, "months": months, "total": total, "days": len(spend), "leads": leads,
        "cpl": (total / leads) if leads and total else None,
        "per_day": (total / len(spend)) if spend else None,
        "first_day": spend[0].day if spend else None, "last_day": spend[-1].day if spend else None,
        "budget_used": (total / campaign.budget) if campaign.budget else None,
        "max_days": MAX_SPEND_RANGE_DAYS,
    }


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(request: Request, campaign: CampaignPage, db: DB) -> HTMLResponse:
    ctx = _ledger_context(db, campaign)
    ctx["form"] = {"first_day": local_today().isoformat(), "last_day": "", "amount": ""}
    ctx["errors"] = {}
    return render(request, "campaigns/detail.html", ctx, active="campaigns")


@router.post("/campaigns/{campaign_id}/spend", response_model=None)
def campaign_record_spend(
    request: Request, campaign: CampaignPage, db: DB, csrf_token: str = Form(""), first_day: str = Form(""),
    last_day: str = Form(""), amount: str = Form(""),
) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    form = {"first_day": first_day.strip(), "last_day": last_day.strip(), "amount": amount.strip()}
    errors: dict[str, str] = {}
    first = last = value = None
    try:
        first = date.fromisoformat(form["first_day"])
    except ValueError:
        errors["first_day"] = "Give the day (YYYY-MM-DD)." if not form["first_day"] else "Not a date."
    if form["last_day"]:
        try:
            last = date.fromisoformat(form["last_day"])
        except ValueError:
            errors["last_day"] = "Not a date."
    try:
        value = parse_amount(form["amount"])
    except ValueError as exc:
        errors["amount"] = "Give the amount spent per day." if str(exc) == "empty" else "Not an amount (write 1234.50)."
    if not errors:
        try:
            days = record_daily_spend(db, campaign=campaign, first_day=first, last_day=last, amount=value)
        except CampaignError as exc:
            errors[exc.field or "amount"] = str(exc).capitalize() + "."
        except ValueError as exc:  # the amount's own checks (SpendIn): negative, too many decimals
            errors["amount"] = amount_problem(exc).capitalize() + "."
        else:
            when = f"{first}" if days == 1 else f"{days} days, {first} to {last}"
            return redirect(f"/campaigns/{campaign.id}", f"Recorded {value:,.2f} a day for {when}.")
    db.rollback()
    ctx = _ledger_context(db, campaign)
    ctx.update(form=form, errors=errors)
    return render(request, "campaigns/detail.html", ctx, status=422, active="campaigns")


@router.get("/campaigns/spend/import", response_model=None)
def spend_import_page() -> RedirectResponse:
    # The upload form lives on the campaigns page; a reload of the result page lands there.
    return RedirectResponse("/campaigns#spend-import", status_code=303)


@router.post("/campaigns/spend/import", response_model=None)
def spend_import_upload(
    request: Request, user: UiUser, db: DB, file: UploadFile | None = File(None), csrf_token: str = Form(""),
    dry_run: bool = Form(False),
) -> RedirectResponse | HTMLResponse:
    if not csrf_ok(request, csrf_token):
        return csrf_failed(request)
    if file is None or not file.filename:
        return redirect("/campaigns#spend-import", "Choose a CSV file to upload.", "error")
    data = file.file.read()
    try:
        result = import_spend_csv(db, data=data, dry_run=dry_run)
    except CampaignError as exc:
        db.rollback()
        return render(request, "campaigns/spend_import.html", {"filename": file.filename, "error": str(exc),
                      "result": None, "columns": COLUMNS}, status=422, active="campaigns")
    status = 200 if result.recorded or not result.rows else 422
    return render(request, "campaigns/spend_import.html", {"filename": file.filename, "error": None, "result": result,
                  "columns": COLUMNS}, status=status, active="campaigns")
