"""``homeroom flows create-api`` and ``homeroom pull``: a OneRoster API flow set up and run from the command line, as
the Graph API then shows it (the secret never printed)."""

from __future__ import annotations

import json

import pytest
from conftest import CLIENT_ID, SECRET
from source_server import Fault
from typer.testing import CliRunner

from homeroom.cli import app
from homeroom.settings import Settings, get_settings
from tests.api.apitools import BASE, Api


@pytest.mark.parametrize("version", ["1.2"], indirect=True)
def test_create_an_api_flow_and_pull_it_from_the_command_line(tmp_path, monkeypatch, source, address):
    monkeypatch.setenv("HOMEROOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ONEROSTER_CLIENT_SECRET", SECRET)
    get_settings.cache_clear()
    cli = CliRunner()
    try:
        created = cli.invoke(app, ["flows", "create-api", "--tenant", "contoso", "--name", "SIS API", "--year", "2026",
                                   "--base-url", address, "--api-version", "1.2", "--auth", "oauth2", "--client-id", CLIENT_ID,
                                   "--token-url", f"{address}/token", "--demographics", "--contacts", "--json"])
        assert created.exit_code == 0, created.output
        record = json.loads(created.stdout)
        assert (record["connector"], record["apiVersion"], record["baseUrl"]) == ("SIS API API", "1.2", address)
        assert SECRET not in created.output
        pulled = cli.invoke(app, ["pull", "--tenant", "contoso", "--flow", "SIS API"])
        assert pulled.exit_code == 0, pulled.output
        assert "completed" in pulled.stdout and "people 132 active / 0 inactive" in pulled.stdout
        source.faults.append(Fault("short", "users", 0))  # the delta's only user does not come
        source.put("users", {**source.records("users")[0], "givenName": "Changed", "dateLastModified": "2026-03-01T00:00:00Z"})
        failed = cli.invoke(app, ["pull", "--tenant", "contoso", "--flow", "SIS API"])
        assert failed.exit_code == 2
        assert "failed" in failed.stdout and "IncompletePull: GET /users at offset 0 returned no records, but X-Total-Count is 1." in " ".join(
            failed.stdout.split())
        bad = cli.invoke(app, ["flows", "create-api", "--tenant", "contoso", "--name", "x", "--year", "2026", "--base-url", address,
                               "--client-id", "c", "--auth", "oauth2"])
        assert bad.exit_code == 2 and "--auth oauth2 needs --token-url, the token endpoint of the SIS" in bad.output
    finally:
        get_settings.cache_clear()
    admin = Api(Settings(data_dir=tmp_path / "data")).client("contoso")
    flow = admin.get(f"{BASE}/inboundFlows/{record['flowId']}?$expand=dataConnector").json()
    assert (flow["@odata.type"], flow["readinessStatus"]) == ("#microsoft.graph.industryData.inboundApiFlow", "ready")
    connector = flow["dataConnector"]
    assert connector["@odata.type"] == "#microsoft.graph.industryData.oneRosterApiDataConnector"
    assert (connector["baseUrl"], connector["apiVersion"], connector["isDemographicsEnabled"], connector["isContactsEnabled"]) == (
        address, "1.2", True, True)
    assert connector["credential"] == {"@odata.type": "#microsoft.graph.industryData.oAuth2ClientCredential",
                                       "displayName": "SIS API credential", "clientId": CLIENT_ID, "tokenUrl": f"{address}/token",
                                       "scope": None, "isValid": None, "lastValidDateTime": None}
    assert "pull" not in connector and SECRET not in json.dumps(flow)
