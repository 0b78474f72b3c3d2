"""Reports: a spreadsheet-safe CSV, JSON lines, the summary and the CLI's exit codes and JSON."""

from __future__ import annotations

import csv
import json

import polars as pl
from typer.testing import CliRunner

from homeroom.cli import app
from homeroom.validate import validate_package
from homeroom.validate.reports import spreadsheet_safe, summary_by_rule, write_report

runner = CliRunner()


def test_csv_report_cannot_inject_formulas(sample, tmp_path):
    sample.append("users.csv", '114009,=HYPERLINK("http://evil"),X,Y,,,,,', "114010,@SUM(A1),X,Y,,,,,", "114011,+1+1,X,Y,,,,,")
    result = validate_package(sample.root)
    report = tmp_path / "findings.csv"
    write_report(result.findings, report)
    raw = report.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [r["value"] for r in rows] == ["'=HYPERLINK(\"http://evil\")", "'@SUM(A1)", "'+1+1"]
    assert all(not r[k].startswith(("=", "+", "-", "@")) for r in rows for k in r)
    assert [(r["level"], r["rule"], r["line"]) for r in rows] == [("error", "InvalidUsername", "10"), ("error", "InvalidUsername", "11"), ("error", "InvalidUsername", "12")]


def test_spreadsheet_safe_leaves_ordinary_text_alone():
    frame = pl.DataFrame({"a": ["plain", "-5", "\tx", None]})
    assert spreadsheet_safe(frame)["a"].to_list() == ["plain", "'-5", "'\tx", None]


def test_jsonl_report_has_one_object_per_finding(sample, tmp_path):
    sample.append("enrollments.csv", "112002,ghost,student")
    report = tmp_path / "findings.jsonl"
    write_report(validate_package(sample.root).findings, report)
    [obj] = [json.loads(line) for line in report.read_text().splitlines()]
    assert obj == {
        "level": "error", "rule": "ReferenceNotFound", "file": "enrollments.csv", "line": 8,
        "recordId": "112002/ghost/student", "field": "userSourcedId", "value": "ghost",
        "message": "'ghost' was not found in users.csv.",
    }


def test_summary_groups_by_file_and_rule_most_frequent_first(sample):
    sample.append("enrollments.csv", "112002,ghost1,student", "112002,ghost2,student", "112002,114001,bogus")
    sample.append("users.csv", "114009,nodomain,X,Y,,,,,")
    summary = summary_by_rule(validate_package(sample.root).findings)
    assert summary.rows() == [
        ("enrollments.csv", "ReferenceNotFound", "error", 2, "userSourcedId"),
        ("enrollments.csv", "InvalidEnumValue", "error", 1, "role"),
        ("users.csv", "InvalidUsername", "error", 1, "username"),
    ]


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


def test_rules_markdown_matches_docs():
    from pathlib import Path

    from homeroom.validate.rules import rules_markdown

    docs = Path(__file__).parents[2] / "docs" / "validation-rules.md"
    assert docs.read_text("utf-8") == rules_markdown(), "regenerate with: homeroom rules --markdown > docs/validation-rules.md"


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
