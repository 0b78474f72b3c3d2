"""``homeroom apps`` and ``homeroom users``: the credentials they print, and the tokens those get."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from homeroom.cli import app
from homeroom.settings import Settings, get_settings
from tests.api.apitools import BASE, Api


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


def test_users_cli_creates_a_user_whose_password_gets_a_token(tmp_path, monkeypatch):
    monkeypatch.setenv("HOMEROOM_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        created = runner.invoke(app, ["users", "create", "--tenant", "contoso", "--username", "ops@district.example",
                                      "--permission", "IndustryData-Run.Start", "--json"])
        assert created.exit_code == 0, created.output
        record = json.loads(created.output)
        assert record["permissions"] == ["IndustryData-Run.Start"] and len(record["password"]) >= 20
        listed = runner.invoke(app, ["users", "list", "--tenant", "contoso"])
        assert "ops@district.example" in listed.output and record["password"] not in listed.output
        again = runner.invoke(app, ["users", "create", "--tenant", "contoso", "--username", "OPS@district.example",
                                    "--permission", "IndustryData-Run.Start"])
        assert again.exit_code == 2 and "already has a user 'OPS@district.example'" in again.output
        api = Api(Settings(data_dir=tmp_path / "data"))
        client_id, _ = api.register("contoso", ["IndustryData-Run.Start"])
        r = api.http.post("/contoso/oauth2/v2.0/token", data={"grant_type": "password", "client_id": client_id,
                                                          "username": "ops@district.example", "password": record["password"]})
        assert r.status_code == 200 and r.json()["scope"] == "IndustryData-Run.Start"
    finally:
        get_settings.cache_clear()
