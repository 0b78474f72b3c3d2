"""Generated districts, in every format: validation finds exactly the defects the generator planted, per file, rule, level and field."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from homeroom.synthetic import generate_district
from homeroom.synthetic.formats import PACKAGE_FORMATS
from homeroom.validate import validate_package


def expected_counts(expected: dict) -> Counter:
    return Counter({(f["file"], f["rule"], f["level"], f["field"]): f["count"] for f in expected["findings"]})


def found_counts(result) -> Counter:
    rows = result.findings.group_by("file", "rule", "level", "field").len().rows()
    return Counter({(file, rule, level, field): n for file, rule, level, field, n in rows})


@pytest.mark.parametrize("format_name", list(PACKAGE_FORMATS))
@pytest.mark.parametrize(
    "students, seed, rate",
    [(1, 3, 0.5), (60, 1, 0.05), (700, 2, 0.01), (3_000, 5, 0.02), pytest.param(25_000, 11, 0.003, marks=pytest.mark.slow)],
)
def test_findings_equal_the_planted_defects(tmp_path: Path, format_name: str, students: int, seed: int, rate: float):
    expected = generate_district(tmp_path / "d", students, seed=seed, defect_rate=rate, format_name=format_name)
    assert json.loads((tmp_path / "d" / "expected-findings.json").read_text()) == expected
    result = validate_package(tmp_path / "d")
    assert result.format == format_name  # detected from the files
    assert found_counts(result) == expected_counts(expected)
    assert {name: {"records": s.records, "valid": s.valid} for name, s in result.files.items()} == expected["files"]
    assert (result.count("catastrophic"), result.count("error"), result.count("warning")) == (
        expected["totals"]["catastrophic"], expected["totals"]["errors"], expected["totals"]["warnings"],
    )
    # Every finding is located: line-level and record-level findings name their line.
    assert result.findings["line"].null_count() == 0
    assert result.exit_code == 1


@pytest.mark.parametrize("format_name", list(PACKAGE_FORMATS))
def test_a_clean_district_is_valid(tmp_path: Path, format_name: str):
    expected = generate_district(tmp_path / "d", 2_000, seed=9, format_name=format_name)
    result = validate_package(tmp_path / "d")
    assert result.findings.height == 0 and result.exit_code == 0
    assert {name: {"records": s.records, "valid": s.valid} for name, s in result.files.items()} == expected["files"]


@pytest.mark.parametrize("format_name", list(PACKAGE_FORMATS))
def test_broken_files_parsed_in_parts_give_exactly_the_findings_and_records_of_one_part(tmp_path: Path, format_name: str, monkeypatch):
    from homeroom.inbound import csv_reader

    generate_district(tmp_path / "d", 3_000, seed=5, defect_rate=0.02, format_name=format_name)
    whole = validate_package(tmp_path / "d")
    assert whole.findings.filter(whole.findings["rule"].str.starts_with("Line")).height > 0, "the district has broken lines"
    monkeypatch.setattr(csv_reader, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(csv_reader.os, "cpu_count", lambda: 8)  # eight parts, whatever this machine has
    parts = validate_package(tmp_path / "d")
    assert parts.findings.equals(whole.findings)
    assert sorted(parts.tables) == sorted(whole.tables)
    assert all(parts.tables[name].equals(whole.tables[name]) for name in whole.tables)


def test_parts_cut_at_line_breaks_keep_line_numbers_with_crlf_blank_lines_and_quoted_breaks(monkeypatch):
    from homeroom.inbound import csv_reader

    lines = [b"a,b,c"] * 5 + [b"bad,row"] + [b""] + [b'"x\r\ny",2,3'] + [b"d,e,f"] * 7 + [b"too,many,fields,here"] + [b"g,h,i"]
    body = memoryview(b"\r\n".join(lines) + b"\r\n")
    one = csv_reader.read_csv_body(body, ["A", "B", "C"], allow_line_breaks=False)
    monkeypatch.setattr(csv_reader, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(csv_reader.os, "cpu_count", lambda: 5)
    many = csv_reader.read_csv_body(body, ["A", "B", "C"], allow_line_breaks=False)
    assert [(f.rule, f.line) for f in many.line_findings] == [(f.rule, f.line) for f in one.line_findings] == [
        ("LineFieldCount", 7), ("LineBreakInValue", 9), ("LineFieldCount", 18)]
    assert many.table.equals(one.table) and list(many.lines) == list(one.lines) == [2, 3, 4, 5, 6, *range(11, 18), 19]
    assert many.records == one.records
