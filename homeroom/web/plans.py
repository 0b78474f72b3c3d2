"""The provisioning plans pages' data: each run's plan as ``homeroom plan make`` kept it, before and after it is applied.

A plan lives with its run: the run's ``outbound`` activities (one per provisioning flow, with the planned counts,
the target, and once applied the results' counts) and the lake tables ``plans`` and ``plan_results``
(``homeroom.outbound.storage``), both partitioned by run. What the pages show is what ``homeroom plan show`` and
``GET runs/{id}/plan`` show: counts by operation and reason, and every operation (paged, optionally of one kind)
with its reason, the values it writes and, for an update, the values it replaces, and its latest result.

Nothing here reads a whole plan: counts are aggregated in the partition's scan, a page of operations is one slice
of it, and the results are read for that page's operations only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from homeroom.lake.tables import Lake
from homeroom.model.statuses import ActivityStatus
from homeroom.outbound.storage import PLAN_RESULTS, PLANS
from homeroom.store.models import OUTBOUND_ACTIVITY, Run, RunActivity

#: The kinds of operation a plan page filters on, with the operations of each (``homeroom.outbound.plan.OP_ORDER``).
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "creates": ("Creates", ("create_unit", "create_user", "create_group")),
    "updates": ("Updates", ("update_unit", "update_user", "update_group")),
    "disables": ("Disables", ("disable_user",)),
    "adds": ("Membership adds", ("add_member", "add_owner")),
    "removes": ("Membership removes", ("remove_member", "remove_owner")),
}
#: Columns of an operation the page shows.
OPERATION_COLUMNS = ("flowSetId", "seq", "op", "objectKind", "groupKind", "objectKey", "accountId", "memberKey",
                     "attributes", "old", "reason")


@dataclass(frozen=True)
class PlanState:
    """Where a run's plan stands, in words, from its outbound activities."""

    code: str  #: held, discarded, applying, applied, appliedWithErrors, ready
    words: str


def plan_state(activities: list[RunActivity]) -> PlanState:
    """The state of a plan from its outbound activities (the apply records its results' counts in them)."""
    statuses = {a.status for a in activities}
    stats = [a.statistics or {} for a in activities]
    if ActivityStatus.held in statuses:
        return PlanState("held", "held for approval")
    if statuses == {ActivityStatus.discarded}:
        return PlanState("discarded", "discarded: nothing was applied")
    live = [(a, s) for a, s in zip(activities, stats) if a.status != ActivityStatus.discarded]
    if live and all("applied" in s for _a, s in live):
        if any(a.status == ActivityStatus.completedWithErrors for a, _s in live):
            return PlanState("appliedWithErrors", "applied with errors")
        return PlanState("applied", "applied")
    if any("approvedDateTime" in s for _a, s in live):
        return PlanState("applying", "approved, being applied")
    return PlanState("ready", "ready to apply (homeroom plan apply)")


@dataclass(frozen=True)
class PlannedRun:
    """A run with a plan: the run, its outbound activities and the plan's state."""

    run: Run
    activities: list[RunActivity]
    state: PlanState

    @property
    def planned(self) -> int:
        return sum((a.statistics or {}).get("plannedTotal", 0) for a in self.activities)

    @property
    def applied(self) -> dict[str, int]:
        """Operations by latest result (``done``, ``failed``, ``skipped``, ``pending``), over every flow."""
        out: dict[str, int] = {}
        for a in self.activities:
            for status, n in ((a.statistics or {}).get("applied") or {}).items():
                out[status] = out.get(status, 0) + n
        return out

    @property
    def target(self) -> str:
        first = self.activities[0].statistics or {} if self.activities else {}
        return f"{first.get('target', '')} ({first.get('targetKind', '')})"


#: The flows of a set in the order they are applied, as their activities are titled (``homeroom.outbound.service``).
_FLOW_ORDER = ("users", "class groups", "administrative units", "security groups")


def _flow_rank(activity: RunActivity) -> tuple[int, str]:
    title = (activity.display_name or "").rpartition(": ")[2]
    return (_FLOW_ORDER.index(title) if title in _FLOW_ORDER else len(_FLOW_ORDER), activity.display_name or "")


def _planned(run: Run) -> PlannedRun:
    outbound = sorted((a for a in run.activities if a.kind == OUTBOUND_ACTIVITY), key=_flow_rank)
    return PlannedRun(run, outbound, plan_state(outbound))


def planned_runs(db: Session, tenant_id: str, *, offset: int, limit: int) -> tuple[list[PlannedRun], int]:
    """The tenant's runs that have a plan, held ones first then newest first, one page; and how many there are."""
    has_plan = exists().where(RunActivity.run_id == Run.id, RunActivity.kind == OUTBOUND_ACTIVITY)
    where = (Run.tenant_id == tenant_id, has_plan)
    total = db.scalar(select(func.count()).select_from(Run).where(*where)) or 0
    held_first = (Run.status != "held")
    rows = db.scalars(select(Run).options(selectinload(Run.activities).noload(RunActivity.findings)).where(*where)
                      .order_by(held_first, Run.started.desc()).offset(offset).limit(limit))
    return [_planned(run) for run in rows], int(total)


def planned_run(run: Run) -> PlannedRun | None:
    """The plan of a run (None: the run made no plan)."""
    found = _planned(run)
    return found if found.activities else None


@dataclass(frozen=True)
class Operations:
    """Counts by operation and reason (in apply order), and one page of operations with their latest result."""

    summary: list[dict]  #: {op, reason, count}
    by_kind: dict[str, int]  #: operations of each kind of ``KINDS``
    rows: list[dict] = field(default_factory=list)
    total: int = 0  #: operations of the chosen kind (all: every one)


def _scan(lake: Lake, table: str, run_id: str) -> pl.LazyFrame | None:
    if lake.version(table) is None:
        return None
    return pl.scan_delta(lake.uri(table), storage_options=lake.storage_options).filter(pl.col("runId") == run_id)


def _values(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"": text}
    return value if isinstance(value, dict) else {"": value}


def operations(lake: Lake, run_id: str, *, kind: str | None, offset: int, limit: int) -> Operations:
    """The run's plan: counts, and operations ``offset`` to ``offset + limit`` (of ``kind`` of ``KINDS``, or all) in
    apply order, each with ``changes`` [(attribute, old value, new value)] and its latest result (``status``,
    ``error``; ``status`` None: not applied yet)."""
    plan = _scan(lake, PLANS.name, run_id)
    if plan is None:
        return Operations([], {k: 0 for k in KINDS})
    counted = plan.group_by("op", "reason").agg(pl.len().alias("count"), pl.col("seq").min().alias("first")).collect()
    summary = counted.sort("first").drop("first").to_dicts()
    by_op: dict[str, int] = {}
    for row in summary:
        by_op[row["op"]] = by_op.get(row["op"], 0) + row["count"]
    by_kind = {k: sum(by_op.get(op, 0) for op in ops) for k, (_label, ops) in KINDS.items()}
    wanted = KINDS[kind][1] if kind in KINDS else None
    total = by_kind[kind] if kind in KINDS else sum(by_op.values())
    page = _page(plan, wanted, offset, limit)
    results = _scan(lake, PLAN_RESULTS.name, run_id)
    if results is not None and page.height:
        latest = (results.filter(pl.col("seq").is_in(page["seq"].unique().to_list())).sort("appliedDateTime")
                  .unique(["flowSetId", "seq"], keep="last").select("flowSetId", "seq", "status", "error").collect())
        page = page.join(latest, on=["flowSetId", "seq"], how="left", maintain_order="left")
    else:
        page = page.with_columns(pl.lit(None, pl.String).alias("status"), pl.lit(None, pl.String).alias("error"))
    rows = []
    for row in page.to_dicts():
        new, old = _values(row["attributes"]), _values(row["old"])
        row["changes"] = [(name, old.get(name) if row["old"] is not None else None, new.get(name))
                          for name in dict.fromkeys([*old, *new])]
        rows.append(row)
    return Operations(summary, by_kind, rows, total)


def _page(plan: pl.LazyFrame, ops: tuple[str, ...] | None, offset: int, limit: int) -> pl.DataFrame:
    """Operations ``offset`` to ``offset + limit`` in apply order (flow set, ``seq``), of ``ops`` (None: all).

    A plan numbers its operations in apply order, one contiguous ``seq`` range per operation kind within a flow set
    (``homeroom.outbound.plan``): the page is then found from each range's first ``seq`` and size, and read with a
    ``seq`` filter (the Parquet statistics skip the rest) instead of sorting the whole plan for every view. A plan
    whose ranges are not contiguous (none is written so) is sorted."""
    chosen = plan if ops is None else plan.filter(pl.col("op").is_in(list(ops)))
    ranges = (chosen.group_by("flowSetId", "op").agg(pl.col("seq").min().alias("first"), pl.col("seq").max().alias("last"),
                                                      pl.len().alias("n")).sort("flowSetId", "first").collect())
    if ranges.height == 0 or (ranges["last"] - ranges["first"] + 1 != ranges["n"]).any():
        return chosen.select(OPERATION_COLUMNS).sort("flowSetId", "seq").slice(offset, limit).collect()
    wanted, skipped = [], 0
    for set_id, first, n in ranges.select("flowSetId", "first", "n").iter_rows():
        start, stop = max(offset - skipped, 0), min(offset + limit - skipped, n)  # within this range
        if start < stop:
            wanted.append((pl.col("flowSetId") == set_id) & pl.col("seq").is_between(first + start, first + stop - 1))
        skipped += n
    if not wanted:
        return chosen.select(OPERATION_COLUMNS).head(0).collect()
    return (chosen.filter(pl.any_horizontal(wanted)).select(OPERATION_COLUMNS).collect().sort("flowSetId", "seq"))
