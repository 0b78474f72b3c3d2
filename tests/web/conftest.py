"""Dashboard fixtures: an app on a temporary data folder (SQLite), with helpers to add users and runs."""

from __future__ import annotations

import pytest
from webtools import Dashboard

from homeroom.settings import Settings
from tests.targets.scimserver import scim_server  # noqa: F401 - the plan tests' SCIM directory (a fixture)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", api_sign_in_max_failures=3)


@pytest.fixture
def dash(settings) -> Dashboard:
    return Dashboard(settings)
