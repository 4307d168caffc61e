"""Forms. Issue 3 grows this into hosted pages, submissions and spam defence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.db.base import Base, JSONType, utcnow


class Form(Base):
    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(String(8), default="en")
    fields: Mapped[list] = mapped_column(JSONType, default=list)
    success_message: Mapped[str] = mapped_column(Text, default="Thank you!")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
