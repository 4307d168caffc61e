"""Lead magnets: the file a form delivers after a submission, behind a tracked download link.

The file lives under `<data dir>/magnets/`. After a submission the visitor gets `/d/{token}`, a
signed link naming the submission; each download is a `download` event on the lead's timeline
(the submission is turned into its lead first if the processor has not done it yet).
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from leadflow.capture.models import Form, Submission
from leadflow.capture.service import FORMS_CHANGED, convert_now
from leadflow.config import get_settings
from leadflow.db.base import utcnow
from leadflow.leads.schemas import EventIn
from leadflow.leads.service import append_event, get_lead

MAX_MAGNET_BYTES = 50 * 1024 * 1024  # a PDF, a deck, a small video: larger files belong on a CDN
DOWNLOAD_LINK_MAX_AGE_S = 90 * 24 * 3600  # the thank-you page's link keeps working for a quarter
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


class MagnetError(ValueError):
    def __init__(self, status: int, field: str, message: str):
        super().__init__(message)
        self.status, self.field = status, field


def _directory() -> Path:
    return get_settings().data_dir / "magnets"


def _clean_name(filename: str) -> str:
    name = _UNSAFE.sub("_", Path(filename or "").name).strip(" .")[:200]
    return name or "download"


def store_magnet(session: Session, *, form: Form, filename: str, content: bytes,
                 content_type: str | None = None) -> Form:
    """Keep CONTENT as FORM's lead magnet (replacing any earlier file) and make the form deliver it."""
    if not content:
        raise MagnetError(422, "file", "the file is empty")
    if len(content) > MAX_MAGNET_BYTES:
        raise MagnetError(413, "file", f"the file is larger than {MAX_MAGNET_BYTES // (1024 * 1024)} MB")
    name = _clean_name(filename)
    stored = f"{form.id}-{secrets.token_hex(8)}{Path(name).suffix[:12]}"
    directory = _directory()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / stored).write_bytes(content)
    old = form.magnet_stored
    form.magnet_filename, form.magnet_stored, form.magnet_size = name, stored, len(content)
    form.magnet_content_type = (content_type or mimetypes.guess_type(name)[0] or "application/octet-stream")[:100]
    form.success_action = "magnet"
    form.updated_at = utcnow()
    session.flush()
    FORMS_CHANGED[0] += 1
    if old and old != stored:
        # The old file goes once the new one is recorded; a link to it now serves the new one.
        (directory / old).unlink(missing_ok=True)
    return form


def magnet_file(form: Form) -> Path | None:
    if not form.magnet_stored:
        return None
    path = _directory() / form.magnet_stored
    return path if path.is_file() else None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key.get_secret_value(), salt="leadflow.magnet")


def download_token(*, submission_id: int, form_id: int) -> str:
    return _serializer().dumps([submission_id, form_id])


@dataclass(slots=True)
class Download:
    path: Path
    filename: str
    content_type: str


def record_download(session: Session, *, token: str, user_agent: str | None) -> Download:
    """The file behind a download link, with a `download` event on the submission's lead."""
    try:
        submission_id, form_id = _serializer().loads(token, max_age=DOWNLOAD_LINK_MAX_AGE_S)
    except SignatureExpired:
        raise MagnetError(410, "token", "this download link has expired; fill in the form again") from None
    except (BadSignature, ValueError, TypeError):
        raise MagnetError(404, "token", "unknown download link") from None
    form = session.get(Form, form_id)
    sub = session.get(Submission, submission_id)
    path = magnet_file(form) if form is not None else None
    if sub is None or path is None or sub.form_id != form_id:
        raise MagnetError(404, "token", "this download is no longer available")
    if sub.status == "pending":
        convert_now(session, submission=sub)  # the lead exists before its first download is recorded
    lead = get_lead(session, lead_id=sub.lead_id) if sub.status == "processed" and sub.lead_id else None
    if lead is not None:  # a quarantined visitor still gets the file; only real leads get the event
        append_event(session, lead=lead, source="form", data=EventIn(
            type="download", occurred_at=utcnow(),
            properties={"file": form.magnet_filename, "form": form.slug, "submission_id": sub.id,
                        **({"user_agent": user_agent[:300]} if user_agent else {})}))
    return Download(path=path, filename=form.magnet_filename or path.name,
                    content_type=form.magnet_content_type or "application/octet-stream")
