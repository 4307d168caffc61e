"""Vectorized cleaning of one batch of CSV rows into lead records, with a row-level issue list.

Every value goes through `leadflow.leads.normalize`, called once per distinct value of a
column and joined back. The only shortcuts are Polars expressions for values whose outcome
is certain (plain ASCII text, simple email addresses); tests check with Hypothesis that the
shortcuts agree with the scalar functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import polars as pl

from leadflow.leads.attribution import classify_channel
from leadflow.leads.import_mapping import PROPERTY_PREFIX
from leadflow.leads.import_reader import EXTRA_COLUMN
from leadflow.leads.models import TOUCH_FIELDS
from leadflow.leads.normalize import (
    EMAIL_FAST,
    SPECIAL_DOMAINS,
    InvalidValue,
    clean_name,
    clean_text,
    normalize_country,
    normalize_email,
    normalize_phone,
)

# Widths of the lead columns, so that a value is cut as clean_text would cut it.
TEXT_LIMITS: dict[str, int] = {
    "external_id": 200, "job_title": 200, "company_name": 255, "industry": 120, "company_size": 32,
    "city": 120, "website": 255, "source": 200, "medium": 200, "campaign": 200, "content": 200,
    "term": 200, "referrer": 2000, "landing_page": 2000, "lost_reason": 200,
}
TOUCH_INPUTS = tuple(f for f in TOUCH_FIELDS if f != "channel")
# Dropdown placeholders exported by form tools mean "not answered", in any column.
PLACEHOLDERS = frozenset({"select", "-- select --", "--select--", "- select -", "(select)", "please select",
                          "seleccione", "selecciona", "-- seleccione --"})
TRUTHY = frozenset({"1", "yes", "y", "true", "t", "si", "sí", "s", "won", "converted", "ganado", "convertido",
                    "x", "closed won"})
FALSY = frozenset({"0", "no", "n", "false", "f", "lost", "perdido", "closed lost", "not converted"})
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%d %H:%M", "%Y-%m-%d",
                "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")

_PRINTABLE_ASCII = r"^[\x20-\x7e]*$"
# Same test as normalize.clean_name, applied to already cleaned text.
_NAME_SPAM = r"(?i)https?://|www\.|<[^>]*>"


@dataclass(slots=True)
class ColumnPlan:
    """Where each input column goes: a lead field, a custom property, or nowhere."""

    keys: list[str]  # the column's header as shown to the user (unique)
    fields: dict[str, int]  # lead field -> column index
    properties: dict[str, int]  # property key -> column index

    @classmethod
    def from_mapping(cls, mapping: dict[str, str | None]) -> ColumnPlan:
        keys = list(mapping)
        fields: dict[str, int] = {}
        props: dict[str, int] = {}
        for i, target in enumerate(mapping.values()):
            if target is None:
                continue
            if target.startswith(PROPERTY_PREFIX):
                props[target[len(PROPERTY_PREFIX):]] = i
            else:
                fields[target] = i
        return cls(keys=keys, fields=fields, properties=props)

    def header(self, field: str) -> str:
        return self.keys[self.fields[field]]


@dataclass(slots=True)
class NormalizedBatch:
    records: pl.DataFrame  # one row per identity: row, key, lead fields, "p:<key>" property columns
    issues: pl.DataFrame  # row, column, value, reason, severity, raw
    rows: int
    rejected: int
    duplicates: int


ISSUE_SCHEMA = {"row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String,
                "severity": pl.String}


def apply_distinct(frame: pl.DataFrame, fn: Callable[..., str | None]) -> tuple[pl.Series, pl.Series]:
    """FN over each distinct non-null row of FRAME, joined back: (values, InvalidValue reasons)."""
    cols = frame.columns
    uniq = frame.filter(pl.col(cols[0]).is_not_null()).unique()
    outs: list[str | None] = []
    errs: list[str | None] = []
    for args in uniq.iter_rows():
        try:
            outs.append(fn(*args))
            errs.append(None)
        except InvalidValue as exc:
            outs.append(None)
            errs.append(str(exc))
    lookup = uniq.with_columns(pl.Series("_out", outs, dtype=pl.String), pl.Series("_err", errs, dtype=pl.String))
    joined = frame.join(lookup, on=cols, how="left", maintain_order="left", nulls_equal=True)
    return joined.get_column("_out"), joined.get_column("_err")


def clean_text_series(s: pl.Series, *, limit: int = 255) -> pl.Series:
    """clean_text over a column: a Polars expression for printable ASCII, the function for the rest."""
    frame = pl.DataFrame({"v": s})
    ascii_ok = pl.col("v").str.contains(_PRINTABLE_ASCII)
    fast = pl.col("v").str.replace_all(" {2,}", " ").str.strip_chars(" ").str.slice(0, limit).str.strip_chars_end(" ")
    frame = frame.with_columns(
        fast=pl.when(ascii_ok).then(fast),
        slow=pl.when(ascii_ok.not_()).then(pl.col("v")),
    )
    slow, _ = apply_distinct(frame.select("slow"), lambda v: clean_text(v, max_length=limit))
    return frame.select(pl.coalesce(pl.col("fast").replace("", None), slow)).to_series().rename(s.name)


def clean_name_series(s: pl.Series) -> tuple[pl.Series, pl.Series]:
    """clean_name over a column: (names, reasons for the ones refused)."""
    cleaned = clean_text_series(s, limit=120)
    bad = cleaned.str.contains(_NAME_SPAM).fill_null(False)
    frame = pl.DataFrame({"v": s, "bad": bad})
    # The refusal reason comes from clean_name itself, once per distinct refused value.
    _, err = apply_distinct(frame.select(pl.when(pl.col("bad")).then(pl.col("v"))), clean_name)
    return cleaned, err


def fast_email_mask(s: pl.Series) -> pl.Series:
    """True where the trimmed value is a simple address that normalize_email accepts unchanged but lowercased."""
    t = s.str.strip_chars()
    domain = t.str.extract(r"@([^@]*)$").str.to_lowercase()
    local = t.str.extract(r"^([^@]*)@")
    special = pl.Series([False] * len(s))
    for d in SPECIAL_DOMAINS:
        special = special | (domain == d).fill_null(False) | domain.str.ends_with("." + d).fill_null(False)
    return (t.str.contains(EMAIL_FAST).fill_null(False) & (t.str.len_bytes() <= 200).fill_null(False)
            & (local.str.len_bytes() <= 64).fill_null(False) & ~domain.str.contains("--").fill_null(True)
            & ~special)


def normalize_email_series(s: pl.Series) -> tuple[pl.Series, pl.Series]:
    """normalize_email over a column: (addresses, reasons for the invalid ones)."""
    fast = fast_email_mask(s)
    frame = pl.DataFrame({"v": s, "fast": fast})
    slow_in = frame.select(pl.when(pl.col("fast").not_()).then(pl.col("v")))
    slow, err = apply_distinct(slow_in, normalize_email)
    out = frame.select(pl.when(pl.col("fast")).then(pl.col("v").str.strip_chars().str.to_lowercase())
                       .otherwise(slow)).to_series()
    return out.rename(s.name), err


def _where(mask: pl.Series, s: pl.Series) -> pl.Series:
    """S where MASK is true, null elsewhere."""
    return pl.DataFrame({"m": mask, "v": s}).select(pl.when(pl.col("m")).then(pl.col("v"))).to_series().rename(s.name)


def _parse_decimal(raw: str) -> str:
    value = re.sub(r"[^\d,.\-]", "", raw)
    if "," in value and "." in value:
        # Whichever separator comes last is the decimal one: 1.234,56 or 1,234.56.
        value = value.replace(".", "").replace(",", ".") if value.rfind(",") > value.rfind(".") else value.replace(",", "")
    elif "," in value:
        head, _, tail = value.rpartition(",")
        value = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else value.replace(",", "")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise InvalidValue(f"not an amount: {raw!r}") from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
        raise InvalidValue(f"not an amount: {raw!r}")
    return str(number.quantize(Decimal("0.01")))


def _outcome(raw: str) -> str:
    folded = raw.strip().lower()
    if folded in TRUTHY:
        return "won"
    if folded in FALSY:
        return "lost"
    raise InvalidValue(f"not a yes/no outcome: {raw!r} (use 1/0, yes/no, true/false, sí/no, won/lost)")


def _parse_dates(s: pl.Series) -> pl.Series:
    return pl.DataFrame({"v": s}).select(
        pl.coalesce([pl.col("v").str.to_datetime(f, strict=False, time_unit="us") for f in DATE_FORMATS])
    ).to_series()


def normalize_batch(df: pl.DataFrame, *, plan: ColumnPlan, rows: pl.Series) -> NormalizedBatch:
    """Clean DF (columns c0..cN), reject bad rows, merge rows of the same lead; ROWS are their sheet row numbers."""
    n = df.height
    rows = rows.cast(pl.Int64).rename("row")
    extra = df.get_column(EXTRA_COLUMN) if EXTRA_COLUMN in df.columns else None
    df = df.drop(EXTRA_COLUMN, strict=False)
    blank = [pl.col(c).str.strip_chars() for c in df.columns]
    cleaned = df.with_columns(
        [pl.when(e.str.to_lowercase().is_in(list(PLACEHOLDERS)) | (e == "")).then(None).otherwise(pl.col(c)).alias(c)
         for e, c in zip(blank, df.columns, strict=True)]
    )
    out: dict[str, pl.Series] = {"row": rows}
    issues: list[pl.DataFrame] = []
    raw_props: dict[str, pl.Series] = {}

    def col(field: str) -> pl.Series:
        return cleaned.get_column(f"c{plan.fields[field]}")

    def issue(field: str, mask: pl.Series, reason: pl.Series, severity: str) -> None:
        mask = mask.fill_null(False)
        if not mask.any():
            return
        frame = pl.DataFrame({"row": rows, "value": col(field), "reason": reason}).filter(mask)
        issues.append(frame.select(
            "row", pl.lit(plan.header(field)).alias("column"), "value", "reason", pl.lit(severity).alias("severity"),
        ))

    if extra is not None and extra.is_not_null().any():
        issues.append(pl.DataFrame({"row": rows, "value": extra}).filter(extra.is_not_null()).select(
            "row", pl.lit("(after the last column)").alias("column"), "value",
            pl.lit(f"the row has more values than the header's {len(plan.keys)} columns "
                   "(an unquoted delimiter inside a value?)").alias("reason"),
            pl.lit("error").alias("severity"),
        ))
    if "email" in plan.fields:
        email, err = normalize_email_series(col("email"))
        out["email"] = email
        issue("email", err.is_not_null(), err, "error")
    if "external_id" in plan.fields:
        out["external_id"] = clean_text_series(col("external_id"), limit=200)
    for field in ("first_name", "last_name", "full_name"):
        if field in plan.fields:
            name, err = clean_name_series(col(field))
            out[field] = name
            issue(field, err.is_not_null(), err, "error")
    if "full_name" in out:
        full = out.pop("full_name")
        first = full.str.extract(r"^(\S+)")
        last = full.str.extract(r"^\S+\s+(.+)$")
        out["first_name"] = out["first_name"].fill_null(first) if "first_name" in out else first.rename("first_name")
        out["last_name"] = out["last_name"].fill_null(last) if "last_name" in out else last.rename("last_name")
    for field, limit in TEXT_LIMITS.items():
        if field in plan.fields and field != "external_id":
            out[field] = clean_text_series(col(field), limit=limit)
    country: pl.Series | None = None
    if "country" in plan.fields:
        country, err = apply_distinct(pl.DataFrame({"v": col("country")}), normalize_country)
        out["country"] = country
        issue("country", err.is_not_null(), err + " (kept in properties.country_raw)", "warning")
        raw_props["country_raw"] = _where(err.is_not_null(), col("country"))
    if "phone" in plan.fields:
        pairs = pl.DataFrame({"v": col("phone"),
                              "c": country if country is not None else pl.Series([None] * n, dtype=pl.String)})
        phone, err = apply_distinct(pairs, normalize_phone)
        out["phone"] = phone
        issue("phone", err.is_not_null(), err + " (kept in properties.phone_raw)", "warning")
        raw_props["phone_raw"] = _where(err.is_not_null(), col("phone"))
    if "outcome" in plan.fields:
        outcome, err = apply_distinct(pl.DataFrame({"v": col("outcome")}), _outcome)
        out["outcome"] = outcome
        issue("outcome", err.is_not_null(), err + " (kept in properties.outcome_raw)", "warning")
        raw_props["outcome_raw"] = _where(err.is_not_null(), col("outcome"))
    if "deal_value" in plan.fields:
        value, err = apply_distinct(pl.DataFrame({"v": col("deal_value")}), _parse_decimal)
        out["deal_value"] = value
        issue("deal_value", err.is_not_null(), err + " (kept in properties.deal_value_raw)", "warning")
        raw_props["deal_value_raw"] = _where(err.is_not_null(), col("deal_value"))
    if "created_at" in plan.fields:
        created = _parse_dates(col("created_at"))
        bad = created.is_null() & col("created_at").is_not_null()
        out["created_at"] = created
        issue("created_at", bad, pl.Series(["not a date (use YYYY-MM-DD or DD/MM/YYYY); kept in properties.created_raw"] * n),
              "warning")
        raw_props["created_raw"] = _where(bad, col("created_at"))
    touch = [f for f in TOUCH_INPUTS if f in out]
    if touch:
        triple = pl.DataFrame({k: out.get(k, pl.Series([None] * n, dtype=pl.String))
                               for k in ("medium", "source", "referrer")})
        has_touch = pl.DataFrame({f: out[f] for f in touch}).select(pl.any_horizontal(pl.all().is_not_null())).to_series()
        channel, _ = apply_distinct(
            triple.with_columns(pl.when(has_touch).then(pl.lit("y")).alias("_has")).select("_has", "medium", "source", "referrer"),
            lambda _h, medium, source, referrer: classify_channel(medium=medium, source=source, referrer=referrer),
        )
        for f in (*touch, "channel"):
            value = channel if f == "channel" else out.pop(f)
            out[f"first_{f}"] = value.rename(f"first_{f}")
            out[f"last_{f}"] = value.rename(f"last_{f}")
    for key, index in plan.properties.items():
        out[f"p:{key}"] = cleaned.get_column(f"c{index}")
    for key, series in raw_props.items():
        if series.null_count() < n:
            out[f"p:{key}"] = series

    records = pl.DataFrame([s.rename(k) for k, s in out.items()])
    ident = []
    if "email" in records.columns:
        ident.append(pl.lit("e:") + pl.col("email"))
    if "external_id" in records.columns:
        ident.append(pl.lit("x:") + pl.col("external_id"))
    records = records.with_columns(key=pl.coalesce(ident) if ident else pl.lit(None, dtype=pl.String))

    issue_frame = pl.concat(issues) if issues else pl.DataFrame(schema=ISSUE_SCHEMA)
    error_rows = issue_frame.filter(pl.col("severity") == "error").get_column("row")
    no_key = records.filter(pl.col("key").is_null() & ~pl.col("row").is_in(error_rows.implode()))
    if no_key.height:
        ident_col = plan.header("email") if "email" in plan.fields else (
            plan.header("external_id") if "external_id" in plan.fields else None)
        issue_frame = pl.concat([issue_frame, no_key.select(
            "row", pl.lit(ident_col, dtype=pl.String).alias("column"), pl.lit(None, dtype=pl.String).alias("value"),
            pl.lit("no email and no external id: nothing identifies this lead").alias("reason"),
            pl.lit("error").alias("severity"),
        )])
    rejected_rows = issue_frame.filter(pl.col("severity") == "error").get_column("row").unique()
    # A rejected row is reported by its errors; its warnings would only add noise.
    issue_frame = issue_frame.filter((pl.col("severity") == "error") | ~pl.col("row").is_in(rejected_rows.implode()))
    good = records.filter(~pl.col("row").is_in(rejected_rows.implode()))
    merged, duplicates = merge_duplicates(good, key="key")
    issue_frame = _with_raw(issue_frame, df=df, plan=plan, rows=rows, extra=extra)
    return NormalizedBatch(records=merged, issues=issue_frame.sort("row", maintain_order=True), rows=n,
                           rejected=rejected_rows.len(), duplicates=duplicates)


# Set-once columns keep the first non-empty value among duplicate rows; the rest take the last.
SET_ONCE_COLUMNS = frozenset({"row", "email", "external_id", "created_at",
                              *(f"first_{f}" for f in TOUCH_FIELDS)})


def merge_duplicates(records: pl.DataFrame, *, key: str) -> tuple[pl.DataFrame, int]:
    """One row per KEY, merging duplicates by the set / set-once rules; (rows, duplicates merged)."""
    dup_mask = records.get_column(key).is_duplicated()
    if not dup_mask.any():
        return records, 0
    single = records.filter(~dup_mask)
    dups = records.filter(dup_mask)
    aggs = [
        (pl.col(c).drop_nulls().first() if c in SET_ONCE_COLUMNS else pl.col(c).drop_nulls().last()).alias(c)
        for c in records.columns if c != key
    ]
    merged = dups.group_by(key, maintain_order=True).agg(aggs).select(records.columns)
    return pl.concat([single, merged]).sort("row"), dups.height - merged.height


def _with_raw(issues: pl.DataFrame, *, df: pl.DataFrame, plan: ColumnPlan, rows: pl.Series,
              extra: pl.Series | None = None) -> pl.DataFrame:
    """Issues with the whole submitted row as JSON, so nothing a user sent is lost."""
    if issues.height == 0:
        return issues.with_columns(raw=pl.lit(None, dtype=pl.String))
    wanted = issues.get_column("row").unique().implode()
    fields = [pl.col(f"c{i}").alias(k) for i, k in enumerate(plan.keys)]
    if extra is not None:
        df = df.with_columns(extra.alias(EXTRA_COLUMN))
        fields.append(pl.col(EXTRA_COLUMN).alias("(after the last column)"))
    raw = df.with_columns(rows).filter(pl.col("row").is_in(wanted)).select(
        "row", raw=pl.struct(fields).struct.json_encode(),
    )
    return issues.join(raw, on="row", how="left", maintain_order="left")
