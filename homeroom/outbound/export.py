"""A plan for people and scripts: a summary by operation and reason, CSV (spreadsheet-safe) and JSON."""

from __future__ import annotations

import io
import json

import polars as pl

from homeroom.findings.reports import spreadsheet_safe

EXPORT_COLUMNS = ["runId", "flowSetId", "seq", "target", "op", "objectKind", "groupKind", "objectKey", "accountId",
                  "memberKey", "memberId", "reason", "attributes", "old", "status", "error"]


def summary(plan: pl.DataFrame) -> pl.DataFrame:
    """How many operations of each kind and reason, and how many of them are done, in apply order."""
    if plan.height == 0:
        return pl.DataFrame(schema={"op": pl.String, "reason": pl.String, "count": pl.UInt32, "done": pl.UInt32})
    return plan.group_by("op", "reason").agg(
        pl.len().alias("count"), (pl.col("status") == "done").sum().cast(pl.UInt32).alias("done"), pl.col("seq").min().alias("__first")
    ).sort("__first").drop("__first")


def plan_csv(plan: pl.DataFrame) -> bytes:
    """The plan as CSV (UTF-8 with BOM), every cell a spreadsheet would run as a formula neutralised, as the findings
    CSV does: names come from the SIS and may start with ``=``."""
    buffer = io.BytesIO()
    buffer.write(b"\xef\xbb\xbf")
    spreadsheet_safe(plan.select(EXPORT_COLUMNS)).write_csv(buffer)
    return buffer.getvalue()


def plan_json(plan: pl.DataFrame) -> list[dict]:
    """The plan's operations as JSON objects, ``attributes`` and ``old`` as objects."""
    rows = plan.select(EXPORT_COLUMNS).to_dicts()
    for row in rows:
        for column in ("attributes", "old"):
            row[column] = json.loads(row[column]) if row[column] else None
    return rows
