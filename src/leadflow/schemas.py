"""API types shared by every domain: UTC datetimes, bounded ids, the strict input base model."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)


def _as_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UtcDatetime = Annotated[datetime, PlainSerializer(_as_utc, return_type=str | None)]


def _to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        try:
            value = value.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise ValueError("date is out of range once converted to UTC") from None
    return value


InputDatetime = Annotated[datetime, AfterValidator(_to_naive_utc)]

# Largest id a client may send: users and campaigns have 32-bit keys on PostgreSQL, and a
# larger number would overflow the column instead of simply matching nothing.
MAX_ID = 2_147_483_647
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


def check_storable(value: Any) -> Any:
    """VALUE unchanged if every database can store it; ValueError naming what cannot be stored."""
    # PostgreSQL refuses NUL in text and JSONB, and JSON has no NaN or Infinity: without this
    # check such input passes validation and fails in the database. A loop, not recursion, so
    # deeply nested JSON cannot exhaust the stack.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValueError("text cannot contain NUL (\\u0000) characters")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError("numbers must be finite (no NaN or Infinity)")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return value


class InputModel(BaseModel):
    """Base of request bodies and filters: unknown keys refused, unstorable values refused."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _only_storable(cls, v: Any, info: ValidationInfo) -> Any:
        if isinstance(v, dict) and _holds_input_model(cls.model_fields[info.field_name].annotation):
            return v  # the nested model checks its own fields, naming them
        return check_storable(v)


def _holds_input_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, InputModel):
        return True
    return any(_holds_input_model(a) for a in get_args(annotation))
