"""The KPI query: date range, period, breakdown and filters, identical in the API, the CLI and the pages."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from leadflow.schemas import DbId, InputModel

Period = Literal["day", "week", "month"]  # weeks start on Monday (ISO)
GroupBy = Literal["none", "channel", "campaign", "form"]

DEFAULT_DAYS = 90  # a range left open covers the last 90 local days, today included
MAX_DAYS = 3660  # about ten years: a longer range is a typo, and its day rows would be huge
MAX_VALUES = 100  # values of one repeatable filter
NO_CHANNEL = "none"  # the channel filter value that matches leads without a first-touch channel


class KpiError(ValueError):
    """A KPI request that cannot be answered; `field` names the culprit, `status` the HTTP answer."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.field = field
        self.status = status


class KpiQuery(InputModel):
    """Which leads a KPI looks at and how it breaks them down."""

    date_from: date | None = Field(None, description="First local date (inclusive); default date_to - 89 days.")
    date_to: date | None = Field(None, description="Last local date (inclusive); default today.")
    period: Period = Field("month", description="Rows per day, ISO week (from Monday) or month.")
    by: GroupBy = Field("none", description="Break rows down by first-touch channel, campaign or form.")
    channel: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        None, max_length=MAX_VALUES, description="First-touch channels; 'none' matches leads without one.")
    campaign_id: list[DbId] | None = Field(None, max_length=MAX_VALUES)
    form_id: list[DbId] | None = Field(None, max_length=MAX_VALUES)

    @field_validator("channel", mode="before")
    @classmethod
    def _strip_channels(cls, v: object) -> object:
        return [c.strip() if isinstance(c, str) else c for c in v] if isinstance(v, list) else v

    @field_validator("channel", "campaign_id", "form_id")
    @classmethod
    def _none_if_empty(cls, v: list | None) -> list | None:
        return sorted(set(v)) if v else None

    @model_validator(mode="after")
    def _range(self) -> KpiQuery:
        if self.date_from and self.date_to:
            if self.date_to < self.date_from:
                _fail("date_to", "date_order", "is before date_from ({date_from})", self.date_to,
                      date_from=self.date_from.isoformat())
            if span_days(self.date_from, self.date_to) > MAX_DAYS:
                _fail("date_from", "date_span", "the range is {days} days long; at most {max} days",
                      self.date_from, days=span_days(self.date_from, self.date_to), max=MAX_DAYS)
        return self


def span_days(date_from: date, date_to: date) -> int:
    """Days in DATE_FROM..DATE_TO, both included."""
    return (date_to - date_from).days + 1


def _fail(field: str, kind: str, message: str, value: object, **ctx: object) -> None:
    error = PydanticCustomError(kind, message, ctx)
    raise ValidationError.from_exception_data(
        "KpiQuery", [InitErrorDetails(type=error, loc=(field,), input=value)])
