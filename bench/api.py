#!/usr/bin/env python3
"""Benchmark: list and get throughput and latency of the Graph-compatible API against a minimal endpoint of the same app.

In one invocation, Homeroom's API served by uvicorn on loopback in a subprocess of its own (so that the
clients do not share a GIL with the server), called over HTTP by several concurrent httpx clients:

- the floor: a minimal route added to the same app (same middleware: path tolerances, request ids), answering a
  constant JSON object (no auth, no database);
- ``GET /sourceSystems?$top=100`` (token check, throttle, SQLite read, OData, 100 items);
- ``GET /sourceSystems/{id}``.

Prints requests per second, p50 and p99 latency, and each one's share of the floor's throughput
(goal, issue 5: list and get at least 0.5).

    .venv/bin/python bench/api.py                 # 3 seconds per measurement, 8 concurrent clients
    .venv/bin/python bench/api.py --seconds 10 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import serving  # noqa: E402


def serve(data_dir: Path) -> tuple[int, subprocess.Popen]:
    """Start ``bench/api.py --serve`` on a free loopback port and wait until it answers."""
    return serving.start(__file__, "/openapi.json", "--data-dir", str(data_dir), timeout=30)


def run_server(port: int, data_dir: Path) -> None:
    """Serve Homeroom's API (on ``data_dir``), plus the floor route ``/bench/ping``, until killed."""
    import uvicorn

    from homeroom.api import create_app
    from homeroom.settings import Settings

    app = create_app(Settings(data_dir=data_dir, api_throttle_calls=10**9, schedule_interval_hours=0))

    @app.get("/bench/ping")
    def ping() -> dict:
        return {"id": "ping", "displayName": "minimal"}
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def measure(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> dict[str, float]:
    """Requests per second and p50/p99 latency (ms) over ``seconds``, with ``concurrency`` clients in a loop."""
    import httpx

    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        async with httpx.AsyncClient(headers=headers, timeout=30) as client:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - sent)
                assert response.status_code == 200, response.text

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"rps": len(ordered) / elapsed, "p50_ms": 1000 * ordered[len(ordered) // 2],
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run_server(args.port, args.data_dir)
        return

    from fastapi.testclient import TestClient

    from homeroom.api import create_app
    from homeroom.auth.permissions import PERMISSIONS
    from homeroom.auth.registrations import create_app_registration
    from homeroom.settings import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="homeroom-bench-api-"))
    app = create_app(Settings(data_dir=data_dir, api_throttle_calls=10**9))
    with app.state.sessions() as db:
        registration, secret = create_app_registration(db=db, tenant_id="bench", display_name="bench", permissions=sorted(PERMISSIONS))
        db.commit()
    local = TestClient(app)
    token = local.post("/bench/oauth2/v2.0/token", data={"grant_type": "client_credentials", "client_id": registration.id,
                                                         "client_secret": secret}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    ids = [local.post("/beta/external/industryData/sourceSystems", json={"displayName": f"Source {i:03}"}, headers=headers).json()["id"]
           for i in range(100)]

    port, api_server = serve(data_dir)
    try:
        root = f"http://127.0.0.1:{port}"
        base = f"{root}/beta/external/industryData"
        asyncio.run(measure(f"{root}/bench/ping", {}, 0.5, args.concurrency))  # warm up
        results = {
            "floor: minimal route, same app": asyncio.run(measure(f"{root}/bench/ping", {}, args.seconds, args.concurrency)),
            "list sourceSystems ($top=100)": asyncio.run(measure(f"{base}/sourceSystems?$top=100", headers, args.seconds, args.concurrency)),
            "get sourceSystems/{id}": asyncio.run(measure(f"{base}/sourceSystems/{ids[50]}", headers, args.seconds, args.concurrency)),
        }
    finally:
        api_server.terminate()
        api_server.wait(timeout=10)
    floor = results["floor: minimal route, same app"]["rps"]
    print(f"{'endpoint':<34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'of floor':>10}")
    for name, r in results.items():
        print(f"{name:<34}{r['rps']:>9.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['rps'] / floor:>10.2f}")
    print(json.dumps({name: {k: round(v, 2) for k, v in r.items()} for name, r in results.items()}))

if __name__ == "__main__":
    main()
