"""``homeroom flows create``: a CSV upload flow made without Graph calls, as the API then shows it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from homeroom.cli import app
from homeroom.settings import Settings, get_settings
from tests.api.apitools import BASE, Api


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
