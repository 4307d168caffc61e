"""HTTP API for predictive scoring: train, list, compare, activate, re-price, explain, drift, recalibrate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field

from leadflow.auth.deps import DB, ApiUser
from leadflow.auth.models import User
from leadflow.db.session import get_engine
from leadflow.lifecycle.stages import STAGE_KEYS
from leadflow.predict.dataset import DEFAULT_NEGATIVE_STAGES, DEFAULT_POSITIVE_STAGES, feature_name
from leadflow.predict.models import PredictionModel
from leadflow.predict.service import (
    PredictServiceError,
    TrainOptions,
    activate_version,
    compare_versions,
    drift_report,
    explain_lead,
    get_active,
    get_version,
    list_versions,
    predict_everyone,
    recalibrate,
    train_workspace_model,
)

router = APIRouter(prefix="/api/v1", tags=["predict"])

MAX_VERSION = 2**31 - 1
# Who may train and activate what every lead's probability means.
MODEL_EDITORS = ("admin", "marketing")
MAX_NAMES = 200
Name = Annotated[str, Field(min_length=1, max_length=200)]


class VersionOut(BaseModel):
    version: int
    name: str
    status: str
    source: str
    parent_version: int | None
    notes: str
    created_at: str
    activated_at: str | None
    features: list[str]
    options: dict
    report: dict


def version_out(row: PredictionModel) -> VersionOut:
    return VersionOut(version=row.version, name=row.name, status=row.status, source=row.source,
                      parent_version=row.parent_version, notes=row.notes, created_at=row.created_at.isoformat(),
                      activated_at=row.activated_at.isoformat() if row.activated_at else None,
                      features=list(row.features or []), options=row.options or {}, report=row.report or {})


def _editor(user: ApiUser) -> User:
    if user.role not in MODEL_EDITORS:
        raise HTTPException(403, f"role: only {' or '.join(MODEL_EDITORS)} users may train or activate models")
    return user


Editor = Annotated[User, Depends(_editor)]


def version_or_404(db: DB, user: ApiUser, version: int = Path(ge=1, le=MAX_VERSION)) -> PredictionModel:
    row = get_version(db, version=version)
    if row is None:
        raise HTTPException(404, f"version: no predictive model version {version}")
    return row


VersionDep = Annotated[PredictionModel, Depends(version_or_404)]


class TrainIn(BaseModel):
    """How to train on the workspace: which stages count as converted and lost, which features to leave out."""

    positive_stages: list[str] = Field(default_factory=lambda: list(DEFAULT_POSITIVE_STAGES), max_length=10)
    negative_stages: list[str] = Field(default_factory=lambda: list(DEFAULT_NEGATIVE_STAGES), max_length=10)
    exclude: list[Name] = Field(default_factory=list, max_length=MAX_NAMES,
                                description="Features to leave out, e.g. a property sales fills in (\"Tags\").")
    insist: list[Name] = Field(default_factory=list, max_length=MAX_NAMES,
                               description="Features to keep even when they look like a leak.")
    name: str = Field("", max_length=200)
    notes: str = Field("", max_length=2000)
    seed: int = Field(0, ge=0, le=2**31 - 1)


def _options(body: TrainIn) -> TrainOptions:
    for key in ("positive_stages", "negative_stages"):
        values = getattr(body, key)
        if not values:
            raise PredictServiceError("at least one stage", field=key)
        for i, stage in enumerate(values):
            if stage not in STAGE_KEYS:
                raise PredictServiceError(f"unknown stage {stage!r} (stages: {', '.join(STAGE_KEYS)})",
                                          field=f"{key}.{i}")
    both = set(body.positive_stages) & set(body.negative_stages)
    if both:
        raise PredictServiceError(f"{', '.join(sorted(both))} cannot count as both converted and lost",
                                  field="negative_stages")
    return TrainOptions(positive_stages=tuple(body.positive_stages), negative_stages=tuple(body.negative_stages),
                        exclude=tuple(feature_name(e) for e in body.exclude),
                        insist=tuple(feature_name(i) for i in body.insist), name=body.name, notes=body.notes,
                        seed=body.seed)


@router.get("/predict/models", response_model=list[VersionOut])
def list_models(db: DB, user: ApiUser) -> list[VersionOut]:
    """Every predictive model version, newest first; at most one has status `active`."""
    return [version_out(r) for r in list_versions(db)]


@router.post("/predict/models", response_model=VersionOut, status_code=201)
def train(db: DB, user: Editor, body: TrainIn = Body(default_factory=TrainIn)) -> VersionOut:
    """Train on the workspace's leads with known outcomes; the new version is a draft until activated."""
    options = _options(body)
    db.commit()  # training reads in bulk and stores the version in its own transaction
    version = train_workspace_model(get_engine(), options=options, user_id=user.id)
    return version_out(get_version(db, version=version))  # type: ignore[arg-type]


@router.get("/predict/models/active", response_model=VersionOut)
def active_model(db: DB, user: ApiUser) -> VersionOut:
    row = get_active(db)
    if row is None:
        raise HTTPException(404, "version: no predictive model is active")
    return version_out(row)


@router.get("/predict/models/{version}", response_model=VersionOut)
def get_model(row: VersionDep) -> VersionOut:
    return version_out(row)


@router.get("/predict/models/{version}/compare")
def compare(row: VersionDep, db: DB) -> dict:
    """The version's metrics beside the active model's: ROC AUC, PR AUC, log loss, Brier, ECE."""
    return compare_versions(db, version=row.version)


class ActivateIn(BaseModel):
    compared: bool = Field(False, description="the user has compared this version's metrics with the active one's")


@router.post("/predict/models/{version}/activate", response_model=VersionOut)
def activate(row: VersionDep, db: DB, user: Editor, body: ActivateIn = Body(default_factory=ActivateIn)) -> VersionOut:
    """Make the version active and re-price every lead; 409 with the comparison until `compared` is true."""
    activated = activate_version(db, version=row.version, compared=body.compared)
    db.commit()
    predict_everyone(get_engine())
    return version_out(activated)


@router.post("/predict/rescore")
def rescore(db: DB, user: Editor) -> dict:
    """Re-price every lead with the active model now."""
    db.commit()
    return {"priced": predict_everyone(get_engine())}


@router.get("/predict/drift")
def drift(db: DB, user: ApiUser, version: int | None = Query(None, ge=1, le=MAX_VERSION),
          period: str = Query("month", pattern="^(week|month|quarter)$")) -> dict:
    """The model's AUC and calibration per period of outcomes, with warnings when they fall."""
    return drift_report(get_engine(), version=version, period=period)


class RecalibrateIn(BaseModel):
    version: int | None = Field(None, ge=1, le=MAX_VERSION, description="default: the active model")
    days: int = Field(180, ge=1, le=3650, description="refit on the outcomes of the last DAYS days")


@router.post("/predict/recalibrate", response_model=VersionOut, status_code=201)
def recalibrate_model(db: DB, user: Editor, body: RecalibrateIn = Body(default_factory=RecalibrateIn)) -> VersionOut:
    """A new draft version: the same model with its calibration refitted on recent outcomes."""
    db.commit()
    version = recalibrate(get_engine(), version=body.version, days=body.days, user_id=user.id)
    return version_out(get_version(db, version=version))  # type: ignore[arg-type]


@router.get("/leads/{lead_id}/prediction")
def lead_prediction(lead_id: Annotated[int, Path(ge=1, le=2**63 - 1)], db: DB, user: ApiUser,
                    version: int | None = Query(None, ge=1, le=MAX_VERSION)) -> dict:
    """The lead's conversion probability and the factors that raised or lowered it (exact model contributions)."""
    from leadflow.leads.models import Lead

    if db.get(Lead, lead_id) is None:
        raise HTTPException(404, f"lead_id: no lead with id {lead_id}")
    found = explain_lead(db, lead_id=lead_id, version=version)
    if found is None:
        raise HTTPException(404, "version: no predictive model is active" if version is None
                            else f"version: version {version} cannot price workspace leads")
    return {"lead_id": found.lead_id, "version": found.version, "probability": found.probability,
            "factors": found.factors}
