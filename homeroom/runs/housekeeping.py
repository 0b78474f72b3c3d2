"""What the scheduler tidies on every tick: expired upload containers, old operations, packages of deleted connectors."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from homeroom.runs.operations import forget_old_operations
from homeroom.settings import Settings
from homeroom.uploads.sessions import expire_sessions, remove_orphan_packages


def housekeep(db: Session, settings: Settings, store: Any, now: datetime) -> None:
    """One round of housekeeping (``store``: the upload blob store, or None when uploads are not served)."""
    if store is not None:
        expire_sessions(db, store, now)
    forget_old_operations(db, older_than=timedelta(days=settings.operation_retention_days), now=now)
    remove_orphan_packages(db, settings.data_dir)
