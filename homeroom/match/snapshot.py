"""Snapshots of a directory into the lake: read a target's accounts and groups page by page, then replace the
target's partition of ``directory_accounts`` and ``directory_groups`` with the longitudinal diff.

Memory stays bounded while reading: each page becomes an Arrow batch appended to a Parquet file in a staging
folder, so no list of every account is ever held as Python objects. Nothing is written to the lake before the
whole directory was read: a snapshot that fails part-way (or is killed) while reading replaces nothing. The two
tables are then written one Delta commit each; a journal written before the first commit and removed after the
last lets the next snapshot (or match) of the tenant put both back if the process died between them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from homeroom.errors import ExternalError
from homeroom.faults import fault
from homeroom.lake.changes import EntityChanges, diff_table
from homeroom.lake.tables import CHANGES, Lake
from homeroom.match.tables import DIRECTORY_ACCOUNTS, DIRECTORY_GROUPS
from homeroom.targets.base import ACCOUNT_SCHEMA, DEFAULT_PAGE_SIZE, GROUP_SCHEMA, Target


@dataclass
class SnapshotResult:
    """What one snapshot found and changed."""

    target: str
    snapshot_id: str
    accounts: EntityChanges
    groups: EntityChanges

    def counts(self) -> dict:
        """The change counts of accounts and groups (as ``homeroom targets snapshot --json`` prints them)."""
        return {"target": self.target, "snapshotId": self.snapshot_id,
                "accounts": self.accounts.counts(), "groups": self.groups.counts()}


def _stage(pages: Iterator[list[dict]], schema: pa.Schema, path: Path, what: str, target: str, key: str) -> int:
    """Append every page to one Parquet file; returns the number of rows."""
    rows = 0
    with pq.ParquetWriter(path, schema) as writer:
        for page in pages:
            if not page:
                continue
            batch = pa.RecordBatch.from_pylist(page, schema=schema)
            if batch.column(key).null_count:
                raise ExternalError(f"target {target!r} returned {what} without an id ({key}); its reader is broken")
            writer.write_batch(batch)
            rows += batch.num_rows
            fault(f"snapshot-read-{what}")
    return rows


def _read_staged(path: Path, key: str) -> pl.DataFrame:
    # A directory paged while it changes can return a row twice: keep the first.
    return pl.read_parquet(path).unique(subset=[key], keep="first", maintain_order=True)


class Journal:
    """The versions of the directory tables before a snapshot wrote them, kept until its last commit."""

    def __init__(self, folder: Path, target: str):
        self.path = folder / f"{target}.journal.json"

    def begin(self, versions: dict[str, int | None]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(versions))
        os.replace(tmp, self.path)

    def end(self) -> None:
        self.path.unlink(missing_ok=True)

    def recover(self, lake: Lake) -> bool:
        """Put the tables back if a snapshot died between its commits; returns whether it did."""
        if not self.path.exists():
            return False
        for table, version in json.loads(self.path.read_text()).items():
            lake.restore(table, version)
        self.end()
        return True


def journal_folder(data_dir: Path, tenant: str) -> Path:
    """Where a tenant's snapshot journals are kept."""
    return data_dir / "snapshots" / tenant


def snapshot_target(
    lake: Lake,
    target: Target,
    *,
    work_dir: Path,
    now: datetime | None = None,
    snapshot_id: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: Callable[[str], None] | None = None,
    full: bool = False,
) -> SnapshotResult:
    """Read every account and group of ``target`` and replace its partitions of the directory tables.

    ``work_dir`` holds the staging files (removed afterwards) and the journal (``journal_folder``). A target with
    ``read_account_changes`` (Entra) is asked only for what changed since its last snapshot, unless ``full``.
    """
    say = progress or (lambda _m: None)
    now = now or datetime.now(timezone.utc)
    snapshot_id = snapshot_id or f"snapshot-{uuid.uuid4()}"
    journal = Journal(work_dir, target.name)
    if journal.recover(lake):
        say(f"restored the directory tables of {target.name!r} after an interrupted snapshot")
    work_dir.mkdir(parents=True, exist_ok=True)
    for stale in work_dir.glob(f"staging-{target.name}-*"):  # what a killed snapshot of this target left
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f"staging-{target.name}-", dir=work_dir))
    try:
        partition = {"target": target.name}
        previous = lake.read(DIRECTORY_ACCOUNTS.name, partition)
        # A target that can say what changed since its last snapshot (Entra's users/delta) is asked for that.
        changes = getattr(target, "read_account_changes", None)
        pages = changes(page_size) if changes and not full and previous is not None and previous.height else None
        delta = pages is not None
        say(f"reading the {'changed ' if delta else ''}accounts of {target.name!r}")
        schema = ACCOUNT_SCHEMA.append(pa.field("status", pa.string())) if delta else ACCOUNT_SCHEMA
        n = _stage(pages if delta else target.read_accounts(page_size), schema, staging / "accounts.parquet", "accounts",
                   target.name, "account_id")
        say(f"read {n:,} accounts; reading groups")
        _stage(target.read_groups(page_size), GROUP_SCHEMA, staging / "groups.parquet", "groups", target.name, "group_id")
        incoming = _read_staged(staging / "accounts.parquet", "account_id")
        if delta:
            incoming = _fill_unsent(incoming, previous)
        accounts = diff_table(DIRECTORY_ACCOUNTS, previous, incoming, partition=partition, run_id=snapshot_id, now=now,
                              delta=delta)
        groups = diff_table(DIRECTORY_GROUPS, lake.read(DIRECTORY_GROUPS.name, partition),
                            _read_staged(staging / "groups.parquet", "group_id"), partition=partition,
                            run_id=snapshot_id, now=now)
        write_snapshot(lake, journal, [accounts, groups])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say(f"{target.name!r}: {accounts.active:,} active accounts, {groups.active:,} active groups")
    return SnapshotResult(target.name, snapshot_id, accounts, groups)


def _fill_unsent(incoming: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """A changed account as a delta sends it may lack attributes that did not change: keep the previous values."""
    attributes = [c for c in ACCOUNT_SCHEMA.names if c != "account_id"]
    before = previous.select("account_id", *[pl.col(c).alias(f"{c}__before") for c in attributes])
    return incoming.join(before, on="account_id", how="left").with_columns(
        pl.coalesce(pl.col(c), pl.col(f"{c}__before")).alias(c) for c in attributes
    ).select(incoming.columns)


def write_snapshot(lake: Lake, journal: Journal, diffs: list[EntityChanges]) -> None:
    """Write the diffed tables and their change set, each one commit, under the journal."""
    tables = [d.entity for d in diffs] + [CHANGES]
    journal.begin({t: lake.version(t) for t in tables})
    for number, diff in enumerate(diffs):
        lake.replace_partition(diff.entity, diff.partition, diff.state)
        fault(f"snapshot-after-write-{number}")
    changes = [d.changes for d in diffs if d.changes.height]
    if changes:
        lake.append(CHANGES, pl.concat(changes, how="diagonal_relaxed"))
    journal.end()
