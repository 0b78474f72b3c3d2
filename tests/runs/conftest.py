"""Fixtures for runs: a Runner on SQLite, and one on PostgreSQL (a fresh schema per test).

PostgreSQL runs at 127.0.0.1:5432 (trust auth, database ``test``) on these machines; when it does
not answer, PostgreSQL tests are skipped with a reason, except under CI (``CI=true``) where that is
a failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pgtools import database_settings

from homeroom.runs import Runner
from homeroom.settings import Settings


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path: Path):
    """Settings for a fresh data folder and database, on each backend."""
    yield from database_settings(request.param, tmp_path)


@pytest.fixture
def backend_settings(request, tmp_path: Path):
    """Settings for the backend named by an indirect parameter ``(backend, ...)``."""
    yield from database_settings(request.param[0], tmp_path)


@pytest.fixture
def runner(settings: Settings) -> Runner:
    return Runner("district-a", settings=settings)
