"""HTTP API for campaigns and their spend under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Response

from leadflow.auth.deps import DB, ApiUser
from leadflow.campaigns.models import Campaign
from leadflow.campaigns.schemas import CampaignIn, CampaignOut, CampaignPatch, SpendIn, SpendOut
from leadflow.campaigns.service import (
    change_campaign,
    create_campaign,
    delete_campaign,
    get_campaign,
    list_campaigns,
    list_spend,
    record_spend,
)
from leadflow.schemas import MAX_ID

router = APIRouter(prefix="/api/v1", tags=["campaigns"])


def campaign_or_404(campaign_id: int, db: DB, user: ApiUser) -> Campaign:
    # A number beyond the 32-bit key names no campaign (and would overflow the query).
    campaign = get_campaign(db, campaign_id=campaign_id) if 1 <= campaign_id <= MAX_ID else None
    if campaign is None:
        raise HTTPException(404, f"campaign_id: no campaign with id {campaign_id}")
    return campaign


CampaignDep = Annotated[Campaign, Depends(campaign_or_404)]


@router.get("/campaigns", response_model=list[CampaignOut])
def api_list_campaigns(db: DB, user: ApiUser) -> list[CampaignOut]:
    return [CampaignOut.model_validate(c) for c in list_campaigns(db)]


@router.post("/campaigns", response_model=CampaignOut, status_code=201)
def api_create_campaign(data: CampaignIn, db: DB, user: ApiUser) -> CampaignOut:
    return CampaignOut.model_validate(create_campaign(db, data=data))


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
def api_get_campaign(campaign: CampaignDep, user: ApiUser) -> CampaignOut:
    return CampaignOut.model_validate(campaign)


@router.patch("/campaigns/{campaign_id}", response_model=CampaignOut)
def api_change_campaign(campaign: CampaignDep, data: CampaignPatch, db: DB, user: ApiUser) -> CampaignOut:
    return CampaignOut.model_validate(change_campaign(db, campaign=campaign, data=data))


@router.delete("/campaigns/{campaign_id}", status_code=204)
def api_delete_campaign(campaign: CampaignDep, db: DB, user: ApiUser) -> Response:
    delete_campaign(db, campaign=campaign)
    return Response(status_code=204)


@router.get("/campaigns/{campaign_id}/spend", response_model=list[SpendOut])
def api_list_spend(campaign: CampaignDep, db: DB, user: ApiUser) -> list[SpendOut]:
    return [SpendOut.model_validate(s) for s in list_spend(db, campaign_id=campaign.id)]


@router.put("/campaigns/{campaign_id}/spend", summary="Set daily spend (replaces the given days)")
def api_record_spend(
    campaign: CampaignDep, db: DB, user: ApiUser, entries: list[SpendIn] = Body(..., max_length=3660)
) -> dict:
    return {"days": record_spend(db, campaign=campaign, entries=entries)}
