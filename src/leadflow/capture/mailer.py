"""The email outbox: emails are queued in the transaction that decides to send them, and sent after it commits.

`queue_email` adds a row to `outbox_emails` (the caller's transaction commits it, or rolls it back
with everything else); `send_pending_emails` sends queued rows over SMTP, one commit per email.
Delivery is at least once: a crash after the SMTP server accepted an email but before its
`sent_at` was committed sends it again on the next run. Once `sent_at` is committed the email is
never sent again.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from leadflow.capture.models import OutboxEmail
from leadflow.config import Settings, get_settings
from leadflow.db.base import utcnow

log = logging.getLogger(__name__)

# Wait before attempt n+1, counted from the email's creation: a server down for a few minutes
# delays the email, one down for hours gives it up after MAX_ATTEMPTS (kept with its last error).
RETRY_AFTER = (timedelta(0), timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = len(RETRY_AFTER)
SMTP_TIMEOUT_S = 30


def queue_email(session: Session, *, to_address: str, subject: str, body_text: str, kind: str,
                body_html: str | None = None, lead_id: int | None = None) -> OutboxEmail:
    """An email to send once the caller's transaction commits."""
    email = OutboxEmail(to_address=to_address, subject=subject, body_text=body_text, body_html=body_html, kind=kind,
                        lead_id=lead_id, created_at=utcnow(), attempts=0)
    session.add(email)
    session.flush()
    return email


def _due(now: datetime):
    """Unsent emails whose next attempt is due (attempts so far and creation time say when)."""
    return and_(OutboxEmail.sent_at.is_(None), or_(*(
        and_(OutboxEmail.attempts == n, OutboxEmail.created_at <= now - wait) for n, wait in enumerate(RETRY_AFTER))))


def _message(email: OutboxEmail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, email.to_address, email.subject
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(email.body_text)
    if email.body_html:
        msg.add_alternative(email.body_html, subtype="html")
    return msg


def _connect(settings: Settings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S)
    if settings.smtp_starttls:
        smtp.starttls()
    if settings.smtp_username:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
        smtp.login(settings.smtp_username, password)
    return smtp


def send_pending_emails(bind: Engine | sessionmaker[Session], *, limit: int = 50) -> int:
    """Send up to LIMIT due emails over the configured SMTP server; how many were sent.

    Each email is claimed (FOR UPDATE SKIP LOCKED on PostgreSQL, so concurrent senders skip it),
    sent and marked sent in its own transaction. A failure adds an attempt and keeps the error;
    a server that cannot be reached ends the run (the other emails keep their attempts).
    """
    settings = get_settings()
    if not settings.smtp_host:
        return 0
    factory = bind if isinstance(bind, sessionmaker) else sessionmaker(bind=bind, expire_on_commit=False)
    smtp: smtplib.SMTP | None = None
    sent = 0
    skip: set[int] = set()
    try:
        for _ in range(limit):
            with factory() as session, session.begin():
                query = select(OutboxEmail).where(_due(utcnow())).order_by(OutboxEmail.id).limit(1)
                if skip:
                    query = query.where(OutboxEmail.id.not_in(skip))
                if session.get_bind().dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                email = session.scalar(query)
                if email is None:
                    break
                try:
                    if smtp is None:
                        smtp = _connect(settings)
                    smtp.send_message(_message(email, settings.mail_from))
                except (smtplib.SMTPException, OSError) as exc:
                    email.attempts += 1
                    email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    skip.add(email.id)
                    log.warning("email %s to %s not sent (attempt %d): %s", email.id, email.to_address,
                                email.attempts, email.last_error)
                    if smtp is None or isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
                        break  # the server is unreachable: the other emails wait for the next run
                    continue
                email.sent_at, email.last_error = utcnow(), None
                sent += 1
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    return sent
