"""What readers of a tenant's lake read: the table versions the last finished writers published, never a run's half.

A run writes several Delta tables, one commit each. Each writer that finishes *publishes* the version of every
table it wrote (``lake_versions`` in the store, in the transaction that ends a run): a run at its end, a directory
snapshot or match started on its own when it is done. Readers (``homeroom lake query``, the OneRoster provider,
planning, the dashboard and API reports) read every table at its published version (``readable_versions``), so
what a run killed before its end wrote is never seen, and nor is a run still writing, whatever the timing.

A table nobody published yet (a lake written before versions were published) is read at the version a run in
progress recorded before it wrote anything, or else at its latest version. ``homeroom lake versions`` prints
the versions, for external readers (DuckDB, Polars, Spark) to read the same consistent state.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from homeroom.lake.tables import TABLES, Lake
from homeroom.model.statuses import RunStatus
from homeroom.settings import Settings
from homeroom.store.models import LakeVersion, Run, utcnow


def publish_versions(db: Session, *, tenant_id: str, versions: Mapping[str, int | None], by: str) -> None:
    """Make ``versions`` the versions readers read of those tables (in ``db``'s transaction)."""
    for table, version in versions.items():
        row = db.get(LakeVersion, (tenant_id, table))
        if row is None:
            db.add(LakeVersion(tenant_id=tenant_id, table_name=table, version=version, committed_by=by[:200]))
        else:
            row.version, row.committed_by, row.committed = version, by[:200], utcnow()


def published_versions(db: Session, *, tenant_id: str) -> dict[str, int | None]:
    """The published version of each table that has one."""
    rows = db.scalars(select(LakeVersion).where(LakeVersion.tenant_id == tenant_id))
    return {row.table_name: row.version for row in rows}


def run_in_progress(db: Session, *, tenant_id: str) -> Run | None:
    """The tenant's run that is writing (or being applied), if any."""
    return db.scalars(select(Run).where(Run.tenant_id == tenant_id, Run.status == RunStatus.running)
                      .order_by(Run.started)).first()


def readable_versions(sessions: sessionmaker[Session], lake: Lake) -> dict[str, int | None]:
    """The version a reader reads of every known table of ``lake``'s tenant (None: the table is not there for it)."""
    with sessions() as db:
        published = published_versions(db, tenant_id=lake.tenant)
        running = run_in_progress(db, tenant_id=lake.tenant)
        before_run = dict(running.lake_versions or {}) if running is not None else {}
    versions = {}
    for table in TABLES:
        if table in published:
            versions[table] = published[table]
        elif table in before_run:  # not published yet: a run in progress recorded it before writing
            versions[table] = before_run[table]
        else:
            versions[table] = lake.version(table)
    return versions


def reader_lake(settings: Settings, sessions: sessionmaker[Session], tenant: str) -> Lake:
    """The tenant's lake as readers see it: every table at its readable version."""
    lake = Lake.from_settings(settings, tenant)
    return lake.at(readable_versions(sessions, lake))
