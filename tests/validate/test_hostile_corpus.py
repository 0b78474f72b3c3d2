"""A corpus of hostile users.csv files (generated here): none gives a traceback, and none makes a findings report or
an upload validation's answer larger than the documented bounds (1,000 findings per rule and file in a report;
a header refused past 256 columns)."""

from __future__ import annotations

import json
import shutil

import polars as pl
import pytest

from homeroom.findings.reports import EXAMPLES_PER_RULE, write_report
from homeroom.uploads.sessions import findings_to_errors
from homeroom.validate import validate_package
from tests.conftest import MS_V21

HEADER = "sourcedId,username,givenName,familyName,password,middleName,email,mobile,phone"
CORPUS = {
    "million-comma header": "," * 1_000_000 + "\n",
    "unclosed quotes": HEADER + "\n" + '"x,a@b.example,A,B,,,,,\n' * 200_000,
    "ragged lines": HEADER + "\n" + "u1,a@b.example\n" * 100_000,
    "unknown columns": HEADER + "," + ",".join(f"extra{i}" for i in range(240)) + "\n",
    "long bad usernames": HEADER + "\n" + "".join(f"u{i},{'x' * 300},A,B,,,,,\n" for i in range(50_000)),
    "one user repeated": HEADER + "\n" + "u1,a@b.example,A,B,,,,,\n" * 300_000,
    "not text": HEADER + "\n" + "u1,\xff\xfe,A,B,,,,,\n",
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_hostile_file_gives_bounded_findings_and_no_traceback(tmp_path, name):
    pkg = tmp_path / "pkg"
    shutil.copytree(MS_V21, pkg)
    content = CORPUS[name]
    (pkg / "users.csv").write_bytes(content.encode("latin-1") if name == "not text" else content.encode())
    result = validate_package(pkg)
    assert result.findings.filter(pl.col("rule") == "InternalApplicationError").height == 0
    for kind in ("csv", "jsonl"):
        report = tmp_path / f"findings.{kind}"
        write_report(result.findings, report)
        assert report.stat().st_size < 2_000_000, f"{name}: a {report.stat().st_size:,}-byte {kind} report"
    listed = pl.read_ndjson(tmp_path / "findings.jsonl")
    if listed.height:
        per_rule = listed.filter(pl.col("rule") != "FindingsOmitted").group_by("rule", "file").len()["len"].max()
        assert per_rule <= EXAMPLES_PER_RULE
    basic = validate_package(pkg, basic_only=True)
    errors, warnings = findings_to_errors(basic.findings)
    assert len(json.dumps({"errors": errors, "warnings": warnings})) < 200_000, f"{name}: the operation's answer"
