"""Upload fixtures: Homeroom under uvicorn on a free loopback port (azure-storage-blob needs real HTTP), with small
upload limits (uploadtools.LIMITS), and upload sessions on it."""

from __future__ import annotations

import httpx
import pytest
from uploadtools import LIMITS, LiveServer, Session

from homeroom.settings import Settings
from tests.api.apitools import Api, live_server


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> LiveServer:
    api = Api(Settings(data_dir=tmp_path_factory.mktemp("uploads") / "data", **LIMITS))
    with live_server(api) as port:
        yield LiveServer(api.app, port)


@pytest.fixture
def session(live) -> Session:
    return live.session()


@pytest.fixture
def http():
    with httpx.Client(timeout=30) as client:
        yield client
