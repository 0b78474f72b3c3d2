#!/usr/bin/env python3
"""Benchmark: how validation and a first run grow with the district (the curve of issue 15).

For each size (default 100k, 300k, 1.1M and 2.2M students; districts generated once and cached in
``bench/.cache``), in fresh subprocesses so that each peak RSS is its own: ``validate_package`` of the
district (defect rate ``--defect-rate``), and the first ``homeroom run`` of it into an empty lake
(``bench/run.py``'s stage). Prints time and peak memory per size, and the exponent ``b`` of the
least-squares fit ``y = a * students**b`` (on log-log axes) for each. Goal: ``b`` at most 1.1 for the
time and the memory of both.

    flock /work/.heavy.lock .venv/bin/python bench/scale.py
    .venv/bin/python bench/scale.py --sizes 20000 50000 100000     # a quick curve
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from run import run_stage as run_run_stage  # noqa: E402
from validate import ensure_district, run_stage as run_validate_stage  # noqa: E402


def exponent(xs: list[float], ys: list[float]) -> float:
    """The slope of the least-squares line through (log x, log y)."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[100_000, 300_000, 1_100_000, 2_200_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--defect-rate", type=float, default=0.001)
    parser.add_argument("--no-run", action="store_true", help="only validation")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    args = parser.parse_args()
    if len(args.sizes) < 2:
        parser.error("--sizes needs at least two sizes to fit a curve")

    rows: list[dict] = []
    for students in sorted(args.sizes):
        package = ensure_district(students, args.seed, args.defect_rate, args.cache)
        row = {"students": students}
        validated = run_validate_stage("homeroom", package)
        row["validate_s"], row["validate_mb"] = validated["seconds"], validated["peak_rss_mb"]
        if not args.no_run:
            with tempfile.TemporaryDirectory(prefix="homeroom-scale-") as data_dir:
                ran = run_run_stage("run", package, Path(data_dir))
            row["run_s"], row["run_mb"] = ran["seconds"], ran["peak_rss_mb"]
        rows.append(row)
        print(
            f"{students:>10,} students: validate {row['validate_s']:7.2f} s {row['validate_mb']:8,.0f} MB"
            + ("" if args.no_run else f"   first run {row['run_s']:7.2f} s {row['run_mb']:8,.0f} MB"),
            flush=True,
        )
    sizes = [r["students"] for r in rows]
    fits = {key: exponent(sizes, [r[key] for r in rows]) for key in rows[0] if key != "students"}
    print("fitted exponents (goal <= 1.1): " + ", ".join(f"{k} {v:.2f}" for k, v in fits.items()))
    print(json.dumps({"rows": rows, "exponents": {k: round(v, 3) for k, v in fits.items()}}))
    return 0 if all(v <= 1.1 for v in fits.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
