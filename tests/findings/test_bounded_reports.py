"""Reports are bounded per rule and file: the first examples, then one row with the exact number left out."""

from __future__ import annotations

import json

import polars as pl

from homeroom.findings import Findings
from homeroom.findings.reports import bounded, summary_by_rule, write_csv_report, write_jsonl_report


def _many(n: int) -> pl.DataFrame:
    findings = Findings()
    rows = pl.DataFrame({"__line": list(range(2, n + 2)), "__id": [f"u{i}" for i in range(n)], "__value": ["x"] * n})
    findings.add_rows("InvalidUsername", "error", "users.csv", "username", rows, hint="")
    findings.add("OptionalFileNotFound", "warning", "userFlags.csv", consequence="no flags.")
    return findings.frame()


def test_a_report_keeps_the_first_examples_of_a_rule_and_counts_the_rest_exactly(tmp_path):
    frame = _many(2500)
    out = bounded(frame, limit=1000)
    assert out.height == 1002
    assert out.filter(pl.col("rule") == "InvalidUsername")["line"].to_list() == list(range(2, 1002)), "the first, in line order"
    [note] = out.filter(pl.col("rule") == "FindingsOmitted").to_dicts()
    assert (note["level"], note["file"]) == ("info", "users.csv")
    assert note["message"] == "1,500 more InvalidUsername findings in users.csv are not listed (2,500 in all; the first 1,000 are)."
    assert summary_by_rule(frame).filter(pl.col("rule") == "InvalidUsername")["count"].item() == 2500, "summaries count all"
    write_jsonl_report(frame, tmp_path / "f.jsonl", limit=1000)
    assert len((tmp_path / "f.jsonl").read_text().splitlines()) == 1002
    write_csv_report(frame, tmp_path / "f.csv", limit=1000)
    assert len((tmp_path / "f.csv").read_text("utf-8-sig").splitlines()) == 1003  # with the header


def test_a_report_within_the_bound_is_unchanged(tmp_path):
    frame = _many(10)
    assert bounded(frame).height == 11 and "FindingsOmitted" not in bounded(frame)["rule"].to_list()
    write_jsonl_report(frame, tmp_path / "f.jsonl")
    assert [json.loads(line)["rule"] for line in (tmp_path / "f.jsonl").read_text().splitlines()] == ["InvalidUsername"] * 10 + ["OptionalFileNotFound"]  # errors first
