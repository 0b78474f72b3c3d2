"""Delta Lake tables: what each one is (its spec), where it lives, reading and replacing a partition, versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from deltalake import DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import TableNotFoundError

from homeroom.model.entities import ENTITIES, Entity, Kind
from homeroom.settings import Settings

#: ZSTD writes as fast as the default codec here and makes the lake about 4x smaller.
WRITER = WriterProperties(compression="ZSTD")
CHANGES = "_changes"
#: The columns of each roster table that held secrets (initial passwords) in older lakes: no reader sees them.
SECRET_COLUMNS = {e.name: tuple(f.name for f in e.fields if f.kind == Kind.SECRET) for e in ENTITIES}
#: A roster table has one partition per source system and school year.
ROSTER_PARTITION = ("sourceSystemId", "year")


@dataclass(frozen=True)
class TableSpec:
    """A lake table: its name, what identifies one of its rows, and how it is partitioned."""

    name: str
    """The table's folder under the tenant, e.g. ``users`` or ``_changes``."""
    key: tuple[str, ...]
    """The columns that identify a row within a partition (none for an append-only table)."""
    partition: tuple[str, ...]
    """The partition columns, in order: a run reads and replaces one partition as a whole."""

    def partition_values(self, values: Mapping[str, str]) -> dict[str, str]:
        """One partition's ``values`` in the partition's column order; refused unless each column has one."""
        if set(values) != set(self.partition):
            raise ValueError(f"a partition of {self.name} has a value for each of {', '.join(self.partition)}, not {dict(values)}")
        return {column: values[column] for column in self.partition}


def roster_table(entity: Entity) -> TableSpec:
    """The table of a canonical entity: keyed as the entity is, one partition per source system and year."""
    return TableSpec(entity.name, entity.key, ROSTER_PARTITION)


def roster_partition(source_system_id: str, year: str) -> dict[str, str]:
    """The partition values of one source system's rows of one school year."""
    return {"sourceSystemId": source_system_id, "year": year}


#: Every table a lake knows, by name: the roster entities', the change set (appended per run), and
#: any registered later (directory accounts, match links).
TABLES: dict[str, TableSpec] = {
    spec.name: spec for spec in [*(roster_table(e) for e in ENTITIES), TableSpec(CHANGES, (), ("runId",))]
}


def register(spec: TableSpec) -> TableSpec:
    """Make a table known to every lake (idempotent); a different spec under a known name is refused."""
    known = TABLES.setdefault(spec.name, spec)
    if known != spec:
        raise ValueError(f"the lake already has a table {spec.name!r}: {known}")
    return spec


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Lake:
    """The Delta tables of one tenant."""

    def __init__(self, root: str, tenant: str, storage_options: dict[str, str] | None = None,
                 pinned: Mapping[str, int | None] | None = None):
        self.root = root.rstrip("/")
        self.tenant = tenant
        self.storage_options = storage_options or None
        #: A reader's lake: the version to read of each table named (None: the table is not there yet); the tables
        #: not named are read at their latest version. Writing through a pinned lake is refused.
        self.pinned = dict(pinned) if pinned is not None else None

    def at(self, versions: Mapping[str, int | None]) -> "Lake":
        """This lake as a reader sees it at ``versions`` (``homeroom.runs.readers.readable_versions``)."""
        return Lake(self.root, self.tenant, self.storage_options, versions)

    def _writable(self, table: str) -> None:
        if self.pinned is not None:
            raise RuntimeError(f"the lake of tenant {self.tenant!r} is pinned for reading; {table} cannot be written through it")

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
        """The table's current version (a pinned lake's: the version it reads), or None if it does not exist yet."""
        if self.pinned is not None and table in self.pinned:
            return self.pinned[table]
        dt = self._table(table)
        return None if dt is None else dt.version()

    def scan(self, table: str) -> pl.LazyFrame | None:
        """A lazy scan of a table at the version this lake reads; None if the table does not exist (for it)."""
        if self.pinned is not None and table in self.pinned:
            version = self.pinned[table]
            if version is None:
                return None
        elif self._table(table) is None:
            return None
        else:
            version = None
        scan = pl.scan_delta(self.uri(table), version=version, storage_options=self.storage_options)
        # A lake written by a version of Homeroom that kept the SIS's passwords still has them: never read them.
        return scan.drop(SECRET_COLUMNS.get(table, ()), strict=False)

    @staticmethod
    def spec(table: str) -> TableSpec:
        """The spec of a known table (see ``TABLES`` and ``register``)."""
        try:
            return TABLES[table]
        except KeyError:
            raise KeyError(f"the lake has no table {table!r}; known: {', '.join(sorted(TABLES))}") from None

    def read(self, table: str, partition: Mapping[str, str] | None = None) -> pl.DataFrame | None:
        """A table's rows, optionally of the partitions with these values (some or all of the partition
        columns, e.g. ``{"sourceSystemId": s, "year": y}`` or ``{"year": y}``); None if the table does not exist."""
        columns = self.spec(table).partition
        if unknown := set(partition or {}) - set(columns):
            raise ValueError(f"{table} is partitioned by {', '.join(columns)}, not by {', '.join(sorted(unknown))}")
        frame = self.scan(table)
        if frame is None:
            return None
        for column, value in (partition or {}).items():
            frame = frame.filter(pl.col(column) == value)
        return frame.collect()

    def replace_partition(self, table: str, partition: Mapping[str, str], rows: pl.DataFrame) -> None:
        """Replace the rows of one partition (a value for every partition column), atomically (one Delta commit)."""
        self._writable(table)
        values = self.spec(table).partition_values(partition)
        predicate = " AND ".join(f"{column} = {_quote(value)}" for column, value in values.items())
        write_deltalake(
            self.uri(table), rows.to_arrow(compat_level=pl.CompatLevel.newest()), mode="overwrite", predicate=predicate,
            partition_by=list(values), storage_options=self.storage_options, schema_mode="merge", writer_properties=WRITER,
        )

    def append(self, table: str, rows: pl.DataFrame) -> None:
        """Append rows to a table, into the partitions their values name (the change sets)."""
        self._writable(table)
        if rows.height == 0:
            return
        write_deltalake(
            self.uri(table), rows.to_arrow(compat_level=pl.CompatLevel.newest()), mode="append",
            partition_by=list(self.spec(table).partition), storage_options=self.storage_options, schema_mode="merge",
            writer_properties=WRITER,
        )

    def restore(self, table: str, version: int | None) -> bool:
        """Put a table back to ``version`` (None: to empty); returns whether anything changed."""
        self._writable(table)
        dt = self._table(table)
        if dt is None or dt.version() == version:
            return False
        if version is None:
            dt.delete()
        else:
            dt.restore(version)
        return True

    def tables(self) -> list[str]:
        """The known tables that exist in this lake, on any storage."""
        return sorted(name for name in TABLES if self._table(name) is not None and (self.pinned or {}).get(name, 0) is not None)

