"""A small realistic workspace for UI tests and screenshots, built through the services."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from leadflow.campaigns.schemas import SpendIn
from leadflow.campaigns.service import record_spend
from leadflow.db.base import utcnow
from leadflow.leads.schemas import EventIn, LeadCreate, LeadUpdate, Touch
from leadflow.leads.service import append_event, update_lead, upsert_lead
from leadflow.lifecycle.service import move_to_stage
from tests.factories import make_campaign

FIRST = ["Ana", "Lucía", "Marco", "Sofia", "Daniel", "Emma", "Noah", "Olivia", "Liam", "Mia", "Lucas", "Chloé",
         "Hugo", "Elena", "Pablo", "Sara", "Jonas", "Ines", "Mateo", "Priya", "Kenji", "Amara", "Tomás", "Nora"]
LAST = ["García", "Martínez", "Rossi", "Müller", "Dubois", "Smith", "Johnson", "Silva", "Novak", "Kowalski",
        "Andersen", "Fernández", "López", "Bianchi", "Schmidt", "Okafor", "Tanaka", "Patel", "Moreau", "Costa"]
COMPANIES = [("Acme Analytics", "acme-analytics.com", "Software", "51-200", "ES"),
             ("Northwind Logistics", "northwind.io", "Logistics", "201-500", "DE"),
             ("Globex Retail", "globex.com", "Retail", "1000+", "US"),
             ("Initech Finance", "initech.co", "Financial services", "501-1000", "GB"),
             ("Umbrella Health", "umbrellahealth.org", "Healthcare", "1000+", "FR"),
             ("Hooli Cloud", "hooli.dev", "Software", "11-50", "US"),
             ("Stark Energía", "starkenergia.es", "Energy", "201-500", "ES"),
             ("Wayne Education", "wayne-edu.com", "Education", "51-200", "MX"),
             ("Soylent Foods", "soylent-foods.it", "Food & beverage", "11-50", "IT"),
             ("Vandelay Industries", "vandelay.com", "Manufacturing", "501-1000", "US")]
TITLES = ["Marketing Manager", "Head of Growth", "CTO", "VP Sales", "Operations Lead", "Data Analyst",
          "CEO", "Product Manager", "Procurement Officer", "IT Director"]
TOUCHES = [("google", "cpc", "spring-search"), ("google", "organic", None), ("linkedin", "paid_social", "abm-q2"),
           ("newsletter", "email", "nurture-june"), ("expo-madrid", "trade_show", "expo-2026"),
           ("partner", "referral", None), (None, None, None), ("twitter", "social", None)]
EVENTS = ["page_view", "page_view", "page_view", "download", "email_open", "email_click", "webinar",
          "trial_usage", "form_submit", "call", "meeting"]


def seed_workspace(session: Session, *, leads: int = 60, owner_ids: list[int] | None = None, seed: int = 7) -> list:
    """LEADS leads over the last 90 days with campaigns, spend, timelines and stage histories."""
    rnd = random.Random(seed)
    now = utcnow()
    campaigns = [
        make_campaign(session, name="Spring search", channel="paid_search", utm_campaign="spring-search",
                      budget=Decimal("12000"), starts_on=(now - timedelta(days=80)).date()),
        make_campaign(session, name="ABM Q2 LinkedIn", channel="paid_social", utm_campaign="abm-q2",
                      budget=Decimal("8000"), description="Account-based ads for the top 200 accounts"),
        make_campaign(session, name="June nurture newsletter", channel="email", utm_campaign="nurture-june"),
        make_campaign(session, name="Expo Madrid 2026", channel="trade_show", utm_campaign="expo-2026",
                      budget=Decimal("25000"), starts_on=(now - timedelta(days=40)).date(),
                      ends_on=(now - timedelta(days=38)).date()),
    ]
    for c in campaigns[:3]:
        record_spend(session, campaign=c, entries=[
            SpendIn(day=(now - timedelta(days=d)).date(), amount=Decimal(rnd.randint(80, 600)))
            for d in range(1, 30, 3)])
    made = []
    for i in range(leads):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        company, domain, industry, size, country = rnd.choice(COMPANIES)
        source, medium, campaign = rnd.choice(TOUCHES)
        created = now - timedelta(days=rnd.uniform(0, 90), minutes=rnd.randint(0, 600))
        touch = Touch(source=source, medium=medium, campaign=campaign,
                      landing_page=f"https://www.example.com/{rnd.choice(['pricing', 'demo', 'ebook/lead-scoring', 'blog/bant'])}",
                      referrer="https://www.google.com/" if medium in ("cpc", "organic") else None)
        lead = upsert_lead(session, actor_type="import", data=LeadCreate(
            email=f"{first}.{last}{i}@{domain}".lower().replace("í", "i").replace("ü", "u").replace("é", "e")
            .replace("á", "a").replace("ó", "o"),
            first_name=first, last_name=last, job_title=rnd.choice(TITLES), company_name=company,
            industry=industry, company_size=size, country=country, city=None, created_at=created,
            phone=None, first_touch=touch, consent_email=rnd.choice(["granted", "granted", "unknown", "denied"]),
            properties={"lead_magnet": rnd.choice(["Lead scoring ebook", "BANT checklist", "ROI calculator"]),
                        "employees_estimate": rnd.randint(10, 5000)},
        )).lead
        if owner_ids and rnd.random() < 0.6:
            lead.owner_id = rnd.choice(owner_ids)
        t = created
        for _ in range(rnd.randint(1, 7)):
            t = t + timedelta(hours=rnd.uniform(2, 200))
            if t > now:
                break
            kind = rnd.choice(EVENTS)
            props = {"page_view": {"url": "https://www.example.com/pricing", "title": "Pricing"},
                     "download": {"asset": "Lead scoring ebook (PDF)"},
                     "email_open": {"subject": "5 signs a lead is sales-ready"},
                     "email_click": {"subject": "5 signs a lead is sales-ready", "url": "https://www.example.com/demo"},
                     "webinar": {"title": "Qualifying leads with BANT", "attended": True},
                     "trial_usage": {"feature": "Created first scoring rule"},
                     "form_submit": {"form": "Request a demo"},
                     "call": {"subject": "Discovery call", "outcome": "connected"},
                     "meeting": {"subject": "Product demo"}}[kind]
            append_event(session, lead=lead, data=EventIn(type=kind, occurred_at=t, properties=props))
        path = rnd.choice([[], ["mql"], ["mql", "sql"], ["mql", "sql", "customer"], ["disqualified"], ["mql", "recycled"]])
        t = created
        for stage in path:
            t = t + timedelta(days=rnd.uniform(0.5, 12))
            if t > now:
                break
            reason = {"mql": "Engagement score passed 60", "sql": "Sales accepted: BANT complete",
                      "customer": "Closed won", "disqualified": "Student, not a buyer",
                      "recycled": "No budget this year"}[stage]
            move_to_stage(session, lead=lead, to_stage=stage, reason=reason,
                          actor_type="user", actor_id=owner_ids[0] if owner_ids else None, at=t)
        made.append(lead)
    if made:
        update_lead(session, lead=made[0], data=LeadUpdate(job_title="VP Marketing", city="Madrid"),
                    actor_type="user")
    session.flush()
    return made
