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
