"""The lifecycle stages as data: key, label, order and whether they end the funnel."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StageDef:
    key: str
    label: str
    position: int
    description: str
    is_open: bool


STAGES: tuple[StageDef, ...] = (
    StageDef("suspect", "Suspect", 10, "May need the product; not yet identified.", True),
    StageDef("prospect", "Prospect", 20, "Identified: we know who they are.", True),
    StageDef("mql", "Marketing-qualified", 30, "Fits and engages enough for marketing to vouch for.", True),
    StageDef("sql", "Sales-ready", 40, "Accepted by sales; BANT answered.", True),
    StageDef("customer", "Customer", 50, "Bought.", False),
    StageDef("disqualified", "Disqualified", 90, "Not a fit, with a reason.", False),
    StageDef("recycled", "Recycled", 80, "Back to nurture, with a reason.", True),
)
STAGE_KEYS: tuple[str, ...] = tuple(s.key for s in STAGES)
STAGE_BY_KEY = {s.key: s for s in STAGES}
FUNNEL: tuple[str, ...] = ("suspect", "prospect", "mql", "sql", "customer")
DEFAULT_STAGE = "suspect"
IDENTIFIED_STAGE = "prospect"
