"""Scoring models as versions, scoring leads (incrementally and in full), explanations, stage rules.

The engine (`scoring.engine`) is pure; this module feeds it from the database and writes back
the cached score columns of leads (`score`, `fit_points`, `fit_grade`, `engagement_score`,
`intent_score`, `score_version`, `scored_at`), then applies the model's stage thresholds
through `lifecycle.service.move_to_stage`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import polars as pl
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from leadflow.db.base import utcnow
from leadflow.leads.models import Event, Lead
from leadflow.lifecycle.models import StageChange
from leadflow.lifecycle.service import move_to_stage
from leadflow.scoring.engine import Explanation, events_frame, explain_frames, score_frames
from leadflow.scoring.models import ScoringModel
from leadflow.scoring.schemas import (
    GRADES,
    ModelError,
    ScoringModelDoc,
    Threshold,
    default_model_text,
    model_to_data,
    parse_model,
    parse_model_text,
)

EPOCH = datetime(1970, 1, 1)
# Rule-driven stage moves only go forward from these stages (and mql back to prospect).
AUTO_FROM = ("suspect", "prospect", "recycled")
SCORE_COLUMNS = ("score", "fit_points", "fit_grade", "engagement_score", "intent_score")
# Leads scored per statement when many change at once (an events batch, a full rescore).
CHUNK = 5_000


class ScoringError(ValueError):
    """A scoring request that cannot be done; FIELD names the input at fault."""

    def __init__(self, message: str, *, field: str = "", status: int = 422):
        super().__init__(message)
        self.field = field
        self.status = status


def epoch(dt: datetime | None) -> float | None:
    """Seconds since 1970 of a naive UTC datetime."""
    return None if dt is None else (dt - EPOCH).total_seconds()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


# ---------------------------------------------------------------- model versions

_PARSED: dict[int, ScoringModelDoc] = {}


def model_of(row: ScoringModel) -> ScoringModelDoc:
    """The parsed document of a stored version (parsed once per process)."""
    doc = _PARSED.get(row.version)
    if doc is None:
        doc = _PARSED[row.version] = parse_model(row.document)
    return doc


def list_model_versions(session: Session) -> list[ScoringModel]:
    """Every version, newest first."""
    return list(session.scalars(select(ScoringModel).order_by(ScoringModel.version.desc())))


def get_model_version(session: Session, *, version: int) -> ScoringModel | None:
    return session.scalar(select(ScoringModel).where(ScoringModel.version == version))


def get_active_version(session: Session) -> ScoringModel | None:
    return session.scalar(select(ScoringModel).where(ScoringModel.status == "active"))


def active_model(session: Session) -> tuple[int | None, ScoringModelDoc | None]:
    """(version, document) of the active model; (None, None) when none is active."""
    version = session.scalar(select(ScoringModel.version).where(ScoringModel.status == "active"))
    if version is None:
        return None, None
    doc = _PARSED.get(version)
    if doc is None:
        row = get_model_version(session, version=version)
        doc = model_of(row)  # type: ignore[arg-type]
    return version, doc


def create_model_version(session: Session, *, text: str | None = None, data: dict | None = None,
                         notes: str = "", user_id: int | None = None) -> ScoringModel:
    """A new draft version from YAML/JSON TEXT or parsed DATA; ModelError names the bad key."""
    doc = parse_model_text(text) if text is not None else parse_model(data)
    latest = session.scalar(select(func.max(ScoringModel.version))) or 0
    row = ScoringModel(version=latest + 1, name=doc.name, document=model_to_data(doc), status="draft",
                       notes=notes, created_by=user_id, created_at=utcnow())
    session.add(row)
    session.flush()
    _PARSED[row.version] = doc
    return row


def activate_model_version(session: Session, *, version: int, now: datetime | None = None,
                           rescore: bool = True) -> ScoringModel:
    """Make VERSION the active model (the previous one retires), then rescore every lead.

    Entry points pass RESCORE=False, commit, and call `rescore_everyone`: on a large workspace
    the full rescore reads and writes in bulk, outside this transaction.
    """
    row = get_model_version(session, version=version)
    if row is None:
        raise ScoringError(f"no scoring model version {version}", field="version", status=404)
    try:
        model_of(row)
    except ModelError as exc:  # stored before a rule tightened: never let it become active
        raise ScoringError(f"version {version} is not valid: {exc}", field="document") from None
    for old in session.scalars(select(ScoringModel).where(ScoringModel.status == "active")):
        if old.version != version:
            old.status = "retired"
    row.status, row.activated_at = "active", now or utcnow()
    session.flush()
    if rescore:
        rescore_all(session, now=now)
    return row


def seed_default_model(session: Session) -> None:
    """Version 1 = the shipped default model, active, when the workspace has no model at all."""
    if session.scalar(select(func.count()).select_from(ScoringModel)):
        return
    row = create_model_version(session, text=default_model_text(), notes="shipped with leadflow")
    row.status, row.activated_at = "active", utcnow()
    session.flush()


# ---------------------------------------------------------------- loading frames


def _lead_frame(session: Session, doc: ScoringModelDoc, lead_ids: Sequence[int]) -> pl.DataFrame:
    fields = doc.lead_fields()
    columns = [Lead.id]
    for f in fields:
        if not f.startswith("properties."):
            columns.append(getattr(Lead, f))
    wants_props = any(f.startswith("properties.") for f in fields)
    if wants_props:
        columns.append(Lead.properties)
    rows = session.execute(select(*columns).where(Lead.id.in_(lead_ids))).all()
    data: dict[str, list] = {"lead_id": [r[0] for r in rows]}
    plain = [f for f in fields if not f.startswith("properties.")]
    for i, f in enumerate(plain, start=1):
        data[f] = [None if r[i] is None else str(r[i]) for r in rows]
    if wants_props:
        for f in fields:
            if f.startswith("properties."):
                key = f.removeprefix("properties.")
                data[f] = [_text((r[-1] or {}).get(key)) for r in rows]
    schema = {"lead_id": pl.Int64, **{k: pl.String for k in data if k != "lead_id"}}
    return pl.DataFrame(data, schema=schema)


def _text(value) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _event_frame(session: Session, doc: ScoringModelDoc, lead_ids: Sequence[int]) -> pl.DataFrame:
    types = doc.event_types()
    stmt = select(Event.lead_id, Event.id, Event.type, Event.occurred_at, Event.properties).where(
        Event.lead_id.in_(lead_ids))
    if types is not None:
        stmt = stmt.where(Event.type.in_(types))
    rows = session.execute(stmt).all()
    return events_frame([{"lead_id": r[0], "event_id": r[1], "type": r[2], "t": epoch(r[3]),
                          "properties": r[4]} for r in rows], doc)


# ---------------------------------------------------------------- scoring leads


@dataclass(frozen=True, slots=True)
class LeadScore:
    lead_id: int
    score: float
    fit_points: float
    fit_grade: str
    engagement: float
    intent: float
    version: int


def rescore_leads(session: Session, *, lead_ids: Iterable[int], now: datetime | None = None,
                  apply_stages: bool = True) -> list[LeadScore]:
    """Score LEAD_IDS with the active model now, store the scores, apply its stage thresholds."""
    ids = sorted(set(lead_ids))
    version, doc = active_model(session)
    if doc is None or not ids:
        return []
    when = now or utcnow()
    out: list[LeadScore] = []
    for start in range(0, len(ids), CHUNK):
        part = ids[start:start + CHUNK]
        leads = _lead_frame(session, doc, part)
        events = _event_frame(session, doc, part)
        scores = score_frames(doc, leads=leads, events=events, now=epoch(when))  # type: ignore[arg-type]
        write_scores(session, scores, version=version, scored_at=when)  # type: ignore[arg-type]
        if apply_stages and apply_stage_rules(session, doc=doc, version=version, scores=scores, now=when):  # type: ignore[arg-type]
            session.flush()
        out.extend(LeadScore(r["lead_id"], r["score"], r["fit_points"], r["fit_grade"], r["engagement_score"],
                             r["intent_score"], version) for r in scores.iter_rows(named=True))  # type: ignore[arg-type]
    return out


def rescore_lead(session: Session, *, lead_id: int, now: datetime | None = None) -> LeadScore | None:
    """Score one lead at once (after a new event or a change)."""
    done = rescore_leads(session, lead_ids=[lead_id], now=now)
    return done[0] if done else None


def write_scores(session: Session, scores: pl.DataFrame, *, version: int, scored_at: datetime) -> None:
    """Store the cached score columns of the leads in SCORES (updated_at untouched: scoring is not an edit)."""
    if scores.height == 0:
        return
    table = Lead.__table__
    stmt = update(table).where(table.c.id == bindparam("b_id")).values(
        score=bindparam("b_score"), fit_points=bindparam("b_fit"), fit_grade=bindparam("b_grade"),
        engagement_score=bindparam("b_eng"), intent_score=bindparam("b_intent"), score_version=version,
        scored_at=scored_at, updated_at=table.c.updated_at)
    params = [
        {"b_id": r[0], "b_score": round(r[5], 4), "b_fit": r[1], "b_grade": r[2], "b_eng": round(r[3], 4),
         "b_intent": round(r[4], 4)}
        for r in scores.select("lead_id", "fit_points", "fit_grade", "engagement_score", "intent_score",
                               "score").iter_rows()]
    session.connection().execute(stmt, params)
    # Leads already loaded in this session show the new values (without becoming dirty).
    loaded = {obj.id: obj for obj in session.identity_map.values() if isinstance(obj, Lead)}
    if loaded:
        for p in params:
            lead = loaded.get(p["b_id"])
            if lead is not None:
                for attr, value in (("score", p["b_score"]), ("fit_points", p["b_fit"]), ("fit_grade", p["b_grade"]),
                                    ("engagement_score", p["b_eng"]), ("intent_score", p["b_intent"]),
                                    ("score_version", version), ("scored_at", scored_at)):
                    set_committed_value(lead, attr, value)


def rescore_all(session: Session, *, now: datetime | None = None, apply_stages: bool = True) -> int:
    """Score every lead with the active model in SESSION's transaction; how many were scored."""
    ids = list(session.scalars(select(Lead.id).order_by(Lead.id)))
    return len(rescore_leads(session, lead_ids=ids, now=now, apply_stages=apply_stages))


# From this many leads on, a full rescore reads and writes in bulk (scoring.loader) instead of
# through the ORM in chunks: below it, starting the SQLite helper process costs more than it saves.
BULK_RESCORE_MIN = 20_000
# Stages the rules may move a lead out of.
RULE_STAGES = ("suspect", "prospect", "recycled", "mql")


def rescore_everyone(engine, *, now: datetime | None = None, apply_stages: bool = True) -> int:
    """Score every lead with the active model as a batch job owning its transactions; how many were scored.

    Call it with no write transaction open on ENGINE's database (SQLite has one writer): after
    activating a version and committing, from the CLI, from the demo.
    """
    with Session(engine) as session:
        count = session.scalar(select(func.count()).select_from(Lead)) or 0
        version, doc = active_model(session)
    if doc is None:
        return 0
    if count < BULK_RESCORE_MIN:
        with Session(engine) as session, session.begin():
            return rescore_all(session, now=now, apply_stages=apply_stages)
    from leadflow.scoring import loader

    when = now or utcnow()
    leads = loader.load_lead_frame(engine, fields=doc.lead_fields())
    events = loader.load_event_frame(engine, types=doc.event_types(), prop_keys=doc.event_property_keys(),
                                     until=when)
    scores = score_frames(doc, leads=leads, events=events, now=epoch(when))  # type: ignore[arg-type]
    del leads, events
    loader.write_scores(engine, scores, version=version, scored_at=when)  # type: ignore[arg-type]
    if apply_stages:
        _apply_stage_rules_in_bulk(engine, doc=doc, version=version, scores=scores, now=when)  # type: ignore[arg-type]
    return scores.height


def _apply_stage_rules_in_bulk(engine, *, doc: ScoringModelDoc, version: int, scores: pl.DataFrame,
                               now: datetime) -> int:
    """The stage rules over a full rescore: only the leads whose stage and score may move them are loaded."""
    kw = {"grade": scores.get_column("fit_grade").to_numpy(),
          "engagement": scores.get_column("engagement_score").to_numpy(),
          "intent": scores.get_column("intent_score").to_numpy(), "score": scores.get_column("score").to_numpy()}
    if _uses_probability(doc):
        with Session(engine) as session:
            kw["probability"] = _probabilities(session, doc, scores.get_column("lead_id").to_numpy())
    may_move = pl.DataFrame({
        "lead_id": scores.get_column("lead_id"),
        "in": meets(doc.lifecycle.mql, **kw) | (meets(doc.lifecycle.sql, **kw) if doc.lifecycle.sql.auto else False),
        "stay": meets(doc.lifecycle.mql, margin=doc.lifecycle.mql.exit_margin, **kw),
    })
    moved = 0
    with Session(engine) as session, session.begin():
        stages = pl.DataFrame(session.execute(select(Lead.id, Lead.stage).where(Lead.stage.in_(RULE_STAGES))).all(),
                              schema={"lead_id": pl.Int64, "stage": pl.String}, orient="row")
        candidates = may_move.join(stages, on="lead_id").filter(
            (pl.col("stage") == "suspect") | pl.col("in") | ((pl.col("stage") == "mql") & ~pl.col("stay")))
        chosen = scores.join(candidates.select("lead_id"), on="lead_id", how="semi")
        for start in range(0, chosen.height, CHUNK):
            moved += apply_stage_rules(session, doc=doc, version=version, scores=chosen.slice(start, CHUNK), now=now)
            session.flush()
    return moved


# ---------------------------------------------------------------- stage rules


# Hysteresis of a probability threshold: a lead stays in until its probability falls this far
# below it (exit_margin is in points, which a probability is not).
PROBABILITY_EXIT_MARGIN = 0.05


def meets(threshold: Threshold, *, grade: np.ndarray, engagement: np.ndarray, intent: np.ndarray,
          score: np.ndarray, margin: float = 0.0, probability: np.ndarray | None = None) -> np.ndarray:
    """Whether each lead meets THRESHOLD, every minimum lowered by MARGIN (to stay in, with hysteresis).

    PROBABILITY (NaN where a lead has none) is needed when the threshold sets min_probability.
    """
    ok = np.ones(len(score), dtype=bool)
    if threshold.min_probability is not None:
        p = np.full(len(score), np.nan) if probability is None else np.asarray(probability, dtype=float)
        floor = threshold.min_probability - (PROBABILITY_EXIT_MARGIN if margin > 0 else 0.0)
        ok &= np.nan_to_num(p, nan=-1.0) >= floor
    if threshold.min_grade is not None:
        rank = {g: i for i, g in enumerate(GRADES)}
        ok &= np.array([rank.get(str(g), 3) for g in grade]) <= rank[threshold.min_grade]
    if threshold.min_engagement is not None:
        ok &= (engagement + intent) >= threshold.min_engagement - margin
    if threshold.min_intent is not None:
        ok &= intent >= threshold.min_intent - margin
    if threshold.min_score is not None:
        ok &= score >= threshold.min_score - margin
    return ok


def _describe(t: Threshold) -> str:
    parts = []
    if t.min_grade:
        parts.append(f"grade {t.min_grade} or better")
    if t.min_engagement is not None:
        parts.append(f"engagement ≥ {t.min_engagement:g}")
    if t.min_intent is not None:
        parts.append(f"intent ≥ {t.min_intent:g}")
    if t.min_probability is not None:
        parts.append(f"probability ≥ {t.min_probability:.0%}")
    if t.min_score is not None:
        parts.append(f"score ≥ {t.min_score:g}")
    return " and ".join(parts) or "no minimum"


def apply_stage_rules(session: Session, *, doc: ScoringModelDoc, version: int, scores: pl.DataFrame,
                      now: datetime) -> int:
    """Move the scored leads the model's thresholds say should move; how many moved.

    Forward moves: suspect → prospect once identified; prospect/recycled → mql at the mql
    threshold; mql → sql when the sql threshold is automatic. Backward: mql → prospect only when
    the lead falls `exit_margin` below the threshold (hysteresis), and never when a person put it
    there. A lead a person moved (or recycled) is promoted again only after new activity.
    """
    if scores.height == 0:
        return 0
    ids = scores.get_column("lead_id").to_numpy()
    grade = scores.get_column("fit_grade").to_numpy()
    eng = scores.get_column("engagement_score").to_numpy()
    intent = scores.get_column("intent_score").to_numpy()
    total = scores.get_column("score").to_numpy()
    kw = {"grade": grade, "engagement": eng, "intent": intent, "score": total,
          "probability": _probabilities(session, doc, ids)}
    mql_in = meets(doc.lifecycle.mql, **kw)
    mql_stay = meets(doc.lifecycle.mql, margin=doc.lifecycle.mql.exit_margin, **kw)
    sql_in = meets(doc.lifecycle.sql, **kw) if doc.lifecycle.sql.auto else np.zeros(len(ids), dtype=bool)
    state = {r.id: r for r in session.execute(
        select(Lead.id, Lead.stage, Lead.email, Lead.last_activity_at, Lead.bant_budget, Lead.bant_authority,
               Lead.bant_need, Lead.bant_timeline).where(Lead.id.in_([int(i) for i in ids]))).all()}
    pos = {int(i): k for k, i in enumerate(ids)}
    # Who moved a lead last matters only where a rule could move it now.
    last_moves = _last_moves(session, [i for i, r in state.items() if r.stage == "mql" or (
        r.stage in ("suspect", "prospect", "recycled") and mql_in[pos[i]])])
    moved = 0
    for lead_id, row in state.items():
        k = pos[lead_id]
        target, reason = _target(doc, row, mql_in[k], mql_stay[k], sql_in[k], last_moves.get(lead_id))
        if target is None:
            continue
        lead = session.get(Lead, lead_id)
        figures = f"score {total[k]:.0f}, grade {grade[k]}, engagement {eng[k] + intent[k]:.0f}"
        move_to_stage(session, lead=lead, to_stage=target, reason=f"{reason} ({figures}; model v{version})",
                      actor_type="rule", at=now)
        moved += 1
    return moved


def _uses_probability(doc: ScoringModelDoc) -> bool:
    return doc.lifecycle.mql.uses_probability() or doc.lifecycle.sql.uses_probability()


def _probabilities(session: Session, doc: ScoringModelDoc, ids) -> np.ndarray | None:
    """The stored conversion probability of each of IDS (NaN where none), when the thresholds use it."""
    if not _uses_probability(doc) or len(ids) == 0:
        return None
    found: dict[int, float] = {}
    wanted = [int(i) for i in ids]
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start:start + CHUNK]
        found.update(session.execute(select(Lead.id, Lead.conversion_probability).where(
            Lead.id.in_(part), Lead.conversion_probability.is_not(None))).tuples().all())
    return np.array([found.get(i, np.nan) for i in wanted], dtype=float)


def _last_moves(session: Session, lead_ids: list[int]) -> dict[int, tuple[str, datetime, str | None]]:
    """(actor type, time, from stage) of each lead's latest stage change."""
    if not lead_ids:
        return {}
    latest = (select(StageChange.lead_id, func.max(StageChange.id).label("last_id"))
              .where(StageChange.lead_id.in_(lead_ids)).group_by(StageChange.lead_id).subquery())
    rows = session.execute(select(StageChange.lead_id, StageChange.actor_type, StageChange.changed_at,
                                  StageChange.from_stage).join(latest, StageChange.id == latest.c.last_id)).all()
    return {r.lead_id: (r.actor_type, r.changed_at, r.from_stage) for r in rows}


def _target(doc: ScoringModelDoc, row, mql_in: bool, mql_stay: bool, sql_in: bool,
            last: tuple[str, datetime, str | None] | None) -> tuple[str | None, str]:
    """Where the rules send a lead, and why; (None, "") to leave it.

    Rules only undo what rules did (an mql a person, an import or the API set stays), and a lead
    someone else moved is promoted again only after activity newer than that move.
    """
    stage = row.stage
    by_rule = last is not None and last[0] == "rule"
    # A move someone made (not the stage a lead was created in) holds until the lead does something new.
    overridden = last is not None and last[0] != "rule" and last[2] is not None
    active_since = not overridden or (row.last_activity_at is not None and row.last_activity_at > last[1])  # type: ignore[index]
    if stage == "suspect":
        identified = bool(row.email) or not doc.lifecycle.prospect_requires_email
        if identified and mql_in and active_since:
            return "mql", f"met the mql threshold: {_describe(doc.lifecycle.mql)}"
        return ("prospect", "identified") if identified else (None, "")
    if stage in ("prospect", "recycled") and mql_in and active_since:
        return "mql", f"met the mql threshold: {_describe(doc.lifecycle.mql)}"
    if stage == "mql":
        bant_ok = all((row.bant_budget, row.bant_authority, row.bant_need, row.bant_timeline))
        if sql_in and (bant_ok or not doc.lifecycle.sql.require_bant):
            return "sql", f"met the sql threshold: {_describe(doc.lifecycle.sql)}"
        if not mql_stay and by_rule:
            return "prospect", f"fell {doc.lifecycle.mql.exit_margin:g} below the mql threshold"
    return None, ""


# ---------------------------------------------------------------- explanations


def explain_lead(session: Session, *, lead_id: int, version: int | None = None,
                 now: datetime | None = None) -> tuple[int, Explanation] | None:
    """(model version, explanation) of a lead's score now; None without an active model."""
    if version is None:
        version, doc = active_model(session)
    else:
        row = get_model_version(session, version=version)
        doc = model_of(row) if row is not None else None
    if doc is None:
        return None
    leads = _lead_frame(session, doc, [lead_id])
    if leads.height == 0:
        return None
    events = _event_frame(session, doc, [lead_id])
    when = epoch(now or utcnow())
    return version, explain_frames(doc, leads=leads, events=events, now=when)[0]  # type: ignore[return-value,arg-type]


# ---------------------------------------------------------------- backtests

OPEN_STAGES = ("suspect", "prospect", "mql", "sql", "recycled")


def _outcomes(session: Session) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(lead ids, 1 converted / 0 not, the time each outcome was known) of leads with a known outcome."""
    lost_at = (select(StageChange.lead_id, func.max(StageChange.changed_at).label("at"))
               .where(StageChange.to_stage == "disqualified").group_by(StageChange.lead_id).subquery())
    rows = session.execute(
        select(Lead.id, Lead.outcome, Lead.stage, Lead.converted_at, lost_at.c.at, Lead.updated_at)
        .outerjoin(lost_at, lost_at.c.lead_id == Lead.id)
        .where((Lead.outcome.in_(("won", "lost"))) | (Lead.stage.in_(("customer", "disqualified"))))
        .order_by(Lead.id)).all()
    ids, labels, known_at = [], [], []
    for r in rows:
        won = r.outcome == "won" or (r.outcome is None and r.stage == "customer")
        ids.append(r.id)
        labels.append(1 if won else 0)
        # Score each lead as it stood when its outcome was decided, not with what came after.
        at = r.converted_at if won else r[4]
        known_at.append(epoch(at) if at is not None else np.nan)
    return ids, np.array(labels, dtype=np.int8), np.array(known_at, dtype=float)


def _scores_for(session: Session, doc: ScoringModelDoc, ids: list[int], *, now: float,
                as_of: np.ndarray | None = None) -> pl.DataFrame:
    parts = []
    for start in range(0, len(ids), CHUNK):
        part = ids[start:start + CHUNK]
        leads = _lead_frame(session, doc, part)
        if as_of is not None:
            by_id = dict(zip(part, as_of[start:start + CHUNK], strict=True))
            leads = leads.with_columns(pl.Series("as_of", [by_id[i] for i in leads.get_column("lead_id").to_list()],
                                                 dtype=pl.Float64).fill_nan(None))
        parts.append(score_frames(doc, leads=leads, events=_event_frame(session, doc, part), now=now))
    if not parts:
        return score_frames(doc, leads=pl.DataFrame({"lead_id": []}, schema={"lead_id": pl.Int64}),
                            events=events_frame([], doc), now=now)
    return pl.concat(parts).sort("lead_id")  # the order of IDS (ascending), whatever order SQL answered in


def _today_counts(session: Session, doc: ScoringModelDoc, now: float) -> tuple[int, int]:
    rows = session.execute(select(Lead.id, Lead.stage, Lead.bant_budget, Lead.bant_authority, Lead.bant_need,
                                  Lead.bant_timeline).where(Lead.stage.in_(OPEN_STAGES)).order_by(Lead.id)).all()
    if not rows:
        return 0, 0
    ids = [r.id for r in rows]
    scores = _scores_for(session, doc, ids, now=now)
    by_id = {r.id: r for r in rows}
    order = [by_id[i] for i in scores.get_column("lead_id").to_list()]
    kw = {"grade": scores.get_column("fit_grade").to_numpy(), "engagement": scores.get_column("engagement_score").to_numpy(),
          "intent": scores.get_column("intent_score").to_numpy(), "score": scores.get_column("score").to_numpy(),
          "probability": _probabilities(session, doc, scores.get_column("lead_id").to_numpy())}
    mql = meets(doc.lifecycle.mql, **kw)
    if doc.lifecycle.sql.auto:
        bant = np.array([all((r.bant_budget, r.bant_authority, r.bant_need, r.bant_timeline)) for r in order])
        sql = meets(doc.lifecycle.sql, **kw) & (bant | (not doc.lifecycle.sql.require_bant))
        sql |= np.array([r.stage == "sql" for r in order])
    else:
        sql = np.array([r.stage == "sql" for r in order])
    return int((mql & ~sql).sum()), int(sql.sum())


def backtest_model(session: Session, *, doc: ScoringModelDoc, version: int | None = None,
                   now: datetime | None = None, compare_active: bool = True):
    """Replay DOC over the leads whose outcome is known; compared with the active model unless it is DOC."""
    from leadflow.scoring.backtest import compare, evaluate

    when = epoch(now or utcnow())
    ids, labels, known_at = _outcomes(session)

    def report(d: ScoringModelDoc, v: int | None):
        scores = _scores_for(session, d, ids, now=when, as_of=known_at)  # type: ignore[arg-type]
        mql, sql = _today_counts(session, d, when)  # type: ignore[arg-type]
        return evaluate(version=v, name=d.name, scores=scores.get_column("score").to_numpy(),
                        grades=scores.get_column("fit_grade").to_numpy(), labels=labels, mql_today=mql,
                        sql_today=sql)

    candidate = report(doc, version)
    active_version, active_doc = active_model(session)
    if compare_active and active_doc is not None and active_version != version:
        candidate = compare(candidate, report(active_doc, active_version))
    return candidate
