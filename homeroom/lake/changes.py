"""Apply a validated package to the lake: diff each entity against its rows, then write the result.

The diff is pure: from the previous rows of one partition of a table (for a roster entity, one
source system and year) and the incoming rows it computes the partition's new rows and the change
set, so a run can be held (nothing written) and approved later. Any table with a ``TableSpec``
can use it, not only the roster entities. A *full* snapshot marks what is absent inactive; a
*delta* package (OneRoster delta) applies only its rows, with ``status = tobedeleted``
deactivating a record. Nothing is ever deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime

import polars as pl
import pyarrow as pa

from homeroom.inbound.secrets import without_secrets
from homeroom.lake.tables import CHANGES, Lake, TableSpec, roster_partition, roster_table
from homeroom.model.delta import Owner
from homeroom.model.entities import ENTITY_BY_NAME, Entity

TIMESTAMP = pl.Datetime("us", "UTC")
LIFECYCLE = ["isActive", "firstSeenDateTime", "lastSeenDateTime", "lastChangedDateTime", "lastRunId"]
#: Columns of a validated table that are instructions rather than data (OneRoster delta status).
INSTRUCTIONS = {"status", "dateLastModified"}


@dataclass
class EntityChanges:
    """The new state of one table's partition and what changed, before it is written."""

    entity: str  # the table's name
    partition: dict[str, str]  # the partition's values
    state: pl.DataFrame  # the partition's new rows
    changes: pl.DataFrame  # runId, entity, the partition's values, recordId, change, changedFields, changedDateTime
    added: int
    updated: int
    deactivated: int
    reactivated: int
    active_before: int

    @property
    def active(self) -> int:
        return int(self.state.get_column("isActive").sum())

    @property
    def total(self) -> int:
        return self.state.height

    def counts(self) -> dict[str, int]:
        """The change counts, as stored with the run."""
        return {
            "added": self.added, "updated": self.updated, "deactivated": self.deactivated,
            "reactivated": self.reactivated, "activeBefore": self.active_before,
            "active": self.active, "inactive": self.total - self.active, "total": self.total,
        }


def record_id(key: tuple[str, ...]) -> pl.Expr:
    """The record id of a row: its key, its columns joined with '/' (a sourcedId on its own)."""
    if len(key) == 1:  # the column itself, not a copy: the change set of a first run has a row per record
        return pl.col(key[0]).cast(pl.String)
    return pl.concat_str([pl.col(k).cast(pl.String).fill_null("") for k in key], separator="/")


def diff_table(
    table: TableSpec,
    previous: pl.DataFrame | None,
    incoming: pl.DataFrame,
    *,
    partition: Mapping[str, str],
    run_id: str,
    now: datetime,
    delta: bool = False,
    owner: Owner | None = None,
    owning: pl.DataFrame | None = None,
) -> EntityChanges:
    """The new rows of one partition of a table, and the change set.

    ``previous`` holds the partition's rows in the lake (None or empty: none yet); ``incoming`` the
    table's key and attribute columns, and optionally ``status``. In full mode a row absent from
    ``incoming`` becomes inactive. In delta mode it is kept as it is, unless the table has an
    ``owner`` and the delta restates the row's owner (see ``homeroom.model.delta``): then the row
    becomes inactive. ``owning`` holds the owning entity's incoming rows, if the delta has any.
    """
    partition = table.partition_values(partition)
    key = list(table.key)
    attributes = [c for c in incoming.columns if c not in key and c not in INSTRUCTIONS]
    # OneRoster marks records to delete with status tobedeleted (some SIS write "inactive"), in delta and
    # (rarely) in bulk files.
    status = (
        ~pl.col("status").str.to_lowercase().is_in(["tobedeleted", "inactive"]).fill_null(False)
        if "status" in incoming.columns else pl.lit(True)
    )
    new = incoming.select(*key, *attributes, status.alias("__active_in_package")).with_columns(pl.lit(True).alias("__in_new"))
    if previous is None or previous.height == 0:
        previous = new.head(0).drop("__active_in_package", "__in_new").with_columns(
            pl.lit(None, pl.Boolean).alias("isActive"),
            *[pl.lit(None, TIMESTAMP).alias(c) for c in LIFECYCLE[1:4]],
            pl.lit(None, pl.String).alias("lastRunId"),
        )
    for c in attributes:  # attributes the lake has not seen before (schema evolution)
        if c not in previous.columns:
            previous = previous.with_columns(pl.lit(None, new.schema[c]).alias(c))
    restated = [_owner_restated(owner, previous, incoming, owning).alias("__restated")] if delta and owner else []
    old = previous.select(*key, *attributes, *LIFECYCLE, *restated).with_columns(pl.lit(True).alias("__in_prev"))
    joined = _join_on_key(old, new, key)

    in_new = pl.col("__in_new").fill_null(False)
    in_prev = pl.col("__in_prev").fill_null(False)
    was_active = in_prev & pl.col("isActive").fill_null(False)
    if delta:
        # What the delta does not have stays as it is, unless the delta restated its owner without it.
        kept = pl.col("isActive")
        if restated:
            kept = pl.when(pl.col("__restated").fill_null(False)).then(pl.lit(False)).otherwise(kept)
        is_active = pl.when(in_new).then(pl.col("__active_in_package")).otherwise(kept)
    else:
        is_active = in_new & pl.col("__active_in_package").fill_null(False)
    differs = [~pl.col(c).eq_missing(pl.col(f"{c}__new")) for c in attributes]
    changed = in_prev & in_new & (pl.any_horizontal(differs) if differs else pl.lit(False))
    change = (
        pl.when(in_new & ~in_prev).then(pl.lit("added"))
        .when(in_prev & ~was_active & is_active).then(pl.lit("reactivated"))
        .when(was_active & ~is_active).then(pl.lit("deactivated"))
        .when(changed).then(pl.lit("updated"))
    )
    take_new = in_new & is_active
    diffed = joined.with_columns(
        change.alias("__change"),
        is_active.fill_null(False).alias("__is_active"),
        was_active.alias("__was_active"),
        *[pl.when(take_new).then(pl.col(f"{c}__new")).otherwise(pl.col(c)).alias(f"__next_{c}") for c in attributes],
    )
    stamp = pl.lit(now).cast(TIMESTAMP)
    partition_values = [pl.lit(value, pl.String).alias(column) for column, value in partition.items()]
    state = diffed.select(
        *partition_values,
        *key,
        *[pl.col(f"__next_{c}").alias(c) for c in attributes],
        pl.col("__is_active").alias("isActive"),
        pl.when(in_prev).then(pl.col("firstSeenDateTime")).otherwise(stamp).alias("firstSeenDateTime"),
        pl.when(in_new).then(stamp).otherwise(pl.col("lastSeenDateTime")).alias("lastSeenDateTime"),
        pl.when(pl.col("__change").is_not_null()).then(stamp).otherwise(pl.col("lastChangedDateTime")).alias("lastChangedDateTime"),
        pl.when(pl.col("__change").is_not_null()).then(pl.lit(run_id)).otherwise(pl.col("lastRunId")).alias("lastRunId"),
    )
    changed_rows = diffed.filter(pl.col("__change").is_not_null())
    changes = changed_rows.select(
        pl.lit(run_id).alias("runId"),
        pl.lit(table.name).alias("entity"),
        *partition_values,
        record_id(table.key).alias("recordId"),
        pl.col("__change").alias("change"),
        pl.concat_list(
            [pl.when(in_prev & in_new & d).then(pl.lit(c)) for c, d in zip(attributes, differs)] or [pl.lit(None, pl.String)]
        ).list.drop_nulls().alias("changedFields"),
        stamp.alias("changedDateTime"),
    )
    counts = changed_rows.get_column("__change").value_counts()
    by_change = dict(zip(counts.get_column("__change").to_list(), counts.get_column("count").to_list()))
    return EntityChanges(
        table.name, partition, state, changes,
        added=by_change.get("added", 0), updated=by_change.get("updated", 0),
        deactivated=by_change.get("deactivated", 0), reactivated=by_change.get("reactivated", 0),
        active_before=int(diffed.get_column("__was_active").sum()),
    )


def _owner_restated(owner: Owner, previous: pl.DataFrame, incoming: pl.DataFrame, owning: pl.DataFrame | None) -> pl.Expr:
    """Whether a previous row's owner is one the delta restates: named by the incoming rows or by the owning rows."""
    if owner.column not in previous.columns:
        return pl.lit(False)
    named = [incoming.get_column(owner.column)] if owner.column in incoming.columns else []
    if owning is not None and owner.key in owning.columns:
        named.append(owning.get_column(owner.key))
    owners = pl.concat([s.cast(pl.String).rename("owner") for s in named]) if named else pl.Series("owner", [], pl.String)
    return pl.col(owner.column).cast(pl.String).is_in(owners.drop_nulls().unique().implode()).fill_null(False)


def diff_entity(
    entity: Entity,
    previous: pl.DataFrame | None,
    incoming: pl.DataFrame,
    *,
    source_system_id: str,
    year: str,
    run_id: str,
    now: datetime,
    delta: bool = False,
    owner: Owner | None = None,
    owning: pl.DataFrame | None = None,
) -> EntityChanges:
    """``diff_table`` for a canonical entity's partition of one source system and year."""
    return diff_table(
        roster_table(entity), previous, incoming, partition=roster_partition(source_system_id, year),
        run_id=run_id, now=now, delta=delta, owner=owner, owning=owning,
    )


def _key_hash(key: list[str]) -> pl.Expr:
    h = pl.col(key[0]).hash(101)
    for seed, column in zip((211, 307, 401), key[1:]):
        h = h ^ pl.col(column).hash(seed)
    return h.alias("__key_hash")


def _join_on_key(old: pl.DataFrame, new: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Full outer join of the previous and the incoming rows on the key.

    Joins on a 64-bit hash of the key (much faster than on strings), then checks that every
    matched pair has equal keys; if two keys ever collide, it joins on the key columns instead.
    """
    left = old.with_columns(_key_hash(key))
    right = new.with_columns(_key_hash(key)).rename({k: f"{k}__new" for k in key})
    joined = left.join(right, on="__key_hash", how="full", coalesce=True, suffix="__new")
    both = pl.col("__in_prev").fill_null(False) & pl.col("__in_new").fill_null(False)
    collided = joined.select((both & ~pl.all_horizontal([pl.col(k).eq_missing(pl.col(f"{k}__new")) for k in key])).any()).item()
    if collided or joined.height != joined.get_column("__key_hash").n_unique():  # a collision within a side
        return old.join(new, on=key, how="full", coalesce=True, suffix="__new")
    return joined.with_columns(
        pl.coalesce(pl.col(k), pl.col(f"{k}__new")).alias(k) for k in key
    ).drop("__key_hash", *[f"{k}__new" for k in key])


def diff_package(
    lake: Lake,
    tables: dict[str, pa.Table],
    *,
    source_system_id: str,
    year: str,
    run_id: str,
    now: datetime,
    delta: bool = False,
    owners: Mapping[str, Owner] | None = None,
) -> dict[str, EntityChanges]:
    """Diff every entity of a validated package against the lake's current state.

    ``owners`` (a delta format's ``CsvFormat.delta_owners``) say which entities' rows a
    delta restates as a whole, by their owner.
    """
    changes = {}
    tables = without_secrets(tables)  # never a secret in the lake (a held run's data kept by an older version may have them)
    for name, table in tables.items():  # one entity's frames at a time: a first run of a large district is gigabytes
        owner = (owners or {}).get(name) if delta else None
        owning = _frame(tables[owner.entity]) if owner and owner.entity in tables else None
        changes[name] = diff_entity(
            ENTITY_BY_NAME[name], lake.read(name, roster_partition(source_system_id, year)), _frame(table),
            source_system_id=source_system_id, year=year, run_id=run_id, now=now, delta=delta,
            owner=owner, owning=owning,
        )
    return changes


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def deactivate_missing(
    lake: Lake, entity: Entity, *, source_system_id: str, year: str, run_id: str, now: datetime
) -> EntityChanges | None:
    """Diff a file that a full snapshot no longer has: all its records become inactive."""
    previous = lake.read(entity.name, roster_partition(source_system_id, year))
    if previous is None or previous.height == 0:
        return None
    empty = previous.head(0).select(entity.polars_schema.names())
    return diff_entity(entity, previous, empty, source_system_id=source_system_id, year=year, run_id=run_id, now=now)


def apply_changes(lake: Lake, changes: dict[str, EntityChanges], fault=None) -> None:
    """Write diffed changes: the change set and each table's partition, each one Delta commit.

    The writes go to independent tables and run two at a time (delta-rs releases the GIL while it
    encodes). A run interrupted between them is rolled back by the run engine from the versions
    it recorded, so their order does not matter for consistency.
    """
    change_sets = [c.changes for c in changes.values() if c.changes.height]
    writes = [lambda: lake.append(CHANGES, pl.concat(change_sets, how="diagonal_relaxed"))] if change_sets else []
    writes += [
        (lambda diff=diff: lake.replace_partition(diff.entity, diff.partition, diff.state)) for diff in changes.values()
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for done, future in enumerate(as_completed([pool.submit(w) for w in writes]), start=1):
            future.result()
            if fault and done <= 2:
                fault("after-first-write" if done == 1 else "after-second-write")
