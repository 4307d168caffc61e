"""The group-committing writer behind the submit endpoint, on the real database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from leadflow.capture.intake import SubmissionWriter
from leadflow.capture.models import Submission
from leadflow.capture.schemas import FormIn
from leadflow.capture.service import create_form
from leadflow.db.base import utcnow
from leadflow.db.session import get_sessionmaker, unit_of_work


def test_every_caller_gets_the_id_of_its_own_row_under_concurrency(engine_clean) -> None:
    with unit_of_work() as s:
        form_id = create_form(s, data=FormIn(slug="f", name="F", fields=[{"key": "email", "type": "email"}])).id
    writer = SubmissionWriter()

    def store(i: int) -> tuple[int, int]:
        row = {"form_id": form_id, "received_at": utcnow(), "status": "pending", "reasons": [],
               "payload": {"email": f"p{i}@corp.io", "n": i}, "context": {"ip": "127.0.0.1"}, "visitor_id": None}
        return i, writer.store(row).result(timeout=30)

    try:
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(store, range(400)))
    finally:
        writer.close()
    with get_sessionmaker()() as s:
        stored = {sub.id: sub.payload["n"] for sub in s.scalars(select(Submission))}
    assert len(stored) == 400
    assert all(stored[sub_id] == i for i, sub_id in answers)  # each answer names its own submission
