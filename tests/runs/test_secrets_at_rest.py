"""The SIS's initial passwords (users.password) are validated, never kept: not in the lake's rows, Parquet files or
Delta log statistics, not in a held run's pending data, not through ``homeroom lake query`` (issue 18 item 10)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from homeroom.cli import app
from homeroom.lake.tables import Lake
from homeroom.runs import Runner
from homeroom.runs.readers import publish_versions
from homeroom.settings import get_settings
from tests.runs.test_runs import changed_package, package

PASSWORD = b"P@ssword123"  # every user's password in Microsoft's SDS v2.1 sample


@pytest.fixture
def cli_env(runner: Runner, monkeypatch):
    """The CLI, in this process, on the runner's data folder and database (the settings are read afresh)."""
    monkeypatch.setenv("HOMEROOM_DATA_DIR", str(runner.settings.data_dir))
    if runner.settings.database_url:
        monkeypatch.setenv("HOMEROOM_DATABASE_URL", runner.settings.database_url)
    else:
        monkeypatch.delenv("HOMEROOM_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _files_holding(folder: Path, needle: bytes) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes())


def test_a_run_keeps_no_password_in_the_lake(runner: Runner, tmp_path):
    pkg = package(tmp_path)
    assert (pkg / "users.csv").read_bytes().count(PASSWORD) == 8
    outcome = runner.run(pkg, flow_name="sis", year="2026")
    assert outcome.run.status == "completed"
    users = runner.lake.read("users")
    assert users.height == 8 and "password" not in users.columns
    lake_folder = Path(runner.lake.uri("users")).parent
    assert _files_holding(lake_folder, PASSWORD) == [], "no Parquet file and no _delta_log statistics hold a password"
    assert _files_holding(runner.settings.data_dir, PASSWORD) == []


def test_a_held_run_keeps_no_password_in_its_pending_data(runner: Runner, tmp_path):
    assert runner.run(package(tmp_path), flow_name="sis", year="2026").run.status == "completed"
    held = runner.run(changed_package(tmp_path), flow_name="sis", year="2026")  # 1 of 8 users gone: held
    assert held.run.status == "held"
    pending = runner.run_dir(held.run.id)
    assert sorted(p.name for p in pending.rglob("users*")) != []
    assert _files_holding(pending, PASSWORD) == []
    assert runner.approve(held.run.id).run.status == "completed"
    assert _files_holding(runner.settings.data_dir, PASSWORD) == []


def test_lake_query_cannot_read_a_password(runner: Runner, tmp_path, cli_env):
    runner.run(package(tmp_path), flow_name="sis", year="2026")
    cli = CliRunner()
    refused = cli.invoke(app, ["lake", "query", "select password from users", "--tenant", "district-a", "--csv"])
    assert refused.exit_code == 2
    assert "query failed" in refused.output and "password" in refused.output and "P@ss" not in refused.output
    everything = cli.invoke(app, ["lake", "query", "select * from users", "--tenant", "district-a", "--csv"])
    assert everything.exit_code == 0 and "P@ss" not in everything.output
    assert everything.output.splitlines()[0].split(",")[:4] == ["sourceSystemId", "year", "sourcedId", "username"]


def test_a_lake_an_older_version_wrote_with_passwords_never_shows_them(runner: Runner, tmp_path, cli_env):
    """Older versions kept the column: readers drop it, and the next run writes the partition without it."""
    runner.run(package(tmp_path), flow_name="sis", year="2026")
    lake: Lake = runner.lake
    users = pl.scan_delta(lake.uri("users")).collect()
    old = users.with_columns(pl.lit(PASSWORD.decode()).alias("password"))
    lake.replace_partition("users", {"sourceSystemId": users["sourceSystemId"][0], "year": "2026"}, old)
    assert pl.scan_delta(lake.uri("users")).collect()["password"].to_list() == [PASSWORD.decode()] * 8
    assert "password" not in lake.read("users").columns
    with runner.sessions.begin() as db:  # as a finished run of the older version would have
        publish_versions(db, tenant_id="district-a", versions={"users": lake.version("users")}, by="old")
    shown = CliRunner().invoke(app, ["lake", "query", "select * from users", "--tenant", "district-a", "--csv"])
    assert shown.exit_code == 0 and "P@ss" not in shown.output and len(shown.output.splitlines()) == 9
    runner.run(package(tmp_path, "again"), flow_name="sis", year="2026")
    assert pl.scan_delta(lake.uri("users")).collect()["password"].null_count() == 8
