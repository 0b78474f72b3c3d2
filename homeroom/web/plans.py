"""The provisioning plans page's data: what a plan would do to a directory, before it is applied.

Where it plugs in: provisioning plans (issue 12) write the lake table ``plan_operations`` of the tenant, one row per
operation with at least the columns ``op`` (``create``, ``update``, ``disable``, ``delete``, ``addMember``,
``removeMember``, ...), ``objectKind`` (``user``, ``group``, ``membership``, ...), ``objectKey``, ``reason``,
``attributes`` (the values it would write, as JSON text) and ``old`` (the values it would replace), and, when it
has them, ``target`` and ``planId``. Until that table exists in the tenant's lake the page says "not configured
yet". A plan held by a threshold is a held run's reason (``homeroom.runs.holds.Guarded``), approved or discarded on
the held runs page. Counts are aggregated in the table's scan and operations are read one page at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from homeroom.lake.tables import Lake

#: The lake table provisioning plans write.
PLAN_TABLE = "plan_operations"
#: Columns shown for each operation, when the table has them.
OPERATION_COLUMNS = ("target", "op", "objectKind", "objectKey", "reason", "attributes", "old")


@dataclass(frozen=True)
class PlanReport:
    """Counts by operation and kind of object, and one page of operations."""

    counts: list[dict]  #: {op, objectKind, count}
    operations: list[dict]
    total: int
    columns: list[str]


def plan_report(lake: Lake, *, offset: int = 0, limit: int = 50) -> PlanReport | None:
    """The tenant's provisioning plan, or None while no ``plan_operations`` table has been written."""
    ops = lake.scan(PLAN_TABLE)
    if ops is None:
        return None
    counts = ops.group_by("op", "objectKind").agg(pl.len().alias("count")).sort("objectKind", "op").collect()
    present = ops.collect_schema().names()
    columns = [c for c in OPERATION_COLUMNS if c in present]
    total = int(ops.select(pl.len()).collect().item())
    page = ops.select(columns).slice(offset, limit).collect()
    return PlanReport(counts.to_dicts(), page.to_dicts(), total, columns)
