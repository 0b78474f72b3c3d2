"""Delta Lake tables: where they live, reading one partition, writing one atomically, versions."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import TableNotFoundError

from homeroom.settings import Settings

PARTITION = ["sourceSystemId", "year"]
#: ZSTD writes as fast as the default codec here and makes the lake about 4x smaller.
WRITER = WriterProperties(compression="ZSTD")
CHANGES = "_changes"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Lake:
    """The Delta tables of one tenant."""

    def __init__(self, root: str, tenant: str, storage_options: dict[str, str] | None = None):
        self.root = root.rstrip("/")
        self.tenant = tenant
        self.storage_options = storage_options or None

    @classmethod
    def from_settings(cls, settings: Settings, tenant: str) -> "Lake":
        """The lake configured by ``HOMEROOM_LAKE_URI`` (default: ``<data_dir>/lake``)."""
        root = settings.lake_uri or str((settings.data_dir / "lake").resolve())
        return cls(root, tenant, settings.lake_storage_options)

    def uri(self, table: str) -> str:
        """Where a table lives: ``<root>/<tenant>/<table>``."""
        return f"{self.root}/{self.tenant}/{table}"

    def _table(self, table: str) -> DeltaTable | None:
        uri = self.uri(table)
        if "://" not in uri and not (Path(uri) / "_delta_log").exists():
            return None
        try:
            return DeltaTable(uri, storage_options=self.storage_options)
        except TableNotFoundError:
            return None

    def version(self, table: str) -> int | None:
        """The table's current version, or None if it does not exist yet."""
        dt = self._table(table)
        return None if dt is None else dt.version()

    def read(self, table: str, source_system_id: str | None = None, year: str | None = None) -> pl.DataFrame | None:
        """A table's rows, optionally of one source system and year; None if the table does not exist."""
        if self._table(table) is None:
            return None
        frame = pl.scan_delta(self.uri(table), storage_options=self.storage_options)
        if source_system_id is not None:
            frame = frame.filter(pl.col("sourceSystemId") == source_system_id)
        if year is not None:
            frame = frame.filter(pl.col("year") == year)
        return frame.collect()

    def replace_partition(self, table: str, source_system_id: str, year: str, rows: pl.DataFrame) -> None:
        """Replace one source system's rows of one year, atomically (one Delta commit)."""
        data = rows.to_arrow(compat_level=pl.CompatLevel.newest())
        predicate = f"sourceSystemId = {_quote(source_system_id)} AND year = {_quote(year)}"
        write_deltalake(
            self.uri(table), data, mode="overwrite", predicate=predicate, partition_by=PARTITION,
            storage_options=self.storage_options, schema_mode="merge", writer_properties=WRITER,
        )

    def append(self, table: str, rows: pl.DataFrame) -> None:
        """Append rows to a table (the change sets)."""
        if rows.height == 0:
            return
        write_deltalake(
            self.uri(table), rows.to_arrow(compat_level=pl.CompatLevel.newest()), mode="append",
            partition_by=["runId"], storage_options=self.storage_options, schema_mode="merge", writer_properties=WRITER,
        )

    def restore(self, table: str, version: int | None) -> bool:
        """Put a table back to ``version`` (None: to empty); returns whether anything changed."""
        dt = self._table(table)
        if dt is None or dt.version() == version:
            return False
        if version is None:
            dt.delete()
        else:
            dt.restore(version)
        return True

    def tables(self) -> list[str]:
        """The tables that exist: the canonical entities' and the change set, on any storage."""
        from homeroom.model.entities import ENTITIES

        return sorted(t for t in [*(e.name for e in ENTITIES), CHANGES] if self._table(t) is not None)


def empty_like(schema: pa.Schema) -> pl.DataFrame:
    """An empty frame with a schema."""
    return pl.from_arrow(schema.empty_table())  # type: ignore[return-value]
