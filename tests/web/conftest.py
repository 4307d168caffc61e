"""The web UI fixtures live in tests/web_fixtures.py (registered for the whole suite)."""

from tests.web_fixtures import csrf, login, shot  # noqa: F401  (helpers the tests import from here)
