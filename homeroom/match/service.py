"""Snapshots and matches of stored targets: what the CLI, the run engine and the API call.

``snapshot_stored`` connects to a stored target, snapshots it (only the changes, for a target that can say
what changed) and keeps the target's state (an Entra delta link) for the next time. ``match_stored`` matches one
source system's people of one year, as the lake holds them, against a target's last snapshot, with the source
system's ``userMatchingSettings``.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from homeroom.errors import ConfigurationError, NotFoundError
from homeroom.lake.tables import CHANGES, Lake, roster_partition
from homeroom.match.links import MatchResult, match_source
from homeroom.match.snapshot import Journal, SnapshotResult, journal_folder, snapshot_target
from homeroom.match.tables import DIRECTORY_ACCOUNTS, DIRECTORY_GROUPS, MATCH_LINKS
from homeroom.runs.readers import publish_versions, reader_lake, run_in_progress
from homeroom.settings import Settings
from homeroom.store.models import DirectoryTarget, SourceSystem, Year, utcnow
from homeroom.targets import service as targets


@contextmanager
def tenant_lock(settings: Settings, tenant: str) -> Iterator[None]:
    """One snapshot or match of a tenant's directory tables at a time (a journal restores whole tables)."""
    folder = journal_folder(settings.data_dir, tenant)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def recover(settings: Settings, lake: Lake, tenant: str) -> list[str]:
    """Put back the directory tables of every target whose snapshot died between its commits; returns their names."""
    folder = journal_folder(settings.data_dir, tenant)
    done = []
    for path in sorted(folder.glob("*.journal.json")) if folder.exists() else []:
        name = path.name.removesuffix(".journal.json")
        if Journal(folder, name).recover(lake):
            done.append(name)
    return done


def snapshot_stored(settings: Settings, sessions: sessionmaker[Session], tenant: str, name: str, *, full: bool = False,
                    progress: Callable[[str], None] | None = None, snapshot_id: str | None = None,
                    publish: bool = True) -> SnapshotResult:
    """Snapshot the tenant's stored target ``name`` into its lake; ``publish``: make it what readers read when it is
    done (a run snapshotting as one of its stages publishes everything it wrote at its end instead)."""
    with sessions() as db:
        row = targets.get_target(db=db, tenant_id=tenant, name=name)
        target_id, state = row.id, dict(row.state or {})
        target = targets.connect(row)
    if hasattr(target, "state"):
        target.state = state
    lake = Lake.from_settings(settings, tenant)
    try:
        with tenant_lock(settings, tenant):
            recover(settings, lake, tenant)
            result = snapshot_target(lake, target, work_dir=journal_folder(settings.data_dir, tenant), full=full,
                                     progress=progress, snapshot_id=snapshot_id)
            if publish:
                _publish(sessions, lake, tenant, [DIRECTORY_ACCOUNTS.name, DIRECTORY_GROUPS.name, CHANGES], f"snapshot:{name}")
    finally:
        target.close()
    if hasattr(target, "state") and target.state != state:
        with sessions.begin() as db:
            stored = db.get(DirectoryTarget, target_id)
            stored.state, stored.last_modified = dict(target.state), utcnow()
    return result


def source_system(db: Session, tenant: str, wanted: str) -> SourceSystem:
    """A source system of the tenant by id or display name."""
    found = db.scalars(select(SourceSystem).where(SourceSystem.tenant_id == tenant).where(
        (SourceSystem.id == wanted) | (SourceSystem.display_name == wanted))).first()
    if found is None:
        names = ", ".join(repr(s.display_name) for s in db.scalars(select(SourceSystem).where(SourceSystem.tenant_id == tenant)))
        raise NotFoundError(f"no source system {wanted!r} in tenant {tenant!r}; its source systems: {names or 'none yet'}")
    return found


def match_stored(settings: Settings, sessions: sessionmaker[Session], tenant: str, target_name: str, source: str,
                 year: str, *, lake: Lake | None = None, users=None, roles=None, publish: bool = True) -> MatchResult:
    """Match a source system's people of ``year`` (from the lake, or ``users``/``roles`` given) against a target;
    ``publish`` as for ``snapshot_stored``."""
    lake = lake or Lake.from_settings(settings, tenant)
    with sessions() as db:
        system = source_system(db, tenant, source)
        target = targets.get_target(db=db, tenant_id=tenant, name=target_name)
        if db.scalars(select(Year).where(Year.tenant_id == tenant, Year.code == year)).first() is None and users is None:
            raise NotFoundError(f"no school year {year} in tenant {tenant!r}")
        system_id, match_settings, name = system.id, list(system.user_matching_settings or []), target.name
    if users is None:
        partition = roster_partition(system_id, year)
        readable = reader_lake(settings, sessions, tenant)  # the roster of the last finished run, never a run's half
        users, roles = readable.read("users", partition), readable.read("roles", partition)
        if users is None or roles is None:
            raise ConfigurationError(f"the lake has no users and roles of source system {source!r} in {year} yet; run a package first")
    with tenant_lock(settings, tenant):
        recover(settings, lake, tenant)
        result = match_source(lake, target=name, source_system_id=system_id, year=year, settings=match_settings,
                              users=users, roles=roles)
        if publish:
            _publish(sessions, lake, tenant, [MATCH_LINKS.name], f"match:{name}")
        return result


def _publish(sessions: sessionmaker[Session], lake: Lake, tenant: str, tables: list[str], by: str) -> None:
    """Publish what a snapshot or match on its own wrote (under the tenant lock). The change set is published only
    while no run is writing: it may hold the run's first rows (the run publishes it when it ends)."""
    versions = {table: lake.version(table) for table in tables}
    with sessions.begin() as db:
        if CHANGES in versions and run_in_progress(db, tenant_id=tenant) is not None:
            del versions[CHANGES]
        publish_versions(db, tenant_id=tenant, versions=versions, by=by)
