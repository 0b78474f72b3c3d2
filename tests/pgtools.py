"""PostgreSQL for tests: a fresh schema per test at 127.0.0.1:5432 (trust auth, database ``test``).

When PostgreSQL does not answer, its tests are skipped with a reason, except under CI (``CI=true``) where that
is a failure.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from homeroom.settings import Settings

PG_URL = os.environ.get("HOMEROOM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_schema_url() -> tuple[str, str]:
    engine = create_engine(PG_URL)
    schema = f"hr_{uuid.uuid4().hex[:12]}"
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001
        message = f"PostgreSQL is not available at {PG_URL}: {type(exc).__name__}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI requires it)")
        pytest.skip(message)
    finally:
        engine.dispose()
    return f"{PG_URL}?options=-csearch_path%3D{schema}", schema


def _drop_schema(schema: str) -> None:
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def database_settings(backend: str, tmp_path: Path, **extra):
    """Settings for a fresh data folder and a fresh database on ``backend`` (``sqlite`` or ``postgresql``)."""
    if backend == "sqlite":
        yield Settings(data_dir=tmp_path / "data", **extra)
        return
    url, schema = _postgres_schema_url()
    try:
        yield Settings(data_dir=tmp_path / "data", database_url=url, **extra)
    finally:
        _drop_schema(schema)
