#!/usr/bin/env python3
"""Benchmark: list and get throughput of the Graph-compatible API against a minimal endpoint.

In one invocation, both served by uvicorn on loopback, each in a subprocess of its own (so that the
clients do not share a GIL with the server), called over HTTP by several concurrent httpx clients:

- the floor: a bare FastAPI route answering a constant JSON object (no auth, no database);
- ``GET /sourceSystems?$top=100`` (token check, throttle, SQLite read, OData, 100 items);
- ``GET /sourceSystems/{id}``.

Prints requests per second and the ratio of each to the floor.

    .venv/bin/python bench/api.py                 # 3 seconds per measurement, 8 concurrent clients
    .venv/bin/python bench/api.py --seconds 10 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(kind: str, data_dir: Path) -> tuple[int, subprocess.Popen]:
    """Start ``bench/api.py --serve kind`` on a free loopback port and wait until it answers."""
    import httpx

    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port), "--data-dir", str(data_dir)])
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return port, process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the {kind} server did not start")


def run_server(kind: str, port: int, data_dir: Path) -> None:
    """Serve the floor app or Homeroom's API (on ``data_dir``) until killed."""
    import uvicorn
    from fastapi import FastAPI

    if kind == "floor":
        app = FastAPI()

        @app.get("/ping")
        def ping() -> dict:
            return {"id": "ping", "displayName": "minimal"}
    else:
        from homeroom.api import create_app
        from homeroom.settings import Settings

        app = create_app(Settings(data_dir=data_dir, api_throttle_calls=10**9))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def measure(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> float:
    """Requests per second over ``seconds``, with ``concurrency`` clients in a loop."""
    import httpx

    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        async with httpx.AsyncClient(headers=headers, timeout=30) as client:
            while time.perf_counter() < deadline:
                response = await client.get(url)
                assert response.status_code == 200, response.text
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--serve", choices=["floor", "api"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run_server(args.serve, args.port, args.data_dir)
        return

    from fastapi.testclient import TestClient

    from homeroom.api import create_app
    from homeroom.api.apps import PERMISSIONS, create_app_registration
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

    floor_port, floor_server = serve("floor", data_dir)
    port, api_server = serve("api", data_dir)
    try:
        base = f"http://127.0.0.1:{port}/beta/external/industryData"
        floor = asyncio.run(measure(f"http://127.0.0.1:{floor_port}/ping", {}, args.seconds, args.concurrency))
        listed = asyncio.run(measure(f"{base}/sourceSystems?$top=100", headers, args.seconds, args.concurrency))
        got = asyncio.run(measure(f"{base}/sourceSystems/{ids[50]}", headers, args.seconds, args.concurrency))
    finally:
        for process in (floor_server, api_server):
            process.terminate()
            process.wait(timeout=10)
    print(f"{'endpoint':<34}{'req/s':>10}{'floor/x':>10}")
    print(f"{'floor: minimal FastAPI route':<34}{floor:>10.0f}{1:>10.1f}")
    print(f"{'list sourceSystems ($top=100)':<34}{listed:>10.0f}{floor / listed:>10.1f}")
    print(f"{'get sourceSystems/{id}':<34}{got:>10.0f}{floor / got:>10.1f}")


if __name__ == "__main__":
    main()
