"""Declarative base, naming conventions and shared column types."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Integer, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON everywhere, JSONB on PostgreSQL so it can be indexed later.
JSONType = JSON().with_variant(JSONB(), "postgresql")
# 64-bit ids on PostgreSQL; SQLite needs INTEGER for its rowid alias (already 64-bit).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Base of every ORM model."""

    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Now as a naive UTC datetime: every timestamp is stored naive in UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def import_all_models() -> None:
    """Import every domain's models so Base.metadata knows all tables."""
    from leadflow.auth import models as _auth  # noqa: F401
    from leadflow.campaigns import models as _campaigns  # noqa: F401
    from leadflow.capture import models as _capture  # noqa: F401
    from leadflow.db import bulk as _bulk  # noqa: F401
    from leadflow.leads import models as _leads  # noqa: F401
    from leadflow.lifecycle import models as _lifecycle  # noqa: F401
    from leadflow.predict import models as _predict  # noqa: F401
    from leadflow.scoring import models as _scoring  # noqa: F401
