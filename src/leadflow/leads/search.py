"""Full-text prefix search over name, email and company, on SQLite (FTS5) and PostgreSQL.

Both engines answer the same question: every word of the query is the start of a word in the
lead's first name, last name, email or company. Emails are split at punctuation, so "acme"
finds "jo@acme.io".
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Connection, text
from sqlalchemy.sql import literal_column

# The tsvector expression is repeated verbatim in the query so PostgreSQL uses the GIN index.
PG_DOCUMENT = (
    "to_tsvector('simple'::regconfig, regexp_replace(lower("
    "coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || "
    "coalesce(email, '') || ' ' || coalesce(company_name, '')), '[^[:alnum:]]+', ' ', 'g'))"
)

_SQLITE_DDL = [
    "CREATE VIRTUAL TABLE leads_fts USING fts5("
    "first_name, last_name, email, company_name, content='leads', content_rowid='id', "
    "tokenize=\"unicode61 remove_diacritics 2 tokenchars ''\")",
    "CREATE TRIGGER leads_fts_ai AFTER INSERT ON leads BEGIN "
    "INSERT INTO leads_fts(rowid, first_name, last_name, email, company_name) "
    "VALUES (new.id, new.first_name, new.last_name, new.email, new.company_name); END",
    "CREATE TRIGGER leads_fts_ad AFTER DELETE ON leads BEGIN "
    "INSERT INTO leads_fts(leads_fts, rowid, first_name, last_name, email, company_name) "
    "VALUES ('delete', old.id, old.first_name, old.last_name, old.email, old.company_name); END",
    # Only a change to a searched column touches the index, so score updates stay cheap.
    "CREATE TRIGGER leads_fts_au AFTER UPDATE OF first_name, last_name, email, company_name ON leads BEGIN "
    "INSERT INTO leads_fts(leads_fts, rowid, first_name, last_name, email, company_name) "
    "VALUES ('delete', old.id, old.first_name, old.last_name, old.email, old.company_name); "
    "INSERT INTO leads_fts(rowid, first_name, last_name, email, company_name) "
    "VALUES (new.id, new.first_name, new.last_name, new.email, new.company_name); END",
]


def create_search_index(conn: Connection) -> None:
    """Create the search structures for this dialect."""
    if conn.dialect.name == "sqlite":
        for ddl in _SQLITE_DDL:
            conn.execute(text(ddl))
    else:
        conn.execute(text(f"CREATE INDEX ix_leads_search ON leads USING gin ({PG_DOCUMENT})"))


def drop_search_index(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for name in ("leads_fts_ai", "leads_fts_ad", "leads_fts_au"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        conn.execute(text("DROP TABLE IF EXISTS leads_fts"))
    else:
        conn.execute(text("DROP INDEX IF EXISTS ix_leads_search"))


def query_terms(q: str) -> list[str]:
    """The words of a search box entry, lowercased, punctuation dropped."""
    return [t for t in re.split(r"[^\w]+", q.lower()) if t][:8]


def search_condition(dialect: str, q: str, id_column) -> ColumnElement[bool] | None:
    """A WHERE condition matching leads whose words start with every term of Q."""
    terms = query_terms(q)
    if not terms:
        return None
    if dialect == "sqlite":
        match = " AND ".join(f'"{t}"*' for t in terms)
        return id_column.in_(
            text("SELECT rowid FROM leads_fts WHERE leads_fts MATCH :fts_q").bindparams(fts_q=match)
        )
    tsq = " & ".join(f"{t}:*" for t in terms)
    return literal_column(PG_DOCUMENT).op("@@")(
        text("to_tsquery('simple', :ts_q)").bindparams(ts_q=tsq)
    )
