"""HTTP API for scoring: model versions, validation, backtests, activation, explanations, rescoring."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path
from pydantic import BaseModel, Field

from leadflow.auth.deps import DB, ApiUser
from leadflow.auth.models import User
from leadflow.db.session import get_engine
from leadflow.scoring.models import ScoringModel
from leadflow.scoring.schemas import (
    ModelError,
    ScoringModelDoc,
    model_to_yaml,
    parse_model,
    parse_model_text,
)
from leadflow.scoring.service import (
    ScoringError,
    activate_model_version,
    backtest_model,
    explain_lead,
    from_epoch,
    get_model_version,
    list_model_versions,
    model_of,
    rescore_everyone,
    rescore_lead,
)

router = APIRouter(prefix="/api/v1", tags=["scoring"])

MAX_VERSION = 2**31 - 1
MAX_DOCUMENT_CHARS = 200_000
# Who may change what every lead's score means.
MODEL_EDITORS = ("admin", "marketing")


class ModelIn(BaseModel):
    """A model document: either TEXT (YAML or JSON) or DOCUMENT (parsed), not both."""

    text: str | None = Field(None, max_length=MAX_DOCUMENT_CHARS)
    document: dict[str, Any] | None = None
    notes: str = Field("", max_length=2000)


class ModelOut(BaseModel):
    version: int
    name: str
    status: str
    notes: str
    created_at: str
    activated_at: str | None
    document: dict[str, Any]
    yaml: str
    backtest: dict | None


class ValidationOut(BaseModel):
    valid: bool
    errors: list[dict[str, str]]


def _out(row: ScoringModel) -> ModelOut:
    return ModelOut(version=row.version, name=row.name, status=row.status, notes=row.notes,
                    created_at=row.created_at.isoformat(), activated_at=row.activated_at.isoformat() if row.activated_at else None,
                    document=row.document, yaml=model_to_yaml(model_of(row)), backtest=row.backtest)


def _editor(user: ApiUser) -> User:
    if user.role not in MODEL_EDITORS:
        raise HTTPException(403, f"role: only {' or '.join(MODEL_EDITORS)} users may change scoring models")
    return user


Editor = Annotated[User, Depends(_editor)]


def version_or_404(db: DB, user: ApiUser, version: int = Path(ge=1, le=MAX_VERSION)) -> ScoringModel:
    row = get_model_version(db, version=version)
    if row is None:
        raise HTTPException(404, f"version: no scoring model version {version}")
    return row


VersionDep = Annotated[ScoringModel, Depends(version_or_404)]


def _parse(body: ModelIn) -> ScoringModelDoc:
    if (body.text is None) == (body.document is None):
        raise ScoringError("give the model as text (YAML or JSON) or as document, not both", field="text")
    return parse_model_text(body.text) if body.text is not None else parse_model(body.document)


def model_errors(exc: ModelError) -> list[dict[str, str]]:
    """The errors of a refused document, each naming its key under `document`."""
    return [{"field": f"document.{loc}" if loc else "document", "message": msg} for loc, msg in exc.errors]


@router.get("/scoring/models", response_model=list[ModelOut])
def list_models(db: DB, user: ApiUser) -> list[ModelOut]:
    """Every scoring model version, newest first; one has status `active`."""
    return [_out(r) for r in list_model_versions(db)]


@router.get("/scoring/models/active", response_model=ModelOut)
def get_active(db: DB, user: ApiUser) -> ModelOut:
    from leadflow.scoring.service import get_active_version

    row = get_active_version(db)
    if row is None:
        raise HTTPException(404, "version: no scoring model is active")
    return _out(row)


@router.get("/scoring/models/{version}", response_model=ModelOut)
def get_model(row: VersionDep) -> ModelOut:
    return _out(row)


@router.post("/scoring/models/validate", response_model=ValidationOut)
def validate_model(body: ModelIn, user: ApiUser) -> ValidationOut:
    """Check a document without storing it (the editor calls this as you type)."""
    try:
        _parse(body)
    except ModelError as exc:
        return ValidationOut(valid=False, errors=model_errors(exc))
    except ScoringError as exc:
        return ValidationOut(valid=False, errors=[{"field": exc.field, "message": str(exc)}])
    return ValidationOut(valid=True, errors=[])


@router.post("/scoring/models", response_model=ModelOut, status_code=201)
def create_model(body: ModelIn, db: DB, user: Editor) -> ModelOut:
    """Store a new draft version (validated; never active until activated)."""
    from leadflow.scoring.schemas import model_to_data
    from leadflow.scoring.service import create_model_version

    doc = _parse(body)
    return _out(create_model_version(db, data=model_to_data(doc), notes=body.notes, user_id=user.id))


@router.post("/scoring/models/{version}/backtest")
def backtest(row: VersionDep, db: DB, user: ApiUser) -> dict:
    """Replay the version over leads with known outcomes; stored on the version and returned."""
    report = backtest_model(db, doc=model_of(row), version=row.version).to_dict()
    row.backtest = report
    return report


@router.post("/scoring/backtest")
def backtest_document(body: ModelIn, db: DB, user: ApiUser) -> dict:
    """Backtest a document without storing it."""
    return backtest_model(db, doc=_parse(body)).to_dict()


class ActivateIn(BaseModel):
    confirm_worse: bool = Field(False, description="activate even when the backtest says the version is worse")


@router.post("/scoring/models/{version}/activate", response_model=ModelOut)
def activate(row: VersionDep, db: DB, user: Editor, body: ActivateIn = Body(default_factory=ActivateIn)) -> ModelOut:
    """Make the version active and rescore every lead. A version whose backtest is worse needs confirm_worse."""
    if row.backtest and row.backtest.get("worse") and not body.confirm_worse:
        raise ScoringError("the backtest says this version ranks leads worse than the active one; "
                           "send confirm_worse=true to activate it anyway", field="confirm_worse", status=409)
    activated = activate_model_version(db, version=row.version, rescore=False)
    db.commit()  # the full rescore runs as its own batch (bulk on a large workspace)
    rescore_everyone(get_engine())
    return _out(activated)


@router.post("/scoring/rescore")
def rescore(db: DB, user: Editor) -> dict:
    """Score every lead with the active model now."""
    db.commit()
    return {"scored": rescore_everyone(get_engine())}


@router.get("/leads/{lead_id}/score")
def lead_score(lead_id: Annotated[int, Path(ge=1, le=2**63 - 1)], db: DB, user: ApiUser,
               version: int | None = None) -> dict:
    """Why this score: every ledger line (fit, engagement, intent apart), largest first, at read time."""
    found = explain_lead(db, lead_id=lead_id, version=version)
    if found is None:
        raise HTTPException(404, f"lead_id: no lead with id {lead_id}" if version is None or get_model_version(db, version=version)
                            else f"version: no scoring model version {version}")
    v, e = found
    return explanation_dict(v, e)


@router.post("/leads/{lead_id}/rescore")
def lead_rescore(lead_id: Annotated[int, Path(ge=1, le=2**63 - 1)], db: DB, user: ApiUser) -> dict:
    done = rescore_lead(db, lead_id=lead_id)
    if done is None:
        raise HTTPException(404, f"lead_id: no lead with id {lead_id}")
    return {"lead_id": done.lead_id, "score": done.score, "fit_grade": done.fit_grade, "version": done.version}


def explanation_dict(version: int, e) -> dict:
    def line(x) -> dict:
        return {"kind": x.kind, "rule": x.rule, "label": x.label, "line": x.line, "points": x.points,
                "value": round(x.value, 6), "event_id": x.event_id,
                "occurred_at": from_epoch(x.occurred_at).isoformat() if x.occurred_at is not None else None,
                "note": x.note}

    return {"lead_id": e.lead_id, "version": version, "at": from_epoch(e.at).isoformat(), "score": e.score,
            "fit_points": e.fit_points, "fit_grade": e.fit_grade, "engagement": e.engagement, "intent": e.intent,
            "fit": [line(x) for x in e.part("fit")], "engagement_lines": [line(x) for x in e.part("engagement")],
            "intent_lines": [line(x) for x in e.part("intent")]}
