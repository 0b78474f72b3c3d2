"""Fixtures for the OneRoster connector: small generated districts, a OneRoster source server serving them, and
a runner whose tenant has a OneRoster API flow pointing at that server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pgtools import database_settings
from source_server import OneRosterSource, from_package, serve

from homeroom.runs import Runner
from homeroom.settings import Settings
from homeroom.store import service
from homeroom.synthetic import generate_district

STUDENTS = 50
CLIENT_ID, SECRET = "sis-client", "sis-secret"
TENANT = "district-a"
FLOW = "SIS API"
#: Fast retries for tests: a failing page is retried twice, with waits of at most 10 ms.
FAST = {"oneroster_retries": 2, "oneroster_backoff_seconds": 0.001, "oneroster_max_wait_seconds": 0.01,
        "oneroster_timeout_seconds": 2.0, "oneroster_page_size": 100}


@pytest.fixture(scope="session")
def districts(tmp_path_factory) -> dict[str, Path]:
    """The same generated district as OneRoster 1.1 and 1.2 CSV packages."""
    root = tmp_path_factory.mktemp("oneroster-districts")
    out = {}
    for version in ("1.1", "1.2"):
        out[version] = root / version
        generate_district(out[version], STUDENTS, format_name=f"oneroster-{version}")
    return out


@pytest.fixture(params=["1.1", "1.2"])
def version(request) -> str:
    return request.param


@pytest.fixture
def source(districts, version) -> OneRosterSource:
    """A source holding the district, in the version asked for."""
    server = OneRosterSource(version, client_id=CLIENT_ID, client_secret=SECRET)
    server.load(from_package(districts[version], version))
    return server


@pytest.fixture
def address(source) -> Iterator[str]:
    with serve(source) as served:
        yield served


def oauth1() -> dict:
    return {"@odata.type": "#microsoft.graph.industryData.oAuth1ClientCredential", "displayName": "SIS", "clientId": CLIENT_ID}


def oauth2(address: str, scope: str | None = None) -> dict:
    return {"@odata.type": "#microsoft.graph.industryData.oAuth2ClientCredential", "displayName": "SIS", "clientId": CLIENT_ID,
            "tokenUrl": f"{address}/token", "scope": scope}


@pytest.fixture
def settings(tmp_path) -> Iterator[Settings]:
    yield from database_settings("sqlite", tmp_path, **FAST)


def make_flow(runner: Runner, address: str, version: str, *, credential: dict | None = None, secret: str = SECRET,
              demographics: bool = True, contacts: bool = True) -> None:
    """The runner's tenant gets (or updates) the API flow ``FLOW`` reading ``address`` (OAuth 1 for 1.1, OAuth 2 for 1.2)."""
    credential = credential or (oauth1() if version == "1.1" else oauth2(address))
    with runner.sessions.begin() as db:
        service.ensure_api_flow(db=db, tenant_id=runner.tenant, display_name=FLOW, source_name="SIS", year_code="2026",
                                base_url=address, api_version=version, credential=credential, client_secret=secret,
                                demographics=demographics, contacts=contacts)


@pytest.fixture
def runner(settings, address, version) -> Runner:
    runner = Runner(TENANT, settings=settings)
    make_flow(runner, address, version)
    return runner
