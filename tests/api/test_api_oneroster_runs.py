"""``runs/start`` with an inboundApiFlow: the run pulls its oneRosterApiDataConnector's API (a real HTTP server on
loopback, ``tests/oneroster/source_server.py``), and an incomplete pull ends the run failed with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from apitools import BASE, make_api_connector, make_source, make_year
from test_api_uploads_runs import _flow, wait

from homeroom.settings import Settings
from homeroom.synthetic import generate_district
from tests.oneroster.source_server import Fault, OneRosterSource, from_package, serve


@pytest.fixture
def settings(tmp_path) -> Settings:
    """The app's settings, with quick retries (2, a few ms apart)."""
    return Settings(data_dir=tmp_path / "data", oneroster_retries=2, oneroster_backoff_seconds=0.001,
                    oneroster_max_wait_seconds=0.01)


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> Path:
    package = tmp_path_factory.mktemp("api-oneroster") / "district"
    generate_district(package, 30, format_name="oneroster-1.1")
    return package


def test_runs_start_pulls_an_api_flow_and_an_incomplete_pull_fails_its_run(api, admin, district):
    source = OneRosterSource("1.1", client_id="sis-client", client_secret="sis-secret")
    source.load(from_package(district, "1.1"))
    with serve(source) as address:
        credential = {"@odata.type": "#microsoft.graph.industryData.oAuth1ClientCredential", "displayName": "SIS",
                      "clientId": "sis-client", "clientSecret": "sis-secret"}
        connector = make_api_connector(admin, make_source(admin)["id"], base_url=address, credential=credential)
        _flow(admin, "SIS API", connector["id"], make_year(admin)["id"], kind="inboundApiFlow")

        started = admin.post(f"{BASE}/runs/start")
        assert started.status_code == 202, started.text
        op = wait(admin, started.headers["Location"])
        run = admin.get("/beta" + op["resourceLocation"].split("/beta", 1)[1]).json()
        assert (op["status"], run["status"]) == ("succeeded", "completed")
        people = admin.get(f"{BASE}/runs/{run['id']}/getStatistics").json()
        members = [u for u in source.records("users") if u["role"] not in ("parent", "guardian", "relative")]
        assert people["inboundTotals"]["people"] == len(members) > 0, "isContactsEnabled is false: no guardians"

        source.faults.append(Fault("status", "enrollments", 0, times=None, value=500))
        source.put("users", {**source.records("users")[0], "dateLastModified": "2026-03-01T00:00:00Z"})
        started = admin.post(f"{BASE}/runs/start")
        assert started.status_code == 202, started.text
        op = wait(admin, started.headers["Location"], timeout=120)
        failed = admin.get("/beta" + op["resourceLocation"].split("/beta", 1)[1]).json()
        assert (op["status"], failed["status"]) == ("failed", "failed")
        assert failed["blockingError"]["code"] == "IncompletePull"
        assert failed["blockingError"]["message"].startswith(
            f"GET /enrollments at offset 0 failed: HTTP 500 from the OneRoster API {address}/ims/oneroster/v1p1/enrollments?")
        assert failed["blockingError"]["message"].endswith(
            "(after 2 retries). Nothing was written: the lake keeps the data of the last successful run.")
