"""Predictive models as versions: train (on the workspace or a CSV), compare, activate, price leads, drift.

The model code (`predict.training`, `predict.explain`) is pure; this module feeds it the
workspace's leads as of each one's cutoff (`predict.dataset`) and writes back each lead's
`conversion_probability`, `prediction_version` and `predicted_at`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import polars as pl
from sqlalchemy import Engine, bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from leadflow.db.base import utcnow
from leadflow.leads.models import Lead
from leadflow.predict.dataset import (
    DEFAULT_NEGATIVE_STAGES,
    DEFAULT_POSITIVE_STAGES,
    DatasetSpec,
    choose_spec,
    load_frames,
    session_frames,
    training_set,
)
from leadflow.predict.errors import PredictError
from leadflow.predict.metrics import evaluate
from leadflow.predict.models import PredictionModel
from leadflow.predict.training import PredictiveModel, TrainResult, train_model

# Leads priced per statement when a whole workspace is priced.
CHUNK = 5_000
# Drift: a period's outcomes judged against the model's own evaluation. Fewer outcomes than this
# in a period give an AUC too noisy to warn about.
DRIFT_MIN_OUTCOMES = 30
# A warning when a period's AUC falls this far below the evaluation's, or its calibration error
# exceeds the evaluation's by this much (absolute).
DRIFT_AUC_DROP = 0.05
DRIFT_ECE_RISE = 0.05
# Recalibration looks back this many days of outcomes by default.
RECALIBRATE_DAYS = 180


class PredictServiceError(ValueError):
    """A predictive-model request that cannot be done; FIELD names the input at fault."""

    def __init__(self, message: str, *, field: str = "", status: int = 422, detail: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
        self.detail = detail or {}


@dataclass(frozen=True, slots=True)
class TrainOptions:
    """How a workspace model is trained: which stages count as converted or lost, which features to leave out."""

    positive_stages: tuple[str, ...] = DEFAULT_POSITIVE_STAGES
    negative_stages: tuple[str, ...] = DEFAULT_NEGATIVE_STAGES
    exclude: tuple[str, ...] = ()
    insist: tuple[str, ...] = ()
    name: str = ""
    notes: str = ""
    seed: int = 0

    def to_dict(self) -> dict:
        return {"positive_stages": list(self.positive_stages), "negative_stages": list(self.negative_stages),
                "exclude": list(self.exclude), "insist": list(self.insist), "seed": self.seed}


@dataclass(slots=True)
class Prediction:
    lead_id: int
    probability: float
    version: int
    factors: list[dict] = field(default_factory=list)


# ---------------------------------------------------------------- versions

_LOADED: dict[int, PredictiveModel] = {}


def model_of(row: PredictionModel) -> PredictiveModel:
    """The trained model of a stored version (deserialized once per process)."""
    model = _LOADED.get(row.version)
    if model is None:
        try:
            model = PredictiveModel.from_bytes(row.artifact)
        except PredictError as exc:
            raise PredictServiceError(f"version {row.version} cannot be loaded: {exc.message}", field="version",
                                      status=409) from None
        _LOADED[row.version] = model
    return model


def list_versions(session: Session) -> list[PredictionModel]:
    """Every version, newest first."""
    return list(session.scalars(select(PredictionModel).order_by(PredictionModel.version.desc())))


def get_version(session: Session, *, version: int) -> PredictionModel | None:
    return session.scalar(select(PredictionModel).where(PredictionModel.version == version))


def require_version(session: Session, *, version: int) -> PredictionModel:
    row = get_version(session, version=version)
    if row is None:
        raise PredictServiceError(f"no predictive model version {version}", field="version", status=404)
    return row


def get_active(session: Session) -> PredictionModel | None:
    return session.scalar(select(PredictionModel).where(PredictionModel.status == "active"))


def _spec_of(row: PredictionModel) -> DatasetSpec:
    return DatasetSpec.from_dict((row.options or {}).get("dataset", {}))


def _stages_of(row: PredictionModel) -> tuple[tuple[str, ...], tuple[str, ...]]:
    options = row.options or {}
    return (tuple(options.get("positive_stages", DEFAULT_POSITIVE_STAGES)),
            tuple(options.get("negative_stages", DEFAULT_NEGATIVE_STAGES)))


def _store(session: Session, *, result: TrainResult, name: str, source: str, options: dict, notes: str,
           user_id: int | None, parent: int | None = None, report: dict | None = None) -> PredictionModel:
    latest = session.scalar(select(func.max(PredictionModel.version))) or 0
    row = PredictionModel(version=latest + 1, name=name or f"Conversion model {latest + 1}", status="draft",
                          source=source, options=options, report=report or result.report,
                          features=list(result.model.features), artifact=result.model.to_bytes(),
                          parent_version=parent, notes=notes, created_by=user_id, created_at=utcnow())
    session.add(row)
    session.flush()
    _LOADED[row.version] = result.model
    return row


# ---------------------------------------------------------------- training


def train_workspace_model(engine: Engine, *, options: TrainOptions = TrainOptions(), user_id: int | None = None,
                          now: datetime | None = None) -> int:
    """Train on the workspace's leads with known outcomes, store a draft version; its number.

    A batch job: it reads in bulk and commits its own transaction (call it with none open).
    """
    when = now or utcnow()
    with Session(engine) as session:
        spec = choose_spec(session, exclude=options.exclude)
    frame = load_frames(engine, spec=spec, now=when, positive_stages=options.positive_stages,
                        negative_stages=options.negative_stages)
    data = training_set(frame, spec)
    # A time-ordered split needs creation times that differ (an import stamps one moment on all).
    created = data.created
    usable = created[~np.isnan(created)] if len(created) else created
    order = created if len(usable) == len(created) and len(usable) and np.ptp(usable) > 0 else None
    try:
        # choose_spec already left out the excluded properties and event types.
        exclude = [c for c in options.exclude if c in data.frame.columns]
        result = train_model(data.frame, data.target, order=order, exclude=exclude, insist=options.insist,
                             seed=options.seed)
    except PredictError as exc:
        raise PredictServiceError(exc.message, field=exc.field or "outcome") from None
    for t in spec.sales_event_types:
        result.report.setdefault("dropped", {})[f"events.{t}"] = "sales activity, recorded by people after contact"
    stored = {**options.to_dict(), "dataset": spec.to_dict(), "trained_at": when.isoformat(timespec="seconds"),
              "counts": data.counts}
    with Session(engine) as session, session.begin():
        row = _store(session, result=result, name=options.name, source="workspace", options=stored,
                     notes=options.notes, user_id=user_id)
        return row.version


def train_csv_model(session: Session, *, frame: pl.DataFrame, target: np.ndarray, target_column: str,
                    exclude: Sequence[str] = (), insist: Sequence[str] = (), name: str = "", notes: str = "",
                    user_id: int | None = None, seed: int = 0) -> PredictionModel:
    """Train on a CSV of historical leads (FRAME without its target column), store a draft version."""
    try:
        result = train_model(frame, target, exclude=exclude, insist=insist, seed=seed)
    except PredictError as exc:
        raise PredictServiceError(exc.message, field=exc.field or "") from None
    options = {"target": target_column, "exclude": list(exclude), "insist": list(insist), "seed": seed,
               "counts": {"labelled": len(target), "positives": int(target.sum())}}
    return _store(session, result=result, name=name or f"CSV model ({target_column})", source="csv",
                  options=options, notes=notes, user_id=user_id)


def score_frame(row: PredictionModel, frame: pl.DataFrame) -> np.ndarray:
    """Probabilities of FRAME's rows by version ROW (a CSV's columns, or workspace features)."""
    try:
        return model_of(row).predict(frame)
    except PredictError as exc:
        raise PredictServiceError(exc.message, field=exc.field or "") from None


# ---------------------------------------------------------------- comparing and activating


COMPARED_METRICS = ("roc_auc", "pr_auc", "log_loss", "brier", "ece")
# Lower is better for these.
LOWER_IS_BETTER = ("log_loss", "brier", "ece")


def compare_versions(session: Session, *, version: int) -> dict:
    """VERSION's metrics beside the active version's, with which is better on each."""
    row = require_version(session, version=version)
    active = get_active(session)
    rows = []
    for key in COMPARED_METRICS:
        mine = (row.report or {}).get(key)
        theirs = (active.report or {}).get(key) if active is not None else None
        better = None
        if mine is not None and theirs is not None and mine != theirs:
            better = (mine < theirs) if key in LOWER_IS_BETTER else (mine > theirs)
        rows.append({"metric": key, "candidate": mine, "active": theirs, "candidate_better": better})
    return {"candidate": row.version, "active": active.version if active is not None else None, "metrics": rows,
            "evaluation": {"candidate": (row.report or {}).get("evaluation"),
                           "active": (active.report or {}).get("evaluation") if active is not None else None}}


def activate_version(session: Session, *, version: int, compared: bool, now: datetime | None = None) -> PredictionModel:
    """Make VERSION the active model once the user has compared it with the active one.

    Entry points then commit and call `predict_everyone` (every lead gets the new probability).
    """
    row = require_version(session, version=version)
    if row.source == "csv":
        raise PredictServiceError(
            f"version {version} was trained on a CSV file, whose columns are not the workspace's: it scores CSV "
            "files (leadflow predict score --csv); train on the workspace to price leads", field="version",
            status=409)
    model_of(row)
    if not compared and row.status != "active":
        raise PredictServiceError("compare the candidate with the active model first, then confirm (compared=true)",
                                  field="compared", status=409, detail=compare_versions(session, version=version))
    for old in session.scalars(select(PredictionModel).where(PredictionModel.status == "active")):
        if old.version != version:
            old.status = "retired"
    row.status, row.activated_at = "active", now or utcnow()
    session.flush()
    return row


# ---------------------------------------------------------------- pricing leads


def _write(session: Session, *, lead_ids: np.ndarray, probability: np.ndarray, version: int, at: datetime) -> None:
    table = Lead.__table__
    stmt = update(table).where(table.c.id == bindparam("b_id")).values(
        conversion_probability=bindparam("b_p"), prediction_version=version, predicted_at=at,
        updated_at=table.c.updated_at)
    params = [{"b_id": int(i), "b_p": round(float(p), 6)} for i, p in zip(lead_ids, probability, strict=True)]
    if params:
        session.connection().execute(stmt, params)
    loaded = {obj.id: obj for obj in session.identity_map.values() if isinstance(obj, Lead)}
    for p in params:
        lead = loaded.get(p["b_id"])
        if lead is not None:
            set_committed_value(lead, "conversion_probability", p["b_p"])
            set_committed_value(lead, "prediction_version", version)
            set_committed_value(lead, "predicted_at", at)


def predict_leads(session: Session, *, lead_ids: Iterable[int], now: datetime | None = None) -> list[Prediction]:
    """Price LEAD_IDS with the active model now and store their probabilities (the incremental path)."""
    ids = sorted(set(lead_ids))
    row = get_active(session)
    if row is None or not ids:
        return []
    model, spec = model_of(row), _spec_of(row)
    positive, negative = _stages_of(row)
    when = now or utcnow()
    out: list[Prediction] = []
    for start in range(0, len(ids), CHUNK):
        frame = session_frames(session, spec=spec, now=when, lead_ids=ids[start:start + CHUNK],
                               positive_stages=positive, negative_stages=negative)
        p = model.predict(frame.select(spec.columns()))
        lead_ids_part = frame.get_column("lead_id").to_numpy()
        _write(session, lead_ids=lead_ids_part, probability=p, version=row.version, at=when)
        out.extend(Prediction(int(i), float(x), row.version) for i, x in zip(lead_ids_part, p, strict=True))
    return out


def predict_everyone(engine: Engine, *, now: datetime | None = None) -> int:
    """Price every lead with the active model, as a batch job owning its transaction; how many were priced."""
    with Session(engine) as session:
        row = get_active(session)
        if row is None:
            return 0
        model, spec = model_of(row), _spec_of(row)
        positive, negative = _stages_of(row)
        version = row.version
    when = now or utcnow()
    frame = load_frames(engine, spec=spec, now=when, positive_stages=positive, negative_stages=negative)
    p = model.predict(frame.select(spec.columns()))
    ids = frame.get_column("lead_id").to_numpy()
    with Session(engine) as session, session.begin():
        _write_bulk(session, lead_ids=ids, probability=p, version=version, at=when)
    return len(ids)


def _write_bulk(session: Session, *, lead_ids: np.ndarray, probability: np.ndarray, version: int,
                at: datetime) -> int:
    """Store many probabilities at once: a temporary table, then one UPDATE ... FROM; rows changed.

    A lead whose stored probability is already this version's and the same is left alone.
    """
    cursor = session.connection().connection.driver_connection.cursor()
    rows = zip(lead_ids.tolist(), np.round(probability, 6).tolist(), strict=True)
    unchanged = ("leads.prediction_version IS NOT DISTINCT FROM {v} AND "
                 "leads.conversion_probability IS NOT DISTINCT FROM p.probability")
    if session.get_bind().dialect.name == "postgresql":
        cursor.execute("CREATE TEMP TABLE predicted_rows (lead_id bigint, probability float8) ON COMMIT DROP")
        with cursor.copy("COPY predicted_rows (lead_id, probability) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute("UPDATE leads SET conversion_probability = p.probability, prediction_version = %s, "
                       "predicted_at = %s FROM predicted_rows AS p WHERE leads.id = p.lead_id AND NOT ("
                       + unchanged.format(v="%s") + ")", (version, at, version))
        return cursor.rowcount
    cursor.execute("CREATE TEMP TABLE IF NOT EXISTS predicted_rows (lead_id INTEGER PRIMARY KEY, probability REAL)")
    cursor.execute("DELETE FROM temp.predicted_rows")
    cursor.executemany("INSERT INTO temp.predicted_rows VALUES (?, ?)", rows)
    # SQLite spells IS NOT DISTINCT FROM as IS.
    cursor.execute("UPDATE leads SET conversion_probability = p.probability, prediction_version = ?, "
                   "predicted_at = ? FROM temp.predicted_rows AS p WHERE leads.id = p.lead_id AND NOT ("
                   + unchanged.format(v="?").replace("IS NOT DISTINCT FROM", "IS") + ")",
                   (version, at.strftime("%Y-%m-%d %H:%M:%S.%f"), version))
    changed = cursor.rowcount
    cursor.execute("DELETE FROM temp.predicted_rows")
    return changed


def explain_lead(session: Session, *, lead_id: int, version: int | None = None, now: datetime | None = None,
                 top: int = 8) -> Prediction | None:
    """The probability of LEAD_ID by VERSION (the active one by default) and the factors behind it, as of now."""
    from leadflow.predict.explain import factors

    row = get_active(session) if version is None else require_version(session, version=version)
    if row is None or row.source == "csv":
        return None
    model, spec = model_of(row), _spec_of(row)
    positive, negative = _stages_of(row)
    frame = session_frames(session, spec=spec, now=now or utcnow(), lead_ids=[lead_id], positive_stages=positive,
                           negative_stages=negative)
    if frame.height == 0:
        return None
    features = frame.select(spec.columns())
    p = float(model.predict(features)[0])
    return Prediction(lead_id, p, row.version, factors(model, features, top=top))


# ---------------------------------------------------------------- drift and recalibration


def _labelled(engine: Engine, row: PredictionModel, *, now: datetime) -> pl.DataFrame:
    positive, negative = _stages_of(row)
    spec = _spec_of(row)
    frame = load_frames(engine, spec=spec, now=now, positive_stages=positive, negative_stages=negative)
    return frame.filter(pl.col("y").is_not_null())


def drift_report(engine: Engine, *, version: int | None = None, now: datetime | None = None,
                 period: str = "month") -> dict:
    """How VERSION (the active one by default) ranks and calibrates the outcomes of each period, with warnings.

    Each labelled lead is priced as of its cutoff, so a period after training is judged out of
    sample; periods before the training date are marked in-sample.
    """
    when = now or utcnow()
    with Session(engine) as session:
        row = get_active(session) if version is None else require_version(session, version=version)
        if row is None:
            raise PredictServiceError("no predictive model is active", field="version", status=404)
        if row.source == "csv":
            raise PredictServiceError(f"version {row.version} was trained on a CSV file: it has no workspace outcomes "
                                      "to follow", field="version", status=409)
        model, spec = model_of(row), _spec_of(row)
        trained_at = (row.options or {}).get("trained_at") or row.created_at.isoformat()
        base = dict(row.report or {})
        number = row.version
    frame = _labelled(engine, row, now=when)
    truncate = {"week": "1w", "month": "1mo", "quarter": "1q"}.get(period)
    if truncate is None:
        raise PredictServiceError("period must be week, month or quarter", field="period")
    periods = []
    if frame.height:
        p = model.predict(frame.select(spec.columns()))
        frame = frame.with_columns(p=pl.Series(p), period=pl.from_epoch("cutoff", time_unit="s").dt.truncate(truncate))
        for (start,), part in frame.sort("period").group_by("period", maintain_order=True):
            y = part.get_column("y").to_numpy().astype(np.int8)
            q = part.get_column("p").to_numpy()
            entry = {"period": start.date().isoformat(), "outcomes": len(y), "converted": int(y.sum()),
                     "mean_predicted": float(q.mean()), "observed": float(y.mean()),
                     "in_sample": start.isoformat() < trained_at, "warning": None}
            both = 0 < y.sum() < len(y)
            metrics = evaluate(y, q) if both else {}
            entry["roc_auc"] = metrics.get("roc_auc")
            entry["ece"] = metrics.get("ece")
            if len(y) >= DRIFT_MIN_OUTCOMES and not entry["in_sample"]:
                if entry["roc_auc"] is not None and base.get("roc_auc") is not None \
                        and entry["roc_auc"] < base["roc_auc"] - DRIFT_AUC_DROP:
                    entry["warning"] = (f"AUC {entry['roc_auc']:.3f} is more than {DRIFT_AUC_DROP} below the "
                                        f"evaluation's {base['roc_auc']:.3f}: retrain")
                elif entry["ece"] is not None and base.get("ece") is not None \
                        and entry["ece"] > base["ece"] + DRIFT_ECE_RISE:
                    entry["warning"] = (f"calibration error {entry['ece']:.3f} is well above the evaluation's "
                                        f"{base['ece']:.3f}: recalibrate")
            periods.append(entry)
    return {"version": number, "trained_at": trained_at, "period": period, "evaluation": {
        k: base.get(k) for k in ("roc_auc", "ece", "evaluation")}, "periods": periods,
        "warnings": [f"{e['period']}: {e['warning']}" for e in periods if e["warning"]]}


def recalibrate(engine: Engine, *, version: int | None = None, days: int = RECALIBRATE_DAYS,
                now: datetime | None = None, user_id: int | None = None) -> int:
    """A new draft version: VERSION's booster with its calibration refitted on the last DAYS of outcomes."""
    when = now or utcnow()
    with Session(engine) as session:
        row = get_active(session) if version is None else require_version(session, version=version)
        if row is None:
            raise PredictServiceError("no predictive model is active", field="version", status=404)
        if row.source == "csv":
            raise PredictServiceError(f"version {row.version} was trained on a CSV file", field="version", status=409)
        model, spec = model_of(row), _spec_of(row)
        parent, options, report, name = row.version, dict(row.options or {}), dict(row.report or {}), row.name
    frame = _labelled(engine, row, now=when)
    since = (when - timedelta(days=days) - datetime(1970, 1, 1)).total_seconds()
    recent = frame.filter(pl.col("cutoff") >= since)
    y = recent.get_column("y").to_numpy().astype(np.int8)
    features = recent.select(spec.columns())
    try:
        new = model.recalibrate(features, y)
    except PredictError as exc:
        raise PredictServiceError(f"{exc.message} (outcomes of the last {days} days)", field="days") from None
    before, after = evaluate(y, model.predict(features)), evaluate(y, new.predict(features))
    report["recalibration"] = {
        "days": days, "outcomes": len(y), "converted": int(y.sum()),
        "note": "measured on the outcomes it was fitted to (in sample)",
        "before": {k: before.get(k) for k in COMPARED_METRICS}, "after": {k: after.get(k) for k in COMPARED_METRICS}}
    result = TrainResult(model=new, report=report)
    options["recalibrated_at"] = when.isoformat(timespec="seconds")
    with Session(engine) as session, session.begin():
        stored = _store(session, result=result, name=f"{name} (recalibrated)", source="recalibrated",
                        options=options, notes=f"recalibrated from version {parent} on {len(y)} outcomes",
                        user_id=user_id, parent=parent, report=report)
        return stored.version
