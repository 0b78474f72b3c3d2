"""Classic API fixtures: the API's settings with throttling out of the way (the tests poll background work)."""

from __future__ import annotations

import pytest

from homeroom.settings import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", api_throttle_calls=1_000_000)
