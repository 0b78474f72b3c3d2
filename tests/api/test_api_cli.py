"""``homeroom apps create`` and the token it makes possible."""

from __future__ import annotations

import json

from apitools import BASE, Api
from typer.testing import CliRunner

from homeroom.cli import app
from homeroom.settings import Settings, get_settings


def test_apps_create_prints_credentials_that_get_a_token(tmp_path, monkeypatch):
    monkeypatch.setenv("HOMEROOM_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["apps", "create", "--tenant", "contoso", "--permission", "IndustryData.ReadBasic.All",
                                          "--permission", "IndustryData-Run.Read.All", "--json"])
        assert result.exit_code == 0, result.output
        record = json.loads(result.stdout)
        assert record["tenantId"] == "contoso" and record["permissions"] == ["IndustryData-Run.Read.All", "IndustryData.ReadBasic.All"]
        listed = CliRunner().invoke(app, ["apps", "list", "--tenant", "contoso"])
        assert record["clientId"] in listed.stdout and record["clientSecret"] not in listed.stdout
        refused = CliRunner().invoke(app, ["apps", "create", "--tenant", "contoso", "--permission", "Everything.All"])
        assert refused.exit_code == 2 and "unknown permission(s): Everything.All" in refused.output
    finally:
        get_settings.cache_clear()
    api = Api(Settings(data_dir=tmp_path / "data"))
    token = api.http.post("/contoso/oauth2/v2.0/token", data={"grant_type": "client_credentials", "client_id": record["clientId"],
                                                              "client_secret": record["clientSecret"]}).json()["access_token"]
    assert api.http.get(f"{BASE}/roleGroups", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert api.http.get(f"{BASE}/sourceSystems", headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_configuration_doc_lists_every_setting_as_generated():
    from pathlib import Path

    from homeroom.settings import Settings, settings_markdown

    docs = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text("utf-8")
    assert docs.endswith(settings_markdown()), "regenerate the table with: homeroom settings --markdown"
    assert all(f"`HOMEROOM_{name.upper()}`" in docs for name in Settings.model_fields)


def test_flows_create_makes_a_ready_csv_flow_the_api_sees(tmp_path, monkeypatch):
    monkeypatch.setenv("HOMEROOM_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        args = ["flows", "create", "--tenant", "contoso", "--name", "SIS upload", "--year", "2026", "--json"]
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        record = json.loads(first.stdout)
        assert (record["connector"], record["fileFormat"], record["year"]) == ("SIS upload files", "schoolDataSyncV2Rev1", "2026")
        assert json.loads(runner.invoke(app, args).stdout) == record, "creating it again returns the same flow"
        other_year = runner.invoke(app, ["flows", "create", "--tenant", "contoso", "--name", "SIS upload", "--year", "2027"])
        assert other_year.exit_code == 2 and "already exists and brings data into school year 2026" in other_year.output
        bad = runner.invoke(app, ["flows", "create", "--tenant", "contoso", "--name", "x", "--year", "2026", "--file-format", "csv"])
        assert bad.exit_code == 2 and "--file-format is one of schoolDataSyncV2Rev1, schoolDataSyncV1, not 'csv'" in bad.output
    finally:
        get_settings.cache_clear()
    admin = Api(Settings(data_dir=tmp_path / "data")).client("contoso")
    flow = admin.get(f"{BASE}/inboundFlows/{record['flowId']}?$expand=dataConnector").json()
    assert (flow["@odata.type"], flow["readinessStatus"], flow["dataConnector"]["id"]) == (
        "#microsoft.graph.industryData.inboundFileFlow", "ready", record["connectorId"])
    assert flow["dataConnector"]["fileFormat"]["code"] == "schoolDataSyncV2Rev1"
