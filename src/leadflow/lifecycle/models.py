"""Stage rows and the stage history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.db.base import Base, utcnow


class Stage(Base):
    """A lifecycle stage, seeded from lifecycle.stages by `leadflow db upgrade`."""

    __tablename__ = "stages"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    is_open: Mapped[bool] = mapped_column(default=True)


class StageChange(Base):
    """One move of a lead from a stage to another, with who or what moved it and why."""

    __tablename__ = "stage_changes"
    __table_args__ = (Index("ix_stage_changes_lead_at", "lead_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_type: Mapped[str] = mapped_column(String(16), default="system")  # user | rule | import | api | system
    actor_id: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
