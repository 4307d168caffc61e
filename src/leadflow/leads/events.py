"""Set-based event writes: batches from the API and trackers, anonymous visitors stitched to leads.

A batch of up to 1,000 events costs a handful of statements whatever its size: one lookup per
kind of identity, one duplicate check, one multi-row insert, one executemany for the leads'
last activity.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from leadflow.db.base import utcnow
from leadflow.db.changes import mark_leads_changed
from leadflow.leads.models import ConsentRecord, Event, Lead
from leadflow.leads.schemas import BatchEventIn

# Events that are not something the lead did: they do not move last_activity_at.
NOT_ACTIVITY = frozenset({"property_change", "note", "email_sent"})


@dataclass(slots=True)
class BatchResult:
    stored: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (index, field, message)
    lead_ids: set[int] = field(default_factory=set)


def _lookup(session: Session, column, values: set) -> dict:
    if not values:
        return {}
    return dict(session.execute(select(column, Lead.id).where(column.in_(values))).all())


def append_events(session: Session, *, events: Sequence[BatchEventIn], source: str = "api",
                  now: datetime | None = None) -> BatchResult:
    """Store EVENTS (idempotent by external_id); events naming no known lead are rejected with the reason."""
    now = now or utcnow()
    result = BatchResult()
    by_id = _lookup(session, Lead.id, {e.lead_id for e in events if e.lead_id})
    by_email = _lookup(session, Lead.email, {e.email for e in events if e.email and not e.lead_id})
    by_ext = _lookup(session, Lead.external_id,
                     {e.lead_external_id for e in events if e.lead_external_id and not e.lead_id and not e.email})
    ext_ids = {e.external_id for e in events if e.external_id}
    stored_ext = set(session.scalars(select(Event.external_id).where(Event.external_id.in_(ext_ids)))) if ext_ids else set()
    rows: list[dict] = []
    seen: set[str] = set()
    for i, e in enumerate(events):
        if e.lead_id:
            lead_id, field_name, missing = by_id.get(e.lead_id), "lead_id", f"no lead with id {e.lead_id}"
        elif e.email:
            lead_id, field_name, missing = by_email.get(e.email), "email", f"no lead with email {e.email}"
        elif e.lead_external_id:
            lead_id, field_name, missing = (by_ext.get(e.lead_external_id), "lead_external_id",
                                            f"no lead with external id {e.lead_external_id!r}")
        else:
            lead_id, field_name, missing = None, "", ""
        if field_name and lead_id is None:
            result.rejected.append((i, field_name, missing))
            continue
        if e.external_id and (e.external_id in stored_ext or e.external_id in seen):
            result.duplicates += 1
            continue
        if e.external_id:
            seen.add(e.external_id)
        rows.append({"lead_id": lead_id, "visitor_id": e.visitor_id, "type": e.type,
                     "occurred_at": e.occurred_at or now, "properties": e.properties, "external_id": e.external_id,
                     "source": source, "created_at": now})
    if not rows:
        return result
    cursor, pg = _cursor(session)
    # A concurrent request with the same external ids loses quietly (its events are the same).
    cursor.executemany(_sql(pg, _INSERT), [
        (r["lead_id"], r["visitor_id"], r["type"], _ts(pg, r["occurred_at"]), json.dumps(r["properties"]),
         r["external_id"], r["source"], _ts(pg, r["created_at"])) for r in rows])
    result.stored = cursor.rowcount
    result.duplicates += len(rows) - cursor.rowcount
    _touch_activity(cursor, pg, rows)
    _unsubscribes(session, rows, source=source, now=now)
    result.lead_ids = {r["lead_id"] for r in rows if r["lead_id"]}
    mark_leads_changed(session, result.lead_ids)
    return result


# The driver's executemany, under the session's transaction: SQLAlchemy's per-row parameter
# processing cost ~45 µs an event; this costs a few.
_INSERT = ("INSERT INTO events (lead_id, visitor_id, type, occurred_at, properties, external_id, source, created_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (external_id) DO NOTHING")
_LATEST = ("UPDATE leads SET last_activity_at = ? WHERE id = ? AND (last_activity_at IS NULL OR last_activity_at < ?)")


def _cursor(session: Session):
    conn = session.connection()
    return conn.connection.driver_connection.cursor(), conn.dialect.name == "postgresql"


def _sql(pg: bool, sql: str) -> str:
    # PostgreSQL: psycopg placeholders, and the JSON text cast to jsonb.
    return sql.replace("?", "%s").replace("%s, %s, %s, %s, %s, %s, %s, %s", "%s, %s, %s, %s, %s::jsonb, %s, %s, %s") \
        if pg else sql


def _ts(pg: bool, value: datetime) -> datetime | str:
    return value if pg else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _touch_activity(cursor, pg: bool, rows: list[dict]) -> None:
    latest: dict[int, datetime] = {}
    for r in rows:
        if r["lead_id"] and r["type"] not in NOT_ACTIVITY:
            at = r["occurred_at"]
            if r["lead_id"] not in latest or at > latest[r["lead_id"]]:
                latest[r["lead_id"]] = at
    if latest:
        cursor.executemany(_sql(pg, _LATEST), [(_ts(pg, at), lid, _ts(pg, at)) for lid, at in latest.items()])


def _unsubscribes(session: Session, rows: list[dict], *, source: str, now: datetime) -> None:
    ids = {r["lead_id"] for r in rows if r["type"] == "unsubscribe" and r["lead_id"]}
    if not ids:
        return
    session.execute(update(Lead).where(Lead.id.in_(ids)).values(consent_email="denied"))
    session.execute(insert(ConsentRecord), [{"lead_id": i, "purpose": "marketing_email", "state": "denied",
                                             "source": source[:64], "recorded_at": now} for i in sorted(ids)])


def stitch_visitor(session: Session, *, visitor_id: str, lead_id: int) -> int:
    """Give LEAD_ID the anonymous events of VISITOR_ID (its page views before it filled a form); how many."""
    moved = session.execute(update(Event).where(Event.visitor_id == visitor_id, Event.lead_id.is_(None))
                            .values(lead_id=lead_id).execution_options(synchronize_session=False))
    latest = session.scalar(select(Event.occurred_at).where(Event.lead_id == lead_id, Event.type.not_in(NOT_ACTIVITY))
                            .order_by(Event.occurred_at.desc()).limit(1))
    if latest is not None:
        cursor, pg = _cursor(session)
        cursor.execute(_sql(pg, _LATEST), (_ts(pg, latest), lead_id, _ts(pg, latest)))
    if moved.rowcount:
        mark_leads_changed(session, [lead_id])
    return moved.rowcount or 0


def lead_of_visitor(session: Session, *, visitor_id: str) -> Lead | None:
    """The lead an anonymous visitor turned out to be (through a stitched form submission), if any."""
    lead_id = session.scalar(select(Event.lead_id).where(Event.visitor_id == visitor_id, Event.lead_id.is_not(None))
                             .limit(1))
    return session.get(Lead, lead_id) if lead_id is not None else None
