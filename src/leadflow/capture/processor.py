"""The background loop that turns pending submissions into leads, next to the web server.

The submit endpoint only stores the raw submission (one insert, one commit) and wakes this loop;
the loop converts pending submissions in batches, each batch in one transaction. A crash of the
process loses nothing: pending rows stay pending and the next start (or `leadflow submissions
process`) picks them up.
"""

from __future__ import annotations

import logging
import threading
import time

from leadflow.capture.mailer import send_pending_emails
from leadflow.capture.service import process_pending_submissions
from leadflow.config import get_settings
from leadflow.db.session import get_sessionmaker, unit_of_work

log = logging.getLogger(__name__)


class SubmissionProcessor:
    """A daemon thread draining pending submissions whenever woken, and every IDLE_WAIT seconds anyway."""

    def __init__(self, *, batch: int = 50, idle_wait: float = 2.0, duty: float = 0.5, retry_wait: float = 1.0):
        self.batch = batch
        self.idle_wait = idle_wait
        # Share of the time spent converting while a backlog lasts: SQLite has one writer, and the
        # submit endpoint's inserts must not wait behind a long run of conversions.
        self.duty = duty
        self.retry_wait = retry_wait
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="leadflow-submissions", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def drain(self) -> int:
        """Process batches until none is left; how many submissions were handled."""
        done = 0
        while not self._stop.is_set():
            started = time.monotonic()
            with unit_of_work() as session:
                n = process_pending_submissions(session, limit=self.batch)
            self._send_emails()
            done += n
            if n < self.batch:
                return done
            self._stop.wait((time.monotonic() - started) * (1 - self.duty) / self.duty)
        return done

    def _send_emails(self) -> None:
        """Send the emails the batch queued (double opt-in), now that it has committed."""
        if not get_settings().smtp_host:
            return
        try:
            send_pending_emails(get_sessionmaker(), limit=self.batch)
        except Exception:  # queued emails stay queued; converting submissions must go on
            log.exception("sending queued emails failed; retrying later")

    def _run(self) -> None:
        wait = self.idle_wait
        while not self._stop.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            try:
                self.drain()
                wait = self.idle_wait
            except Exception:  # the loop must outlive a bad batch; the rows stay pending for the next round
                log.exception("processing submissions failed; retrying in %.1f s", self.retry_wait)
                wait = min(self.retry_wait, self.idle_wait)
