"""The findings list pages the sorted Parquet log: by rule and file from their row ranges, across a run's
activities, and by file alone through a filtered scan; the bounded log's FindingsOmitted rows are listed too."""

from __future__ import annotations

from types import SimpleNamespace

import polars as pl
import pyarrow.parquet as pq

from homeroom.findings.frame import FINDINGS_SCHEMA
from homeroom.findings import reports
from homeroom.findings.reports import write_parquet_report
from homeroom.runs.folders import findings_path
from homeroom.settings import Settings
from homeroom.web.queries import PAGE_SIZE, findings_page


def _findings(rule: str, file: str, n: int, level: str = "error") -> pl.DataFrame:
    return pl.DataFrame({"rule": [rule] * n, "level": [level] * n, "file": [file] * n, "line": list(range(2, n + 2)),
                         "recordId": [str(i) for i in range(n)], "field": ["f"] * n, "value": ["v"] * n,
                         "message": ["m"] * n}, schema=FINDINGS_SCHEMA)


def _run(tmp_path, *activities: pl.DataFrame):
    settings = Settings(data_dir=tmp_path / "data")
    run = SimpleNamespace(tenant_id="t", id="r", activities=[SimpleNamespace(id=f"a{i}") for i in range(len(activities))])
    for activity, findings in zip(run.activities, activities):
        path = findings_path(settings, "t", "r", activity.id, "parquet")
        path.parent.mkdir(parents=True)
        write_parquet_report(findings, path)
    return settings, run


def test_one_rule_in_one_file_pages_from_its_row_range_with_the_omitted_row_after_it(tmp_path, monkeypatch):
    monkeypatch.setattr(reports, "PARQUET_ROW_GROUP", 97)  # so that pages span row groups
    big = pl.concat([_findings("Zeta", "users.csv", 2300), _findings("Alpha", "orgs.csv", 5, "warning"),
                     _findings("Zeta", "classes.csv", 3)])
    settings, run = _run(tmp_path, big)
    page = findings_page(settings, run, 20, rule="Zeta", file="users.csv")
    assert page.total == 1000, "the log lists the first 1,000 of a rule in a file"
    assert [r["line"] for r in page.rows] == list(range(952, 1002))
    assert pq.ParquetFile(findings_path(settings, "t", "r", "a0", "parquet")).num_row_groups == 11
    omitted = findings_page(settings, run, 1, rule="FindingsOmitted", file=None)
    assert [r["message"] for r in omitted.rows] == [
        "1,300 more Zeta findings in users.csv are not listed (2,300 in all; the first 1,000 are)."]
    every = findings_page(settings, run, 1, rule=None, file=None)
    assert every.total == 5 + 1 + 3 + 1000 and [r["rule"] for r in every.rows[:7]] == ["Alpha"] * 5 + ["FindingsOmitted", "Zeta"]
    assert findings_page(settings, run, 1, rule="Nope", file=None).total == 0


def test_pages_run_across_activities_and_a_file_alone_is_scanned(tmp_path):
    settings, run = _run(tmp_path, _findings("Rule", "users.csv", 30), _findings("Rule", "users.csv", 40),
                         pl.concat([_findings("Other", "users.csv", 4), _findings("Rule", "orgs.csv", 2)]))
    first = findings_page(settings, run, 1, rule="Rule", file="users.csv")
    assert first.total == 70 and len(first.rows) == PAGE_SIZE
    assert [r["activityId"] for r in first.rows] == ["a0"] * 30 + ["a1"] * 20
    second = findings_page(settings, run, 2, rule="Rule", file="users.csv")
    assert [(r["activityId"], r["line"]) for r in second.rows] == [("a1", line) for line in range(22, 42)]
    by_file = findings_page(settings, run, 2, rule=None, file="users.csv")
    assert by_file.total == 74 and [r["rule"] for r in by_file.rows][-4:] == ["Other"] * 4
