#!/usr/bin/env python3
"""Benchmark: the SDS CSV loop through the API (upload, validate, run) against ``homeroom run`` on the same files.

In one invocation, on the same district:

- the floor: ``homeroom run`` of the package folder, in a fresh subprocess and data folder;
- the loop: ``homeroom serve`` in a subprocess (fresh data folder, SQLite, local lake), configured over the API
  (source system, year, CSV connector, inbound flow); then timed from the first call to the run's end:
  ``getUploadSession``, upload of every CSV with the Azure Blob calls (``homeroom.client``, the code behind
  ``homeroom upload``), ``validate`` and its polling, ``runs/start`` and its polling.

Prints both times, the ratio (goal, issue 6: at most 1.3x) and the server's peak RSS; checks that the run's
statistics equal those of ``homeroom run``.

    .venv/bin/python bench/upload.py                      # 1.1M students
    .venv/bin/python bench/upload.py --students 100000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOW = "Inbound rostering flow"


def floor(package: Path, data_dir: Path) -> dict:
    """``homeroom run`` of the package in a subprocess; its statistics, time and peak RSS."""
    code = (
        "import json, resource, sys, time\n"
        "from pathlib import Path\n"
        "from homeroom.runs import Runner\nfrom homeroom.api.statistics import run_statistics\nfrom homeroom.settings import Settings\n"
        "t = time.perf_counter()\n"
        f"o = Runner('bench', settings=Settings(data_dir=Path({str(data_dir)!r}))).run(Path({str(package)!r}), flow_name={FLOW!r}, year='2026')\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'status': o.run.status,\n"
        "  'totals': run_statistics(o.run)['inboundTotals'],\n"
        "  'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def loop(package: Path, data_dir: Path, poll_seconds: float) -> dict:
    """Serve, configure, then time upload + validate + run through the API."""
    import httpx

    from homeroom.client import GraphClient

    env = {**os.environ, "HOMEROOM_DATA_DIR": str(data_dir), "HOMEROOM_SCHEDULE_INTERVAL_HOURS": "0",
           "HOMEROOM_API_THROTTLE_CALLS": "100000"}
    homeroom = str(Path(sys.executable).parent / "homeroom")
    created = subprocess.run([homeroom, "apps", "create", "--tenant", "bench", "--json", *sum(
        (["--permission", p] for p in ("IndustryData-SourceSystem.ReadWrite.All", "IndustryData-TimePeriod.ReadWrite.All",
                                       "IndustryData-DataConnector.ReadWrite.All", "IndustryData-InboundFlow.ReadWrite.All",
                                       "IndustryData.ReadBasic.All", "IndustryData-Run.Start", "IndustryData-Run.Read.All")), [])],
        env=env, check=True, capture_output=True, text=True)
    app = json.loads(created.stdout)
    port = _free_port()
    server = subprocess.Popen([homeroom, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert time.time() < deadline and server.poll() is None, "homeroom serve did not start"
                time.sleep(0.2)
        with GraphClient(base, "bench", app["clientId"], app["clientSecret"]) as client:
            api = f"{base}/beta/external/industryData"
            headers = {"Authorization": f"Bearer {client.access_token()}"}

            def post(path: str, body: dict) -> dict:
                r = httpx.post(f"{api}/{path}", json=body, headers=headers)
                r.raise_for_status()
                return r.json()
            source = post("sourceSystems", {"displayName": "District SIS"})
            year = post("years", {"displayName": "2025-2026", "startDate": "2025-08-01", "endDate": "2026-07-31", "year": {"code": "2026"}})
            connector = post("dataConnectors", {
                "@odata.type": "#microsoft.graph.industryData.azureDataLakeConnector", "displayName": "CSV connector",
                "sourceSystem@odata.bind": f"{api}/sourceSystems/{source['id']}",
                "fileFormat": {"@odata.type": "#microsoft.graph.industryData.fileFormatReferenceValue", "code": "schoolDataSyncV2Rev1"}})
            post("inboundFlows", {
                "@odata.type": "#microsoft.graph.industryData.inboundFileFlow", "displayName": FLOW, "dataDomain": "educationRostering",
                "effectiveDateTime": "2025-08-01T00:00:00Z", "dataConnector@odata.bind": f"{api}/dataConnectors/{connector['id']}",
                "year@odata.bind": f"{api}/years/{year['id']}"})

            started = time.perf_counter()
            session = client.upload_session(connector["id"])
            files = client.upload_files(session.session_url, [package])
            uploaded = time.perf_counter()
            operation = client.wait(client.validate(connector["id"]), poll_seconds=poll_seconds)
            validated = time.perf_counter()
            assert not operation["errors"], operation["errors"]
            run = client.wait_run(client.start_run(), poll_seconds=poll_seconds)
            finished = time.perf_counter()
            totals = client.statistics(run["id"])["inboundTotals"]
        return {"seconds": finished - started, "upload_s": uploaded - started, "validate_s": validated - uploaded,
                "run_s": finished - validated, "status": run["status"], "totals": totals,
                "bytes": sum(f.size for f in files), "server_peak_rss_mb": _peak_rss_mb(server.pid)}
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=1_100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--poll-seconds", type=float, default=0.5,
                        help="How often the client polls operations (SDS asks real clients for 5 s; 0.5 s keeps the measure fair).")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    args = parser.parse_args()

    from homeroom.synthetic import generate_district

    package = args.cache / f"district-{args.students}-seed{args.seed}-defects0"
    if not (package / "expected-findings.json").exists():
        print(f"generating {args.students:,} students into {package} ...", flush=True)
        generate_district(package, args.students, seed=args.seed)
    csvs = sorted(package.glob("*.csv"))  # expected-findings.json stays out of the upload
    upload_dir = Path(tempfile.mkdtemp(prefix="homeroom-bench-pkg-"))
    for path in csvs:  # hard links: no copy of a gigabyte of CSV
        try:
            os.link(path, upload_dir / path.name)
        except OSError:
            shutil.copy(path, upload_dir)

    work = Path(tempfile.mkdtemp(prefix="homeroom-bench-"))
    try:
        base = floor(upload_dir, work / "floor")
        api = loop(upload_dir, work / "server", args.poll_seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(upload_dir, ignore_errors=True)
    same = api["totals"] == base["totals"]
    ratio = api["seconds"] / base["seconds"]
    print(f"district: {package.name}, {api['bytes'] / 1e6:,.0f} MB of CSV")
    print(f"floor: homeroom run          : {base['seconds']:7.2f} s   peak RSS {base['peak_rss_mb']:8,.0f} MB   {base['status']}")
    print(f"API: upload+validate+run     : {api['seconds']:7.2f} s   ratio {ratio:5.2f}   server peak RSS "
          f"{api['server_peak_rss_mb']:8,.0f} MB   {api['status']}")
    print(f"  upload {api['upload_s']:.2f} s, validate {api['validate_s']:.2f} s, runs/start to end {api['run_s']:.2f} s")
    print(f"statistics equal to homeroom run's: {same}")
    print(json.dumps({"students": args.students, "floor_s": round(base["seconds"], 2), "api_s": round(api["seconds"], 2),
                      "ratio": round(ratio, 3), "upload_s": round(api["upload_s"], 2), "validate_s": round(api["validate_s"], 2),
                      "run_s": round(api["run_s"], 2), "floor_peak_rss_mb": round(base["peak_rss_mb"]),
                      "server_peak_rss_mb": round(api["server_peak_rss_mb"]), "statistics_equal": same}))
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
