"""``homeroom upload`` and ``homeroom.client`` against a live server: the loop a district schedules next to its SIS export.

The server runs under uvicorn on a free loopback port; the CLI (Typer's runner, in-process) and the client talk to
it over real HTTP: token, connector list, upload session, Azure Blob uploads, validate, runs/start, statistics and
the findings log, with Microsoft's SDS v2.1 sample.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import httpx
import pytest
from apitools import Api, live_server
from test_api_uploads_runs import SAMPLE, SAMPLE_FILES, make_flow
from typer.testing import CliRunner

from homeroom.api.throttle import Throttle
from homeroom.cli import app
from homeroom.client import ClientError, GraphClient
from homeroom.settings import Settings

#: What `homeroom upload --run` needs (docs/automation.md).
UPLOADER = ["IndustryData-DataConnector.Read.All", "IndustryData-DataConnector.Upload", "IndustryData.ReadBasic.All",
            "IndustryData-Run.Start"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Homeroom under uvicorn; yields the Api helper and the base URL."""
    api = Api(Settings(data_dir=tmp_path_factory.mktemp("upload") / "data", api_throttle_calls=10_000))
    with live_server(api) as port:
        yield api, f"http://127.0.0.1:{port}"


def district(api: Api, tenant: str) -> tuple[str, str, str]:
    """A tenant with a source, year, CSV connector ('CSV connector') and flow, and an uploader app; returns
    (connector id, client id, secret)."""
    connector_id, _ = make_flow(api.client(tenant))
    client_id, secret = api.register(tenant, UPLOADER)
    return connector_id, client_id, secret


def unthrottled_district(api: Api, tenant: str) -> tuple[str, str, str]:
    """``district``, set up past the server's throttle (only the uploader's calls are to be throttled)."""
    throttle = api.app.state.throttle
    api.app.state.throttle = Throttle(10_000, 60)
    try:
        return district(api, tenant)
    finally:
        api.app.state.throttle = throttle


def upload(base: str, tenant: str, client_id: str, secret: str, *args: str):
    return CliRunner().invoke(app, ["upload", *args, "--server", base, "--tenant", tenant, "--client-id", client_id,
                                    "--poll-seconds", "0.05"], env={"HOMEROOM_CLIENT_SECRET": secret})


def test_upload_validates_and_runs_microsofts_sample(server, tmp_path):
    api, base = server
    connector_id, client_id, secret = district(api, "sample")
    findings = tmp_path / "findings.csv"
    result = upload(base, "sample", client_id, secret, str(SAMPLE), "--connector", "CSV connector", "--run",
                    "--findings", str(findings), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["connector"] == {"id": connector_id, "displayName": "CSV connector"}
    assert [f["name"] for f in doc["uploadedFiles"]] == SAMPLE_FILES
    assert all(f["blocks"] == 0 for f in doc["uploadedFiles"])
    assert doc["operation"]["status"] == "succeeded"
    assert doc["operation"]["validatedFiles"] == SAMPLE_FILES
    assert doc["operation"]["errors"] == [] and doc["operation"]["warnings"] == []
    assert doc["run"]["status"] == "completed"
    totals = doc["statistics"]["inboundTotals"]
    assert totals["people"] == 8 and totals["errors"] == 0
    assert doc["findings"] == str(findings) and doc["exitCode"] == 0
    assert findings.read_bytes() == b"\xef\xbb\xbflevel,rule,file,line,recordId,field,value,message\n", "the sample has no findings"
    assert findings.read_bytes() == api.client("sample").get(f"/beta/external/industryData/runs/{doc['run']['id']}/findings").content
    assert secret not in result.output and "sig=" not in result.output, "neither the secret nor the SAS is printed"


def test_a_missing_required_file_is_refused_with_the_documented_message(server):
    api, base = server
    _, client_id, secret = district(api, "missing")
    result = upload(base, "missing", client_id, secret, str(SAMPLE / "users.csv"), "--connector", "CSV connector", "--run")
    assert result.exit_code == 2, result.output
    assert "When trying to validate required file orgs.csv encountered RequiredFileNotFound error." in result.stdout
    assert "When trying to validate required file roles.csv encountered RequiredFileNotFound error." in result.stdout
    assert "refused: 2 error(s)" in result.stdout
    assert "no run started: the upload was refused." in result.stdout


def test_a_missing_optional_file_is_accepted_with_a_warning(server, tmp_path):
    api, base = server
    _, client_id, secret = district(api, "optional")
    files = [str(p) for p in sorted(SAMPLE.glob("*.csv")) if p.name != "userFlags.csv"]
    result = upload(base, "optional", client_id, secret, *files, "--connector", "csv CONNECTOR", "--json")
    assert result.exit_code == 1, result.output
    operation = json.loads(result.stdout)["operation"]
    assert [(w["code"], w["target"]) for w in operation["warnings"]] == [("OptionalFileNotFound", "userFlags.csv")]
    assert operation["validatedFiles"] == [n for n in SAMPLE_FILES if n != "userFlags.csv"]


def test_a_wrong_secret_is_one_line_without_traceback_or_secret(server):
    api, base = server
    _, client_id, _secret = district(api, "wrongsecret")
    result = upload(base, "wrongsecret", client_id, "not-the-secret-8d1f", str(SAMPLE), "--connector", "CSV connector")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: token: HTTP 401 invalid_client: The client id or secret is not valid for this tenant. (check the client id "
        "and secret of an app of tenant 'wrongsecret': homeroom apps list --tenant wrongsecret)"]
    assert "Traceback" not in result.output and "not-the-secret-8d1f" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_an_unknown_connector_lists_the_csv_connectors(server):
    api, base = server
    connector_id, client_id, secret = district(api, "unknown")
    result = upload(base, "unknown", client_id, secret, str(SAMPLE), "--connector", "Nightly SIS", "--json")
    assert result.exit_code == 2
    assert (f"error: dataConnectors: no azureDataLakeConnector has the id or displayName 'Nightly SIS' in tenant 'unknown'; "
            f"its azureDataLakeConnector connectors are: 'CSV connector' ({connector_id}).") in result.stderr
    assert json.loads(result.stdout)["error"]["call"] == "dataConnectors"


def test_a_zip_is_refused_before_anything_is_sent(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(SAMPLE / "orgs.csv", "orgs.csv")
    result = CliRunner().invoke(app, ["upload", str(archive), "--server", "http://127.0.0.1:9", "--tenant", "t", "--client-id", "c",
                                      "--connector", "x"], env={"HOMEROOM_CLIENT_SECRET": "s"})
    assert result.exit_code == 2
    assert "is a zip archive; an upload session takes the package's CSV files: extract it" in result.output


def test_block_uploads_give_byte_identical_files(server):
    api, base = server
    connector_id, client_id, secret = district(api, "blocks")
    seen: dict[str, int] = {}
    with GraphClient(base, "blocks", client_id, secret) as graph:
        session = graph.upload_session(graph.find_connector(connector_id)["id"], reset=True)
        uploaded = graph.upload_files(session.session_url, [SAMPLE], lambda name, done, total: seen.__setitem__(name, done),
                                      block_threshold=200, block_size=64, parallel=3)
        container, _, sas = session.session_url.partition("?")
        for f in uploaded:
            size = (SAMPLE / f.name).stat().st_size
            assert f.blocks == (-(-size // 64) if size > 200 else 0)
            assert httpx.get(f"{container}/{f.name}?{sas}").content == (SAMPLE / f.name).read_bytes()
            assert seen[f.name] == size
        assert sum(f.blocks for f in uploaded) > 20
        operation = graph.wait(graph.validate(connector_id), poll_seconds=0.05)
    assert operation["validatedFiles"] == SAMPLE_FILES and operation["errors"] == []


def test_throttled_calls_are_retried_after_retry_after(tmp_path):
    api = Api(Settings(data_dir=tmp_path / "data", api_throttle_calls=3, api_throttle_window_seconds=1))
    _, client_id, secret = unthrottled_district(api, "throttled")
    with live_server(api) as port:
        result = upload(f"http://127.0.0.1:{port}", "throttled", client_id, secret, str(SAMPLE), "--connector", "CSV connector")
    assert result.exit_code == 0, result.output
    assert "answered 429 Too Many Requests; retrying in 1 s" in result.stderr
    assert "accepted: 10 file(s) validated" in result.stdout


def test_the_client_gives_up_when_throttling_outlasts_its_retries(tmp_path):
    api = Api(Settings(data_dir=tmp_path / "data", api_throttle_calls=1, api_throttle_window_seconds=60))
    _, client_id, secret = unthrottled_district(api, "patience")
    with live_server(api) as port, GraphClient(f"http://127.0.0.1:{port}", "patience", client_id, secret,
                                               max_retry_seconds=5) as graph:
        graph.list_connectors()
        with pytest.raises(ClientError) as error:
            graph.list_connectors()
    assert str(error.value).startswith("dataConnectors: HTTP 429 TooManyRequests: Too many requests: 1 calls per 60 seconds; ")
    assert error.value.status == 429
