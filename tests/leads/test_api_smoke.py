"""Leads API: create, upsert, read, list — the basic round trip on the real database."""


def test_create_then_read_normalizes_contact_data(client):
    r = client.post("/api/v1/leads", json={
        "email": " Ana.Garcia@Acme.COM ", "first_name": "  Ana ", "country": "España", "phone": "612 345 678",
    })
    assert r.status_code == 201, r.text
    lead = r.json()
    assert lead["email"] == "ana.garcia@acme.com"
    assert lead["first_name"] == "Ana"
    assert lead["country"] == "ES"
    assert lead["phone"] == "+34612345678"
    again = client.get(f"/api/v1/leads/{lead['id']}")
    assert again.json()["email"] == "ana.garcia@acme.com"


def test_list_total_counts_all_matches_not_the_page(client):
    for i in range(7):
        assert client.post("/api/v1/leads", json={"email": f"p{i}@corp.io", "company_name": "Corp"}).status_code == 201
    r = client.get("/api/v1/leads", params={"q": "corp", "page_size": 3})
    body = r.json()
    assert body["total"] == 7
    assert len(body["items"]) == 3
