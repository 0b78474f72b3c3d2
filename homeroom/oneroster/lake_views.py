"""The OneRoster views of each tenant's lake, built once per lake version and kept while the lake is unchanged.

A request asks for the versions a reader should see (``readable_versions``: the versions the last finished run
published, never those of a run still writing or killed; looked up at most once a second per tenant), and is answered from the
views built at exactly those versions. A table is read when a view first needs it, with ``scan_delta`` at those
versions, filtered to the newest school year in the lake before anything is collected (the year is the partition column, so only that year's files are read). When several
source systems feed the year, a record's active row wins over an inactive one, then the most recently changed.

Within a set of views, the frames that a filter or a nested endpoint selects are kept too (a small LRU), so
paging through a filtered collection filters once, not once per page.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping

import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from homeroom.lake.changes import LIFECYCLE, TIMESTAMP
from homeroom.lake.tables import Lake
from homeroom.model.entities import ENTITY_BY_NAME
from homeroom.oneroster.views import TABLES, VIEWS, View, build_view
from homeroom.runs.readers import readable_versions

_LIFECYCLE_TYPES = {"isActive": pl.Boolean, "firstSeenDateTime": TIMESTAMP, "lastSeenDateTime": TIMESTAMP,
                    "lastChangedDateTime": TIMESTAMP, "lastRunId": pl.String}


def _empty(table: str) -> pl.DataFrame:
    """A table that does not exist yet: its canonical columns, no rows."""
    schema = dict(ENTITY_BY_NAME[table].polars_schema)
    schema.update({c: _LIFECYCLE_TYPES[c] for c in LIFECYCLE})
    return pl.DataFrame(schema=schema)


class TenantViews:
    """The views of one tenant's lake at one set of versions, each table read and each view built on first use."""

    def __init__(self, read: Callable[[str], pl.DataFrame], selections: int = 32):
        self._read = read
        self._tables: dict[str, pl.DataFrame] = {}
        self._views: dict[str, _Views] = {}
        self._selected: OrderedDict[Hashable, pl.DataFrame] = OrderedDict()
        self._selections = selections
        self._lock = threading.RLock()

    def table(self, name: str) -> pl.DataFrame:
        """A canonical table, read from the lake once."""
        with self._lock:
            if name not in self._tables:
                self._tables[name] = self._read(name)
            return self._tables[name]

    def views(self, version: str) -> Mapping[str, View]:
        """Every collection's view in OneRoster ``version`` (``1.1`` or ``1.2``), each built when first asked for."""
        with self._lock:
            return self._views.setdefault(version, _Views(self, version))

    def selected(self, key: Hashable, select: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        """The frame ``select()`` gives, computed once for ``key`` while these views live."""
        with self._lock:
            found = self._selected.get(key)
            if found is not None:
                self._selected.move_to_end(key)
                return found
        frame = select()
        with self._lock:
            self._selected[key] = frame
            while len(self._selected) > self._selections:
                self._selected.popitem(last=False)
        return frame


class _Views(Mapping[str, View]):
    """The views of one version, built on first access (a request for /users builds neither enrollments nor orgs)."""

    def __init__(self, tenant: TenantViews, version: str):
        self._tenant, self._version, self._built = tenant, version, {}

    def __getitem__(self, name: str) -> View:
        with self._tenant._lock:
            if name not in self._built:
                self._built[name] = build_view(name, self._tenant.table, self._version)
            return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(VIEWS)

    def __len__(self) -> int:
        return len(VIEWS)


class LakeViews:
    """The views of the tenants served lately (at most ``tenants`` sets are kept in memory)."""

    def __init__(self, lake_for: Callable[[str], Lake], sessions: sessionmaker[Session], tenants: int = 2,
                 recheck_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self._lake_for = lake_for
        self._sessions = sessions
        self._tenants = tenants
        #: Versions are looked up (a database query and one Delta log read per table) at most this often per tenant:
        #: pages of one pull come seconds apart, and a finished run is served within this time.
        self._recheck = recheck_seconds
        self._clock = clock
        self._seen: dict[str, tuple[float, dict[str, int | None]]] = {}
        self._kept: OrderedDict[tuple, TenantViews] = OrderedDict()
        self._building: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()

    def versions(self, tenant: str) -> dict[str, int | None]:
        """The version of each table a reader of the tenant's lake should read now (None: no such table)."""
        readable = readable_versions(self._sessions, self._lake_for(tenant))
        return {t: readable.get(t) for t in TABLES}

    def for_tenant(self, tenant: str) -> TenantViews:
        """The tenant's views at the versions it should read now, built if they are not kept."""
        seen = self._seen.get(tenant)
        if seen is not None and self._clock() - seen[0] < self._recheck:
            versions = seen[1]
        else:
            versions = self.versions(tenant)
            self._seen[tenant] = (self._clock(), versions)
        key = (tenant, tuple(sorted(versions.items(), key=lambda kv: kv[0])))
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:  # one build per key, however many requests wait for it
            with self._lock:
                if key in self._kept:
                    return self._kept[key]
            views = TenantViews(self._reader(tenant, versions))
            with self._lock:
                for stale in [k for k in self._kept if k[0] == tenant]:
                    del self._kept[stale]
                self._kept[key] = views
                while len(self._kept) > self._tenants:
                    self._kept.popitem(last=False)
                self._building.pop(key, None)
            return views

    def _reader(self, tenant: str, versions: dict[str, int | None]) -> Callable[[str], pl.DataFrame]:
        """How to read one of the tenant's tables at these versions, in the newest school year of the lake."""
        lake = self._lake_for(tenant)
        scans = {t: pl.scan_delta(lake.uri(t), version=v, storage_options=lake.storage_options)
                 for t, v in versions.items() if v is not None}
        years = [s.select(pl.col("year").max()).collect().item() for s in scans.values()]
        year = max((y for y in years if y is not None), default=None)

        def read(table: str) -> pl.DataFrame:
            scan = scans.get(table)
            if scan is None or year is None:
                return _empty(table)
            frame = scan.filter(pl.col("year") == year).collect()
            if frame.get_column("sourceSystemId").n_unique() > 1:
                frame = (frame.sort(["isActive", "lastChangedDateTime"], descending=True, nulls_last=True)
                         .unique(list(ENTITY_BY_NAME[table].key), keep="first", maintain_order=True))
            return frame

        return read
