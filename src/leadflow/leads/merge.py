"""Merge rules for lead properties: which fields a later value overwrites and which it never does.

`set` fields take the newest non-empty value; `set_once` fields keep the first value ever seen.
Every change to an existing value is returned so the caller can put it on the timeline.
"""

from __future__ import annotations

from typing import Any

from leadflow.leads.models import TOUCH_FIELDS

SET_FIELDS: tuple[str, ...] = (
    "first_name", "last_name", "phone", "job_title", "company_name", "industry", "company_size",
    "country", "city", "website", "owner_id", "deal_value", "lost_reason", "consent_email",
    "consent_tracking", *(f"last_{f}" for f in TOUCH_FIELDS),
)
SET_ONCE_FIELDS: tuple[str, ...] = (
    "email", "external_id", "campaign_id", "form_id", *(f"first_{f}" for f in TOUCH_FIELDS),
)
# Consent is never flipped back to "unknown" by a later source that simply does not know.
_NEVER_TO_UNKNOWN = {"consent_email", "consent_tracking"}


def merge_fields(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields to write, as {field: (old, new)}, applying set and set-once rules."""
    out: dict[str, tuple[Any, Any]] = {}
    for field, new in incoming.items():
        if new is None or new == "":
            continue
        old = current.get(field)
        if field in _NEVER_TO_UNKNOWN and new == "unknown":
            continue
        if field in SET_ONCE_FIELDS:
            if old is None:
                out[field] = (old, new)
        elif field in SET_FIELDS:
            if old != new:
                out[field] = (old, new)
        else:
            raise KeyError(f"no merge rule for field {field!r}")
    return out


def merge_properties(
    current: dict[str, Any], set_: dict[str, Any] | None, set_once: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, tuple[Any, Any]]]:
    """The merged custom properties and the keys that changed, as {key: (old, new)}."""
    merged = dict(current)
    changes: dict[str, tuple[Any, Any]] = {}
    for key, value in (set_once or {}).items():
        if key not in merged and value is not None:
            merged[key] = value
            changes[key] = (None, value)
    for key, value in (set_ or {}).items():
        if merged.get(key) != value:
            changes[key] = (merged.get(key), value)
            merged[key] = value
    return merged, changes
