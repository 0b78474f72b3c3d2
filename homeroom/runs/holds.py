"""Holds: the safety net that keeps a change from being written until an administrator has looked at it.

A change is *held* when it would take away more than a threshold share of something that is active now (records
a snapshot deactivates; later, accounts a provisioning plan disables or memberships it removes), or when a file the
flow's last completed run had is missing. Held work writes nothing: what it would write is kept as pending data,
and an administrator approves it (it is written) or discards it (nothing is). The checks are over counts, so lake
changes and provisioning plans share them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from homeroom.errors import RunError, RunNotHeld
from homeroom.model.statuses import ActivityStatus, RunStatus
from homeroom.store.models import Run, RunActivity, utcnow


@dataclass(frozen=True)
class Guarded:
    """One quantity a threshold guards: how many of what is active now a change would take away."""

    name: str  #: what is counted: an entity (``users``), or a kind of object a plan touches
    affected: int  #: how many the change would deactivate (disable, remove)
    active_before: int  #: how many are active now
    action: str = "deactivated"  #: what the change does to them, for the message (a plan's ``created``, ``disabled``)
    code: str = "DeactivationThreshold"  #: the reason code when the threshold is passed
    limit: int | None = None  #: an absolute number the change may not pass, whatever its share


def check_thresholds(thresholds: Mapping[str, float], names: Iterable[str]) -> None:
    """Refuse thresholds that are not a share from 0 to 1 of ``default`` or one of ``names``."""
    names = list(names)
    unknown = set(thresholds) - {"default", *names}
    if unknown or any(not 0 <= v <= 1 for v in thresholds.values()):
        raise RunError(f"thresholds are a share from 0 to 1 for 'default' or an entity ({', '.join(names)})")


def threshold_reasons(guarded: Iterable[Guarded], thresholds: Mapping[str, float], default: float) -> list[dict]:
    """A reason (``DeactivationThreshold``, or the quantity's ``code``) for every quantity whose share taken away is
    above its threshold (``thresholds[name]``, else ``thresholds["default"]``, else ``default``), or whose number is
    above its absolute ``limit``."""
    default = float(thresholds.get("default", default))
    reasons = []
    for g in guarded:
        limit = float(thresholds.get(g.name, default))
        if g.active_before and g.affected / g.active_before > limit:
            share = g.affected / g.active_before
            reasons.append({
                "code": g.code, "entity": g.name, g.action: g.affected,
                "activeBefore": g.active_before, "threshold": limit,
                "message": f"{g.affected:,} of {g.active_before:,} active {g.name} ({share:.1%}) would be "
                f"{g.action}, more than the threshold of {limit:.0%}.",
            })
        elif g.limit is not None and g.affected > g.limit:
            reasons.append({
                "code": g.code, "entity": g.name, g.action: g.affected, "activeBefore": g.active_before, "limit": g.limit,
                "message": f"{g.affected:,} {g.name} would be {g.action}, more than the limit of {g.limit:,}.",
            })
    return reasons


def missing_file_reasons(previous: Iterable[str], present: Iterable[str]) -> list[dict]:
    """A ``FileMissing`` reason for every file the last completed run had and this package has not."""
    return [{
        "code": "FileMissing", "file": missing,
        "message": f"{missing} was in the flow's last completed run but is not in this package; "
        "approving deactivates all of its records.",
    } for missing in sorted(set(previous) - set(present))]


class PendingData:
    """What a held activity would write (tables and their mode), kept in a folder until approved or discarded."""

    def __init__(self, folder: Path):
        self.folder = folder

    def keep(self, tables: Mapping[str, pa.Table], mode: str) -> None:
        """Keep the tables (one Parquet file each) and the mode (``full`` or ``delta``)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, table in tables.items():
            pq.write_table(table, self.folder / f"{name}.parquet")
        (self.folder / "mode").write_text(mode)

    def load(self) -> tuple[dict[str, pa.Table], str]:
        """The kept tables and mode."""
        tables = {p.stem: pq.read_table(p) for p in sorted(self.folder.glob("*.parquet"))}
        return tables, (self.folder / "mode").read_text()

    def drop(self) -> None:
        """Forget what was kept."""
        shutil.rmtree(self.folder, ignore_errors=True)


def hold(run: Run, activity: RunActivity, reasons: list[dict]) -> None:
    """Hold an activity for these reasons (labelled with the flow when the run has several activities)."""
    if len(run.activities) > 1:
        reasons = [{**r, "flow": activity.display_name} for r in reasons]
    run.held_reason = [*(run.held_reason or []), *reasons]
    activity.status = ActivityStatus.held


def held(run: Run | None, run_id: str, tenant: str) -> Run:
    """``run`` if it is a held run; a ``RunError`` saying why not otherwise."""
    if run is None:
        raise RunError(f"no run {run_id!r} in tenant {tenant!r}")
    if run.status != RunStatus.held:
        raise RunNotHeld(f"run {run.id} is {run.status}, not held; only held runs can be approved or discarded")
    return run


def release(run: Run, owner: str) -> list[str]:
    """Approve a held run: it runs again, owned by ``owner``; returns the ids of its held activities."""
    run.status, run.owner = RunStatus.running, owner
    return [a.id for a in run.activities if a.status == ActivityStatus.held]


def discard(run: Run) -> None:
    """Discard a held run: it and its activities end ``discarded``."""
    run.status = RunStatus.discarded
    for activity in run.activities:
        activity.status = ActivityStatus.discarded
    run.ended = utcnow()
