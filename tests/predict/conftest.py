"""A workspace with a history of outcomes that a model can learn from."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from leadflow.db.session import get_sessionmaker
from leadflow.leads.events import append_events
from leadflow.leads.schemas import BatchEventIn
from leadflow.lifecycle.service import move_to_stage
from tests.factories import make_lead

NOW = datetime(2026, 11, 20, 12, 0, 0)
HISTORY_LEADS = 260
# Events every lost lead gets *after* it was disqualified: a model that saw them would think lost
# leads are engaged. Point-in-time features must not count them.
LATE_VIEWS = 6


def build_history(n: int = HISTORY_LEADS, *, seed: int = 7) -> dict:
    """N leads created over the last 300 days: Software leads and leads that view pricing convert
    more; 85 % have an outcome (customer at created + 20 days, or disqualified), the rest are open.

    Returns ids by kind: {"won": [...], "lost": [...], "open": [...]}.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, list[int]] = {"won": [], "lost": [], "open": []}
    with get_sessionmaker()() as s, s.begin():
        for i in range(n):
            created = NOW - timedelta(days=int(rng.integers(30, 300)), hours=int(rng.integers(0, 24)))
            software = bool(rng.random() < 0.5)
            views = int(rng.integers(0, 9))
            lead = make_lead(s, email=f"h{i}@{'soft' if software else 'shop'}{i % 5}.io",
                             industry="Software" if software else "Retail",
                             company_size="51-200" if rng.random() < 0.5 else "1-10", created_at=created)
            events = [BatchEventIn(lead_id=lead.id, type="page_view", properties={"url": "/pricing"},
                                   occurred_at=created + timedelta(days=1 + k)) for k in range(views)]
            logit = -2.2 + 1.6 * software + 0.45 * views
            decided = rng.random() < 0.85
            won = rng.random() < 1 / (1 + np.exp(-logit))
            at = created + timedelta(days=20)
            if decided and not won:
                events += [BatchEventIn(lead_id=lead.id, type="page_view", properties={"url": "/blog"},
                                        occurred_at=at + timedelta(days=1 + k)) for k in range(LATE_VIEWS)]
            if events:
                append_events(s, events=events)
            if not decided:
                out["open"].append(lead.id)
                continue
            move_to_stage(s, lead=lead, to_stage="customer" if won else "disqualified",
                          reason="closed in the CRM" if won else "no budget", actor_type="api", at=at)
            out["won" if won else "lost"].append(lead.id)
    return out


@pytest.fixture
def history(engine_clean) -> dict:
    return build_history()
