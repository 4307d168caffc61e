"""The workspace's leads as a feature frame, point in time: what was known of each lead before its outcome.

A lead with an outcome is described as of its *cutoff*, the moment it became a customer or was
disqualified/lost: its attributes, its sources and the counts of its events before that moment.
An open lead is described as of now. Nothing sales writes after contact is a feature: the stage,
owner, BANT answers, outcome, deal value, lost reason, and leadflow's own scores are left out
(`NEVER_FEATURES`), and properties can be excluded by name when they were filled after contact.

`features_of` is pure (frames in, frame out); the loaders around it read the database, in bulk
for a whole workspace (`scoring.loader`) or through the session for a few leads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import polars as pl
from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from leadflow.leads.models import Event, Lead
from leadflow.leads.normalize import FREE_EMAIL_DOMAINS
from leadflow.lifecycle.models import StageChange

# Lead columns described as they are: what the lead told us and where it came from.
LEAD_FIELDS = ("job_title", "industry", "company_size", "country", "first_channel", "first_source",
               "first_medium", "first_campaign", "form_id", "consent_email", "consent_tracking")
# Never features: written by sales after contact, the outcome itself, or leadflow's own opinion.
NEVER_FEATURES = ("stage", "owner_id", "bant_budget", "bant_authority", "bant_need", "bant_timeline",
                  "outcome", "deal_value", "lost_reason", "converted_at", "score", "fit_points", "fit_grade",
                  "engagement_score", "intent_score", "conversion_probability")
DEFAULT_POSITIVE_STAGES = ("customer",)
DEFAULT_NEGATIVE_STAGES = ("disqualified",)
# Events people record by hand (calls, meetings) are sales activity after contact, not signals
# of the lead's own interest: an event type written mostly from these sources is never a feature.
SALES_EVENT_SOURCES = ("user",)
# Recent activity is counted over this many days before the cutoff, next to the all-time count.
RECENT_DAYS = 30
SECONDS_PER_DAY = 86_400.0
# The event types and custom properties a model may use: the commonest ones. More types mostly
# add rare, noisy counts; more properties mostly add free text.
MAX_EVENT_TYPES = 20
MAX_PROPERTIES = 40
# Properties present on fewer leads than this share (of a sample) are too rare to learn from.
MIN_PROPERTY_SHARE = 0.05
PROPERTY_SAMPLE = 5_000
_EPOCH = datetime(1970, 1, 1)
# Written by leadflow itself next to a value it could not normalize (e.g. phone_raw).
_RAW_SUFFIX = "_raw"
# A property name the bulk loader can put in SQL (scoring.loader._PROPERTY_NAME).
_BAD_PROPERTY_CHARS = set("'\"\\")


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """Which lead fields, custom properties and event types a model reads (stored with the model)."""

    lead_fields: tuple[str, ...] = LEAD_FIELDS
    property_keys: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    # Event types left out as sales activity (reported, never read).
    sales_event_types: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"lead_fields": list(self.lead_fields), "property_keys": list(self.property_keys),
                "event_types": list(self.event_types), "sales_event_types": list(self.sales_event_types)}

    @classmethod
    def from_dict(cls, data: dict) -> DatasetSpec:
        return cls(tuple(data.get("lead_fields", LEAD_FIELDS)), tuple(data.get("property_keys", ())),
                   tuple(data.get("event_types", ())), tuple(data.get("sales_event_types", ())))

    def columns(self) -> list[str]:
        """The feature columns `features_of` makes from this spec."""
        out = [*self.lead_fields, "email_kind", *(f"properties.{k}" for k in self.property_keys)]
        for t in self.event_types:
            out += [f"events.{t}_total", f"events.{t}_{RECENT_DAYS}d"]
        if self.event_types:
            out.append("events.days_since_last")
        return out


@dataclass(slots=True)
class Dataset:
    """Labelled leads as features, their outcome (1 = converted) and when each was created."""

    lead_ids: np.ndarray
    frame: pl.DataFrame
    target: np.ndarray
    created: np.ndarray  # epoch seconds (NaN where unknown)
    spec: DatasetSpec
    counts: dict = field(default_factory=dict)


# ---------------------------------------------------------------- pure


def features_of(spec: DatasetSpec, *, leads: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """One row per lead of LEADS (lead_id, cutoff as epoch s, email, the spec's fields) with its feature columns.

    EVENTS holds lead_id, type, t (epoch s); only events strictly before each lead's cutoff count.
    """
    domain = pl.col("email").str.split("@").list.last().str.to_lowercase()
    out = leads.select(
        "lead_id", "cutoff",
        *(pl.col(f).cast(pl.String) for f in spec.lead_fields),
        pl.when(pl.col("email").is_null()).then(None)
        .when(domain.is_in(list(FREE_EMAIL_DOMAINS))).then(pl.lit("free")).otherwise(pl.lit("business"))
        .alias("email_kind"),
        *(pl.col(f"properties.{k}").cast(pl.String) for k in spec.property_keys),
    )
    if not spec.event_types:
        return out
    types = list(spec.event_types)
    per_type = (
        events.select("lead_id", "type", "t")
        .filter(pl.col("type").is_in(types))
        .join(out.select("lead_id", "cutoff"), on="lead_id", how="inner")
        .filter(pl.col("t") < pl.col("cutoff"))
        .with_columns(recent=pl.col("t") >= pl.col("cutoff") - RECENT_DAYS * SECONDS_PER_DAY)
        .group_by("lead_id", "type")
        .agg(total=pl.len().cast(pl.Float64), recent=pl.col("recent").sum().cast(pl.Float64), last=pl.col("t").max())
    )
    # One row per lead: a total and a recent count per type, and the last event's time.
    wide = per_type.lazy().pivot(on="type", on_columns=types, index="lead_id", values=["total", "recent"],
                                 aggregate_function=None, separator="|").collect()
    names = {f"{v}|{t}": f"events.{t}_{'total' if v == 'total' else f'{RECENT_DAYS}d'}"
             for t in types for v in ("total", "recent")}
    last = per_type.group_by("lead_id").agg(last=pl.col("last").max())
    counts = list(names.values())
    return (
        out.join(wide.rename(names), on="lead_id", how="left").join(last, on="lead_id", how="left")
        .with_columns(((pl.col("cutoff") - pl.col("last")) / SECONDS_PER_DAY).round(2).alias("events.days_since_last"),
                      # No event of a type before the cutoff is a count of zero, not an unknown.
                      pl.col(counts).fill_null(0.0))
        .select("lead_id", "cutoff", *spec.columns())
    )


def label_leads(meta: pl.DataFrame, *, positive_stages: Sequence[str], negative_stages: Sequence[str]) -> pl.Series:
    """1 for a converted lead, 0 for a lost one, null for an open one (META: stage, outcome)."""
    won = (pl.col("outcome") == "won") | pl.col("stage").is_in(list(positive_stages))
    lost = (pl.col("outcome") == "lost") | pl.col("stage").is_in(list(negative_stages))
    return meta.select(pl.when(won).then(1).when(lost).then(0).otherwise(None).cast(pl.Int8).alias("y")).to_series()


# ---------------------------------------------------------------- what a workspace has


def choose_spec(session: Session, *, exclude: Sequence[str] = ()) -> DatasetSpec:
    """The commonest event types and custom properties of the workspace, less EXCLUDE (feature names)."""
    excluded = set(exclude)
    by_sales = Event.source.in_(SALES_EVENT_SOURCES)
    rows = session.execute(
        select(Event.type, func.count(), func.sum(case((by_sales, 1), else_=0)))
        .where(Event.lead_id.is_not(None)).group_by(Event.type).order_by(func.count().desc())).all()
    sales = tuple(t for t, n, by_people in rows if (by_people or 0) * 2 >= n)
    types = tuple(t for t, _, _ in rows if t not in sales and f"events.{t}_total" not in excluded
                  and _loadable(t))[:MAX_EVENT_TYPES]
    sample = session.scalars(select(Lead.properties).order_by(Lead.id.desc()).limit(PROPERTY_SAMPLE)).all()
    seen: Counter[str] = Counter()
    for props in sample:
        if isinstance(props, dict):
            seen.update(k for k, v in props.items() if v is not None and not isinstance(v, dict | list))
    floor = max(1, int(len(sample) * MIN_PROPERTY_SHARE))
    keys = tuple(k for k, n in seen.most_common() if n >= floor and not k.endswith(_RAW_SUFFIX)
                 and f"properties.{k}" not in excluded and _loadable(k))[:MAX_PROPERTIES]
    fields = tuple(f for f in LEAD_FIELDS if f not in excluded)
    return DatasetSpec(fields, keys, types, sales)


def feature_name(name: str) -> str:
    """A feature's full name: "Tags" means the custom property `properties.Tags`."""
    name = name.strip()
    if name in LEAD_FIELDS or name == "email_kind" or name.startswith(("properties.", "events.")):
        return name
    return f"properties.{name}"


def _loadable(name: str) -> bool:
    return 0 < len(name) <= 100 and not (set(name) & _BAD_PROPERTY_CHARS) and name.isprintable()


# ---------------------------------------------------------------- loading


_META_FIELDS = ("email", "stage", "outcome", "created_at", "converted_at")


def _seconds(column: str) -> pl.Expr:
    # Both databases write timestamps as text starting "YYYY-MM-DD HH:MM:SS"; seconds suffice here.
    return (pl.col(column).str.slice(0, 19).str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
            .dt.epoch("s").cast(pl.Float64))


def _exit_times(session: Session, *, stages: Sequence[str], lead_ids: Sequence[int] | None = None) -> pl.DataFrame:
    """lead_id and the first time each lead entered one of STAGES (epoch s)."""
    stmt = select(StageChange.lead_id, func.min(StageChange.changed_at)).where(
        StageChange.to_stage.in_(list(stages))).group_by(StageChange.lead_id)
    if lead_ids is not None:
        stmt = stmt.where(StageChange.lead_id.in_(list(lead_ids)))
    rows = session.execute(stmt).all()
    return pl.DataFrame({"lead_id": [r[0] for r in rows],
                         "exit": [(r[1] - _EPOCH).total_seconds() for r in rows]},
                        schema={"lead_id": pl.Int64, "exit": pl.Float64})



def _with_cutoffs(meta: pl.DataFrame, exits: pl.DataFrame, *, now: float, y: pl.Series) -> pl.DataFrame:
    """META with `y` and `cutoff`: the outcome's time for a closed lead (never after NOW), else NOW."""
    return (
        meta.with_columns(y)
        .join(exits, on="lead_id", how="left")
        .with_columns(
            pl.when(pl.col("y").is_null()).then(pl.lit(now))
            .otherwise(pl.coalesce(
                pl.when(pl.col("y") == 1).then(_seconds("converted_at")), pl.col("exit"), _seconds("created_at"),
                pl.lit(now)))
            .clip(upper_bound=now).alias("cutoff"))
        .drop("exit")
    )


def load_frames(engine: Engine, *, spec: DatasetSpec, now: datetime, positive_stages: Sequence[str],
                negative_stages: Sequence[str], lead_ids: Sequence[int] | None = None) -> pl.DataFrame:
    """Every lead (or LEAD_IDS) as features at its cutoff, with lead_id, y (null when open) and created (epoch s)."""
    from leadflow.scoring import loader

    fields = [*_META_FIELDS, *spec.lead_fields, *(f"properties.{k}" for k in spec.property_keys)]
    # The leads and the events are read at once, by two helper processes (a core each).
    with ThreadPoolExecutor(max_workers=2) as pool:
        events_read = pool.submit(loader.load_event_frame, engine, types=list(spec.event_types), prop_keys=[],
                                  lead_ids=lead_ids, until=now) if spec.event_types else None
        meta = loader.load_lead_frame(engine, fields=list(dict.fromkeys(fields)), lead_ids=lead_ids)
        with Session(engine) as session:
            exits = _exit_times(session, stages=[*positive_stages, *negative_stages], lead_ids=lead_ids)
        events = (events_read.result() if events_read is not None
                  else pl.DataFrame(schema={"lead_id": pl.Int64, "type": pl.String, "t": pl.Float64}))
    now_s = (now - _EPOCH).total_seconds()
    y = label_leads(meta, positive_stages=positive_stages, negative_stages=negative_stages)
    leads = _with_cutoffs(meta, exits, now=now_s, y=y)
    frame = features_of(spec, leads=leads, events=events)
    return frame.join(leads.select("lead_id", "y", _seconds("created_at").alias("created")), on="lead_id", how="left")


def session_frames(session: Session, *, spec: DatasetSpec, now: datetime, lead_ids: Sequence[int],
                   positive_stages: Sequence[str] = DEFAULT_POSITIVE_STAGES,
                   negative_stages: Sequence[str] = DEFAULT_NEGATIVE_STAGES) -> pl.DataFrame:
    """As `load_frames` for a few leads, through SESSION (sees its uncommitted writes)."""
    ids = sorted(set(lead_ids))
    plain = [f for f in dict.fromkeys([*_META_FIELDS, *spec.lead_fields])]
    rows = session.execute(select(Lead.id, Lead.properties, *(getattr(Lead, f) for f in plain))
                           .where(Lead.id.in_(ids))).all()
    data: dict[str, list] = {"lead_id": [r[0] for r in rows]}
    for i, f in enumerate(plain, start=2):
        data[f] = [None if r[i] is None else _text_of(r[i]) for r in rows]
    for k in spec.property_keys:
        data[f"properties.{k}"] = [_text_of((r[1] or {}).get(k)) for r in rows]
    meta = pl.DataFrame(data, schema={"lead_id": pl.Int64, **{c: pl.String for c in data if c != "lead_id"}})
    exits = _exit_times(session, stages=[*positive_stages, *negative_stages], lead_ids=ids)
    now_s = (now - _EPOCH).total_seconds()
    y = label_leads(meta, positive_stages=positive_stages, negative_stages=negative_stages)
    leads = _with_cutoffs(meta, exits, now=now_s, y=y)
    if spec.event_types:
        ev = session.execute(select(Event.lead_id, Event.type, Event.occurred_at).where(
            Event.lead_id.in_(ids), Event.type.in_(list(spec.event_types)), Event.occurred_at <= now)).all()
        events = pl.DataFrame({"lead_id": [r[0] for r in ev], "type": [r[1] for r in ev],
                               "t": [(r[2] - _EPOCH).total_seconds() for r in ev]},
                              schema={"lead_id": pl.Int64, "type": pl.String, "t": pl.Float64})
    else:
        events = pl.DataFrame(schema={"lead_id": pl.Int64, "type": pl.String, "t": pl.Float64})
    frame = features_of(spec, leads=leads, events=events)
    return frame.join(leads.select("lead_id", "y", _seconds("created_at").alias("created")), on="lead_id", how="left")


def _text_of(value) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def training_set(frame: pl.DataFrame, spec: DatasetSpec) -> Dataset:
    """The labelled leads of a `load_frames` frame, ready for training."""
    labelled = frame.filter(pl.col("y").is_not_null()).sort("lead_id")
    created = labelled.get_column("created").fill_null(float("nan")).to_numpy().astype(np.float64)
    return Dataset(
        lead_ids=labelled.get_column("lead_id").to_numpy(),
        frame=labelled.select(spec.columns()),
        target=labelled.get_column("y").to_numpy().astype(np.int8),
        created=created,
        spec=spec,
        counts={"leads": frame.height, "labelled": labelled.height,
                "positives": int(labelled.get_column("y").sum() or 0)},
    )
