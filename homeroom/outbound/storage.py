"""Where plans live: the lake tables ``plans`` and ``plan_results``, both partitioned by run.

A run's plan is written once, as one partition of ``plans`` (every flow set's operations, keyed by flow set and
``seq``), before anything is applied; so what an administrator approves is exactly what was shown. Applying
appends the result of each batch of operations to ``plan_results`` (one Delta commit per batch), so an apply that
was interrupted knows what it did: the latest result of an op wins, and an op without one is applied again (the
writers look objects up by their anchor, so that is safe).

The directory tables the plan reads (``directory_accounts``, ``directory_groups``, ``match_links``) are declared
here with the specs the directory contract gives them (``register`` is idempotent for the same spec).
"""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl

from homeroom.lake.tables import Lake, TableSpec, register
from homeroom.outbound.plan import PLAN_SCHEMA, Actual
from homeroom.targets.base import ACCOUNT_SCHEMA, GROUP_SCHEMA

PLANS = register(TableSpec("plans", ("flowSetId", "seq"), ("runId",)))
PLAN_RESULTS = register(TableSpec("plan_results", (), ("runId",)))
DIRECTORY_ACCOUNTS = register(TableSpec("directory_accounts", ("account_id",), ("target",)))
DIRECTORY_GROUPS = register(TableSpec("directory_groups", ("group_id",), ("target",)))
MATCH_LINKS = register(TableSpec("match_links", ("target", "sourceSystemId", "personSourcedId"), ("target",)))

STORED_PLAN_SCHEMA = {"runId": pl.String, "flowSetId": pl.String, **PLAN_SCHEMA}
RESULT_SCHEMA = {"runId": pl.String, "flowSetId": pl.String, "seq": pl.Int64, "status": pl.String, "accountId": pl.String,
                 "error": pl.String, "appliedDateTime": pl.Datetime("us", "UTC")}


def keep_plan(lake: Lake, run_id: str, plans: dict[str, pl.DataFrame]) -> None:
    """Keep the plan of a run: each flow set's operations (by flow set id), as one partition."""
    frames = [ops.select(pl.lit(run_id).alias("runId"), pl.lit(set_id).alias("flowSetId"), *PLAN_SCHEMA)
              for set_id, ops in plans.items()]
    rows = pl.concat(frames) if frames else pl.DataFrame(schema=STORED_PLAN_SCHEMA)
    lake.replace_partition(PLANS.name, {"runId": run_id}, rows.cast(STORED_PLAN_SCHEMA))


def read_plan(lake: Lake, run_id: str) -> pl.DataFrame:
    """A run's plan in apply order, with each op's latest result (``status`` null: not applied yet); empty when the
    run planned nothing (the store's outbound activities say whether it planned at all)."""
    plan = lake.read(PLANS.name, {"runId": run_id})
    if plan is None:
        plan = pl.DataFrame(schema=STORED_PLAN_SCHEMA)
    plan = plan.select(list(STORED_PLAN_SCHEMA)).sort("flowSetId", "seq")
    results = lake.read(PLAN_RESULTS.name, {"runId": run_id})
    if results is None or results.height == 0:
        return plan.with_columns(pl.lit(None, pl.String).alias("status"), pl.lit(None, pl.String).alias("error"),
                                 pl.lit(None, pl.String).alias("resultAccountId"))
    latest = results.sort("appliedDateTime").unique(["flowSetId", "seq"], keep="last").select(
        "flowSetId", "seq", "status", "error", pl.col("accountId").alias("resultAccountId"))
    return plan.join(latest, on=["flowSetId", "seq"], how="left", maintain_order="left")


def record_results(lake: Lake, run_id: str, set_id: str, results: list[dict]) -> None:
    """Append the results of a batch of operations (one commit)."""
    if not results:
        return
    now = datetime.now(timezone.utc)
    rows = pl.DataFrame([{"runId": run_id, "flowSetId": set_id, "seq": r["seq"], "status": r["status"],
                          "accountId": r.get("accountId"), "error": r.get("error"), "appliedDateTime": now} for r in results],
                        schema=RESULT_SCHEMA)
    lake.append(PLAN_RESULTS.name, rows)


def read_actual(lake: Lake, target: str, source_system_id: str, year: str) -> tuple[Actual, pl.DataFrame | None]:
    """The target's snapshot (active rows) and its match links for one source's year; also the snapshot's accounts
    with their history (every row), for the check that a snapshot came in short."""
    accounts_all = lake.read(DIRECTORY_ACCOUNTS.name, {"target": target})
    groups = lake.read(DIRECTORY_GROUPS.name, {"target": target})
    links = lake.read(MATCH_LINKS.name, {"target": target})

    accounts = (accounts_all.filter(pl.col("isActive")) if accounts_all is not None
                else pl.DataFrame(schema=pl.Schema(ACCOUNT_SCHEMA)))
    groups = groups.filter(pl.col("isActive")) if groups is not None else pl.DataFrame(schema=pl.Schema(GROUP_SCHEMA))
    if links is None:
        links = pl.DataFrame(schema={"personSourcedId": pl.String, "outcome": pl.String, "accountId": pl.String})
    else:
        links = links.filter(pl.col("isActive") & (pl.col("sourceSystemId") == source_system_id) & (pl.col("year") == year))
    return Actual(accounts, groups, links), accounts_all


def snapshot_shrink(accounts_all: pl.DataFrame | None) -> tuple[int, int]:
    """(accounts the latest snapshot lost, accounts the snapshot before had): rows inactive whose last sighting was
    the previous snapshot, against the rows seen then."""
    if accounts_all is None or accounts_all.height == 0 or "lastSeenDateTime" not in accounts_all.columns:
        return 0, 0
    seen = accounts_all.get_column("lastSeenDateTime")
    latest = seen.max()
    earlier = seen.filter(seen < latest)
    if earlier.len() == 0:
        return 0, 0
    previous = earlier.max()
    vanished = accounts_all.filter(~pl.col("isActive") & (pl.col("lastSeenDateTime") == previous)).height
    before = accounts_all.filter((pl.col("firstSeenDateTime") <= previous) & (pl.col("lastSeenDateTime") >= previous)).height
    return vanished, before
