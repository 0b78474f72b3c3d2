"""Renderers for findings: an errors-and-warnings CSV, JSON lines, and a summary by rule and file.

The CSV is meant to be opened in a spreadsheet, so no cell may be read as a formula: a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'``
(OWASP's advice for CSV injection).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import polars as pl
import pyarrow.parquet as pq

from homeroom.findings.rules import LEVELS, RULES, Rule, register, rule


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


#: Findings of one rule in one file written to a report before the rest are summarised in one ``FindingsOmitted``
#: row (their number is exact in the row and in every summary): a report is a log to act on, not a copy of a
#: broken file, and one file of a million broken lines must not make a gigabyte log.
EXAMPLES_PER_RULE = 1000

register(
    __name__,
    Rule("FindingsOmitted", ("info",), "package",
         "A report shows the first findings of each rule in each file; this row says how many more there are.",
         "{omitted:,} more {rule} findings in {file} are not listed ({total:,} in all; the first {shown:,} are).",
         "Nothing is dropped: the report is shorter."),
)


def bounded(findings: pl.DataFrame, limit: int = EXAMPLES_PER_RULE) -> pl.DataFrame:
    """The findings in report order with at most ``limit`` of each rule in each file, and for each (rule, file)
    past it one ``FindingsOmitted`` row saying how many more there are."""
    ordered = _ordered(findings)
    rank = pl.int_range(pl.len()).over(["rule", "file"])
    kept = ordered.filter(rank < limit)
    if kept.height == ordered.height:
        return ordered
    counts = ordered.group_by("rule", "file", maintain_order=True).agg(pl.len().alias("total")).filter(pl.col("total") > limit)
    template = rule("FindingsOmitted").template
    notes = counts.select(
        pl.lit("FindingsOmitted").alias("rule"), pl.lit("info").alias("level"), pl.col("file"),
        pl.lit(None, pl.Int64).alias("line"), pl.lit(None, pl.String).alias("recordId"), pl.lit(None, pl.String).alias("field"),
        pl.lit(None, pl.String).alias("value"),
        pl.struct("rule", "file", "total").map_elements(
            lambda r: template.format(omitted=r["total"] - limit, rule=r["rule"], file=r["file"], total=r["total"], shown=limit),
            return_dtype=pl.String).alias("message"),
    )
    return pl.concat([kept.select(notes.columns), notes], how="vertical")


def write_csv_report(findings: pl.DataFrame, path: Path, *, limit: int = EXAMPLES_PER_RULE) -> None:
    """Write the errors-and-warnings CSV (UTF-8 with BOM, so spreadsheets detect the encoding), bounded per rule
    and file (``bounded``)."""
    frame = spreadsheet_safe(bounded(findings, limit).select(REPORT_COLUMNS))
    with open(path, "wb") as fh:
        fh.write(b"\xef\xbb\xbf")
        frame.write_csv(fh)


def write_jsonl_report(findings: pl.DataFrame, path: Path, *, limit: int = EXAMPLES_PER_RULE) -> None:
    """Write one JSON object per finding, bounded per rule and file (``bounded``)."""
    bounded(findings, limit).select(REPORT_COLUMNS).write_ndjson(path)


def write_parquet_report(findings: pl.DataFrame, path: Path, *, limit: int = EXAMPLES_PER_RULE) -> None:
    """Write the bounded findings (the rows of the CSV and JSON lines) as Parquet sorted by rule, file and line, in
    small row groups, with where each rule's findings in each file start (``parquet_ranges``): one page of one rule
    is read from the row groups that hold it, without reading the rest (the dashboard)."""
    frame = bounded(findings, limit).select(REPORT_COLUMNS).sort(["rule", "file", "line"], nulls_last=False, maintain_order=True)
    ranges = (frame.with_row_index("start").group_by("rule", "file", maintain_order=True)
              .agg(pl.col("start").first(), pl.len().alias("rows")))
    table = frame.to_arrow()
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), PARQUET_RANGES: json.dumps(ranges.rows())})
    pq.write_table(table, path, row_group_size=PARQUET_ROW_GROUP)


def parquet_ranges(metadata: Mapping[bytes, bytes] | None) -> list[tuple[str, str, int, int]]:
    """(rule, file, first row, rows) of each rule in each file of a Parquet report, in the file's order."""
    raw = (metadata or {}).get(PARQUET_RANGES.encode())
    return [tuple(r) for r in json.loads(raw)] if raw else []


#: Rows per row group of the Parquet report: a page read touches one or two groups.
PARQUET_ROW_GROUP = 4096
#: The Parquet report's metadata key for ``parquet_ranges``.
PARQUET_RANGES = "homeroom.findings.ranges"


def write_report(findings: pl.DataFrame, path: Path, *, limit: int = EXAMPLES_PER_RULE) -> None:
    """Write the findings; ``.jsonl``/``.json`` gives JSON lines, anything else CSV."""
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        write_jsonl_report(findings, path, limit=limit)
    else:
        write_csv_report(findings, path, limit=limit)


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


def concatenated_logs(paths: Sequence[Path], kind: str) -> Iterator[bytes]:
    """Several findings logs (one per activity of a run) as one download: CSV keeps the first file's BOM and header only."""
    for i, path in enumerate(paths):
        with path.open("rb") as fh:
            if i and kind == "csv":
                fh.readline()  # BOM and header of a later activity's file
            while chunk := fh.read(1 << 20):
                yield chunk
