"""Homeroom's OneRoster provider over real HTTP, with faults, for tests of OneRoster consumers (the connector).

TEST SUPPORT ONLY: ``FaultInjection`` is an ASGI middleware that this module wraps around the app; the product
never installs it. It makes chosen requests fail the way SIS APIs fail: short pages, a wrong ``X-Total-Count``,
an empty page, 429 with ``Retry-After``, 500, slow answers, chosen by collection and page.

Use::

    from oneroster.provider_server import Fault, oneroster_provider, serve_provider  # noqa: F401 (fixture)

    def test_pull(oneroster_provider):          # a generated district in tenant "provider", both versions
        p = oneroster_provider
        p.faults.add(Fault("short_page", collection="users", offset=5000, drop=1))
        ...connect to p.base_url("1.1") with p.client_id / p.client_secret at p.token_url...
        assert p.faults.hits == [...]

``serve_provider(settings, tenant, ...)`` serves any lake (a context manager) when a test has its own data.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
import uvicorn

from homeroom.api.app import create_app
from homeroom.auth.permissions import ONEROSTER
from homeroom.auth.registrations import create_app_registration
from homeroom.oneroster.errors import imsx
from homeroom.runs import Runner
from homeroom.settings import Settings
from homeroom.synthetic import generate_district

KINDS = ("short_page", "wrong_total", "empty_page", "status", "slow")


@dataclass
class Fault:
    """One injected fault.

    ``kind``: ``short_page`` (the page loses its last ``drop`` objects), ``wrong_total`` (``X-Total-Count`` is off
    by ``total_delta``), ``empty_page`` (the page's list is empty, headers as they were), ``status`` (answer
    ``status``, e.g. 429 with ``Retry-After: retry_after`` or 500, with an imsx body, without serving the request),
    ``slow`` (wait ``delay`` seconds, then serve). ``collection``: the path after the version base
    (``users``, ``classes/c1/students``; None: any). ``offset``: only requests with this offset (None: any page).
    ``times``: how many matching requests it hits before it stops (None: every one).
    """

    kind: str
    collection: str | None = None
    offset: int | None = None
    times: int | None = None
    drop: int = 1
    total_delta: int = 1
    status: int = 500
    retry_after: int | None = None
    delay: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"a fault kind is one of {', '.join(KINDS)}, not {self.kind!r}")


@dataclass
class Faults:
    """The faults in force, and what they hit: ``hits`` lists (kind, collection, offset) per faulty answer."""

    active: list[Fault] = field(default_factory=list)
    hits: list[tuple[str, str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.active.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.active.clear()
            self.hits.clear()

    def take(self, collection: str, offset: int) -> Fault | None:
        """The first fault matching a request, counted as one hit."""
        with self._lock:
            for fault in self.active:
                if fault.collection not in (None, collection) or fault.offset not in (None, offset):
                    continue
                if fault.times is not None:
                    if fault.times <= 0:
                        continue
                    fault.times -= 1
                self.hits.append((fault.kind, collection, offset))
                return fault
        return None


_BASES = ("/ims/oneroster/v1p1/", "/ims/oneroster/rostering/v1p2/")


class FaultInjection:
    """ASGI middleware (tests only): applies ``Faults`` to OneRoster requests."""

    def __init__(self, app, faults: Faults):
        self.app = app
        self.faults = faults

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        base = next((b for b in _BASES if path.startswith(b)), None) if scope["type"] == "http" else None
        if base is None:
            return await self.app(scope, receive, send)
        query = dict(part.split("=", 1) for part in scope.get("query_string", b"").decode().split("&") if "=" in part)
        offset = int(query["offset"]) if query.get("offset", "").isdigit() else 0
        fault = self.faults.take(path[len(base):], offset)
        if fault is None:
            return await self.app(scope, receive, send)
        if fault.kind == "slow":
            import asyncio

            await asyncio.sleep(fault.delay)
            return await self.app(scope, receive, send)
        if fault.kind == "status":
            code = {429: "server_busy", 401: "unauthorisedrequest", 403: "forbidden", 404: "unknownobject"}.get(
                fault.status, "internal_server_error")
            body = orjson.dumps(imsx(code, f"injected fault: HTTP {fault.status}"))
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            if fault.retry_after is not None:
                headers.append((b"retry-after", str(fault.retry_after).encode()))
            await send({"type": "http.response.start", "status": fault.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return None
        # The other faults rewrite the answer: collect it, change it, send it.
        start: dict = {}
        chunks: list[bytes] = []

        async def collect(message):
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, collect)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if start.get("status") == 200:
            if fault.kind == "wrong_total":
                headers = [(k, str(int(v) + fault.total_delta).encode()) if k.lower() == b"x-total-count" else (k, v)
                           for k, v in headers]
            else:
                document = orjson.loads(body)
                key = next(iter(document))
                if isinstance(document[key], list):
                    items = document[key]
                    document[key] = [] if fault.kind == "empty_page" else items[:max(0, len(items) - fault.drop)]
                body = orjson.dumps(document)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return None


@dataclass
class ProviderServer:
    """A running provider: where it listens, the tenant it serves, an app registration holding every roster scope."""

    url: str
    tenant: str
    client_id: str
    client_secret: str = field(repr=False)
    faults: Faults
    settings: Settings

    def base_url(self, version: str = "1.1") -> str:
        """``http://127.0.0.1:<port>/ims/oneroster/v1p1`` (1.1) or ``.../ims/oneroster/rostering/v1p2`` (1.2)."""
        return self.url + ("/ims/oneroster/v1p1" if version == "1.1" else "/ims/oneroster/rostering/v1p2")

    @property
    def token_url(self) -> str:
        return f"{self.url}/{self.tenant}/oauth2/v2.0/token"


@contextmanager
def serve_provider(settings: Settings, tenant: str, scopes: frozenset[str] = ONEROSTER) -> Iterator[ProviderServer]:
    """Serve the lake of ``settings`` over HTTP on 127.0.0.1:<free port> with fault injection; registers an app
    holding ``scopes`` in ``tenant``. Stops the server at the end."""
    app = create_app(settings)
    with app.state.sessions.begin() as db:
        registration, secret = create_app_registration(db=db, tenant_id=tenant, display_name="OneRoster consumer",
                                                       permissions=sorted(scopes))
        client_id = registration.id
    faults = Faults()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(FaultInjection(app, faults), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    assert server.started, "the provider did not start within 10 seconds"
    try:
        yield ProviderServer(f"http://127.0.0.1:{port}", tenant, client_id, secret, faults, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def ingest_district(settings: Settings, tenant: str, out: Path, *, students: int = 60, seed: int = 3,
                    format_name: str = "sds-v2.1", year: str = "2026") -> None:
    """Generate a clean district and run it into ``tenant``'s lake (flow ``SIS``)."""
    generate_district(out, students, seed=seed, format_name=format_name, school_year=int(year))
    outcome = Runner(tenant, settings=settings).run(out, flow_name="SIS", year=year, format_name=format_name)
    assert outcome.run.status == "completed", outcome.run.blocking_error


@pytest.fixture
def oneroster_provider(tmp_path: Path) -> Iterator[ProviderServer]:
    """A 60-student generated district (SDS v2.1) in tenant ``provider``, served over HTTP with fault injection."""
    settings = Settings(data_dir=tmp_path / "provider-data")
    ingest_district(settings, "provider", tmp_path / "district")
    with serve_provider(settings, "provider") as server:
        yield server
