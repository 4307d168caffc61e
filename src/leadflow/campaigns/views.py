"""HTML page for campaigns: channel, UTM, dates, budget, leads and spend."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from leadflow.auth.deps import DB, UiUser
from leadflow.campaigns.service import list_campaigns, spend_by_campaign
from leadflow.leads.service import count_leads_by_campaign
from leadflow.web.render import render

router = APIRouter(include_in_schema=False)


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
    }, active="campaigns")
