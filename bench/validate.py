#!/usr/bin/env python3
"""Benchmark: ``homeroom validate`` against PyArrow reading the same files (the floor).

Generates (and caches) a synthetic district in one roster format (``--format``, default
sds-v2.1), then in the same run times, each in a fresh subprocess so that peak memory is its own:

- the floor: ``pyarrow.csv.read_csv`` of every CSV file of the package, default options except an
  invalid-row handler that skips broken lines (without one PyArrow stops at the first planted defect);
- Homeroom: ``validate_package`` on the package (format detection, package checks, parsing, record
  checks, findings).

Prints both times (best of ``--repeat``), their ratio and each side's peak RSS. Goal (issue 2):
ratio at most 4, Homeroom peak RSS at most 6 GB for 1.1M students.

    .venv/bin/python bench/validate.py                      # 1.1M students, defect rate 0.001
    .venv/bin/python bench/validate.py --students 100000 --repeat 1
    .venv/bin/python bench/validate.py --format oneroster-1.2   # the same district as OneRoster 1.2 CSV
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


def stage_floor(package: Path) -> dict:
    import pyarrow.csv as pcsv

    skip = pcsv.ParseOptions(invalid_row_handler=lambda row: "skip")
    started = time.perf_counter()
    rows = sum(pcsv.read_csv(p, parse_options=skip).num_rows for p in sorted(package.glob("*.csv")))
    return {"seconds": time.perf_counter() - started, "rows": rows}


def stage_homeroom(package: Path) -> dict:
    from homeroom.validate import validate_package

    started = time.perf_counter()
    result = validate_package(package)
    seconds = time.perf_counter() - started
    # The generator planted the defects, so the findings must be exactly the expected ones.
    expected = json.loads((package / "expected-findings.json").read_text("utf-8"))
    found = {tuple(row[:4]): row[4] for row in result.findings.group_by("file", "rule", "level", "field").len().rows()}
    planted = {(f["file"], f["rule"], f["level"], f["field"]): f["count"] for f in expected["findings"]}
    return {
        "seconds": seconds,
        "rows": sum(s.records for s in result.files.values()),
        "errors": result.count("error"),
        "warnings": result.count("warning"),
        "format": result.format,
        "exact": found == planted,
    }


def run_stage(stage: str, package: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--stage", stage, "--package", str(package)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_district(students: int, seed: int, defect_rate: float, cache: Path, format_name: str = "sds-v2.1") -> Path:
    package = cache / f"district-{format_name}-{students}-seed{seed}-defects{defect_rate:g}"
    if (package / "expected-findings.json").exists():
        return package
    from homeroom.synthetic import generate_district

    print(f"generating {students:,} students as {format_name} into {package} (cached for later runs) ...", flush=True)
    started = time.perf_counter()
    generate_district(package, students, seed=seed, defect_rate=defect_rate, format_name=format_name)
    print(f"generated in {time.perf_counter() - started:.1f} s", flush=True)
    return package


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=1_100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--defect-rate", type=float, default=0.001)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", dest="format_name", default="sds-v2.1",
                        help="roster format of the district: sds-v2.1, sds-v1, sds-v1-uk, oneroster-1.1, oneroster-1.2")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    parser.add_argument("--stage", choices=["floor", "homeroom"], help=argparse.SUPPRESS)
    parser.add_argument("--package", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.stage:
        result = (stage_floor if args.stage == "floor" else stage_homeroom)(args.package)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    package = ensure_district(args.students, args.seed, args.defect_rate, args.cache, args.format_name)
    size_mb = sum(p.stat().st_size for p in package.glob("*.csv")) / 1e6
    runs: dict[str, list[dict]] = {"floor": [], "homeroom": []}
    for _ in range(args.repeat):
        for stage in runs:  # interleaved, so both sides see the same machine conditions
            runs[stage].append(run_stage(stage, package))
    best = {stage: min(r, key=lambda x: x["seconds"]) for stage, r in runs.items()}
    peak = {stage: max(x["peak_rss_mb"] for x in r) for stage, r in runs.items()}
    ratio = best["homeroom"]["seconds"] / best["floor"]["seconds"]
    assert best["homeroom"]["format"] == args.format_name, f"detected {best['homeroom']['format']}, not {args.format_name}"
    print(f"package: {package.name}, {size_mb:,.0f} MB of CSV, {best['homeroom']['rows']:,} records")
    print(f"floor    (pyarrow.csv.read_csv): {best['floor']['seconds']:7.2f} s   peak RSS {peak['floor']:8,.0f} MB")
    print(f"homeroom (validate_package)    : {best['homeroom']['seconds']:7.2f} s   peak RSS {peak['homeroom']:8,.0f} MB")
    print(f"ratio homeroom/floor: {ratio:.2f} (goal <= 4)   findings: {best['homeroom']['errors']:,} errors, {best['homeroom']['warnings']:,} warnings"
          f" ({'exactly' if best['homeroom']['exact'] else 'NOT'} the planted ones)")
    print(json.dumps({"format": args.format_name, "students": args.students, "csv_mb": round(size_mb), "floor_s": round(best["floor"]["seconds"], 2),
                      "homeroom_s": round(best["homeroom"]["seconds"], 2), "ratio": round(ratio, 2),
                      "homeroom_peak_rss_mb": round(peak["homeroom"]), "floor_peak_rss_mb": round(peak["floor"]),
                      "repeat": args.repeat}))


if __name__ == "__main__":
    main()
