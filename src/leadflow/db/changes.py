"""Which leads a unit of work changed, so that what depends on them (scores) follows at commit.

ORM writes of leads and events are noticed at flush; set-based writes (raw executemany) call
`mark_leads_changed`. Domains above (scoring) register what runs before the commit with
`on_leads_changed`; nothing here knows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import event
from sqlalchemy.orm import Session

KEY = "leadflow.changed_leads"
_HANDLERS: list[Callable[[Session, set[int]], None]] = []
_RUNNING = "leadflow.changed_leads.running"


def mark_leads_changed(session: Session, lead_ids: Iterable[int]) -> None:
    """Note that LEAD_IDS changed in SESSION's transaction."""
    if session.info.get(_RUNNING):
        return
    session.info.setdefault(KEY, set()).update(int(i) for i in lead_ids if i is not None)


def on_leads_changed(handler: Callable[[Session, set[int]], None]) -> None:
    """Run HANDLER(session, lead_ids) before a transaction that changed leads commits (once per handler)."""
    if handler not in _HANDLERS:
        _HANDLERS.append(handler)


def _after_flush(session: Session, _context) -> None:
    from leadflow.leads.models import Event, Lead

    if session.info.get(_RUNNING) or not _HANDLERS:
        return
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Lead) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, Event) and obj.lead_id is not None:
            ids.add(obj.lead_id)
    if ids:
        mark_leads_changed(session, ids)


def _before_commit(session: Session) -> None:
    if session.info.get(_RUNNING) or not _HANDLERS:
        return
    session.flush()
    ids = session.info.pop(KEY, None)
    if not ids:
        return
    session.info[_RUNNING] = True
    try:
        for handler in _HANDLERS:
            handler(session, ids)
        session.flush()
    finally:
        session.info.pop(_RUNNING, None)
        session.info.pop(KEY, None)


def _forget(session: Session, *_args) -> None:
    session.info.pop(KEY, None)


event.listen(Session, "after_flush", _after_flush)
event.listen(Session, "before_commit", _before_commit)
event.listen(Session, "after_rollback", _forget)
