#!/usr/bin/env python3
"""Benchmark: page times of the dashboard on a 1.1M-student tenant against a static file of the same app.

In one invocation: a generated district (1.1M students), the same district with defects (rate 0.001, so that its
run has findings) and the first one's next snapshot (1% churn) are run into a fresh data folder with
``homeroom run`` (each in a process of its own), a user is created, and the app is served by uvicorn in a subprocess. One signed-in httpx client then requests, in turn and
``--requests`` times each (after a warm-up):

- the floor: ``/admin/static/dashboard.css``, a static file served by the same app (same middleware, no database);
- the overview ``/admin/``;
- the page of the run with findings (statistics, change set, findings by rule and file);
- the findings list of the run's most frequent rule, page 10 (50 findings, from the sorted Parquet log);
- the findings list of every rule, page 100.

Prints p50 and p99 of each and its p50 as a multiple of the floor's (goal, issue 17: within 5x), and the server's
peak RSS. Needs about 10 GB for the runs: run it under the machine's heavy-job lock.

    flock /work/.heavy.lock .venv/bin/python bench/dashboard.py
    .venv/bin/python bench/dashboard.py --students 20000 --requests 50     # a quick look
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import serving  # noqa: E402
HOMEROOM = Path(sys.executable).with_name("homeroom")
PASSWORD = "bench password 123"


def run_package(package: Path, data_dir: Path) -> dict:
    """``homeroom run --json`` of a package into the data folder, in a process of its own."""
    env = {**os.environ, "HOMEROOM_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    done = subprocess.run([str(HOMEROOM), "run", str(package), "--flow", "sis", "--year", "2026", "--json"], env=env,
                          capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: the run completed with errors
        raise SystemExit(f"homeroom run failed ({done.returncode}): {done.stderr[-2000:]}")
    run = json.loads(done.stdout)
    print(f"  {package.name}: {run['status']} in {time.perf_counter() - started:.1f} s", flush=True)
    return run


def run_server(port: int, data_dir: Path, page_cache: bool) -> None:
    import uvicorn

    from homeroom.api import create_app
    from homeroom.api.cache import ReadCache
    from homeroom.settings import Settings

    app = create_app(Settings(data_dir=data_dir, schedule_interval_hours=0))
    if not page_cache:  # every view renders anew: what the first view of a page after a change costs
        app.state.dashboard_pages = ReadCache(max_entries=1, max_age=-1.0)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


def serve(data_dir: Path, page_cache: bool) -> tuple[str, subprocess.Popen]:
    """This script's server (``--serve``) on a free loopback port, once it answers; its URL and process."""
    port, process = serving.start(__file__, "/admin/static/dashboard.css", "--data-dir", str(data_dir),
                                  *([] if page_cache else ["--no-page-cache"]))
    return f"http://127.0.0.1:{port}", process


def measure(url: str, run_id: str, requests: int) -> dict:
    """Sign in, then request each page in turn ``requests`` times (after 5 rounds to warm up); milliseconds by page."""
    import httpx

    http = httpx.Client(base_url=url, timeout=60)
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/admin/sign-in").text).group(1)
    signed = http.post("/admin/sign-in", data={"csrf_token": token, "tenant": "default", "username": "bench",
                                                "password": PASSWORD})
    assert signed.status_code == 303, signed.text
    top = re.search(r'<tr data-rule="([^"]+)" data-file="([^"]+)">', http.get(f"/admin/runs/{run_id}").text)
    targets = {
        "floor: static file": "/admin/static/dashboard.css",
        "overview": "/admin/",
        "a run": f"/admin/runs/{run_id}",
        f"findings of {top.group(1)}, page 10": f"/admin/runs/{run_id}/findings?rule={top.group(1)}&file={top.group(2)}&page=10",
        "findings of every rule, page 100": f"/admin/runs/{run_id}/findings?page=100",
    }
    times: dict[str, list[float]] = {name: [] for name in targets}
    for round_ in range(requests + 5):  # in turn, so that every page sees the same machine
        for name, path in targets.items():
            started = time.perf_counter()
            answer = http.get(path)
            elapsed = time.perf_counter() - started
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
            if round_ >= 5:
                times[name].append(elapsed * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=1_100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--defect-rate", type=float, default=0.001)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache",
                        help="Where the generated districts are kept and reused (the machine's shared /work/benchdata).")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-page-cache", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run_server(args.port, args.data_dir, not args.no_page_cache)
        return

    from homeroom.auth.registrations import create_user
    from homeroom.settings import Settings
    from homeroom.store.database import open_database
    from homeroom.synthetic import generate_district
    from homeroom.synthetic.churn import churn_package

    clean = args.cache / f"district-{args.students}-seed{args.seed}-defects0"
    defects = args.cache / f"district-{args.students}-seed{args.seed}-defects{args.defect_rate:g}"
    churned = args.cache / f"district-{args.students}-seed{args.seed}-churn0.01"
    args.cache.mkdir(parents=True, exist_ok=True)
    with open(args.cache / ".gen.lock", "w") as lock:  # a shared cache (/work/benchdata): one generator at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        for package, rate in ((clean, 0.0), (defects, args.defect_rate)):
            if not (package / "expected-findings.json").exists():
                print(f"generating {args.students:,} students into {package} ...", flush=True)
                generate_district(package, args.students, seed=args.seed, defect_rate=rate)
        if not (churned / "users.csv").exists():
            churn_package(clean, churned, 0.01, seed=args.seed)

    data_dir = Path(tempfile.mkdtemp(prefix="homeroom-bench-dashboard-"))
    process = None
    try:
        print("running three snapshots into a fresh tenant: the district, the same with defects, then 1% churn ...", flush=True)
        run1 = [run_package(p, data_dir) for p in (clean, defects, churned)][1]
        sessions = open_database(Settings(data_dir=data_dir))
        with sessions.begin() as db:
            create_user(db=db, tenant_id="default", username="bench", password=PASSWORD,
                        permissions=["IndustryData-Run.Read.All", "IndustryData-InboundFlow.Read.All"])
        findings = sum(f["count"] for a in run1["activities"] for f in a["findings"])
        measured = {}
        for page_cache in (True, False):
            url, process = serve(data_dir, page_cache)
            measured[page_cache] = measure(url, run1["id"], args.requests)
            measured[page_cache]["rss"] = serving.peak_rss_mb(process.pid)
            process.kill()
            process.wait()
            process = None
    finally:
        if process is not None:
            process.kill()
            process.wait()
        shutil.rmtree(data_dir, ignore_errors=True)

    print(f"tenant: {args.students:,} students (defect rate {args.defect_rate:g}), three runs; the one with defects has "
          f"{findings:,} findings; {args.requests} requests per page, one client")
    result: dict = {"students": args.students, "requests": args.requests}
    for page_cache, times in measured.items():
        label = "page cache on (repeated views)" if page_cache else "page cache off (every view rendered)"
        rss = times.pop("rss")
        floor = statistics.median(times["floor: static file"])
        print(label)
        part = result.setdefault("cached" if page_cache else "uncached", {"server_peak_rss_mb": round(rss)})
        for name, values in times.items():
            p50, p99 = statistics.median(values), statistics.quantiles(values, n=100)[98]
            print(f"  {name:42s} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   p50 / floor {p50 / floor:5.2f}")
            part[name] = {"p50_ms": round(p50, 2), "p99_ms": round(p99, 2), "ratio": round(p50 / floor, 2)}
        print(f"  server peak RSS {rss:,.0f} MB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
