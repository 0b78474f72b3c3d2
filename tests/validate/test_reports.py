"""Reports of ``homeroom validate``: its exit codes, its JSON summary and its --report option."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from homeroom.cli import app

runner = CliRunner()


def test_cli_json_summary_and_exit_code_with_errors(sample):
    sample.append("enrollments.csv", "112002,ghost,student")
    result = runner.invoke(app, ["validate", str(sample.root), "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["format"] == "sds-v2.1"
    assert summary["counts"] == {"catastrophic": 0, "errors": 1, "warnings": 0}
    assert summary["rules"] == [
        {"file": "enrollments.csv", "rule": "ReferenceNotFound", "level": "error", "count": 1, "fields": ["userSourcedId"],
         "message": "A reference points at a record that is not in the package."}
    ]
    assert summary["files"]["enrollments.csv"] == {"rows": 7, "valid": 6}
    assert set(summary["files"]) == {
        "orgs.csv", "academicSessions.csv", "courses.csv", "users.csv", "roles.csv", "classes.csv",
        "enrollments.csv", "demographics.csv", "userFlags.csv", "relationships.csv",
    }


def test_cli_exit_codes_clean_and_refused(sample):
    assert runner.invoke(app, ["validate", str(sample.root)]).exit_code == 0
    sample.remove("users.csv")
    refused = runner.invoke(app, ["validate", str(sample.root)])
    assert refused.exit_code == 2
    assert "stopped: users.csv: Unable to find users.csv in package." in refused.stdout


def test_cli_report_option_writes_every_finding(sample, tmp_path):
    sample.append("enrollments.csv", *[f"112002,ghost{i},student" for i in range(60)])
    report = tmp_path / "out.csv"
    result = runner.invoke(app, ["validate", str(sample.root), "--report", str(report)])
    assert result.exit_code == 1
    assert len(report.read_text("utf-8-sig").splitlines()) == 61


def test_cli_refuses_a_missing_path_with_a_message_not_a_traceback(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.output


def test_cli_unknown_format_option(sample):
    result = runner.invoke(app, ["validate", str(sample.root), "--format", "csv-2000"])
    assert result.exit_code == 2 and "unknown format 'csv-2000'" in result.stderr


def test_cli_passes_v1_username_domains_to_the_format():
    from tests.conftest import FIXTURES

    sample = FIXTURES / "microsoft" / "sds-v1-25-users"
    bare = runner.invoke(app, ["validate", str(sample), "--json"])
    assert json.loads(bare.stdout)["counts"]["errors"] > 0
    completed = runner.invoke(
        app, ["validate", str(sample), "--json", "--student-domain", "students.contoso.edu", "--teacher-domain", "contoso.edu"]
    )
    summary = json.loads(completed.stdout)
    assert summary["format"] == "sds-v1" and summary["counts"]["errors"] == 0
    assert completed.exit_code == 0
