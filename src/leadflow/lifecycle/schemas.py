"""API shapes for lifecycle actions: BANT answers, manual moves, stage history and durations."""

from __future__ import annotations

from pydantic import BaseModel, Field

from leadflow.leads.schemas import StageChangeOut
from leadflow.schemas import InputModel, UtcDatetime


class BantIn(InputModel):
    """BANT answers to change: only the keys sent change; null or "" clears one."""

    budget: str | None = Field(None, max_length=32, description="confirmed, planned or none")
    authority: str | None = Field(None, max_length=32, description="decision_maker, influencer or none")
    need: str | None = Field(None, max_length=32, description="confirmed, possible or none")
    timeline: str | None = Field(None, max_length=32,
                                 description="under_3_months, 3_to_12_months, over_12_months or none")


class BantOut(BaseModel):
    budget: str | None
    authority: str | None
    need: str | None
    timeline: str | None
    answered: bool = Field(description="All four questions have an answer (\"none\" is one).")
    qualified: bool = Field(description="All four answered and none of them is \"none\".")
    updated_at: UtcDatetime | None


class MoveIn(InputModel):
    to: str = Field(max_length=32, description="The stage to move to.")
    reason_code: str | None = Field(None, max_length=40,
                                    description="Required for disqualified and recycled; see /lifecycle/reasons.")
    note: str = Field("", max_length=1000, description="Free text; required with reason code 'other'.")


class AcceptIn(InputModel):
    note: str = Field("", max_length=1000)


class RejectIn(InputModel):
    reason_code: str | None = Field(None, max_length=40, description="A recycle reason code.")
    note: str = Field("", max_length=1000, description="Free text; required with reason code 'other'.")


class MoveOut(BaseModel):
    """The lead's stage and outcome after the move, and the history row it wrote."""

    lead_id: int
    stage: str
    outcome: str | None
    change: StageChangeOut


class StageSpanOut(BaseModel):
    stage: str
    entered_at: UtcDatetime
    left_at: UtcDatetime | None = Field(description="null while the lead is still in this stage")
    seconds: int


class StageReachOut(BaseModel):
    stage: str
    reached_at: UtcDatetime | None = Field(description="null when the lead never reached this stage")
    seconds: int | None = Field(description="from the lead's creation")


class StagesOut(BaseModel):
    stage: str
    seconds_in_stage: int | None
    history: list[StageChangeOut]
    durations: list[StageSpanOut]
    time_to: list[StageReachOut]


class CodeOut(BaseModel):
    code: str
    label: str


class BantValueOut(BaseModel):
    value: str
    label: str


class BantFieldOut(BaseModel):
    field: str
    label: str
    question: str
    values: list[BantValueOut]


class ReasonsOut(BaseModel):
    disqualified: list[CodeOut]
    recycled: list[CodeOut]
    bant: list[BantFieldOut]
