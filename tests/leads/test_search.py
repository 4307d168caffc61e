"""Full-text prefix search: the same answers on SQLite (FTS5) and PostgreSQL (tsvector)."""

import pytest

from leadflow.leads.schemas import LeadFilter
from leadflow.leads.search import query_terms
from leadflow.leads.service import list_leads, update_lead
from tests.factories import make_lead


def test_query_terms_split_at_punctuation_and_lowercase():
    assert query_terms("  Ana.García@ACME.es ") == ["ana", "garcia", "acme", "es"]
    assert query_terms("\"*) OR (") == ["or"]
    assert query_terms("") == []
    assert len(query_terms("a b c d e f g h i j")) == 8


def _found(db, q):
    _, items = list_leads(db, filter=LeadFilter(q=q), page_size=500)
    return {lead.email for lead in items}


@pytest.fixture
def people(db):
    """Three leads: Ana García at Acme Iberia (acme.es), Bob O'Neil at Beta-Soft (gmail), and
    Chen Li at Acme (acme-corp.com)."""
    make_lead(db, email="ana.garcia@acme.es", first_name="Ana", last_name="García", company_name="Acme Iberia")
    make_lead(db, email="bob.oneil@gmail.com", first_name="Bob", last_name="O'Neil", company_name="Beta-Soft")
    make_lead(db, email="chen@acme-corp.com", first_name="Chen", last_name="Li", company_name="Acme")
    db.flush()
    return db


@pytest.mark.parametrize(("q", "expected"), [
    ("acme", {"ana.garcia@acme.es", "chen@acme-corp.com"}),
    ("corp", {"chen@acme-corp.com"}),
    ("soft", {"bob.oneil@gmail.com"}),
    ("o'neil", {"bob.oneil@gmail.com"}),
    ("neil", {"bob.oneil@gmail.com"}),
    ("gmail.com", {"bob.oneil@gmail.com"}),
    ("ana.garcia@acme.es", {"ana.garcia@acme.es"}),
    ("li chen", {"chen@acme-corp.com"}),
    ("cme", set()),                      # prefixes only, not infixes
    ("garcía", {"ana.garcia@acme.es"}),
])
def test_search_finds_word_prefixes(people, q, expected):
    assert _found(people, q) == expected


def test_search_follows_edits(people):
    from sqlalchemy import select

    from leadflow.leads.models import Lead
    from leadflow.leads.schemas import LeadUpdate

    chen = people.scalar(select(Lead).where(Lead.email == "chen@acme-corp.com"))
    update_lead(people, lead=chen, data=LeadUpdate(company_name="Zeta Labs"))
    people.flush()
    assert _found(people, "zeta") == {"chen@acme-corp.com"}
    people.delete(chen)
    people.flush()
    assert _found(people, "zeta") == set()


def test_search_ignores_accents_on_both_databases(people):
    make_lead(people, email="im@example.io", first_name="Íñigo", last_name="Muñoz")
    people.flush()
    assert _found(people, "muñ") == {"im@example.io"}
    assert _found(people, "munoz") == {"im@example.io"}
    assert _found(people, "inigo MUÑOZ") == {"im@example.io"}


def test_both_search_plans_return_the_same_pages(people, monkeypatch):
    """The sort-index walk (many matches) and the match-list plan (few) agree on every sort."""
    import leadflow.leads.service as service
    from leadflow.leads.schemas import SORTS

    for i in range(12):
        make_lead(people, email=f"walker{i}@plan{i % 3}.io", first_name="Wanda", last_name=f"Walker{i % 5}",
                  company_name=f"Plan {i % 4}")
    people.flush()
    pages = {}
    for threshold in (10_000, 0):  # never walk, always walk
        monkeypatch.setattr(service, "WALK_SORT_INDEX_ABOVE", threshold)
        pages[threshold] = {
            sort: [(lead.id for lead in list_leads(people, filter=LeadFilter(q="wanda", sort=sort), page=p, page_size=5)[1])
                   for p in (1, 2, 3)]
            for sort in SORTS
        }
    for sort in pages[0]:
        assert [list(g) for g in pages[0][sort]] == [list(g) for g in pages[10_000][sort]], sort
    # Walker3 by last name (i = 3, 8); "walker3" also starts the email of i = 3 only.
    total, _ = list_leads(people, filter=LeadFilter(q="wanda walker3"), page_size=5)
    assert total == 2


def test_external_id_is_searchable(people):
    # Leads from a CRM export may have no name or email, only their id (X Education's Prospect ID).
    make_lead(people, email=None, external_id="7927b2df-8bba-4d29-b9a2-b6e0beafe620", first_name=None, last_name=None)
    people.flush()
    _, items = list_leads(people, filter=LeadFilter(q="7927b2df"))
    assert [lead.external_id for lead in items] == ["7927b2df-8bba-4d29-b9a2-b6e0beafe620"]
