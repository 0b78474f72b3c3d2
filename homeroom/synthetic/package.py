"""Write a synthetic package in any roster format: its CSV files and ``expected-findings.json``.

``expected-findings.json`` says exactly what the validator must report for the package: per file,
how many records it has and how many survive validation, and per (file, rule, level, field) how many
findings. The defect counts are decided before anything is written, so the report is exact.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from homeroom.errors import ConfigurationError
from homeroom.synthetic.csv_lines import splice_order, write_csv_file
from homeroom.synthetic.defects import MAX_DEFECT_RATE, ExpectedFinding, PlantedDefects, plant_defects
from homeroom.synthetic.district import build_district, random_stream
from homeroom.synthetic.formats import DEFAULT_FORMAT, PACKAGE_FORMATS

EXPECTED_FINDINGS_FILE = "expected-findings.json"
_SPLICE_STREAM = 2000


def generate_district(
    out_dir: Path,
    students: int,
    seed: int = 1,
    defect_rate: float = 0.0,
    school_year: int = 2026,
    progress: Callable[[str], None] | None = None,
    format_name: str = DEFAULT_FORMAT,
) -> dict:
    """Write a synthetic district of ``students`` students into ``out_dir`` and return its expected findings.

    ``format_name`` is the roster format of the files (``sds-v2.1``, ``sds-v1``, ``sds-v1-uk``,
    ``oneroster-1.1``, ``oneroster-1.2``); every format writes the same district. The same arguments
    always give byte-identical files. ``defect_rate`` (0 to 0.5) plants extra defective records and
    lines (see ``homeroom.synthetic.defects`` and each format's kinds); at 0 the package is clean and
    the validator finds nothing. ``progress`` is called with a short message before each step.
    """
    if format_name not in PACKAGE_FORMATS:
        raise ConfigurationError(f"--format must be one of {', '.join(PACKAGE_FORMATS)}, not {format_name!r}")
    if students < 1:
        raise ConfigurationError(f"--students must be at least 1, not {students}")
    if seed < 0:
        raise ConfigurationError(f"--seed must be zero or positive, not {seed}")
    if not 0 <= defect_rate <= MAX_DEFECT_RATE:
        raise ConfigurationError(f"--defect-rate must be between 0 and {MAX_DEFECT_RATE}, not {defect_rate}")
    if not 1901 <= school_year <= 9999:
        raise ConfigurationError(f"the school year must be a four-digit year, not {school_year}")
    fmt = PACKAGE_FORMATS[format_name]
    report = progress or (lambda message: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    report(f"building a district of {students:,} students")
    district = build_district(students, seed, school_year)
    if fmt.name != DEFAULT_FORMAT:
        report(f"laying the district out as {fmt.name} files")
    files = fmt.clean_files(district)
    district.tables = {}  # the files hold what is still needed
    report("planting defects" if defect_rate > 0 else "no defects to plant")
    planted = plant_defects(district, files, fmt.defect_kinds, defect_rate, seed, fmt.planter)

    not_carried = fmt.not_carried(files)
    counts: dict[str, dict[str, int]] = {}
    for number, file in enumerate(list(files)):
        clean = files.pop(file)  # written once, then released
        defects = planted[file]
        report(f"writing {file} ({clean.num_rows + defects.records:,} records)")
        _write_file(out_dir / file, tuple(clean.column_names), clean, defects, random_stream(seed, _SPLICE_STREAM + number))
        records = clean.num_rows + defects.records
        counts[file] = {"records": records, "valid": records - defects.dropped - not_carried.get(file, 0)}

    expected = expected_findings(students, seed, defect_rate, school_year, counts, planted, fmt.name)
    (out_dir / EXPECTED_FINDINGS_FILE).write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n", "utf-8")
    report(f"wrote {EXPECTED_FINDINGS_FILE}")
    return expected


def expected_findings(
    students: int,
    seed: int,
    defect_rate: float,
    school_year: int,
    files: dict[str, dict[str, int]],
    planted: dict[str, PlantedDefects],
    format_name: str = DEFAULT_FORMAT,
) -> dict:
    """The expected-findings document: generator arguments, per-file record counts, findings and totals.

    ``generator.format`` names the format when it is not the default, SDS v2.1.
    """
    counts: Counter[ExpectedFinding] = Counter()
    for defects in planted.values():
        counts.update(defects.findings)
    findings = [
        {"file": f.file, "rule": f.rule, "level": f.level, "field": f.field, "count": n}
        for f, n in sorted(counts.items(), key=lambda item: item[0].sort_key())
        if n > 0
    ]
    generator: dict[str, object] = {"students": students, "seed": seed, "defectRate": float(defect_rate), "schoolYear": school_year}
    if format_name != DEFAULT_FORMAT:
        generator["format"] = format_name
    return {
        "generator": generator,
        "files": files,
        "findings": findings,
        "totals": {
            "catastrophic": 0,
            "errors": sum(f["count"] for f in findings if f["level"] == "error"),
            "warnings": sum(f["count"] for f in findings if f["level"] == "warning"),
        },
    }


def _write_file(path: Path, header: tuple[str, ...], clean: pa.Table, defects: PlantedDefects, rng: np.random.Generator) -> None:
    rows = pa.concat_tables([clean, *defects.inserted, *defects.appended])
    raw = pa.concat_arrays(defects.raw_lines) if defects.raw_lines else pa.array([], pa.string())
    order = splice_order(clean.num_rows, defects.inserted_rows, len(raw), defects.appended_rows, rng)
    write_csv_file(path, header, rows, raw, order)
