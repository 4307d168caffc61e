"""Web UI fixtures: a logged-in browser-like client, a seeded workspace, a live server for Chromium.

Registered once for the whole suite from tests/conftest.py (pytest_plugins): the session's
Chromium must exist once per process, whichever test folders a worker runs.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from leadflow.db.session import get_sessionmaker

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
CHROMIUM = os.environ.get("LEADFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def login(client: TestClient, email: str, password: str, *, csrf: bool = True):
    """Log CLIENT in through the form, as a browser would (CSRF cookie from the login page)."""
    client.get("/login")
    token = client.cookies.get("leadflow_csrf") if csrf else ""
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token or "",
                                       "next": "/"}, follow_redirects=False)


@pytest.fixture
def ui(app, admin) -> Iterator[TestClient]:
    """A client logged in to the web UI as the admin."""
    with TestClient(app, base_url="http://testserver") as c:
        r = login(c, admin["email"], admin["password"])
        assert r.status_code == 303, r.text
        yield c


def csrf(client: TestClient) -> str:
    return client.cookies.get("leadflow_csrf") or ""


@pytest.fixture
def seeded(admin) -> dict:
    """60 leads with campaigns, spend, timelines and stage histories, a second user as owner."""
    from leadflow.auth.service import create_user
    from tests.web.seed import seed_workspace

    with get_sessionmaker()() as s, s.begin():
        rep = create_user(s, email="sam@example.com", password="correct-horse-battery", name="Sam Seller", role="sales")
        leads = seed_workspace(s, leads=60, owner_ids=[admin["id"], rep.id])
        ids = [lead.id for lead in leads]
    return {"lead_ids": ids, "rep_id": rep.id}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app served by a real uvicorn on a free local port, for the browser tests."""
    import httpx
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:
        raise RuntimeError("the test server did not start")
    yield base
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session (Debian's, not a downloaded one)."""
    if not Path(CHROMIUM).exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium, or set LEADFLOW_CHROMIUM)"
        # On a developer's bare machine the browser tests are skipped with that reason;
        # CI installs Chromium, so there a missing browser is a failure, never a silent skip.
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server, viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def shot(page, name: str, **kw) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, **kw)


def keyboard_login(page, user: dict) -> None:
    """Log USER in as a keyboard user would: the email field has autofocus, Tab to the password, Enter."""
    page.goto("/login")
    page.keyboard.type(user["email"])
    page.keyboard.press("Tab")
    page.keyboard.type(user["password"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/$"))
