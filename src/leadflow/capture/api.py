"""HTTP API for lead capture forms and their submissions under /api/v1."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, IPvAnyAddress

from leadflow.auth.deps import DB, ApiUser
from leadflow.capture.magnets import MAX_MAGNET_BYTES, MagnetError, store_magnet
from leadflow.capture.models import SUBMISSION_STATUSES, Form, Submission
from leadflow.capture.schemas import FormIn, FormOut, FormSettings, SubmissionOut, SubmissionPage
from leadflow.capture.service import (
    SubmissionContext,
    create_form,
    get_form,
    get_submission,
    list_forms,
    list_submissions,
    process_pending_submissions,
    receive_submission,
    release_submission,
    update_form,
)
from leadflow.schemas import MAX_ID, InputModel

router = APIRouter(prefix="/api/v1", tags=["forms"])

# Submission ids are 64-bit; a larger number in the path names no submission (and would overflow the query).
_MAX_SUBMISSION_ID = 2**63 - 1
SubmissionStatus = Literal[SUBMISSION_STATUSES]


# Both loaders take the user, so that an anonymous caller learns nothing (401) about which ids exist.
def form_or_404(form_id: int, db: DB, user: ApiUser) -> Form:
    # A number beyond the 32-bit key names no form (and would overflow the query).
    form = get_form(db, form_id=form_id) if 1 <= form_id <= MAX_ID else None
    if form is None:
        raise HTTPException(404, f"form_id: no form with id {form_id}")
    return form


def submission_or_404(submission_id: int, db: DB, user: ApiUser) -> Submission:
    sub = get_submission(db, submission_id=submission_id) if 1 <= submission_id <= _MAX_SUBMISSION_ID else None
    if sub is None:
        raise HTTPException(404, f"submission_id: no submission with id {submission_id}")
    return sub


FormDep = Annotated[Form, Depends(form_or_404)]
SubmissionDep = Annotated[Submission, Depends(submission_or_404)]


def form_out(form: Form) -> FormOut:
    """FORM as the API shows it, with the path of its hosted page."""
    return FormOut.model_validate(form).model_copy(update={"url": f"/f/{form.slug}"})


class UtmIn(InputModel):
    utm_source: str | None = Field(None, max_length=200)
    utm_medium: str | None = Field(None, max_length=200)
    utm_campaign: str | None = Field(None, max_length=200)
    utm_content: str | None = Field(None, max_length=200)
    utm_term: str | None = Field(None, max_length=200)


class IntakeContextIn(InputModel):
    """Where the lead was captured: what the calling server saw of the visitor."""

    ip: IPvAnyAddress | None = None
    user_agent: str | None = Field(None, max_length=1000)
    referrer: str | None = Field(None, max_length=2000)
    page_url: str | None = Field(None, max_length=2000)
    utm: UtmIn = Field(default_factory=UtmIn)


class IntakeIn(InputModel):
    """A submission sent server to server: the form's fields by key, and where it came from."""

    fields: dict[str, Any] = Field(max_length=200, description="Field key → value; `consent` and `visitor_id` "
                                                               "are read as on the hosted form.")
    context: IntakeContextIn = Field(default_factory=IntakeContextIn)


class IntakeOut(BaseModel):
    status: str = Field(description="pending (a lead soon) or quarantined (held for review).")
    submission: SubmissionOut


class IntakeRefused(BaseModel):
    detail: str
    errors: list[dict[str, str]]
    submission_id: int


@router.get("/forms", response_model=list[FormOut])
def api_list_forms(db: DB, user: ApiUser) -> list[FormOut]:
    return [form_out(f) for f in list_forms(db)]


@router.post("/forms", response_model=FormOut, status_code=201)
def api_create_form(data: FormIn, db: DB, user: ApiUser) -> FormOut:
    return form_out(create_form(db, data=data))


@router.get("/forms/{form_id}", response_model=FormOut)
def api_get_form(form: FormDep, user: ApiUser) -> FormOut:
    return form_out(form)


@router.put("/forms/{form_id}", response_model=FormOut, summary="Replace a form's settings (not its slug)")
def api_update_form(form: FormDep, data: FormSettings, db: DB, user: ApiUser) -> FormOut:
    return form_out(update_form(db, form=form, data=data))


@router.put("/forms/{form_id}/magnet", response_model=FormOut,
            summary="Upload the form's lead magnet (multipart field `file`); the form then delivers it")
async def api_upload_magnet(form: FormDep, db: DB, user: ApiUser, file: UploadFile) -> FormOut:
    content = await file.read(MAX_MAGNET_BYTES + 1)
    try:
        store_magnet(db, form=form, filename=file.filename or "download", content=content,
                     content_type=file.content_type)
    except MagnetError as exc:
        raise HTTPException(exc.status, f"{exc.field}: {exc}") from None
    return form_out(form)


@router.post("/forms/{form_id}/submissions", response_model=IntakeOut, status_code=202,
             summary="Capture a submission server to server (same checks as the hosted form)",
             responses={422: {"model": IntakeRefused, "description": "Refused; the submission is kept as invalid."}})
def api_submit(
    form: FormDep, data: IntakeIn, db: DB, user: ApiUser, request: Request, background: BackgroundTasks,
) -> IntakeOut | JSONResponse:
    ctx = data.context
    received = receive_submission(db, form=form, payload=data.fields, context=SubmissionContext(
        ip=str(ctx.ip) if ctx.ip else None, user_agent=ctx.user_agent, referrer=ctx.referrer,
        page_url=ctx.page_url, utm=ctx.utm.model_dump(exclude_none=True), channel="api"))
    sub = received.submission
    if received.errors:
        # Returned, not raised: an exception would roll back the unit of work, and the refused
        # submission is kept as evidence.
        errors = [{"field": f, "message": m} for f, m in received.errors]
        return JSONResponse(IntakeRefused(detail="; ".join(f"{f}: {m}" for f, m in received.errors),
                                          errors=errors, submission_id=sub.id).model_dump(), status_code=422)
    processor = getattr(request.app.state, "submission_processor", None)
    if processor is not None and sub.status == "pending":
        # A background task runs after the response, so after the commit: the processor finds the row.
        background.add_task(processor.wake)
    return IntakeOut(status=sub.status, submission=SubmissionOut.model_validate(sub))


@router.get("/submissions", response_model=SubmissionPage, summary="List submissions, newest first")
def api_list_submissions(
    db: DB, user: ApiUser,
    status: SubmissionStatus | None = Query(None),
    form_id: int | None = Query(None, ge=1, le=MAX_ID),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=_MAX_SUBMISSION_ID),
) -> SubmissionPage:
    total, items = list_submissions(db, status=status, form_id=form_id, limit=limit, offset=offset)
    return SubmissionPage(total=total, items=[SubmissionOut.model_validate(s) for s in items])


@router.post("/submissions/process", summary="Turn pending submissions into leads now (oldest first)")
def api_process_submissions(db: DB, user: ApiUser, limit: int = Query(200, ge=1, le=1000)) -> dict:
    return {"processed": process_pending_submissions(db, limit=limit)}


@router.get("/submissions/{submission_id}", response_model=SubmissionOut)
def api_get_submission(submission: SubmissionDep, user: ApiUser) -> SubmissionOut:
    return SubmissionOut.model_validate(submission)


@router.post("/submissions/{submission_id}/release", response_model=SubmissionOut,
             summary="Let a quarantined or failed submission through: it becomes a lead now")
def api_release_submission(submission: SubmissionDep, db: DB, user: ApiUser) -> SubmissionOut:
    return SubmissionOut.model_validate(release_submission(db, submission=submission, user_id=user.id))
