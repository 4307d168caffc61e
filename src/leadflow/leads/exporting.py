"""CSV export of any filtered lead list, in batches (Polars writes each batch at once)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from leadflow.leads.models import TOUCH_FIELDS, Lead
from leadflow.leads.schemas import LeadFilter
from leadflow.leads.service import _filtered, _order

EXPORT_COLUMNS: tuple[str, ...] = (
    "id", "email", "external_id", "first_name", "last_name", "phone", "job_title", "company_name",
    "industry", "company_size", "country", "city", "website", "stage", "outcome", "deal_value",
    "lost_reason", "owner_id", "campaign_id", "score", "fit_grade", "fit_points", "engagement_score",
    "intent_score", "conversion_probability", "consent_email", "consent_tracking",
    *(f"first_{f}" for f in TOUCH_FIELDS), *(f"last_{f}" for f in TOUCH_FIELDS),
    "created_at", "updated_at", "converted_at", "last_activity_at", "properties",
)
BATCH_ROWS = 50_000

# A cell a spreadsheet would run as a formula (CSV injection): it starts with = or @, or with
# + or - followed by anything but a number. Such cells get a leading apostrophe, which
# spreadsheets show as text. Phone numbers like +34612345678 and negative amounts stay as they are.
_FORMULA = r"^(?:[=@\t\r]|[+\-].*[^0-9 ().\-])"


def _defuse_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """FRAME with formula-looking text cells prefixed by an apostrophe."""
    text_columns = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text_columns
    )


def export_query(session: Session, filter: LeadFilter):
    columns = [getattr(Lead, c) for c in EXPORT_COLUMNS]
    return _filtered(session, filter).with_only_columns(*columns).order_by(*_order(filter))


def iter_csv(engine: Engine, filter: LeadFilter, *, batch_rows: int = BATCH_ROWS) -> Iterator[bytes]:
    """The CSV (header first) of every lead matching FILTER, as byte chunks."""
    with Session(engine) as session:
        stmt = export_query(session, filter)
        result = session.execute(stmt.execution_options(yield_per=batch_rows))
        header = True
        props_at = EXPORT_COLUMNS.index("properties")
        for rows in result.partitions(batch_rows):
            # Properties become JSON text before Polars sees them: left as dicts they would be
            # inferred as one struct, adding every other row's keys as nulls and casting values.
            data = [(*r[:props_at], _props_json(r[props_at]), *r[props_at + 1:]) for r in rows]
            frame = _defuse_formulas(
                pl.DataFrame(data, schema=list(EXPORT_COLUMNS), orient="row", infer_schema_length=None))
            buf = io.BytesIO()
            frame.write_csv(buf, include_header=header, datetime_format="%Y-%m-%dT%H:%M:%SZ")
            header = False
            yield buf.getvalue()
        if header:
            yield (",".join(EXPORT_COLUMNS) + "\n").encode()


def _props_json(value) -> str:
    import json

    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
