"""What every Graph route does around its work: the surface it belongs to (base path, namespace, permission
catalog), authentication, throttling, the permission check, a transaction in a worker thread, the read cache, and
bounded request bodies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from homeroom.api.errors import BadRequest, PayloadTooLarge
from homeroom.api.statistics import INCLUDE_UNKNOWN_ENUM_MEMBERS, prefers_unknown_enum_members, unknown_enum_members
from homeroom.auth.tokens import Principal

#: The Graph version Homeroom answers.
VERSION = "beta"


def base_url(request: Request) -> str:
    """The absolute address of the Graph version: ``http://host/beta``."""
    return str(request.base_url).rstrip("/") + f"/{VERSION}"


@dataclass(frozen=True)
class Surface:
    """One Graph API surface served by the generic collection routes: where it lives, its OData namespace, the
    permissions it knows and its resources (navigation targets by name)."""

    path: str  #: the surface under the version, e.g. ``external/industryData``
    namespace: str  #: the OData namespace of its types, e.g. ``microsoft.graph.industryData``
    permissions: frozenset[str]  #: its permission catalog (``homeroom.auth.permissions``)
    #: every resource (``homeroom.api.resources.Resource``), contained ones too, by name
    resources: Mapping[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        """The route prefix: ``/beta/external/industryData``."""
        return f"/{VERSION}/{self.path}"

    def url(self, request: Request, path: str = "") -> str:
        """The absolute address of something on this surface (``runs/{id}``)."""
        return f"{base_url(request)}/{self.path}" + (f"/{path}" if path else "")

    def context_url(self, request: Request, path: str) -> str:
        """An ``@odata.context``: ``.../beta/$metadata#external/industryData/{path}``."""
        return f"{base_url(request)}/$metadata#{self.path}/{path}"

    def odata_type(self, name: str) -> str:
        """The ``@odata.type`` of one of the surface's types."""
        return f"#{self.namespace}.{name}"


async def call(request: Request, permissions: tuple[str, ...], work: Callable[[Any, Principal], Any], *,
                cached: bool = False) -> Any:
    """Authenticate, throttle, check one of ``permissions``, run ``work(db, principal)`` in a transaction.

    ``cached`` (reads only): reuse the answer of the same read at the same tenant revision (homeroom.api.cache).
    ``Prefer: include-unknown-enum-members`` is honoured for the whole call (homeroom.api.statistics), part of the
    cache key, and echoed by ``PreferenceApplied``.
    """
    state = request.app.state
    include_unknown = prefers_unknown_enum_members(request.headers.getlist("prefer"))
    if include_unknown:
        request.state.preference_applied = INCLUDE_UNKNOWN_ENUM_MEMBERS

    def run() -> Any:
        with state.sessions() as db:
            principal = state.tokens.verify(db=db, authorization=request.headers.get("authorization"))
            state.throttle.check(principal.tenant_id, principal.client_id)
            principal.require(*permissions)
            key = ((principal.tenant_id, str(request.url), principal.permissions, include_unknown)
                   if cached and principal.revision >= 0 else None)
            if key is not None and (answer := state.read_cache.get(key, principal.revision)) is not None:
                return answer
            with unknown_enum_members(include_unknown):
                result = work(db, principal)
            db.commit()
            if key is not None:
                state.read_cache.put(key, principal.revision, result)
            return result

    return await run_in_threadpool(run)


class PreferenceApplied:
    """ASGI middleware: ``Preference-Applied`` on a successful answer whose call honoured a ``Prefer`` (``call``)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_preference(message):
            if message["type"] == "http.response.start" and message["status"] < 400:
                applied = scope.get("state", {}).get("preference_applied")
                if applied:
                    message = {**message, "headers": [*message.get("headers", []), (b"preference-applied", applied.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_preference)


#: Largest request body accepted; industryData entities are a few kilobytes.
MAX_BODY_BYTES = 1024 * 1024
#: Largest token request (a form of a few fields).
MAX_FORM_BYTES = 64 * 1024
#: Deepest nesting of objects and arrays accepted in a JSON body (Graph's entities nest a few levels).
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


async def read_body(request: Request, *, limit: int = MAX_BODY_BYTES, json: bool = True) -> bytes:
    """The request body, refused with 413 beyond ``limit`` (counted as it arrives, not trusted from headers; a
    ``Content-Length`` above it is refused before anything is read) and, for JSON, with 400 when it nests deeper
    than ``MAX_JSON_DEPTH``, before it is parsed."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
    body = b"".join(chunks)
    if json and json_depth(body) > MAX_JSON_DEPTH:
        raise BadRequest(f"The request body nests objects and arrays more than {MAX_JSON_DEPTH} levels deep.")
    return body


def json_depth(raw: bytes) -> int:
    """How deep a JSON text nests objects and arrays (brackets inside strings do not count), without parsing it."""
    codes = np.frombuffer(_JSON_STRING.sub(b'""', raw), dtype=np.uint8)
    steps = (np.isin(codes, (91, 123)).astype(np.int32) - np.isin(codes, (93, 125)).astype(np.int32))
    return int(np.cumsum(steps).max()) if steps.size else 0
