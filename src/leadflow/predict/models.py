"""Predictive model versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from leadflow.db.base import Base, JSONType, utcnow


class PredictionModel(Base):
    """One trained conversion model with its evaluation; at most one is active."""

    __tablename__ = "prediction_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)  # draft | active | retired
    source: Mapped[str] = mapped_column(String(16), default="workspace")  # workspace | csv | recalibrated
    options: Mapped[dict] = mapped_column(JSONType, default=dict)  # how it was trained (labels, exclusions)
    report: Mapped[dict] = mapped_column(JSONType, default=dict)  # the evaluation (training.TrainResult.report)
    features: Mapped[list] = mapped_column(JSONType, default=list)  # the input columns it needs
    # The serialized model (training.PredictiveModel.to_bytes); deferred: lists never need it.
    artifact: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    parent_version: Mapped[int | None] = mapped_column(Integer)  # the version a recalibration started from
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
