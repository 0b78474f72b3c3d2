#!/usr/bin/env python3
"""Check: the findings (and validated records) of generated districts are byte-identical to a baseline's.

Performance work must not change what validation says. This script generates districts of every
format, size, seed and defect rate given, validates each with the code of this checkout and with the
code of a baseline checkout (``--baseline``: a directory holding a ``homeroom`` package, e.g. made with
``git archive 7c534f7 homeroom | tar -x -C /tmp/base``), each in a fresh process, and compares

- the findings, written as CSV (every column, in the validator's order), byte for byte;
- a digest of every validated table (the records that passed, by value: a hash of each row, in order);
- the per-file counts.

    .venv/bin/python bench/findings_identical.py --baseline /tmp/base
    .venv/bin/python bench/findings_identical.py --baseline /tmp/base --students 2000 20000 --seeds 1 2

Exits 1 and names the first difference when any district differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("sds-v2.1", "sds-v1", "sds-v1-uk", "oneroster-1.1", "oneroster-1.2")


def digest_stage(package: Path) -> dict:
    """Validate ``package`` with whatever ``homeroom`` is importable; digests of what it found."""
    import io

    import polars as pl

    from homeroom.validate import validate_package

    result = validate_package(package)
    csv = io.BytesIO()
    findings = result.findings
    findings.write_csv(csv) if findings.width else csv.write(b"")
    tables = {}
    for name, table in sorted(result.tables.items()):
        # By value, not by memory layout (chunks, validity buffers): a hash of every row, in order, and the schema.
        frame = pl.from_arrow(table)
        rows = frame.hash_rows(seed=0).to_numpy().tobytes() if frame.height else b""
        tables[name] = hashlib.sha256(str(frame.schema).encode() + rows).hexdigest()
    return {
        "findings_sha256": hashlib.sha256(csv.getvalue()).hexdigest(),
        "findings": findings.height,
        "tables": tables,
        "files": {n: [s.records, s.valid] for n, s in sorted(result.files.items())},
        "stopped": result.stopped,
    }


def run_digest(package: Path, code: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run(
        [sys.executable, __file__, "--stage", str(package)], env=env, check=True, capture_output=True, text=True, cwd=code
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="a directory holding the baseline's homeroom package")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS))
    parser.add_argument("--students", nargs="+", type=int, default=[1000, 30000])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 7])
    parser.add_argument("--defect-rates", nargs="+", type=float, default=[0.0, 0.01, 0.2])
    parser.add_argument("--stage", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(digest_stage(args.stage)))
        return 0
    if args.baseline is None or not (args.baseline / "homeroom").is_dir():
        parser.error("--baseline must name a directory that holds a homeroom package")
    from homeroom.synthetic import generate_district

    differences = 0
    with tempfile.TemporaryDirectory(prefix="findings-identical-") as tmp:
        for fmt in args.formats:
            for students in args.students:
                for seed in args.seeds:
                    for rate in args.defect_rates:
                        package = Path(tmp) / f"{fmt}-{students}-{seed}-{rate:g}"
                        generate_district(package, students, seed=seed, defect_rate=rate, format_name=fmt)
                        mine, theirs = run_digest(package, ROOT), run_digest(package, args.baseline.resolve())
                        same = mine == theirs
                        differences += not same
                        print(f"{'same' if same else 'DIFFERENT':9} {package.name}: {mine['findings']:,} findings", flush=True)
                        if not same:
                            for key in mine:
                                if mine[key] != theirs[key]:
                                    print(f"   {key}: this checkout {mine[key]!r}\n   {key}: baseline      {theirs[key]!r}")
    print(f"{differences} district(s) differ" if differences else "all districts identical")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
