"""Full-text prefix search over name, email, company and external id, on SQLite and PostgreSQL.

Both engines answer the same question: every word of the query is the start of a word in the
lead's first name, last name, email, company or external id (e.g. a CRM's Prospect ID). Emails are split at punctuation, so "acme"
finds "jo@acme.io".
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import ColumnElement, Connection, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import literal_column

# Accents folded the same way on both engines ("maria" finds "María"): SQLite's tokenizer drops
# diacritics; PostgreSQL gets translate(), which is immutable and so can sit in an index (the
# unaccent extension would need a superuser to install).
_ACCENTED = "áàâäãåāéèêëēíìîïīóòôöõøōúùûüūñçýÿ"
_PLAIN = "aaaaaaaeeeeeiiiiiooooooouuuuuncyy"


# The columns whose words are searched; every statement below is derived from this list.
SEARCH_COLUMNS: tuple[str, ...] = ("first_name", "last_name", "email", "company_name", "external_id")
_COLS = ", ".join(SEARCH_COLUMNS)


def _pg_document(row: str = "") -> str:
    """The tsvector of a lead's searchable words (ROW is "NEW." inside the trigger)."""
    words = " || ' ' || ".join(f"coalesce({row}{c}, '')" for c in SEARCH_COLUMNS)
    return (
        f"to_tsvector('simple'::regconfig, regexp_replace(translate(lower({words}), "
        f"'{_ACCENTED}', '{_PLAIN}'), '[^[:alnum:]]+', ' ', 'g'))"
    )


# A bulk writer sets `leadflow.bulk_search` to 'on' for its transaction (SET LOCAL), writes its
# rows, and fills lead_search with one PG_SEARCH_FILL statement: the per-row trigger costs tens
# of microseconds per lead, the set-based fill a few.
PG_SEARCH_SYNC_FUNCTION = (
    "CREATE OR REPLACE FUNCTION leads_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF current_setting('leadflow.bulk_search', true) = 'on' THEN RETURN NULL; END IF; "
    "INSERT INTO lead_search (lead_id, created_at, doc) VALUES (NEW.id, NEW.created_at, "
    f"{_pg_document('NEW.')}) "
    "ON CONFLICT (lead_id) DO UPDATE SET created_at = EXCLUDED.created_at, doc = EXCLUDED.doc; "
    "RETURN NULL; END $$"
)
# PostgreSQL keeps the search words in a narrow side table, filled by a trigger: counting 40k
# matches there reads ~80-byte rows instead of whole leads (75 ms instead of 134 ms on 1M leads).
_PG_DDL = [
    "CREATE TABLE lead_search (lead_id BIGINT PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE, "
    "created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, doc TSVECTOR NOT NULL)",
    "CREATE INDEX ix_lead_search_doc ON lead_search USING gin (doc)",
    "CREATE INDEX ix_lead_search_created_at ON lead_search (created_at, lead_id)",
    PG_SEARCH_SYNC_FUNCTION,
    "CREATE TRIGGER leads_search_ai AFTER INSERT ON leads FOR EACH ROW EXECUTE FUNCTION leads_search_sync()",
    f"CREATE TRIGGER leads_search_au AFTER UPDATE OF {_COLS}, created_at "
    "ON leads FOR EACH ROW EXECUTE FUNCTION leads_search_sync()",
]

# The search rows of the leads matched by a WHERE clause appended to this statement.
PG_SEARCH_FILL = (
    f"INSERT INTO lead_search (lead_id, created_at, doc) SELECT id, created_at, {_pg_document()} FROM leads"
)
PG_SEARCH_FILL_CONFLICT = " ON CONFLICT (lead_id) DO UPDATE SET created_at = EXCLUDED.created_at, doc = EXCLUDED.doc"

# With more matches than this, walking the sort index and probing the match set finds a page
# faster than loading every match and sorting it; with fewer, the opposite. Measured on 1M leads
# (SQLite): 41k matches 13 ms walking vs 101 ms sorting; 0 matches 147 ms walking vs 0.2 ms.
WALK_SORT_INDEX_ABOVE = 2_000

_NEW = ", ".join(f"new.{c}" for c in SEARCH_COLUMNS)
_OLD = ", ".join(f"old.{c}" for c in SEARCH_COLUMNS)
# Statements that add every lead to the SQLite index, or take every lead out (bulk writers).
FTS_INSERT_ALL = f"INSERT INTO leads_fts(rowid, {_COLS}) SELECT id, {_COLS} FROM leads"
FTS_DELETE_ALL = f"INSERT INTO leads_fts(leads_fts, rowid, {_COLS}) SELECT 'delete', id, {_COLS} FROM leads"

_SQLITE_DDL = [
    f"CREATE VIRTUAL TABLE leads_fts USING fts5({_COLS}, content='leads', content_rowid='id', "
    "tokenize=\"unicode61 remove_diacritics 2 tokenchars ''\")",
    f"CREATE TRIGGER leads_fts_ai AFTER INSERT ON leads BEGIN "
    f"INSERT INTO leads_fts(rowid, {_COLS}) VALUES (new.id, {_NEW}); END",
    f"CREATE TRIGGER leads_fts_ad AFTER DELETE ON leads BEGIN "
    f"INSERT INTO leads_fts(leads_fts, rowid, {_COLS}) VALUES ('delete', old.id, {_OLD}); END",
    # Only a change to a searched column touches the index, so score updates stay cheap.
    f"CREATE TRIGGER leads_fts_au AFTER UPDATE OF {_COLS} ON leads BEGIN "
    f"INSERT INTO leads_fts(leads_fts, rowid, {_COLS}) VALUES ('delete', old.id, {_OLD}); "
    f"INSERT INTO leads_fts(rowid, {_COLS}) VALUES (new.id, {_NEW}); END",
]


# PostgreSQL puts NULLs last going up, SQLite first; the list sorts them first going up on both.
# A btree built NULLS FIRST serves that order forwards and its reverse backwards, so these
# sortable, nullable columns get their PostgreSQL index rebuilt that way, ending in the id
# tiebreak as SQLite's rowid does implicitly: otherwise ~100k leads without a company are sorted
# by id on every page (180 ms on 1M leads). SQLite needs nothing.
PG_NULLS_FIRST_INDEXES = {
    "ix_leads_last_activity_at": "last_activity_at NULLS FIRST, id",
    "ix_leads_last_name": "last_name NULLS FIRST, first_name NULLS FIRST, id",
    "ix_leads_company_name": "company_name NULLS FIRST, id",
    "ix_leads_engagement_score": "engagement_score NULLS FIRST, id",
    # The unique index on email stays as it is; sorting gets its own.
    "ix_leads_email_sort": "email NULLS FIRST, id",
}
# The same for the score columns, which migration 0006 added.
PG_SCORE_SORT_INDEXES = {
    "ix_leads_score": "score NULLS FIRST, id",
    "ix_leads_fit_grade_score": "fit_grade NULLS FIRST, score NULLS FIRST, id",
    "ix_leads_intent_score": "intent_score NULLS FIRST, id",
}
# And for the conversion probability, which migration 0007 indexed.
PG_PREDICTION_SORT_INDEXES = {
    "ix_leads_conversion_probability": "conversion_probability NULLS FIRST, id",
}


def create_search_index(conn: Connection) -> None:
    """Create the search structures (and PostgreSQL's sort indexes) for this dialect."""
    if conn.dialect.name == "sqlite":
        for ddl in _SQLITE_DDL:
            conn.execute(text(ddl))
    else:
        for ddl in _PG_DDL:
            conn.execute(text(ddl))
        for name, columns in PG_NULLS_FIRST_INDEXES.items():
            conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
            conn.execute(text(f"CREATE INDEX {name} ON leads ({columns})"))


def drop_search_index(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for name in ("leads_fts_ai", "leads_fts_ad", "leads_fts_au"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        conn.execute(text("DROP TABLE IF EXISTS leads_fts"))
    else:
        conn.execute(text("DROP TRIGGER IF EXISTS leads_search_au ON leads"))
        conn.execute(text("DROP TRIGGER IF EXISTS leads_search_ai ON leads"))
        conn.execute(text("DROP FUNCTION IF EXISTS leads_search_sync()"))
        conn.execute(text("DROP TABLE IF EXISTS lead_search"))


def query_terms(q: str) -> list[str]:
    """The words of a search box entry, lowercased, accents and punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", q.lower())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [t for t in re.split(r"[^\w]+", folded) if t][:8]


def _fts_query(terms: list[str]) -> str:
    return " AND ".join(f'"{t}"*' for t in terms)


def _ts_query(terms: list[str]) -> str:
    return " & ".join(f"{t}:*" for t in terms)


def count_matches(session: Session, q: str) -> int | None:
    """How many leads match Q, straight from the search index; None when Q has no words."""
    terms = query_terms(q)
    if not terms:
        return None
    if session.get_bind().dialect.name == "sqlite":
        stmt = text("SELECT count(*) FROM leads_fts WHERE leads_fts MATCH :fts_q").bindparams(fts_q=_fts_query(terms))
    else:
        stmt = text("SELECT count(*) FROM lead_search WHERE doc @@ to_tsquery('simple', :ts_q)").bindparams(
            ts_q=_ts_query(terms))
    return int(session.scalar(stmt) or 0)


def search_condition(dialect: str, q: str, id_column, *, walk_sort_index: bool = False) -> ColumnElement[bool] | None:
    """A WHERE condition matching leads whose words start with every term of Q.

    walk_sort_index (many matches) asks the planner to walk the ORDER BY index and probe the
    match set; without it (few matches) the query is driven by the matches themselves.
    """
    terms = query_terms(q)
    if not terms:
        return None
    if dialect == "sqlite":
        column = literal_column("+leads.id") if walk_sort_index else id_column
        return column.in_(
            text("SELECT rowid FROM leads_fts WHERE leads_fts MATCH :fts_q").bindparams(fts_q=_fts_query(terms))
        )
    matching = "SELECT lead_id FROM lead_search WHERE doc @@ to_tsquery('simple', :ts_q)"
    if walk_sort_index:
        # IN (subquery) lets PostgreSQL walk the sort index and probe a hashed match set.
        return id_column.in_(text(matching).bindparams(ts_q=_ts_query(terms)))
    # Few matches: fetch them once (an InitPlan) and look the leads up by primary key, instead of
    # walking the sort index past every lead that does not match (and computing nothing per row).
    return text(f"leads.id = ANY(ARRAY({matching}))").bindparams(ts_q=_ts_query(terms))
