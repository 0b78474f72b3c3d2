"""``homeroom lake query``: SQL over the lake's Delta tables."""

from __future__ import annotations

from tests.runs.test_runs import package


def test_cli_lake_query_reads_the_delta_tables(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from homeroom.cli import app
    from homeroom.settings import get_settings

    monkeypatch.setenv("HOMEROOM_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        cli = CliRunner()
        assert cli.invoke(app, ["run", str(package(tmp_path)), "--flow", "sis", "--year", "2026"]).exit_code == 0
        result = cli.invoke(app, ["lake", "query", "select entity, count(*) as n from changes group by entity order by entity", "--csv"])
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == [
            "entity,n", "academicSessions,2", "classes,2", "courses,3", "demographics,6", "enrollments,6",
            "orgs,4", "relationships,3", "roles,7", "userFlags,3", "users,8",
        ]
        bad = cli.invoke(app, ["lake", "query", "select nothing from nowhere"])
        assert bad.exit_code == 2 and "query failed" in bad.stderr
    finally:
        get_settings.cache_clear()
