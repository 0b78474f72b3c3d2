"""``homeroom targets`` and ``homeroom match`` end to end against the real scim2-server: secrets stay write-only,
errors are one line naming what to fix, the report is the planted counts."""

from __future__ import annotations

import csv
import io
import json

import pytest
from planted import planted_district  # noqa: F401 - fixture
from scimserver import TOKEN, free_port, load_accounts, scim_server  # noqa: F401 - fixture
from typer.testing import CliRunner

from homeroom.cli import app
from homeroom.settings import get_settings


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("HOMEROOM_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args, **kw: runner.invoke(app, [str(a) for a in args], **kw)
    get_settings.cache_clear()


def test_targets_and_match_commands(cli, scim_server, planted_district, monkeypatch, tmp_path):
    package, planted = planted_district
    load_accounts(scim_server, planted.accounts)
    assert cli("run", package, "--flow", "SIS", "--year", "2026", "--tenant", "d").exit_code == 0

    bad = cli("targets", "add", "s", "--kind", "scim", "--tenant", "d", "--set", "base_url=ftp://x")
    assert bad.exit_code == 2 and "scim target settings are not valid: base_url: Value error, must start with https://" in bad.output
    unknown = cli("targets", "add", "s", "--kind", "ldapx", "--tenant", "d")
    assert unknown.exit_code == 2 and "unknown target kind 'ldapx'; known kinds: " in unknown.output

    monkeypatch.setenv("SCIM_TOKEN", TOKEN)
    added = cli("targets", "add", "district", "--kind", "scim", "--tenant", "d", "--set", f"base_url={scim_server}",
                "--secret-env", "bearer_token=SCIM_TOKEN", "--source", "Default source", "--json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["secretsSet"] == ["bearer_token"] and TOKEN not in added.stdout
    listed = cli("targets", "list", "--tenant", "d", "--json")
    assert [t["name"] for t in json.loads(listed.stdout)] == ["district"] and TOKEN not in listed.stdout
    assert cli("targets", "check", "district", "--tenant", "d").exit_code == 0

    (tmp_path / "wrong").write_text("wrong-token\n")
    cli("targets", "add", "wrong", "--kind", "scim", "--tenant", "d", "--set", f"base_url={scim_server}",
        "--secret-file", f"bearer_token={tmp_path / 'wrong'}")
    refused = cli("targets", "check", "wrong", "--tenant", "d")
    assert refused.exit_code == 1 and "refused the bearer token (401)" in refused.output and "wrong-token" not in refused.output
    # update: the right token from the environment, a setting changed, another removed; then remove the target
    fixed = cli("targets", "update", "wrong", "--tenant", "d", "--secret-env", "bearer_token=SCIM_TOKEN",
                "--set", "timeout_seconds=12", "--set", "verify_tls=")
    assert fixed.exit_code == 0, fixed.output
    assert cli("targets", "check", "wrong", "--tenant", "d").exit_code == 0
    shown = next(t for t in json.loads(cli("targets", "list", "--tenant", "d", "--json").stdout) if t["name"] == "wrong")
    assert (shown["settings"]["timeout_seconds"], shown["settings"]["verify_tls"], shown["secretsSet"]) == (12, True, ["bearer_token"])
    bad_update = cli("targets", "update", "wrong", "--tenant", "d", "--set", "timeout_seconds=0")
    assert bad_update.exit_code == 2 and "scim target settings are not valid: timeout_seconds:" in bad_update.output
    assert cli("targets", "update", "wrong", "--tenant", "d", "--clear-secret", "bearer_token").exit_code == 0
    assert cli("targets", "remove", "wrong", "--tenant", "d").exit_code == 0
    gone = cli("targets", "remove", "wrong", "--tenant", "d")
    assert gone.exit_code == 2 and "no target 'wrong' in tenant 'd'" in gone.output
    down = f"http://127.0.0.1:{free_port()}/v2"
    cli("targets", "add", "down", "--kind", "scim", "--tenant", "d", "--set", f"base_url={down}")
    unreachable = cli("targets", "snapshot", "down", "--tenant", "d")
    assert unreachable.exit_code == 2 and f"SCIM target 'down' ({down}) cannot be reached" in unreachable.output

    for group, domain in (("students", None), ("staff", "staff.example.org")):
        args = ["match", "settings", "--source", "Default source", "--tenant", "d", "--role-group", group,
                "--identifier", "username", "--attribute", "userPrincipalName"]
        assert cli(*args, *(["--rewrite-domain", domain] if domain else [])).exit_code == 0
        assert cli("match", "settings", "--source", "Default source", "--tenant", "d", "--role-group", group,
                   "--identifier", "sourcedId", "--attribute", "employeeId").exit_code == 0
    shown = json.loads(cli("match", "settings", "--source", "Default source", "--tenant", "d", "--json").stdout)
    assert [(e["roleGroupId"], e["priorityOrder"], e["sourceIdentifier"]["code"], e.get("rewriteDomain")) for e in shown] == [
        ("students", 0, "username", None), ("students", 1, "sourcedId", None),
        ("staff", 0, "username", "staff.example.org"), ("staff", 1, "sourcedId", None)]

    snapshot = cli("targets", "snapshot", "district", "--tenant", "d", "--json")
    assert json.loads(snapshot.stdout)["accounts"]["added"] == len(planted.accounts)
    assert cli("match", "run", "--target", "district", "--source", "Default source", "--year", "2026", "--tenant", "d",
               "--no-snapshot").exit_code == 0
    report = cli("match", "report", "--target", "district", "--tenant", "d", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(report.stdout)))
    assert {r["personSourcedId"]: r["outcome"] for r in rows} == planted.outcomes()
    table = cli("match", "report", "--target", "district", "--tenant", "d")
    assert "total" in table.stdout and "conflicting" in table.stdout
