"""The HTTP side of a pull: the API root of a version, one request with its retries, and a collection page by page.

A collection is read with ``limit``/``offset`` (``limit`` = ``oneroster_page_size``, 5000 as SDS asks). The first page
gives ``X-Total-Count`` and the provider's real page size (providers cap ``limit`` at their own maximum); the other
pages are then requested a few at a time (``oneroster_concurrency``) and each is checked: it must hold exactly the
records its offset is owed, under the same total. A missing, empty, short or over-long page, a changed total,
a record that arrives twice, or a request that still fails after its retries is an ``IncompletePull`` naming the
collection, the offset and what was expected, and the pull stops: a partial collection is never handed on, since a
full snapshot would deactivate every record it lacks.

A request is retried after a timeout, a transport error, 429 or 5xx, up to ``oneroster_retries`` times, waiting
``Retry-After`` when the provider says (at most ``oneroster_max_wait_seconds``) and otherwise
``oneroster_backoff_seconds`` doubled at each retry. A 401 with an OAuth 2 token fetches a new token once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import orjson
import polars as pl

from homeroom.errors import ExternalError, IncompletePull, PermanentError, TransientError
from homeroom.inbound.oneroster_api.auth import SYSTEM, OneRosterCredential, SignIn, refused, send
from homeroom.inbound.oneroster_api.collections import Collection, PageNotUnderstood, parse_page

#: The path of each version's rostering service (OneRoster 1.1: one root for every service; 1.2: one per service).
VERSION_PATHS = {"1.1": "/ims/oneroster/v1p1", "1.2": "/ims/oneroster/rostering/v1p2"}
POSITION = "__position"  # the record's place in its collection, from 1: the "line" of findings on it


def api_root(base_url: str, version: str) -> str:
    """The rostering root of ``base_url``: as given when it ends in the version's path (Graph's ``baseUrl`` includes
    it) or in any path of its own, with the version's path appended when it is a bare host or ends in ``/ims/oneroster``."""
    if version not in VERSION_PATHS:
        raise PermanentError(f"apiVersion {version!r} is not a OneRoster version Homeroom reads; use 1.1 or 1.2.", system=SYSTEM)
    root = base_url.strip().rstrip("/")
    path = httpx.URL(root).path.rstrip("/") if root else ""
    if path in ("", "/ims/oneroster"):
        return (root.removesuffix("/ims/oneroster")) + VERSION_PATHS[version]
    return root


def describe_error(response: httpx.Response) -> str:
    """What an error answer says: OneRoster's ``imsx_description`` (with its codeMinor), or OAuth's ``error``; ''."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return ""
    if not isinstance(body, dict):
        return ""
    if "imsx_description" in body or "imsx_codeMajor" in body:
        minor = [f.get("imsx_codeMinorFieldValue") for f in (body.get("imsx_CodeMinor") or {}).get("imsx_codeMinorField") or []
                 if isinstance(f, dict)]
        text = str(body.get("imsx_description") or body.get("imsx_codeMajor"))
        return text + (f" ({', '.join(map(str, minor))})" if minor else "")
    error = body.get("error")
    return str(error.get("message") if isinstance(error, dict) else error) if error else ""


@dataclass
class Page:
    """One page: its records, the offset asked for and the ``X-Total-Count`` it gave (None: none)."""

    records: pl.DataFrame
    offset: int
    total: int | None


class OneRosterClient:
    """Reads collections of one OneRoster API (thread-safe: pages of a collection are fetched in parallel)."""

    def __init__(self, root: str, credential: OneRosterCredential, *, timeout: float, retries: int, backoff: float,
                 max_wait: float, page_size: int, concurrency: int, sleep: Callable[[float], None] = time.sleep):
        self.root, self.retries, self.backoff, self.max_wait = root.rstrip("/"), retries, backoff, max_wait
        self.page_size, self.concurrency, self.sleep = page_size, concurrency, sleep
        self.sign_in = SignIn(credential)
        self.http = httpx.Client(timeout=timeout, follow_redirects=False,
                                 limits=httpx.Limits(max_connections=concurrency + 1, max_keepalive_connections=concurrency + 1))
        self.requests = 0  # requests sent, retries included (for the run's record)
        self._count_lock = threading.Lock()

    def __enter__(self) -> "OneRosterClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    # --- one request ---------------------------------------------------------------------------------------------
    def get(self, path: str, params: dict[str, str | int]) -> httpx.Response:
        """``GET {root}/{path}`` with its retries; the 200 answer, else ``TransientError``/``PermanentError``."""
        url = f"{self.root}/{path}"
        attempt, refreshed = 0, False
        while True:
            try:
                try:
                    request = self.http.build_request("GET", url, params=params, headers={"Accept": "application/json"})
                except httpx.InvalidURL as exc:
                    raise PermanentError(f"The baseUrl is not a URL Homeroom can call: {exc}.", system=SYSTEM) from None
                self.sign_in.authorize(self.http, request)
                with self._count_lock:
                    self.requests += 1
                response = send(self.http, request, f"the OneRoster API {request.url}")
                if response.status_code == 200:
                    return response
                if response.status_code == 401 and not refreshed and self.sign_in.forget_token(request):
                    refreshed = True  # the token expired or was revoked early: one new token, then the 401 stands
                    continue
                raise refused(response, f"the OneRoster API {request.url}", describe_error(response))
            except TransientError as exc:
                if attempt >= self.retries:
                    if not attempt:
                        raise
                    raise TransientError(f"{exc.message.removesuffix('.')} (after {attempt} {'retry' if attempt == 1 else 'retries'}).",
                                         system=SYSTEM, retry_after=exc.retry_after) from None
                wait = exc.retry_after if exc.retry_after is not None else self.backoff * 2 ** attempt
                self.sleep(min(wait, self.max_wait))
                attempt += 1

    def page(self, collection: Collection, offset: int, query: dict[str, str]) -> Page:
        """One page of a collection; ``IncompletePull`` when it cannot be had or is not a OneRoster answer."""
        where = f"GET /{collection.path} at offset {offset}"
        try:
            response = self.get(collection.path, {"limit": self.page_size, "offset": offset, **query})
        except ExternalError as exc:
            raise IncompletePull(f"{where} failed: {exc.message}", system=SYSTEM, collection=collection.path, offset=offset) from None
        header = response.headers.get("X-Total-Count")
        try:
            total = None if header is None else int(header)
        except ValueError:
            raise IncompletePull(f"{where}: X-Total-Count {header!r} is not a number.", system=SYSTEM,
                                 collection=collection.path, offset=offset) from None
        try:
            records = parse_page(collection, response.content)
        except PageNotUnderstood as exc:
            raise IncompletePull(f"{where}: {exc}.", system=SYSTEM, collection=collection.path, offset=offset) from None
        return Page(records, offset, total)

    # --- a collection ----------------------------------------------------------------------------------------------
    def collection(self, collection: Collection, query: dict[str, str]) -> pl.DataFrame:
        """Every record of a collection (with ``__position``), checked page by page (see the module docstring)."""
        first = self.page(collection, 0, query)
        pages = [first]
        total, size = first.total, first.records.height
        fail = lambda offset, message: IncompletePull(  # noqa: E731
            f"GET /{collection.path} at offset {offset} {message}", system=SYSTEM, collection=collection.path, offset=offset)
        if total is None:  # nothing to check the pages against: read until an empty page
            offset = size
            while pages[-1].records.height:
                pages.append(self.page(collection, offset, query))
                offset += pages[-1].records.height
        else:
            if size > total:
                raise fail(0, f"returned {size} records, more than its X-Total-Count of {total}.")
            if size == 0 and total > 0:
                raise fail(0, f"returned no records, but X-Total-Count is {total}.")
            offsets = list(range(size, total, size)) if size else []
            if offsets:
                with ThreadPoolExecutor(min(self.concurrency, len(offsets)), thread_name_prefix="oneroster-page") as pool:
                    futures = [pool.submit(self.page, collection, offset, query) for offset in offsets]
                    try:
                        for future in futures:
                            pages.append(future.result())
                    finally:
                        for future in futures:
                            future.cancel()
            for page in pages[1:]:
                expected = min(size, total - page.offset)
                if page.total != total:
                    raise fail(page.offset, f"gave X-Total-Count {page.total}, but the first page gave {total}: the "
                                            "collection changed while it was read.")
                if page.records.height != expected:
                    kind = "no records" if page.records.height == 0 else f"{page.records.height} records"
                    raise fail(page.offset, f"returned {kind}; expected {expected} (X-Total-Count {total}, pages of {size}).")
        records = pl.concat([p.records for p in pages], how="vertical") if len(pages) > 1 else first.records
        ids = records.get_column("sourcedId").drop_nulls()
        if ids.n_unique() != ids.len():
            twice = ids.len() - ids.n_unique()
            raise IncompletePull(f"GET /{collection.path}: {twice} record{'s' if twice != 1 else ''} arrived twice (e.g. "
                                 f"{ids.filter(ids.is_duplicated()).first()!r}): the collection changed while it was read.",
                                 system=SYSTEM, collection=collection.path)
        return records.with_columns(pl.int_range(1, records.height + 1, dtype=pl.Int64).alias(POSITION))
