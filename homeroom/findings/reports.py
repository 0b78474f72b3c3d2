"""Renderers for findings: an errors-and-warnings CSV, JSON lines, and a summary by rule and file.

The CSV is meant to be opened in a spreadsheet, so no cell may be read as a formula: a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'``
(OWASP's advice for CSV injection).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import polars as pl

from homeroom.findings.rules import LEVELS, RULES


class FileCounts(Protocol):
    """How many records one file had, and how many passed."""

    records: int
    valid: int


class ValidatedPackage(Protocol):
    """A validated package as its summary reads it (``homeroom.validate.ValidationResult`` is one)."""

    package: str
    format: str | None
    findings: pl.DataFrame
    stopped: bool

    @property
    def files(self) -> Mapping[str, FileCounts]: ...

    @property
    def exit_code(self) -> int: ...

    def count(self, level: str) -> int: ...


REPORT_COLUMNS = ["level", "rule", "file", "line", "recordId", "field", "value", "message"]
_FORMULA_START = r"^[=+\-@\t\r]"


def spreadsheet_safe(findings: pl.DataFrame) -> pl.DataFrame:
    """The findings with every text cell that a spreadsheet would run as a formula neutralised."""
    text_cols = [c for c, t in findings.schema.items() if t == pl.String]
    return findings.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA_START)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text_cols
    )


def _ordered(findings: pl.DataFrame) -> pl.DataFrame:
    level_rank = {lvl: i for i, lvl in enumerate(LEVELS)}
    return findings.with_columns(pl.col("level").replace_strict(level_rank, return_dtype=pl.Int8).alias("__rank")).sort(
        ["__rank", "file", "line", "rule"], nulls_last=False, maintain_order=True
    ).drop("__rank")


def write_csv_report(findings: pl.DataFrame, path: Path) -> None:
    """Write the errors-and-warnings CSV (UTF-8 with BOM, so spreadsheets detect the encoding)."""
    frame = spreadsheet_safe(_ordered(findings).select(REPORT_COLUMNS))
    with open(path, "wb") as fh:
        fh.write(b"\xef\xbb\xbf")
        frame.write_csv(fh)


def write_jsonl_report(findings: pl.DataFrame, path: Path) -> None:
    """Write one JSON object per finding."""
    _ordered(findings).select(REPORT_COLUMNS).write_ndjson(path)


def write_report(findings: pl.DataFrame, path: Path) -> None:
    """Write the full findings; ``.jsonl``/``.json`` gives JSON lines, anything else CSV."""
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        write_jsonl_report(findings, path)
    else:
        write_csv_report(findings, path)


def summary_by_rule(findings: pl.DataFrame) -> pl.DataFrame:
    """Findings grouped by file, rule and level, most frequent first, with the fields involved."""
    if findings.height == 0:
        return pl.DataFrame(schema={"file": pl.String, "rule": pl.String, "level": pl.String, "count": pl.UInt32, "fields": pl.String})
    return (
        findings.group_by("file", "rule", "level")
        .agg(pl.len().alias("count"), pl.col("field").drop_nulls().unique().sort().str.join(", ").alias("fields"))
        .sort(["count", "file", "rule"], descending=[True, False, False])
    )


def summary_json(result: ValidatedPackage) -> dict:
    """The machine-readable summary printed by ``homeroom validate --json``."""
    rules = [
        {
            "file": row["file"],
            "rule": row["rule"],
            "level": row["level"],
            "count": row["count"],
            "fields": [f for f in row["fields"].split(", ") if f],
            "message": RULES[row["rule"]].summary,
        }
        for row in summary_by_rule(result.findings).iter_rows(named=True)
    ]
    if result.stopped:
        # A stopped run: the messages themselves say what to fix, so include them.
        stops = result.findings.filter(pl.col("level") == "catastrophic")
        for item in rules:
            if item["level"] == "catastrophic":
                item["messages"] = stops.filter((pl.col("file") == item["file"]) & (pl.col("rule") == item["rule"]))[
                    "message"
                ].to_list()
    return {
        "package": result.package,
        "format": result.format,
        "stopped": result.stopped,
        "exitCode": result.exit_code,
        "counts": {
            "catastrophic": result.count("catastrophic"),
            "errors": result.count("error"),
            "warnings": result.count("warning"),
        },
        "files": {name: {"rows": s.records, "valid": s.valid} for name, s in result.files.items()},
        "rules": rules,
    }


def dumps(summary: dict) -> str:
    """JSON text of a summary."""
    return json.dumps(summary, indent=2, ensure_ascii=False)
