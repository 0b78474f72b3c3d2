"""A fair share of the server for every tenant: at most a few of one tenant's calls are worked on at once.

The API works on calls in a pool of threads that share one interpreter. Without a bound, a tenant that sends many
expensive calls at once (long filters, large bodies, wrong secrets that cost a key derivation each) gets most of the
interpreter and slows every other tenant down, even though each call is within its limits and the throttle counts
them. ``FairShare`` gives each tenant ``api_tenant_concurrency`` turns: a call past them waits, without holding a
thread, until one of its tenant's calls finishes; with ``api_tenant_queue`` calls already waiting, it is refused with
429 and ``Retry-After``.

Calls are counted against the tenant of their token once its signature is verified (``TokenService.tenant_of``), so
a forged token cannot spend another tenant's turns: calls without a valid token share one bucket of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from homeroom.api.errors import Throttled

#: The bucket of calls whose token could not be verified (they are answered cheaply, with 401).
UNVERIFIED = "(unverified)"


@dataclass
class _Bucket:
    turns: asyncio.Semaphore
    waiting: int = 0


@dataclass
class FairShare:
    """Turns per tenant (see the module's docstring)."""

    concurrency: int
    queue: int
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    @asynccontextmanager
    async def turn(self, bucket: str) -> AsyncIterator[None]:
        """Wait for one of ``bucket``'s turns (or raise ``Throttled`` when too many calls already wait)."""
        state = self._buckets.get(bucket)
        if state is None:
            state = self._buckets[bucket] = _Bucket(asyncio.Semaphore(self.concurrency))
        if state.turns.locked():
            if state.waiting >= self.queue:
                raise Throttled(f"Too many requests of this tenant are waiting ({self.queue}); retry after 1 second.",
                               headers={"Retry-After": "1"})
            state.waiting += 1
            try:
                await state.turns.acquire()
            finally:
                state.waiting -= 1
        else:
            await state.turns.acquire()
        try:
            yield
        finally:
            state.turns.release()
            if not state.turns.locked() and state.waiting == 0 and len(self._buckets) > 10_000:
                self._buckets.pop(bucket, None)  # a bound on idle buckets


class FairShareMiddleware:
    """ASGI middleware: each HTTP call takes a turn of its tenant's :class:`FairShare` before anything else is done
    with it (reading and parsing its body included).

    The bucket is the tenant of a verified bearer token; calls to a tenant's token endpoint (``/{tenant}/oauth2/...``,
    where each wrong secret costs a key derivation) count against ``token:{tenant}``; other calls without a valid
    token share :data:`UNVERIFIED`. Paths under ``exempt_prefixes`` (the blob endpoint, signed per container and
    bounded by its own limits) are not counted. A refusal is Graph's 429 body with ``Retry-After``.
    """

    def __init__(self, app, *, share: FairShare, tokens, exempt_prefixes: tuple[str, ...] = ()):
        self.app = app
        self.share = share
        self.tokens = tokens
        self.exempt = exempt_prefixes

    def _bucket(self, scope) -> str:
        path: str = scope.get("path", "")
        parts = path.split("/")
        if len(parts) > 3 and parts[2] == "oauth2":
            return f"token:{parts[1]}"
        for name, value in scope.get("headers") or []:
            if name == b"authorization":
                return self.tokens.tenant_of(value.decode("latin-1")) or UNVERIFIED
        return UNVERIFIED

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path", "").startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        try:
            async with self.share.turn(self._bucket(scope)):
                await self.app(scope, receive, send)
        except Throttled as exc:
            import orjson

            body = orjson.dumps({"error": {"code": exc.code, "message": exc.message, "innerError": {
                "request-id": scope.get("state", {}).get("request_id")}}})
            await send({"type": "http.response.start", "status": exc.status, "headers": [
                (b"content-type", b"application/json"), (b"retry-after", b"1"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
