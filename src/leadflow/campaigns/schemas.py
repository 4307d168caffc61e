"""API shapes for campaigns and spend."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from leadflow.campaigns.models import CHANNELS
from leadflow.schemas import InputModel, UtcDatetime

Channel = Literal[CHANNELS]  # type: ignore[valid-type]


class CampaignIn(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    channel: Channel
    utm_source: str | None = Field(None, max_length=200)
    utm_medium: str | None = Field(None, max_length=200)
    utm_campaign: str | None = Field(None, max_length=200, description="Leads whose utm_campaign equals this join the campaign.")
    starts_on: date | None = None
    ends_on: date | None = None
    budget: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    description: str = Field("", max_length=5000)

    @field_validator("ends_on")
    @classmethod
    def _ends_after_start(cls, v: date | None, info: ValidationInfo) -> date | None:
        # A field validator (not a model one) so the error names ends_on.
        start = info.data.get("starts_on")
        if v and start and v < start:
            raise ValueError("ends_on is before starts_on")
        return v


class CampaignPatch(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(None, min_length=1, max_length=200)
    channel: Channel | None = None
    utm_source: str | None = Field(None, max_length=200)
    utm_medium: str | None = Field(None, max_length=200)
    utm_campaign: str | None = Field(None, max_length=200)
    starts_on: date | None = None
    ends_on: date | None = None
    budget: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    description: str | None = Field(None, max_length=5000)


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    channel: str
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    starts_on: date | None
    ends_on: date | None
    budget: Decimal | None
    description: str
    created_at: UtcDatetime


class SpendIn(InputModel):
    day: date
    amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2)


class SpendOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    amount: Decimal


class CampaignSummary(CampaignOut):
    leads: int
    spend: Decimal
