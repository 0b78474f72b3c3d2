"""A pull: every collection of a OneRoster API into a ``Batch``, full or delta, as ``read_package`` reads a CSV package.

The first pull of a connector is full: each collection with ``filter=status='active'`` (SDS's query), read into the
rows of the matching OneRoster CSV file as a *bulk* file (status and dateLastModified blank, records the provider
sent as ``tobedeleted`` anyway left out). Later pulls are deltas: ``filter=dateLastModified>'<high-water mark>'``,
without the status filter so that tombstones (``tobedeleted``) arrive, read as *delta* files. The high-water mark
is the latest ``dateLastModified`` the provider sent (its clock, not ours); it is kept on the connector only once a
run wrote the pull to the lake (``PullState``). A pull is full again when the connector's base URL or version
changed, or its last full pull is older than ``oneroster_full_pull_days``.

The OneRoster CSV format then turns the files into canonical source rows, so the record checks, the lake, holds and
statistics are those of a CSV package. Findings name the file a collection stands for (``users.csv`` for
``/users``) and the record's position in the collection as its line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl
import pyarrow as pa

from homeroom.findings import Findings
from homeroom.inbound.batch import Batch, FileStats
from homeroom.inbound.csv_reader import RawTable
from homeroom.inbound.formats import FORMATS
from homeroom.inbound.formats.base import CsvFormat
from homeroom.inbound.formats.oneroster.manifest import FORMAT_OF_VERSION, MANIFEST
from homeroom.inbound.formats.oneroster.sources import CONTACT_ROLES
from homeroom.inbound.formats.oneroster.values import date_time
from homeroom.inbound.oneroster_api.auth import OneRosterCredential
from homeroom.inbound.oneroster_api.client import POSITION, OneRosterClient, api_root
from homeroom.inbound.oneroster_api.collections import (
    COLLECTIONS, DEMOGRAPHICS, MODIFIED, ROLES_HEADER, STATUS, Collection, roles_v12, to_csv_frame,
)
from homeroom.settings import Settings


@dataclass(frozen=True)
class ConnectorConfig:
    """What a pull needs of a ``oneRosterApiDataConnector``: where, which version, how to sign in, what to read."""

    base_url: str
    version: str  # "1.1" or "1.2"
    credential: OneRosterCredential = field(repr=False)
    demographics: bool = False  # isDemographicsEnabled: read /demographics
    contacts: bool = False  # isContactsEnabled: keep parents, guardians and relatives, and their relationships

    @property
    def root(self) -> str:
        return api_root(self.base_url, self.version)


@dataclass
class PullState:
    """What a connector keeps between pulls (in its settings, under ``pull``): the high-water mark of the last pull a
    run wrote, and when its last full pull was, for the base URL and version they were pulled from."""

    base_url: str
    version: str
    high_water_mark: str | None = None  # the latest dateLastModified received, as the provider wrote it
    last_full_pull: str | None = None  # ISO 8601, UTC

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict | None) -> "PullState | None":
        if not value:
            return None
        return cls(**{k: value.get(k) for k in ("base_url", "version", "high_water_mark", "last_full_pull")})


@dataclass
class Pull:
    """A finished pull: its batch, and the connector's state once a run has written it."""

    batch: Batch
    state: PullState
    records: dict[str, int]  # collection path -> records received
    requests: int  # HTTP requests sent, retries included


def delta_since(config: ConnectorConfig, state: PullState | None, settings: Settings, now: datetime) -> str | None:
    """The high-water mark a delta pull starts from, or None when this pull is to be full (see the module docstring)."""
    if state is None or state.high_water_mark is None or state.last_full_pull is None:
        return None
    if (state.base_url, state.version) != (config.base_url, config.version) or settings.oneroster_full_pull_days <= 0:
        return None
    last_full = datetime.fromisoformat(state.last_full_pull.replace("Z", "+00:00"))
    return None if now - last_full >= timedelta(days=settings.oneroster_full_pull_days) else state.high_water_mark


def pull(config: ConnectorConfig, settings: Settings, *, state: PullState | None = None, now: datetime | None = None,
         client: OneRosterClient | None = None) -> Pull:
    """Pull every collection the connector reads into a ``Batch``; ``IncompletePull`` (or another ``ExternalError``)
    when any collection could not be read whole (nothing of the pull is returned then)."""
    now = now or datetime.now(timezone.utc)
    since = delta_since(config, state, settings, now)
    query = {"filter": f"dateLastModified>'{since}'"} if since else {"filter": "status='active'"}
    collections = [c for c in COLLECTIONS[config.version] if c is not DEMOGRAPHICS or config.demographics]
    own = client is None
    client = client or OneRosterClient(
        config.root, config.credential, timeout=settings.oneroster_timeout_seconds, retries=settings.oneroster_retries,
        backoff=settings.oneroster_backoff_seconds, max_wait=settings.oneroster_max_wait_seconds,
        page_size=settings.oneroster_page_size, concurrency=settings.oneroster_concurrency)
    files: dict[str, pl.DataFrame] = {}
    counts: dict[str, int] = {}
    modified: list[pl.DataFrame] = []
    try:
        for collection in collections:  # each collection's JSON frame is let go once it is CSV rows
            records = client.collection(collection, query)
            counts[collection.path] = records.height
            modified.append(records.select(MODIFIED))
            files.update(csv_files(collection, records, config, delta=since is not None))
    finally:
        if own:
            client.__exit__(None, None, None)
    mark = _high_water_mark(modified, since)
    batch = to_batch(FORMATS[FORMAT_OF_VERSION[config.version]], config, files, delta=since is not None)
    new_state = PullState(config.base_url, config.version, mark,
                          state.last_full_pull if since and state else now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return Pull(batch, new_state, counts, client.requests)


def _high_water_mark(frames: list[pl.DataFrame], since: str | None) -> str | None:
    """The latest dateLastModified of the records (compared as instants; kept as written), else ``since``."""
    candidates = pl.concat([f.select(pl.col(MODIFIED)) for f in frames]).drop_nulls() if frames else pl.DataFrame()
    if since is not None:
        candidates = pl.concat([candidates, pl.DataFrame({MODIFIED: [since]})]) if candidates.width else pl.DataFrame({MODIFIED: [since]})
    if not candidates.height:
        return None
    ranked = candidates.with_columns(date_time(pl.col(MODIFIED)).alias("__at")).drop_nulls("__at")
    return None if not ranked.height else ranked.sort("__at").get_column(MODIFIED)[-1]


def csv_files(collection: Collection, records: pl.DataFrame, config: ConnectorConfig, *, delta: bool) -> dict[str, pl.DataFrame]:
    """A collection's records as the rows of the OneRoster CSV file(s) it stands for, with each row's ``__position``."""
    if not delta:  # a full snapshot: what the provider sent as deleted is simply not there
        records = records.filter(~pl.col(STATUS).str.to_lowercase().is_in(["tobedeleted", "inactive"]).fill_null(False))
    if collection.path == "users" and not config.contacts:
        records = _without_contacts(records, config.version)
    files = {collection.file: to_csv_frame(collection, records).with_columns(records.get_column(POSITION))}
    if collection.path == "users" and config.version == "1.2":
        files["roles.csv"] = roles_v12(records)
    return files


def to_batch(fmt: CsvFormat, config: ConnectorConfig, frames: dict[str, pl.DataFrame], *, delta: bool) -> Batch:
    """The rows of the OneRoster CSV files (``csv_files``), read by the format into a ``Batch`` as a package's files."""
    raws = {MANIFEST: _manifest(config.version, {f: "delta" if delta else "bulk" for f in frames})}
    for file, frame in frames.items():
        if not delta:  # bulk files have no status or dateLastModified (the format warns when they do)
            frame = frame.with_columns(pl.lit(None, pl.String).alias(STATUS), pl.lit(None, pl.String).alias(MODIFIED))
        raws[file] = _raw(frame)
    findings = Findings()
    batch = Batch(config.root, fmt.name, findings, mode="delta" if delta else "bulk")
    batch.entity_files = fmt.entity_files()
    batch.recognised = sorted(frames)
    batch.files = {file: FileStats(records=raws[file].records) for file in frames}
    batch.sources = fmt.sources(raws, findings, {})
    return batch


def _without_contacts(users: pl.DataFrame, version: str) -> pl.DataFrame:
    """Users without the parents, guardians and relatives, and without agents (no relationships): isContactsEnabled off."""
    if version == "1.1":
        contact = pl.col("role").str.to_lowercase().is_in(CONTACT_ROLES).fill_null(False)
    else:
        roles = pl.col("roles").list.eval(pl.element().struct.field("role").str.to_lowercase().is_in(CONTACT_ROLES))
        contact = (roles.list.len() > 0) & roles.list.all()
    return users.filter(~contact.fill_null(False)).with_columns(pl.lit(None).cast(users.schema["agents"]).alias("agents"))


def _manifest(version: str, modes: dict[str, str]) -> RawTable:
    rows = [("manifest.version", "1.0"), ("oneroster.version", version),
            *((f"file.{name.removesuffix('.csv')}", mode) for name, mode in modes.items())]
    table = pa.table({"propertyName": [r[0] for r in rows], "value": [r[1] for r in rows]})
    return RawTable(["propertyName", "value"], table, None, len(rows), [])


def _raw(frame: pl.DataFrame) -> RawTable:
    """A CSV file's rows as the CSV reader gives them: text columns by header, each row's line (its position)."""
    lines = frame.get_column(POSITION).to_numpy().astype(np.int64)
    table = frame.drop(POSITION).to_arrow()
    return RawTable(table.column_names, table, lines, frame.height, [], has_tab=True)


__all__ = ["ConnectorConfig", "Pull", "PullState", "ROLES_HEADER", "csv_files", "delta_since", "pull", "to_batch"]
