"""A fair share per tenant (issue 18 item 4): one tenant's calls past its turns wait, without slowing another
tenant's; past the queue they are refused with Graph's 429 and Retry-After; forged tokens have no tenant's turns."""

from __future__ import annotations

import asyncio

import pytest

from homeroom.api.errors import Throttled
from homeroom.api.fairness import UNVERIFIED, FairShare, FairShareMiddleware


def test_a_tenant_past_its_turns_waits_while_another_tenant_is_served_at_once():
    share = FairShare(concurrency=1, queue=8)
    order: list[str] = []

    async def call(bucket: str, name: str, hold: asyncio.Event | None = None) -> None:
        async with share.turn(bucket):
            order.append(f"start {name}")
            if hold is not None:
                await hold.wait()
            order.append(f"end {name}")

    async def scenario() -> None:
        release = asyncio.Event()
        first = asyncio.create_task(call("a", "a1", release))
        await asyncio.sleep(0)
        second = asyncio.create_task(call("a", "a2"))
        other = asyncio.create_task(call("b", "b1"))
        await asyncio.sleep(0.01)
        assert order == ["start a1", "start b1", "end b1"]  # a2 waits for a1; b is not held up by a
        release.set()
        await asyncio.gather(first, second, other)

    asyncio.run(scenario())
    assert order == ["start a1", "start b1", "end b1", "end a1", "start a2", "end a2"]


def test_calls_past_the_queue_are_refused_with_retry_after():
    share = FairShare(concurrency=1, queue=1)

    async def scenario() -> str:
        release = asyncio.Event()

        async def hold() -> None:
            async with share.turn("a"):
                await release.wait()

        async def quick() -> None:
            async with share.turn("a"):
                pass

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        waiter = asyncio.create_task(quick())
        await asyncio.sleep(0)
        with pytest.raises(Throttled) as refused:
            async with share.turn("a"):
                pass
        release.set()
        await asyncio.gather(holder, waiter)
        return refused.value

    refused = asyncio.run(scenario())
    assert (refused.status, refused.code, refused.headers) == (429, "TooManyRequests", {"Retry-After": "1"})
    assert refused.message == "Too many requests of this tenant are waiting (1); retry after 1 second."


class _Tokens:
    def tenant_of(self, authorization):
        return {"Bearer good-a": "tenant-a"}.get(authorization)


@pytest.mark.parametrize(("path", "authorization", "bucket"), [
    ("/beta/external/industryData/sourceSystems", "Bearer good-a", "tenant-a"),
    ("/beta/external/industryData/sourceSystems", "Bearer forged-with-tid-of-a", UNVERIFIED),
    ("/beta/external/industryData/sourceSystems", None, UNVERIFIED),
    ("/contoso/oauth2/v2.0/token", None, "token:contoso"),
    ("/contoso/oauth2/token", "Bearer good-a", "token:contoso"),
])
def test_each_call_counts_against_its_verified_tenant(path, authorization, bucket):
    middleware = FairShareMiddleware(None, share=FairShare(1, 1), tokens=_Tokens())
    headers = [(b"authorization", authorization.encode())] if authorization else []
    assert middleware._bucket({"path": path, "headers": headers}) == bucket


def test_a_refused_call_gets_graphs_429_body_over_http():
    share = FairShare(concurrency=1, queue=0)
    sent: list[dict] = []

    async def slow_app(scope, receive, send):
        await asyncio.sleep(0.05)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    middleware = FairShareMiddleware(slow_app, share=share, tokens=_Tokens())

    async def collect(message):
        sent.append(message)

    async def scenario() -> None:
        scope = {"type": "http", "path": "/beta/x", "headers": [(b"authorization", b"Bearer good-a")], "state": {"request_id": "r1"}}
        first = asyncio.create_task(middleware(scope, None, lambda m: asyncio.sleep(0)))
        await asyncio.sleep(0.01)
        await middleware(scope, None, collect)
        await first

    asyncio.run(scenario())
    start, body = sent
    assert start["status"] == 429 and (b"retry-after", b"1") in start["headers"]
    assert body["body"] == (b'{"error":{"code":"TooManyRequests","message":"Too many requests of this tenant are waiting (0); '
                            b'retry after 1 second.","innerError":{"request-id":"r1"}}}')
