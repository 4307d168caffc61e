"""The ASGI application: API, web UI and static assets in one FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from leadflow import __version__
from leadflow.auth.deps import LoginRequired
from leadflow.auth.service import AuthError
from leadflow.campaigns.service import CampaignError
from leadflow.capture.service import CaptureError
from leadflow.config import get_settings
from leadflow.leads.service import LeadError
from leadflow.web.errors import field_error, on_validation_error
from leadflow.web.limits import BodyLimitMiddleware

STATIC_DIR = Path(__file__).parent / "web" / "static"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the submission processor with the server (unless LEADFLOW_SUBMISSION_PROCESSING=false)."""
    from leadflow.capture.processor import SubmissionProcessor

    processor = SubmissionProcessor() if get_settings().submission_processing else None
    if processor is not None:
        processor.start()
        processor.wake()  # whatever a previous run left pending
    app.state.submission_processor = processor
    try:
        yield
    finally:
        writer = getattr(app.state, "submission_writer", None)
        if writer is not None:
            writer.close()  # what was received is stored before the process ends
            app.state.submission_writer = None
        if processor is not None:
            processor.stop()
        app.state.submission_processor = None


def create_app() -> FastAPI:
    """Build the application (routers, error handlers, middleware)."""
    from leadflow.predict.hooks import install as install_predict
    from leadflow.scoring.hooks import install as install_scoring

    # Prices first: scoring's stage thresholds may read the probability.
    install_predict()
    install_scoring()
    settings = get_settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="leadflow",
        version=__version__,
        description="Self-hosted lead generation and lead qualification. Authenticate with "
        "`Authorization: Bearer <token>` (create one with `leadflow token create`).",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.submission_processor = None
    app.state.submission_writer = None
    # Added first, so it runs inside the body limit (the last added middleware is the outermost).
    from leadflow.capture.fastpath import SubmitFastPath

    app.add_middleware(SubmitFastPath, state=app.state)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       upload_bytes=settings.max_upload_bytes)

    app.add_exception_handler(RequestValidationError, on_validation_error)

    from leadflow.web.render import PageError, on_page_error

    app.add_exception_handler(PageError, on_page_error)

    from leadflow.lifecycle.service import LifecycleError

    @app.exception_handler(LeadError)
    @app.exception_handler(CampaignError)
    @app.exception_handler(CaptureError)
    @app.exception_handler(LifecycleError)
    async def _domain_error(request: Request, exc: LeadError | CampaignError | CaptureError | LifecycleError) -> JSONResponse:
        return field_error(exc.status, exc.field, str(exc))

    from leadflow.scoring.schemas import ModelError
    from leadflow.scoring.service import ScoringError

    @app.exception_handler(ScoringError)
    async def _scoring_error(request: Request, exc: ScoringError) -> JSONResponse:
        return field_error(exc.status, exc.field, str(exc))

    from leadflow.kpi.schemas import KpiError

    @app.exception_handler(KpiError)
    async def _kpi_error(request: Request, exc: KpiError) -> JSONResponse:
        return field_error(exc.status, exc.field, str(exc))

    from leadflow.predict.service import PredictServiceError

    @app.exception_handler(PredictServiceError)
    async def _predict_error(request: Request, exc: PredictServiceError) -> JSONResponse:
        response = field_error(exc.status, exc.field, exc.message)
        if exc.detail:
            import json

            body = json.loads(response.body)
            body["comparison"] = exc.detail
            response = JSONResponse(body, status_code=exc.status)
        return response

    @app.exception_handler(ModelError)
    async def _model_error(request: Request, exc: ModelError) -> JSONResponse:
        from leadflow.scoring.api import model_errors

        errors = model_errors(exc)
        return JSONResponse({"detail": "; ".join(f"{e['field']}: {e['message']}" for e in errors), "errors": errors},
                            status_code=422)

    @app.exception_handler(AuthError)
    async def _auth_error(request: Request, exc: AuthError) -> JSONResponse:
        return field_error(422, exc.field, str(exc))

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"ok": True, "version": __version__}

    from leadflow.campaigns.api import router as campaigns_api
    from leadflow.capture.public import router as capture_public
    from leadflow.leads.api import router as leads_api
    from leadflow.web.views import router as web_views

    # The public form endpoints first: they take the most traffic, and routes match in order.
    app.include_router(capture_public)
    app.include_router(leads_api)
    app.include_router(campaigns_api)
    app.include_router(web_views)
    for module in _optional_view_modules():
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _optional_view_modules():
    """Domain routers (UI pages, capture API and public form endpoints) that exist in this build."""
    import importlib

    for name in ("leadflow.leads.views", "leadflow.campaigns.views", "leadflow.auth.views",
                 "leadflow.capture.api", "leadflow.capture.views", "leadflow.lifecycle.api",
                 "leadflow.lifecycle.views", "leadflow.scoring.api", "leadflow.scoring.views",
                 "leadflow.predict.api", "leadflow.predict.views", "leadflow.kpi.api"):
        try:
            yield importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
