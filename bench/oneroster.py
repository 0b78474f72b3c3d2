#!/usr/bin/env python3
"""Benchmark: a full pull of a OneRoster API against reading the same records from CSV, in the same run.

Generates (and caches) a clean district as OneRoster CSV (``--version`` 1.2 by default), starts the test suite's
OneRoster source server (``tests/oneroster/source_server.py``: uvicorn on localhost, in its own process) serving that
package as JSON, and then times, each in a fresh subprocess so that peak memory is its own:

- the floor: ``pyarrow.csv.read_csv`` of the CSV files the collections stand for (every column as text);
- CSV batch: ``read_package`` of the package (Homeroom's CSV reader to a ``Batch``, what a run validates);
- pull: ``homeroom.inbound.oneroster_api.pull`` of every collection (OAuth 2 token, pages of 5000 with
  ``X-Total-Count`` checks, JSON to the same ``Batch``), the server's time included.

Prints the best of ``--repeat`` for each, the ratios pull/floor and pull/CSV batch, records per second and peak
RSS. Goal (issue 14): the pull at most 5x the CSV read of the same records.

    .venv/bin/python bench/oneroster.py --students 100000
    flock /work/.heavy.lock .venv/bin/python bench/oneroster.py --students 1100000 --repeat 1 --cache /work/benchdata
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "oneroster" / "source_server.py"
FILES = ("orgs.csv", "academicSessions.csv", "courses.csv", "users.csv", "roles.csv", "classes.csv", "enrollments.csv",
         "demographics.csv")


def stage_floor(package: Path, _address: str, _version: str) -> dict:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    started = time.perf_counter()
    rows = 0
    for name in FILES:
        if (package / name).exists():
            header = (package / name).open("r", encoding="utf-8").readline().strip().split(",")
            options = pcsv.ConvertOptions(column_types={h: pa.string() for h in header})
            rows += pcsv.read_csv(package / name, convert_options=options).num_rows
    return {"seconds": time.perf_counter() - started, "rows": rows}


def stage_csv(package: Path, _address: str, _version: str) -> dict:
    from homeroom.inbound import read_package

    started = time.perf_counter()
    batch = read_package(package)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": sum(f.records for f in batch.files.values() if f.records) - batch.files["manifest.csv"].records,
            "sources": sum(s.frame.height for s in batch.sources)}


def stage_pull(_package: Path, address: str, version: str) -> dict:
    from homeroom.inbound.oneroster_api import OAUTH2, ConnectorConfig, OneRosterCredential, pull
    from homeroom.settings import Settings

    credential = OneRosterCredential(OAUTH2, "sis-client", "sis-secret", token_url=f"{address}/token")
    config = ConnectorConfig(address, version, credential, demographics=True, contacts=True)
    started = time.perf_counter()
    pulled = pull(config, Settings())
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "records": sum(pulled.records.values()), "requests": pulled.requests,
            "rows": sum(f.records for f in pulled.batch.files.values()), "sources": sum(s.frame.height for s in pulled.batch.sources),
            "by_collection": pulled.records}


STAGES = {"floor": stage_floor, "csv": stage_csv, "pull": stage_pull}


def run_stage(stage: str, package: Path, address: str, version: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--stage", stage, "--package", str(package), "--address", address,
                          "--version", version], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_district(students: int, version: str, cache: Path) -> Path:
    package = cache / f"district-oneroster-{version}-{students}-seed1-defects0"
    if (package / "expected-findings.json").exists():
        return package
    sys.path.insert(0, str(ROOT))
    from homeroom.synthetic import generate_district

    print(f"generating {students:,} students as oneroster-{version} into {package} (cached) ...", flush=True)
    generate_district(package, students, seed=1, defect_rate=0.0, format_name=f"oneroster-{version}")
    return package


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--version", choices=["1.1", "1.2"], default="1.2")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache",
                        help="where the generated package is kept and reused (shared machine: /work/benchdata)")
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--package", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.stage:
        result = STAGES[args.stage](args.package, args.address, args.version)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    package = ensure_district(args.students, args.version, args.cache)
    server = subprocess.Popen([sys.executable, str(SERVER), "--package", str(package), "--version", args.version],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        address = server.stdout.readline().strip()
        assert address.startswith("http://127.0.0.1:"), f"the source server did not start: {address!r}"
        runs: dict[str, list[dict]] = {stage: [] for stage in STAGES}
        for _ in range(args.repeat):
            for stage in runs:  # interleaved, so every side sees the same machine conditions
                runs[stage].append(run_stage(stage, package, address, args.version))
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    best = {stage: min(r, key=lambda x: x["seconds"]) for stage, r in runs.items()}
    peak = {stage: max(x["peak_rss_mb"] for x in r) for stage, r in runs.items()}
    pulled = best["pull"]
    assert pulled["rows"] == best["floor"]["rows"] == best["csv"]["rows"], (pulled["rows"], best["floor"]["rows"], best["csv"]["rows"])
    assert pulled["sources"] == best["csv"]["sources"], "the pull's batch holds the rows the CSV batch holds"
    ratio, ratio_csv = pulled["seconds"] / best["floor"]["seconds"], pulled["seconds"] / best["csv"]["seconds"]
    print(f"district: {args.students:,} students, OneRoster {args.version}; {pulled['records']:,} JSON records in "
          f"{pulled['requests']:,} requests, {pulled['rows']:,} CSV rows ({', '.join(f'{k} {v:,}' for k, v in pulled['by_collection'].items())})")
    print(f"floor     (pyarrow.csv.read_csv): {best['floor']['seconds']:7.2f} s   peak RSS {peak['floor']:7,.0f} MB")
    print(f"CSV batch (read_package)        : {best['csv']['seconds']:7.2f} s   peak RSS {peak['csv']:7,.0f} MB")
    print(f"pull      (oneroster_api.pull)  : {pulled['seconds']:7.2f} s   peak RSS {peak['pull']:7,.0f} MB   "
          f"{pulled['records'] / pulled['seconds']:,.0f} records/s")
    print(f"ratio pull/floor: {ratio:.2f} (goal <= 5)   pull/CSV batch: {ratio_csv:.2f}")
    print(json.dumps({"students": args.students, "version": args.version, "records": pulled["records"],
                      "floor_s": round(best["floor"]["seconds"], 2), "csv_s": round(best["csv"]["seconds"], 2),
                      "pull_s": round(pulled["seconds"], 2), "ratio_floor": round(ratio, 2), "ratio_csv": round(ratio_csv, 2),
                      "records_per_s": round(pulled["records"] / pulled["seconds"]), "pull_peak_rss_mb": round(peak["pull"]),
                      "repeat": args.repeat}))


if __name__ == "__main__":
    main()
