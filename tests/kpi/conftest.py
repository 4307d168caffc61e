"""Worlds the KPI tests read, built through the services, and the workspace time zone they need."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from leadflow.campaigns.schemas import SpendIn
from leadflow.campaigns.service import record_spend
from leadflow.capture.schemas import FormIn
from leadflow.capture.service import create_form
from leadflow.config import get_settings
from leadflow.db.session import get_sessionmaker
from leadflow.leads.events import append_events
from leadflow.leads.schemas import BatchEventIn, LeadCreate, LeadUpdate, Touch
from leadflow.leads.service import update_lead, upsert_lead
from leadflow.lifecycle.service import move_to_stage
from tests.conftest import truncate_all
from tests.factories import make_campaign

MADRID = "Europe/Madrid"


@contextmanager
def workspace_timezone(name: str) -> Iterator[None]:
    """Settings with LEADFLOW_TIMEZONE=NAME inside the block, the previous settings after it."""
    before = os.environ.get("LEADFLOW_TIMEZONE")
    os.environ["LEADFLOW_TIMEZONE"] = name
    get_settings.cache_clear()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("LEADFLOW_TIMEZONE", None)
        else:
            os.environ["LEADFLOW_TIMEZONE"] = before
        get_settings.cache_clear()


@pytest.fixture
def madrid() -> Iterator[str]:
    with workspace_timezone(MADRID):
        yield MADRID


def add_lead(session: Session, *, created_at: datetime, channel: str | None = None, campaign_id: int | None = None,
             form_id: int | None = None, email: str | None = None, **fields):
    """A lead created at CREATED_AT (naive UTC) with the given first touch, campaign and form."""
    add_lead.n += 1
    data = LeadCreate(email=email or f"kpi{add_lead.n}@corp{add_lead.n % 5}.example", created_at=created_at,
                      first_touch=Touch(channel=channel) if channel else None, campaign_id=campaign_id, **fields)
    return upsert_lead(session, data=data, actor_type="import", form_id=form_id).lead


add_lead.n = 0


def move(session: Session, lead, stage: str, at: datetime) -> None:
    move_to_stage(session, lead=lead, to_stage=stage, reason="kpi test", actor_type="api", at=at)


def contact(session: Session, lead, at: datetime, *, kind: str = "call", source: str = "user") -> None:
    append_events(session, events=[BatchEventIn(lead_id=lead.id, type=kind, occurred_at=at)], source=source, now=at)


def spend(session: Session, campaign, amounts: dict[date, str]) -> None:
    record_spend(session, campaign=campaign,
                 entries=[SpendIn(day=d, amount=Decimal(a)) for d, a in sorted(amounts.items())])


# Instants around Madrid's local midnights and DST changes (naive UTC): CET is UTC+1, CEST UTC+2;
# summer time starts 2026-03-29 at 01:00 UTC and ends 2026-10-25 at 01:00 UTC.
BOUNDARY_INSTANTS = (
    datetime(2026, 3, 28, 22, 59, 59),  # 23:59:59 CET, Saturday 28 March
    datetime(2026, 3, 28, 23, 0, 0),  # 00:00 CET, Sunday 29 March (week of Monday 23)
    datetime(2026, 3, 29, 0, 59, 59),  # 01:59:59 CET, just before the gap
    datetime(2026, 3, 29, 1, 0, 0),  # 03:00 CEST, just after it
    datetime(2026, 3, 29, 21, 59, 59),  # 23:59:59 CEST, still Sunday 29
    datetime(2026, 3, 29, 22, 0, 0),  # 00:00 CEST, Monday 30 March: a new ISO week
    datetime(2026, 3, 31, 21, 59, 59),  # 23:59:59 CEST, 31 March
    datetime(2026, 3, 31, 22, 0, 0),  # 00:00 CEST, 1 April: a new month
    datetime(2026, 10, 24, 21, 59, 59),  # 23:59:59 CEST, Saturday 24 October
    datetime(2026, 10, 24, 22, 0, 0),  # 00:00 CEST, Sunday 25 October
    datetime(2026, 10, 25, 0, 30, 0),  # 02:30 CEST, first pass through the repeated hour
    datetime(2026, 10, 25, 1, 30, 0),  # 02:30 CET, second pass
    datetime(2026, 10, 25, 22, 59, 59),  # 23:59:59 CET, still Sunday 25
    datetime(2026, 10, 25, 23, 0, 0),  # 00:00 CET, Monday 26 October
    datetime(2026, 10, 31, 22, 59, 59),  # 23:59:59 CET, 31 October
    datetime(2026, 10, 31, 23, 0, 0),  # 00:00 CET, 1 November
)
CHANNELS = ("paid_search", "webinar", "email", "organic_search", None)
PROFILES = (  # (job title, industry, company size): fit grades A to D under the default model
    {"job_title": "CEO", "industry": "Software", "company_size": "51-200"},
    {"job_title": "Head of Sales", "industry": "Software"},
    {"job_title": "Marketing Manager"},
    {"job_title": "Student"},
    {},
)


@dataclass
class World:
    """What build_world made: ids to filter on, and the range that holds it."""

    campaigns: dict[str, int] = field(default_factory=dict)
    forms: dict[str, int] = field(default_factory=dict)
    lead_ids: list[int] = field(default_factory=list)


def build_world(session: Session, *, seed: int = 7) -> World:
    """A workspace in Madrid time: ~130 leads created in March-April and October-November 2026 (some
    exactly at local midnights and DST changes), from three campaigns (one with zero spend), two
    forms, five channels (one missing) and five fit profiles; random funnel paths with disqualified,
    recycled-and-back, reopened customers, conversions months after creation, a lead won without
    reaching the customer stage; sales calls before and after sql, an API call and a BANT-like edit
    that are no sales contact; daily spend in both seasons."""
    rng = random.Random(seed)
    world = World()
    brand = make_campaign(session, name="Brand search", channel="paid_search")
    webinar = make_campaign(session, name="Webinar series", channel="webinar")
    newsletter = make_campaign(session, name="Newsletter", channel="email")
    world.campaigns = {"brand": brand.id, "webinar": webinar.id, "newsletter": newsletter.id}
    for key in ("demo", "ebook"):
        form = create_form(session, data=FormIn(slug=f"kpi-{key}", name=f"Form {key}",
                                                fields=[{"key": "email", "type": "email"}]))
        world.forms[key] = form.id
    campaign_of = {"paid_search": brand.id, "webinar": webinar.id, "email": newsletter.id}

    spring = [datetime(2026, 3, 24) + timedelta(hours=rng.uniform(0, 24 * 14)) for _ in range(50)]
    autumn = [datetime(2026, 10, 20) + timedelta(hours=rng.uniform(0, 24 * 14)) for _ in range(60)]
    created = sorted([*BOUNDARY_INSTANTS, *spring, *autumn, *BOUNDARY_INSTANTS[:4]])
    for at in created:
        channel = CHANNELS[rng.randrange(len(CHANNELS))]
        campaign = campaign_of.get(channel) if rng.random() < 0.85 else None
        form = [None, world.forms["demo"], world.forms["ebook"]][rng.randrange(3)]
        exact = at in BOUNDARY_INSTANTS  # to the microsecond, where a day, week or month begins
        lead = add_lead(session, created_at=at if exact else at.replace(microsecond=rng.randrange(1_000_000)),
                        channel=channel, campaign_id=campaign, form_id=form, **PROFILES[rng.randrange(len(PROFILES))])
        world.lead_ids.append(lead.id)
        _walk(session, rng, lead, at)

    for day in range(60):
        d = date(2026, 3, 1) + timedelta(days=day)
        spend(session, brand, {d: f"{rng.randint(0, 9000) / 100:.2f}"})
        spend(session, brand, {date(2026, 10, 1) + timedelta(days=day): f"{rng.randint(0, 9000) / 100:.2f}"})
    spend(session, webinar, {date(2026, 3, 29): "1500.00", date(2026, 10, 25): "999.99", date(2026, 11, 2): "0.01"})
    spend(session, newsletter, {date(2026, 3, 30): "0.00", date(2026, 10, 26): "0.00"})
    session.flush()
    return world


def _walk(session: Session, rng: random.Random, lead, created: datetime) -> None:
    """A random path through the funnel after CREATED, with detours, calls and late conversions."""
    at = created
    path = rng.choice([
        (), ("mql",), ("mql", "sql"), ("mql", "sql", "customer"), ("sql", "customer"), ("customer",),
        ("disqualified",), ("mql", "disqualified"), ("mql", "recycled", "mql", "sql"),
        ("mql", "sql", "customer", "sql"), ("suspect", "prospect", "mql", "sql", "recycled"),
        ("mql", "sql", "customer"),
    ])
    for stage in path:
        # Hours to months: some leads convert long after the range they were created in.
        at += timedelta(hours=rng.choice([0.5, 3, 20, 24 * 4, 24 * 30, 24 * 75]) * rng.uniform(0.5, 1.5))
        if stage == "sql" and rng.random() < 0.7:
            contact(session, lead, at - timedelta(hours=2))  # before sql: not the first contact after it
            if rng.random() < 0.8:
                contact(session, lead, at + timedelta(hours=rng.uniform(0, 96)),
                        kind=rng.choice(["call", "meeting", "email_sent"]))
            contact(session, lead, at + timedelta(minutes=30), kind="property_change")  # an edit, not a contact
            contact(session, lead, at + timedelta(minutes=10), source="api")  # a CRM sync, not a person
        move(session, lead, stage, at)
    if not path and rng.random() < 0.15:
        # Won without passing through the customer stage (the outcome set with an explicit stage).
        update_lead(session, lead=lead, data=LeadUpdate(outcome="won", stage="mql"))


@pytest.fixture(scope="module")
def world(engine) -> Iterator[World]:
    """build_world committed, in Madrid time, for the tests of one module (which only read it)."""
    truncate_all(engine)
    with workspace_timezone(MADRID):
        with get_sessionmaker()() as s, s.begin():
            built = build_world(s)
        yield built
