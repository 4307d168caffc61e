"""Set-based writes of one import batch: new leads, merged updates, timeline rows, companies, rejections.

Everything for a batch runs on one connection inside one transaction owned by the caller, so a
lead, its stage history, its change event and its company link are committed together. SQLite
gets `executemany` on the raw driver connection; PostgreSQL gets COPY into the table (or into a
temporary table followed by one UPDATE ... FROM).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from sqlalchemy import Connection

from leadflow.leads.import_normalize import NormalizedBatch, merge_duplicates
from leadflow.leads.merge import SET_FIELDS, SET_ONCE_FIELDS
from leadflow.leads.normalize import FREE_EMAIL_DOMAINS
from leadflow.leads.search import (
    FTS_DELETE_ALL,
    FTS_INSERT_ALL,
    PG_SEARCH_FILL,
    PG_SEARCH_FILL_CONFLICT,
)

SEARCHED_COLUMNS = frozenset({"first_name", "last_name", "email", "company_name"})
# Lead columns an import can write; outcome follows the service's rule (a new value replaces the old).
WRITABLE = (*(f for f in SET_ONCE_FIELDS if f not in ("campaign_id", "form_id")),
            *(f for f in SET_FIELDS if f not in ("owner_id", "consent_email", "consent_tracking")), "outcome")
_TS = "%Y-%m-%d %H:%M:%S%.6f"


@dataclass(slots=True)
class BatchCounts:
    created: int
    updated: int
    unchanged: int
    duplicates: int
    won: int
    issues: pl.DataFrame  # warnings raised while writing (external id conflicts)


@dataclass(slots=True)
class ImportContext:
    import_id: int
    filename: str
    user_id: int | None
    now: datetime
    external_id_column: str | None


def write_batch(conn: Connection, *, batch: NormalizedBatch, ctx: ImportContext) -> BatchCounts:
    """Upsert BATCH's records and store its issues, inside the caller's transaction."""
    dbapi = conn.connection.driver_connection
    pg = conn.dialect.name == "postgresql"
    cur = dbapi.cursor()
    # Writing first takes SQLite's write lock, so the id allocation below cannot race another writer.
    cur.execute(_q(pg, "UPDATE lead_imports SET status = 'running' WHERE id = ?"), (ctx.import_id,))
    recs = batch.records
    fields = [c for c in recs.columns if c in WRITABLE]
    props = [c[2:] for c in recs.columns if c.startswith("p:")]
    existing = _fetch_existing(cur, pg=pg, recs=recs, fields=fields, props=props)
    recs = _resolve(recs, existing)
    matched = recs.filter(pl.col("lead_id").is_not_null())
    matched, dup_matched = merge_duplicates(matched, key="lead_id")
    new = recs.filter(pl.col("lead_id").is_null())
    new, matched, issues = _claim_external_ids(new, matched, existing, ctx=ctx)

    new_ids = _allocate_ids(cur, pg=pg, n=new.height)
    new = new.with_columns(lead_id=pl.Series(new_ids, dtype=pl.Int64))
    companies = _ensure_companies(cur, pg=pg, new=new, matched=matched, existing=existing, now=ctx.now)
    created, won = _insert_new(cur, pg=pg, new=new, fields=fields, props=props, companies=companies, ctx=ctx)
    changed = _update_matched(cur, pg=pg, matched=matched, existing=existing, fields=fields, props=props,
                              companies=companies, ctx=ctx)
    _insert_issues(cur, pg=pg, issues=pl.concat([batch.issues, issues], how="diagonal_relaxed"), ctx=ctx)
    # Rows repeating a lead of an earlier batch of the same file count as duplicates, not updates.
    first_seen = (~pl.col("_repeat").fill_null(False)) if "_repeat" in matched.columns else pl.lit(True)
    updated = changed.filter(first_seen).height if changed.height else 0
    return BatchCounts(created=created, updated=updated, unchanged=matched.filter(first_seen).height - updated,
                       duplicates=dup_matched, won=won, issues=issues)


def _q(pg: bool, sql: str) -> str:
    return sql.replace("?", "%s") if pg else sql


def _fetch_existing(cur, *, pg: bool, recs: pl.DataFrame, fields: list[str], props: list[str]) -> pl.DataFrame:
    """The stored leads this batch may touch (by email or external id), with their current values."""
    cols = ["id", "email", "external_id", "stage", "company_id"]
    select = [f"l.{c}" for c in cols]
    for f in fields:
        if f in cols:
            continue
        if f == "deal_value":
            select.append("CAST(l.deal_value AS TEXT)" if pg else "printf('%.2f', l.deal_value)")
        else:
            select.append(f"l.{f}")
        cols.append(f)
    params: list = []
    for key in props:
        if pg:
            select.append("l.properties ->> %s")
            params.append(key)
        else:
            select.append("CAST(json_extract(l.properties, ?) AS TEXT)")
            params.append('$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"')
        cols.append(f"old:p:{key}")
    frames = []
    for ident in ("email", "external_id"):
        if ident not in recs.columns:
            continue
        values = recs.get_column(ident).drop_nulls().unique().to_list()
        if not values:
            continue
        where = f"l.{ident} = ANY(%s)" if pg else f"l.{ident} IN (SELECT value FROM json_each(?))"
        cur.execute(f"SELECT {', '.join(select)} FROM leads l WHERE {where}",
                    (*params, values if pg else json.dumps(values)))
        frames.append(pl.DataFrame(cur.fetchall(), schema=cols, orient="row", infer_schema_length=None))
    schema = {c: (pl.Int64 if c in ("id", "company_id") else pl.String) for c in cols}
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat([f.cast(schema, strict=False) for f in frames]).unique("id", keep="first")


def _resolve(recs: pl.DataFrame, existing: pl.DataFrame) -> pl.DataFrame:
    """RECS with lead_id: the lead with the same email, else the one with the same external id."""
    lead_id = pl.lit(None, dtype=pl.Int64)
    out = recs
    if "email" in recs.columns:
        by_email = existing.filter(pl.col("email").is_not_null()).select("email", pl.col("id").alias("_by_email"))
        out = out.join(by_email, on="email", how="left", maintain_order="left")
        lead_id = pl.col("_by_email")
    if "external_id" in recs.columns:
        by_ext = existing.filter(pl.col("external_id").is_not_null()).select(
            "external_id", pl.col("id").alias("_by_ext"))
        out = out.join(by_ext, on="external_id", how="left", maintain_order="left")
        lead_id = pl.coalesce(lead_id, pl.col("_by_ext"))
    return out.with_columns(lead_id=lead_id).drop("_by_email", "_by_ext", strict=False)


def _claim_external_ids(new: pl.DataFrame, matched: pl.DataFrame, existing: pl.DataFrame, *, ctx: ImportContext):
    """Keep each external id on one lead: the first row claiming an id nobody holds wins; the others warn."""
    empty = pl.DataFrame(schema={"row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String,
                                 "severity": pl.String})
    if "external_id" not in new.columns:
        return new, matched, empty
    held = existing.filter(pl.col("external_id").is_not_null()).select("external_id", pl.col("id").alias("_holder"))
    current = existing.select(pl.col("id").alias("lead_id"), pl.col("external_id").alias("_current"))
    m = matched.join(current, on="lead_id", how="left").join(held, on="external_id", how="left")
    # A matched lead that already has an external id keeps it (set once): no claim.
    m_claims = m.filter(pl.col("_current").is_null() & pl.col("external_id").is_not_null())
    claims = pl.concat([
        new.filter(pl.col("external_id").is_not_null()).select("row", "external_id", pl.lit(None, pl.Int64).alias("_holder")),
        m_claims.select("row", "external_id", "_holder"),
    ]).sort("row")
    taken_elsewhere = claims.filter(pl.col("_holder").is_not_null())
    first_claim = claims.filter(pl.col("_holder").is_null()).unique("external_id", keep="first", maintain_order=True)
    losers = pl.concat([
        taken_elsewhere.select("row", "external_id"),
        claims.filter(pl.col("_holder").is_null()).join(first_claim, on=["row", "external_id"], how="anti")
        .select("row", "external_id"),
    ])
    if losers.height == 0:
        return new, matched, empty
    lose_rows = losers.get_column("row").implode()
    drop = pl.when(pl.col("row").is_in(lose_rows)).then(None).otherwise(pl.col("external_id")).alias("external_id")
    issues = losers.select(
        "row", pl.lit(ctx.external_id_column, dtype=pl.String).alias("column"), pl.col("external_id").alias("value"),
        pl.lit("external id already belongs to another lead; the lead was saved without it").alias("reason"),
        pl.lit("warning").alias("severity"),
    )
    return new.with_columns(drop), matched.with_columns(drop), issues


def _allocate_ids(cur, *, pg: bool, n: int) -> list[int]:
    if n == 0:
        return []
    if pg:
        cur.execute("SELECT nextval(pg_get_serial_sequence('leads', 'id')) FROM generate_series(1, %s)", (n,))
        return [r[0] for r in cur.fetchall()]
    cur.execute("SELECT coalesce(max(id), 0) FROM leads")
    start = cur.fetchone()[0] + 1
    return list(range(start, start + n))


def _domain(col: str = "email") -> pl.Expr:
    return pl.col(col).str.extract(r"@([^@]+)$")


def _ensure_companies(cur, *, pg: bool, new: pl.DataFrame, matched: pl.DataFrame, existing: pl.DataFrame,
                      now: datetime) -> pl.DataFrame:
    """Company rows for the corporate email domains of new leads and of leads still without one: domain -> id."""
    empty = pl.DataFrame(schema={"domain": pl.String, "company_id_new": pl.Int64})
    if "email" not in new.columns:
        return empty
    cands = [new]
    if matched.height:
        no_company = existing.filter(pl.col("company_id").is_null()).select(pl.col("id").alias("lead_id"),
                                                                          pl.col("email").alias("_old_email"))
        cands.append(matched.join(no_company, on="lead_id", how="inner")
                     .with_columns(email=pl.coalesce("_old_email", "email")).drop("_old_email"))
    cols = ["email", *(c for c in ("company_name", "industry", "company_size", "country") if c in new.columns)]
    rows = (pl.concat([c.select(cols) for c in cands], how="diagonal_relaxed")
            .with_columns(domain=_domain())
            .filter(pl.col("domain").is_not_null() & ~pl.col("domain").is_in(list(FREE_EMAIL_DOMAINS)))
            .unique("domain", keep="first", maintain_order=True))
    if rows.height == 0:
        return empty
    get = lambda c: pl.col(c) if c in rows.columns else pl.lit(None, dtype=pl.String)  # noqa: E731
    companies = rows.select(
        "domain", pl.coalesce(get("company_name"), pl.col("domain")).alias("name"), get("industry").alias("industry"),
        get("company_size").alias("size"), get("country").alias("country"),
        pl.lit(now.strftime("%Y-%m-%d %H:%M:%S.%f")).alias("created_at"),
    )
    cur.executemany(_q(pg, "INSERT INTO companies (domain, name, industry, size, country, created_at) "
                           "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (domain) DO NOTHING"),
                    companies.rows())
    domains = companies.get_column("domain").to_list()
    if pg:
        cur.execute("SELECT domain, id FROM companies WHERE domain = ANY(%s)", (domains,))
    else:
        cur.execute("SELECT domain, id FROM companies WHERE domain IN (SELECT value FROM json_each(?))",
                    (json.dumps(domains),))
    return pl.DataFrame(cur.fetchall(), schema={"domain": pl.String, "company_id_new": pl.Int64}, orient="row")


def json_object(keys: list[str], columns: list[str]) -> pl.Expr:
    """A JSON object text built from string columns, leaving out nulls."""
    frags = [pl.when(pl.col(c).is_not_null()).then(pl.lit(json.dumps(k) + ":") + json_value(pl.col(c)))
             for k, c in zip(keys, columns, strict=True)]
    if not frags:
        return pl.lit("{}")
    return pl.lit("{") + pl.concat_str(frags, separator=",", ignore_nulls=True) + pl.lit("}")


def json_value(expr: pl.Expr) -> pl.Expr:
    """A string column as JSON text ("..." or null)."""
    return pl.struct(v=expr).struct.json_encode().str.strip_prefix('{"v":').str.strip_suffix("}")


def _insert(cur, *, pg: bool, table: str, frame: pl.DataFrame) -> None:
    if frame.height == 0:
        return
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    if pg:
        data = frame.write_csv(include_header=False, datetime_format=_TS).encode()
        with cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(data)
        return
    frame = frame.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M:%S.%6f"))
    marks = ", ".join("?" for _ in frame.columns)
    cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", frame.iter_rows())


def _insert_new(cur, *, pg: bool, new: pl.DataFrame, fields: list[str], props: list[str], companies: pl.DataFrame,
                ctx: ImportContext) -> tuple[int, int]:
    if new.height == 0:
        return 0, 0
    now = pl.lit(ctx.now, dtype=pl.Datetime("us"))
    won = pl.col("outcome") == "won" if "outcome" in new.columns else pl.lit(False)
    if "email" in new.columns:
        new = new.with_columns(domain=_domain()).join(companies, on="domain", how="left", maintain_order="left")
        company = pl.col("company_id_new")
    else:
        company = pl.lit(None, dtype=pl.Int64)
    created_at = pl.col("created_at").fill_null(now) if "created_at" in new.columns else now
    new = new.with_columns(_created=created_at, _won=won.fill_null(False))
    leads = new.select(
        pl.col("lead_id").alias("id"), *(pl.col(f) for f in fields), company.alias("company_id"),
        json_object(props, [f"p:{k}" for k in props]).alias("properties"),
        pl.when(pl.col("_won")).then(pl.lit("customer")).otherwise(pl.lit("prospect")).alias("stage"),
        pl.lit("unknown").alias("consent_email"), pl.lit("unknown").alias("consent_tracking"),
        pl.col("_created").alias("created_at"), now.alias("updated_at"),
        pl.when(pl.col("_won")).then(now).alias("converted_at"),
    )
    if pg:
        # The per-row search trigger is bypassed for this insert; one statement fills lead_search.
        cur.execute("SET LOCAL leadflow.bulk_search = 'on'")
        _insert(cur, pg=pg, table="leads", frame=leads)
        cur.execute("SET LOCAL leadflow.bulk_search = 'off'")
        # A range, not id = ANY(ids): without fresh statistics the planner would scan the table
        # and test each row against the whole array. A lead of another writer in the range only
        # gets its (identical) search row written again.
        cur.execute(PG_SEARCH_FILL + " WHERE id BETWEEN %s AND %s" + PG_SEARCH_FILL_CONFLICT,
                    (new["lead_id"].min(), new["lead_id"].max()))
    else:
        with _fts_trigger_off(cur, "leads_fts_ai") as had_trigger:
            _insert(cur, pg=pg, table="leads", frame=leads)
            if had_trigger:
                cur.execute(_FTS_INSERT + " WHERE id BETWEEN ? AND ?", (min(new["lead_id"]), max(new["lead_id"])))
    reason = f"imported from {ctx.filename}"
    first = new.select(
        pl.col("lead_id"), pl.lit(None, dtype=pl.String).alias("from_stage"), pl.lit("prospect").alias("to_stage"),
        pl.lit(reason).alias("reason"), pl.lit("import").alias("actor_type"),
        pl.lit(ctx.user_id, dtype=pl.Int64).alias("actor_id"), pl.col("_created").alias("changed_at"),
    )
    converted = new.filter(pl.col("_won")).select(
        pl.col("lead_id"), pl.lit("prospect").alias("from_stage"), pl.lit("customer").alias("to_stage"),
        pl.lit(f"{reason} as converted").alias("reason"), pl.lit("import").alias("actor_type"),
        pl.lit(ctx.user_id, dtype=pl.Int64).alias("actor_id"), now.alias("changed_at"),
    )
    _insert(cur, pg=pg, table="stage_changes", frame=pl.concat([first, converted]))
    return new.height, converted.height


def _update_matched(cur, *, pg: bool, matched: pl.DataFrame, existing: pl.DataFrame, fields: list[str],
                    props: list[str], companies: pl.DataFrame, ctx: ImportContext) -> pl.DataFrame:
    """Merge the batch into stored leads; one property_change event per lead that changed. The changed rows."""
    if matched.height == 0:
        return matched
    old = existing.rename({c: f"old:{c}" for c in existing.columns if not c.startswith("old:")}).rename(
        {"old:id": "lead_id"})
    m = matched.join(old, on="lead_id", how="left", maintain_order="left")
    changed: dict[str, pl.Expr] = {}
    for f in fields:
        new, prev = pl.col(f), pl.col(f"old:{f}")
        if f in SET_ONCE_FIELDS:
            changed[f] = prev.is_null() & new.is_not_null()
        else:
            changed[f] = new.is_not_null() & (prev.is_null() | (prev != new))
    for k in props:
        new, prev = pl.col(f"p:{k}"), pl.col(f"old:p:{k}")
        changed[f"properties.{k}"] = new.is_not_null() & (prev.is_null() | (prev != new))
    if not changed:
        return m.clear()
    m = m.with_columns([e.fill_null(False).alias(f"ch:{name}") for name, e in changed.items()])
    any_change = pl.any_horizontal([pl.col(f"ch:{name}") for name in changed])
    m = m.filter(any_change)
    if m.height == 0:
        return m
    order = sorted(changed)
    frags = []
    for name in order:
        src_new = f"p:{name[11:]}" if name.startswith("properties.") else name
        src_old = f"old:{src_new}"
        frags.append(pl.when(pl.col(f"ch:{name}")).then(
            pl.lit('{"field":' + json.dumps(name) + ',"from":') + json_value(pl.col(src_old))
            + pl.lit(',"to":') + json_value(pl.col(src_new)) + pl.lit("}")))
    now = pl.lit(ctx.now, dtype=pl.Datetime("us"))
    m = m.with_columns(
        _event=pl.lit('{"changes":[') + pl.concat_str(frags, separator=",", ignore_nulls=True)
        + pl.lit(f'],"import_id":{ctx.import_id}}}'),
    )
    events = m.select(
        pl.col("lead_id"), pl.lit("property_change").alias("type"), now.alias("occurred_at"),
        pl.col("_event").alias("properties"), pl.lit("import").alias("source"), now.alias("created_at"),
    )
    _insert(cur, pg=pg, table="events", frame=events)

    set_cols = [f for f in fields if m.get_column(f"ch:{f}").any()]
    final = [pl.when(pl.col(f"ch:{f}")).then(pl.col(f)).otherwise(pl.col(f"old:{f}")).alias(f) for f in set_cols]
    changed_props = [k for k in props if m.get_column(f"ch:properties.{k}").any()]
    m = m.with_columns([pl.when(pl.col(f"ch:properties.{k}")).then(pl.col(f"p:{k}")).alias(f"_pp:{k}")
                        for k in changed_props])
    upd = m.select(
        pl.col("lead_id").alias("id"), *final, now.alias("updated_at"),
        *([json_object(changed_props, [f"_pp:{k}" for k in changed_props]).alias("properties")]
          if changed_props else []),
    )
    stage_rows = None
    if "outcome" in set_cols:
        becomes_customer = (pl.col("ch:outcome") & (pl.col("outcome") == "won")
                            & (pl.col("old:stage") != "customer")).fill_null(False)
        m = m.with_columns(_to_customer=becomes_customer)
        upd = upd.with_columns(
            stage=m.select(pl.when(pl.col("_to_customer")).then(pl.lit("customer")).otherwise(pl.col("old:stage")))
            .to_series(),
            # Merged with coalesce in SQL: an existing conversion date is never moved.
            converted_at=m.select(pl.when(pl.col("_to_customer")).then(now)).to_series(),
        )
        stage_rows = m.filter(pl.col("_to_customer")).select(
            pl.col("lead_id"), pl.col("old:stage").alias("from_stage"), pl.lit("customer").alias("to_stage"),
            pl.lit(f"imported from {ctx.filename} as converted").alias("reason"), pl.lit("import").alias("actor_type"),
            pl.lit(ctx.user_id, dtype=pl.Int64).alias("actor_id"), now.alias("changed_at"),
        )
    if companies.height and "email" in m.columns:
        company = m.with_columns(domain=_domain(), _ord=pl.int_range(pl.len())).join(
            companies, on="domain", how="left").sort("_ord").select(
            pl.coalesce("old:company_id", "company_id_new")).to_series()
        upd = upd.with_columns(company_id=company)
    searched = [c for c in upd.columns if c in SEARCHED_COLUMNS]
    plain = [c for c in upd.columns if c not in SEARCHED_COLUMNS and c != "id"]
    _update(cur, pg=pg, frame=upd.select("id", *plain))
    if searched:
        # Only the leads whose searched text changed, so SQLite's full-text trigger fires for them alone.
        touched = m.select(pl.any_horizontal([pl.col(f"ch:{c}") for c in searched])).to_series()
        frame = upd.filter(touched).select("id", *searched)
        if pg or frame.height == 0:
            _update(cur, pg=pg, frame=frame)
        else:
            ids = json.dumps(frame.get_column("id").to_list())
            with _fts_trigger_off(cur, "leads_fts_au") as had_trigger:
                if had_trigger:
                    cur.execute(_FTS_DELETE + " WHERE id IN (SELECT value FROM json_each(?))", (ids,))
                _update(cur, pg=pg, frame=frame)
                if had_trigger:
                    cur.execute(_FTS_INSERT + " WHERE id IN (SELECT value FROM json_each(?))", (ids,))
    if stage_rows is not None and stage_rows.height:
        _insert(cur, pg=pg, table="stage_changes", frame=stage_rows)
    return m


# SQLite's full-text triggers cost ~200 µs per row when fired row by row; inside the import's
# transaction (which holds the write lock) they are dropped, the index is fed with one
# INSERT ... SELECT, and they are re-created before commit, so no other writer ever misses them.
_FTS_INSERT = FTS_INSERT_ALL
_FTS_DELETE = FTS_DELETE_ALL


@contextmanager
def _fts_trigger_off(cur, name: str) -> Iterator[bool]:
    """Drop trigger NAME for the block and re-create it; yields whether it existed."""
    cur.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,))
    row = cur.fetchone()
    if row is not None:
        cur.execute(f'DROP TRIGGER "{name}"')
    yield row is not None
    if row is not None:
        cur.execute(row[0])


_PG_SET = {"properties": "properties = l.properties || u.properties",
           "converted_at": "converted_at = coalesce(l.converted_at, u.converted_at)"}
_SQLITE_SET = {"properties": "properties = json_patch(properties, ?)",
               "converted_at": "converted_at = coalesce(converted_at, ?)"}


def _update(cur, *, pg: bool, frame: pl.DataFrame) -> None:
    """UPDATE leads by id from FRAME; its properties column is merged key by key into the stored object."""
    if frame.height == 0 or frame.width == 1:
        return
    cols = [c for c in frame.columns if c != "id"]
    if pg:
        cur.execute("DROP TABLE IF EXISTS _imp_upd")
        cur.execute(f"CREATE TEMP TABLE _imp_upd ON COMMIT DROP AS SELECT id, {', '.join(cols)} FROM leads WITH NO DATA")
        _insert(cur, pg=True, table="_imp_upd", frame=frame)
        sets = ", ".join(_PG_SET.get(c, f"{c} = u.{c}") for c in cols)
        cur.execute(f"UPDATE leads l SET {sets} FROM _imp_upd u WHERE l.id = u.id")
        return
    frame = frame.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M:%S.%6f"))
    sets = ", ".join(_SQLITE_SET.get(c, f"{c} = ?") for c in cols)
    cur.executemany(f"UPDATE leads SET {sets} WHERE id = ?", frame.select(*cols, "id").iter_rows())


def _insert_issues(cur, *, pg: bool, issues: pl.DataFrame, ctx: ImportContext) -> None:
    if issues.height == 0:
        return
    if "raw" not in issues.columns:
        issues = issues.with_columns(raw=pl.lit(None, dtype=pl.String))
    frame = issues.select(
        pl.lit(ctx.import_id).alias("import_id"), pl.col("row").alias("row_number"), "column",
        pl.col("reason"), "severity",
        pl.coalesce("raw", pl.lit("{\"value\":") + json_value(pl.col("value")) + pl.lit("}")).alias("raw"),
    )
    _insert(cur, pg=pg, table="import_rejections", frame=frame)
