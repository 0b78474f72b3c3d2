"""API fixtures: an app on a temporary data folder and a client with every permission."""

from __future__ import annotations

import pytest
from apitools import Api, Client

from homeroom.settings import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def api(settings) -> Api:
    return Api(settings)


@pytest.fixture
def admin(api) -> Client:
    """A client of tenant 'contoso' with every permission."""
    return api.client("contoso")
