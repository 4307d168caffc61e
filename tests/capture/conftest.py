"""Capture tests use the suite-wide web fixtures (tests/web_fixtures.py): ui, live_server, page, chromium."""

from tests.web_fixtures import csrf, shot  # noqa: F401  (helpers the tests import from here)
