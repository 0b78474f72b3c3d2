"""Where a run keeps its files in the data folder: findings logs per activity and, while held, its pending data."""

from __future__ import annotations

from pathlib import Path

from homeroom.settings import Settings


def run_folder(settings: Settings, tenant: str, run_id: str) -> Path:
    """Where a run keeps its findings and, while held, its validated data."""
    return settings.data_dir / "runs" / tenant / run_id


def findings_path(settings: Settings, tenant: str, run_id: str, activity_id: str, kind: str = "csv") -> Path:
    """The findings of one activity of a run: the downloadable ``csv`` or ``jsonl``, or the ``parquet`` the dashboard pages."""
    return run_folder(settings, tenant, run_id) / activity_id / f"findings.{kind}"


def pending_folder(settings: Settings, tenant: str, run_id: str, activity_id: str) -> Path:
    """Where a held activity keeps what it would write until it is approved or discarded."""
    return run_folder(settings, tenant, run_id) / "pending" / activity_id
