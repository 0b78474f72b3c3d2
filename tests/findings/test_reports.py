"""Reports: a spreadsheet-safe CSV, JSON lines, and the summary by rule and file."""

from __future__ import annotations

import csv
import json

import polars as pl

from homeroom.findings.reports import spreadsheet_safe, summary_by_rule, write_report
from homeroom.validate import validate_package


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
