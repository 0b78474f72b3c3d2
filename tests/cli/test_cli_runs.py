"""``homeroom run``: the change set it prints, and its exit code by the run's status."""

from __future__ import annotations

from tests.runs.test_runs import changed_package, package


def test_cli_run_prints_the_change_set_and_exits_by_status(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from homeroom.cli import app

    monkeypatch.setenv("HOMEROOM_DATA_DIR", str(tmp_path / "data"))
    from homeroom.settings import get_settings

    get_settings.cache_clear()
    try:
        cli = CliRunner()
        first = cli.invoke(app, ["run", str(package(tmp_path)), "--flow", "sis", "--year", "2026"])
        assert first.exit_code == 0, first.output
        assert "completed" in first.stdout and "│ users       │ 8     │ 0       │ 0           │" in first.stdout
        held = cli.invoke(app, ["run", str(changed_package(tmp_path)), "--flow", "sis", "--year", "2026"])
        assert held.exit_code == 1
        assert "held: 1 of 8 active users (12.5%) would be deactivated, more than the threshold of 10%." in held.stdout
        bad = cli.invoke(app, ["run", str(package(tmp_path, "y")), "--flow", "sis2", "--year", "26"])
        assert bad.exit_code == 2 and "four-digit school year" in bad.stderr
    finally:
        get_settings.cache_clear()
