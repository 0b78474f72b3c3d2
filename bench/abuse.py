#!/usr/bin/env python3
"""Benchmark: does one hostile client slow down everybody else? (issue 18 item 4)

In one invocation, Homeroom's API served by uvicorn on loopback in a subprocess (as ``bench/api.py`` does), with
the default throttling settings. A victim tenant's client reads ``GET /sourceSystems/{id}`` at a steady pace,
first with the server idle, then while an abuser tenant sends the worst requests the limits allow, as fast as it
can, from several registered apps at once:

- lists with every query option at its limit: a ``$filter`` of ``MAX_FILTER_CHARS`` made of ``or`` clauses,
  ``$orderby``/``$select`` with distinct items, ``$top`` at the page size;
- JSON bodies at the body and nesting limits (1 MiB of properties; 63 levels deep);
- token requests with wrong secrets (sign-in throttling);
- requests past the limits (refused with 400/413/429 before any work).

Prints the victim's p50/p99 idle and under abuse, their ratio (goal: p99 within 2x of idle) and how the abuser's
requests were answered.

    .venv/bin/python bench/abuse.py                      # 8 seconds per phase, 6 abusing connections
    .venv/bin/python bench/abuse.py --seconds 15 --abusers 12
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import serve  # noqa: E402  (same server subprocess)

VICTIM_RATE = 20.0  # requests per second, one at a time: a script polling the API


def _filter_at_limit(limit: int) -> str:
    clauses, text = [], ""
    i = 0
    while True:
        clause = f"displayName eq 'Source {i:06}'"
        candidate = " or ".join([*clauses, clause])
        if len(candidate) > limit:
            return text
        clauses.append(clause)
        text = candidate
        i += 1


def _nested(depth: int) -> dict:
    value: dict = {"displayName": "x"}
    for _ in range(depth - 2):
        value = {"a": value}
    return {"displayName": "deep", "extra": value}


async def victim(url: str, headers: dict[str, str], seconds: float, rate: float) -> dict[str, float]:
    import httpx

    latencies: list[float] = []
    statuses: collections.Counter = collections.Counter()
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        deadline = time.perf_counter() + seconds
        next_at = time.perf_counter()
        while time.perf_counter() < deadline:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += 1 / rate
            sent = time.perf_counter()
            response = await client.get(url)
            latencies.append(time.perf_counter() - sent)
            statuses[response.status_code] += 1
    ordered = sorted(latencies)
    return {"requests": len(ordered), "p50_ms": 1000 * ordered[len(ordered) // 2],
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], "non_200": sum(v for k, v in statuses.items() if k != 200)}


async def abuser(root: str, tenant: str, credentials: list[tuple[str, str]], tokens: list[str], seconds: float,
                 connections: int, answers: collections.Counter, only: int | None = None) -> None:
    import httpx

    from homeroom.api.calls import MAX_BODY_BYTES, MAX_JSON_DEPTH
    from homeroom.api.odata import MAX_FILTER_CHARS

    base = f"{root}/beta/external/industryData"
    heavy_filter = _filter_at_limit(MAX_FILTER_CHARS)
    big_body = json.dumps({"displayName": "big", **{f"p{i}": "v" * 40 for i in range((MAX_BODY_BYTES - 1024) // 50)}})
    deep_body = json.dumps(_nested(MAX_JSON_DEPTH - 1))
    requests = [
        ("GET", f"{base}/sourceSystems", {"$filter": heavy_filter, "$top": "100", "$count": "true"}, None),
        ("GET", f"{base}/sourceSystems", {"$orderby": "displayName desc,id", "$select": "id,displayName,vendor", "$top": "100"}, None),
        ("POST", f"{base}/sourceSystems", None, big_body),
        ("POST", f"{base}/sourceSystems", None, deep_body),
        ("POST", f"{root}/{tenant}/oauth2/v2.0/token", None, "wrong-secret"),
        ("GET", f"{base}/sourceSystems", {"$filter": heavy_filter + " or " + heavy_filter}, None),  # past the limit
    ]
    if only is not None:
        requests = [requests[only]]
    deadline = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        token = tokens[n % len(tokens)]
        client_id, _ = credentials[n % len(credentials)]
        async with httpx.AsyncClient(timeout=60) as client:
            i = n
            while time.perf_counter() < deadline:
                method, url, params, body = requests[i % len(requests)]
                i += 1
                if body == "wrong-secret":
                    response = await client.post(url, data={"grant_type": "client_credentials", "client_id": client_id,
                                                            "client_secret": "wrong", "scope": "https://graph.microsoft.com/.default"})
                else:
                    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                    response = await client.request(method, url, params=params, content=body, headers=headers)
                answers[response.status_code] += 1

    await asyncio.gather(*(worker(n) for n in range(connections)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--abusers", type=int, default=6, help="concurrent abusing connections")
    parser.add_argument("--apps", type=int, default=3, help="apps the abuser registered (each has its own throttle)")
    parser.add_argument("--only", type=int, help="send only this one of the abuser's requests (0-5), to see which costs most")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from homeroom.api import create_app
    from homeroom.auth.permissions import PERMISSIONS
    from homeroom.auth.registrations import create_app_registration
    from homeroom.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="homeroom-bench-abuse-"))
    # The bench server (bench/api.py) lifts the call throttle so that a load test measures the server, not the
    # limit: the abuser here is then limited only by the query and body limits, the worst case.
    app = create_app(Settings(data_dir=data_dir, api_throttle_calls=10**9))
    local = TestClient(app)

    def register(tenant: str) -> tuple[str, str, str]:
        with app.state.sessions() as db:
            registration, secret = create_app_registration(db=db, tenant_id=tenant, display_name=tenant, permissions=sorted(PERMISSIONS))
            db.commit()
        token = local.post(f"/{tenant}/oauth2/v2.0/token", data={"grant_type": "client_credentials", "client_id": registration.id,
                                                               "client_secret": secret}).json()["access_token"]
        return registration.id, secret, token

    victim_id, victim_secret, victim_token = register("victim")
    victim_headers = {"Authorization": f"Bearer {victim_token}"}
    ids = [local.post("/beta/external/industryData/sourceSystems", json={"displayName": f"Source {i:03}"}, headers=victim_headers).json()["id"]
           for i in range(20)]
    abusers = [register("mallory") for _ in range(args.apps)]
    mallory_headers = {"Authorization": f"Bearer {abusers[0][2]}"}
    for i in range(300):
        local.post("/beta/external/industryData/sourceSystems", json={"displayName": f"Source {i:06}"}, headers=mallory_headers)

    port, server = serve(data_dir)
    answers: collections.Counter = collections.Counter()
    try:
        root = f"http://127.0.0.1:{port}"
        url = f"{root}/beta/external/industryData/sourceSystems/{ids[5]}"
        asyncio.run(victim(url, victim_headers, 1.0, VICTIM_RATE))  # warm up
        idle = asyncio.run(victim(url, victim_headers, args.seconds, VICTIM_RATE))

        async def both() -> dict[str, float]:
            attack = asyncio.create_task(abuser(root, "mallory", [(a[0], a[1]) for a in abusers], [a[2] for a in abusers],
                                                args.seconds + 1, args.abusers, answers, args.only))
            await asyncio.sleep(0.5)
            measured = await victim(url, victim_headers, args.seconds, VICTIM_RATE)
            await attack
            return measured

        abused = asyncio.run(both())
    finally:
        server.terminate()
        server.wait(timeout=10)
    ratio = abused["p99_ms"] / idle["p99_ms"]
    print(f"{'victim, GET sourceSystems/{id}':<34}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-200':>9}")
    for name, r in (("idle", idle), ("under abuse", abused)):
        print(f"{name:<34}{r['requests']:>9.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['non_200']:>9.0f}")
    print(f"p99 under abuse / idle: {ratio:.2f} (goal at most 2)")
    print(f"abuser's answers by status: {dict(sorted(answers.items()))}")
    print(json.dumps({"idle": idle, "abused": abused, "p99_ratio": round(ratio, 2), "abuser_statuses": dict(answers)}))


if __name__ == "__main__":
    main()
