#!/usr/bin/env python3
"""Benchmark: ``homeroom run`` (validate, lake update, statistics) against PyArrow reading the same files.

In one invocation, each stage in a fresh subprocess so that peak memory is its own:

- the floor: ``pyarrow.csv.read_csv`` of every CSV file of the district;
- the first full run of the district into an empty lake (SQLite store, local Delta Lake);
- a second run of the next snapshot, with ``--churn`` of the students leaving, arriving and renamed.

Prints times, ratios to the floor and peak RSS. Goal (issue 4): each run at most 20x the floor,
peak RSS at most 10 GB, for 1.1M students.

    .venv/bin/python bench/run.py                       # 1.1M students, 1% churn
    .venv/bin/python bench/run.py --students 100000
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def stage(name: str, package: Path, data_dir: Path) -> dict:
    import pyarrow.csv as pcsv

    from homeroom.runs import Runner
    from homeroom.settings import Settings

    if name == "floor":
        pcsv.read_csv(sorted(package.glob("*.csv"))[0])  # warm up the thread pool once
    started = time.perf_counter()
    if name == "floor":
        rows = sum(pcsv.read_csv(p).num_rows for p in sorted(package.glob("*.csv")))
        result = {"rows": rows}
    else:
        outcome = Runner("bench", settings=Settings(data_dir=data_dir)).run(package, flow_name="bench", year="2026")
        result = {"status": outcome.run.status, "changes": {k: {c: v[c] for c in ("added", "updated", "deactivated")}
                                                            for k, v in outcome.activity.changes.items()}}
    result["seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def run_stage(name: str, package: Path, data_dir: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--stage", name, "--package", str(package), "--data-dir", str(data_dir)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=1_100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--churn", type=float, default=0.01)
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--package", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, args.package, args.data_dir)))
        return

    from homeroom.synthetic import generate_district
    from homeroom.synthetic.churn import churn_package

    first = args.cache / f"district-{args.students}-seed{args.seed}-defects0"
    if not (first / "expected-findings.json").exists():
        print(f"generating {args.students:,} students into {first} ...", flush=True)
        generate_district(first, args.students, seed=args.seed)
    second = args.cache / f"district-{args.students}-seed{args.seed}-churn{args.churn:g}"
    if not (second / "users.csv").exists():
        print(f"churning {args.churn:.1%} into {second} ...", flush=True)
        churn_package(first, second, args.churn, seed=args.seed)

    data_dir = Path(tempfile.mkdtemp(prefix="homeroom-bench-"))
    try:
        floor = min((run_stage("floor", first, data_dir) for _ in range(2)), key=lambda r: r["seconds"])
        run1 = run_stage("run", first, data_dir)
        run2 = run_stage("run", second, data_dir)
    finally:
        lake_mb = sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file()) / 1e6
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"district: {first.name}, {floor['rows']:,} rows; lake and store after two runs: {lake_mb:,.0f} MB")
    print(f"floor (pyarrow.csv.read_csv) : {floor['seconds']:7.2f} s   peak RSS {floor['peak_rss_mb']:8,.0f} MB")
    for label, r in (("first full run", run1), (f"second run ({args.churn:.0%} churn)", run2)):
        print(f"{label:29s}: {r['seconds']:7.2f} s   ratio {r['seconds'] / floor['seconds']:6.2f}   peak RSS {r['peak_rss_mb']:8,.0f} MB   {r['status']}")
    print(f"second run changes (users): {run2['changes'].get('users')}")
    print(json.dumps({"students": args.students, "floor_s": round(floor["seconds"], 2),
                      "run1_s": round(run1["seconds"], 2), "run1_ratio": round(run1["seconds"] / floor["seconds"], 2),
                      "run2_s": round(run2["seconds"], 2), "run2_ratio": round(run2["seconds"] / floor["seconds"], 2),
                      "run1_peak_rss_mb": round(run1["peak_rss_mb"]), "run2_peak_rss_mb": round(run2["peak_rss_mb"]),
                      "lake_mb": round(lake_mb)}))


if __name__ == "__main__":
    main()
