#!/usr/bin/env python3
"""Benchmark: the OneRoster provider serving ``GET /ims/oneroster/v1p1/users?limit=5000`` page after page.

In one invocation: a generated district (default 1.1M students) is run into a lake (setup, not timed); Homeroom's
API is served by uvicorn on loopback in a subprocess of its own (one process); one client pages through every
user with ``limit=5000`` (the page SDS asks for), 1.1 and then 1.2, and reports records per second. The first page
builds the tenant's views (read from the lake once per lake version); its time is reported apart.

The floor, measured in the same run against the same server: a minimal route of the same app answering a
constant body of the same size as a page (no token, no lake, no JSON building): what HTTP and the client cost.
Prints records/s, the share of the floor, the server's peak memory, and the records/s of the same pages built in
process without HTTP (what one core spends on selecting and writing them). Goal (issue 14): at least 20,000
records/s on one process at 1.1M students.

    flock /work/.heavy.lock .venv/bin/python bench/oneroster_provider.py                   # 1.1M students
    .venv/bin/python bench/oneroster_provider.py --students 20000                          # a quick look
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = r"""
import sys
import uvicorn
from fastapi.responses import Response
from homeroom.api.app import create_app
from homeroom.settings import Settings

app = create_app(Settings(data_dir=sys.argv[1], schedule_interval_hours=0))
floor_body = []

@app.get("/floor")
async def floor():
    if not floor_body:  # written by the bench after its first page
        floor_body.append(open(sys.argv[3], "rb").read())
    return Response(floor_body[0], media_type="application/json")

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", lifespan="off")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1_100_000)
    parser.add_argument("--limit", type=int, default=5000)
    args = parser.parse_args()

    from homeroom.auth.permissions import ONEROSTER
    from homeroom.auth.registrations import create_app_registration
    from homeroom.runs import Runner
    from homeroom.settings import Settings
    from homeroom.store.database import open_database
    from homeroom.synthetic import generate_district

    with tempfile.TemporaryDirectory(prefix="homeroom-oneroster-bench-") as tmp:
        tmp_path = Path(tmp)
        settings = Settings(data_dir=tmp_path / "data")
        started = time.perf_counter()
        generate_district(tmp_path / "district", args.students, seed=7)
        outcome = Runner("bench", settings=settings).run(tmp_path / "district", flow_name="SIS", year="2026", format_name="sds-v2.1")
        assert outcome.run.status == "completed", outcome.run.blocking_error
        print(f"setup: {args.students:,} students generated and run into the lake in {time.perf_counter() - started:.1f} s", flush=True)
        with open_database(settings).begin() as db:
            registration, secret = create_app_registration(db=db, tenant_id="bench", display_name="bench", permissions=sorted(ONEROSTER))
            client_id = registration.id

        port = free_port()
        floor_file = tmp_path / "floor.json"
        results = {}
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(settings.data_dir), str(port), str(floor_file)], cwd=ROOT)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(timeout=600) as http:
                for _ in range(600):
                    try:
                        http.get(base + "/docs")
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                token = http.post(f"{base}/bench/oauth2/v2.0/token", auth=(client_id, secret), data={
                    "grant_type": "client_credentials", "scope": " ".join(sorted(ONEROSTER))}).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                for version, path in (("1.1", "/ims/oneroster/v1p1/users"), ("1.2", "/ims/oneroster/rostering/v1p2/users")):
                    t0 = time.perf_counter()
                    first = http.get(base + path, params={"limit": args.limit, "offset": 0}, headers=headers)
                    first.raise_for_status()
                    cold = time.perf_counter() - t0
                    if not floor_file.exists():
                        floor_file.write_bytes(first.content)
                    total = int(first.headers["X-Total-Count"])
                    records, size, offset = 0, 0, 0
                    t0 = time.perf_counter()
                    while offset < total:
                        page = http.get(base + path, params={"limit": args.limit, "offset": offset}, headers=headers)
                        page.raise_for_status()
                        records += len(orjson.loads(page.content)["users"])
                        size += len(page.content)
                        offset += args.limit
                    seconds = time.perf_counter() - t0
                    assert records == total, (records, total)
                    results[version] = {"records": records, "seconds": seconds, "rate": records / seconds, "cold": cold,
                                        "page_bytes": size / max(1, -(-total // args.limit))}
                # The floor: as many pages, of a 1.1 page's bytes, from a route that only sends them (parsed as the pages were).
                pages = -(-results["1.1"]["records"] // args.limit)
                t0 = time.perf_counter()
                for _ in range(pages):
                    orjson.loads(http.get(base + "/floor").content)
                floor_seconds = time.perf_counter() - t0
                rss = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=60)
        # In process, without HTTP: what one core spends per page (select and write the JSON), after the views exist.
        from homeroom.lake.tables import Lake
        from homeroom.oneroster.collections import COLLECTIONS, select_page
        from homeroom.oneroster.lake_views import LakeViews

        views = LakeViews(lambda tenant: Lake.from_settings(settings, tenant), open_database(settings)).for_tenant("bench")
        in_process = {}
        for version in ("1.1", "1.2"):
            views.views(version)
            t0, records = time.perf_counter(), 0
            for offset in range(0, results[version]["records"], args.limit):
                page = select_page(views, version, COLLECTIONS["users"], {"limit": str(args.limit), "offset": str(offset)},
                                   max_limit=args.limit)
                page.view.json_array(page.rows, "http://127.0.0.1/ims/oneroster/v1p1", page.fields)
                records += page.rows.height
            in_process[version] = records / (time.perf_counter() - t0)
        floor_rate = results["1.1"]["records"] / floor_seconds
        print(f"floor: {pages} pages of {len(floor_file.read_bytes()) / 1e6:.2f} MB from a constant route: "
              f"{floor_rate:,.0f} records/s", flush=True)
        for version, r in results.items():
            print(f"OneRoster {version} GET /users?limit={args.limit}: {r['records']:,} records in {r['seconds']:.2f} s = "
                  f"{r['rate']:,.0f} records/s (goal 20,000: {'met' if r['rate'] >= 20_000 else 'NOT met'}); "
                  f"share of the floor {r['rate'] / floor_rate:.2f}; first page (builds the views) {r['cold']:.2f} s; "
                  f"page {r['page_bytes'] / 1e6:.2f} MB", flush=True)
        for version, rate in in_process.items():
            print(f"in process (no HTTP), {version}: {rate:,.0f} records/s", flush=True)
        print(f"server peak RSS: {rss:,.0f} MB")
        print(json.dumps({"students": args.students, "floor_rate": floor_rate, "peak_rss_mb": rss, "in_process": in_process, **results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
