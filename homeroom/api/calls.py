"""What every Graph route does around its work: the base address, authentication, throttling, the permission
check, a transaction in a worker thread, the read cache, and bounded request bodies."""

from __future__ import annotations

from typing import Any, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from homeroom.api.errors import PayloadTooLarge
from homeroom.auth.tokens import Principal

BASE = "/beta/external/industryData"


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/beta"


def context_url(request: Request, path: str) -> str:
    return f"{base_url(request)}/$metadata#external/industryData/{path}"


async def call(request: Request, permissions: tuple[str, ...], work: Callable[[Any, Principal], Any], *,
                cached: bool = False) -> Any:
    """Authenticate, throttle, check one of ``permissions``, run ``work(db, principal)`` in a transaction.

    ``cached`` (reads only): reuse the answer of the same read at the same tenant revision (homeroom.api.cache).
    """
    state = request.app.state

    def run() -> Any:
        with state.sessions() as db:
            principal = state.tokens.verify(db=db, authorization=request.headers.get("authorization"))
            state.throttle.check(principal.tenant_id, principal.client_id)
            principal.require(*permissions)
            key = (principal.tenant_id, str(request.url), principal.permissions) if cached and principal.revision >= 0 else None
            if key is not None and (answer := state.read_cache.get(key, principal.revision)) is not None:
                return answer
            result = work(db, principal)
            db.commit()
            if key is not None:
                state.read_cache.put(key, principal.revision, result)
            return result

    return await run_in_threadpool(run)


#: Largest request body accepted; industryData entities are a few kilobytes.
MAX_BODY_BYTES = 1024 * 1024


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 beyond ``MAX_BODY_BYTES`` (counted as it arrives, not trusted from headers)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)
