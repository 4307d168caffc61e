"""Reason codes as data: why a lead was disqualified or sent back to nurture."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReasonCode:
    code: str
    label: str


OTHER = "other"

DISQUALIFY_REASONS: tuple[ReasonCode, ...] = (
    ReasonCode("not_a_fit", "Not a fit (industry, size or role)"),
    ReasonCode("no_budget", "No budget"),
    ReasonCode("competitor", "Competitor"),
    ReasonCode("student_or_job_seeker", "Student or job seeker"),
    ReasonCode("spam_or_fake", "Spam or fake details"),
    ReasonCode("duplicate", "Duplicate of another lead"),
    ReasonCode("unreachable", "Unreachable"),
    ReasonCode(OTHER, "Other (say why in the note)"),
)

RECYCLE_REASONS: tuple[ReasonCode, ...] = (
    ReasonCode("not_ready", "Not ready to buy yet"),
    ReasonCode("no_response", "No response"),
    ReasonCode("bad_timing", "Bad timing"),
    ReasonCode("lost_to_status_quo", "Stayed with the status quo"),
    ReasonCode(OTHER, "Other (say why in the note)"),
)

# The stages a lead only enters with a reason code, and the codes each accepts.
REASONS_BY_STAGE: dict[str, tuple[ReasonCode, ...]] = {
    "disqualified": DISQUALIFY_REASONS,
    "recycled": RECYCLE_REASONS,
}


def reason_codes(stage: str) -> tuple[str, ...]:
    """The codes STAGE accepts (empty when the stage needs none)."""
    return tuple(r.code for r in REASONS_BY_STAGE.get(stage, ()))


def reason_label(stage: str, code: str) -> str:
    """The label of CODE for STAGE, or the code itself when unknown."""
    for r in REASONS_BY_STAGE.get(stage, ()):
        if r.code == code:
            return r.label
    return code


def reason_text(code: str | None, note: str) -> str:
    """How a stage change stores its reason: "code: note", "code", or the bare note."""
    if code and note:
        return f"{code}: {note}"
    return code or note


def split_reason(stage: str, reason: str) -> tuple[str | None, str]:
    """(code, note) of a stored reason when it starts with one of STAGE's codes, else (None, reason)."""
    head, sep, rest = reason.partition(":")
    if head in reason_codes(stage) and (sep or not rest):
        return head, rest.strip()
    return None, reason
