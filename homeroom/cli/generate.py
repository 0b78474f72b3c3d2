"""``homeroom generate`` and ``homeroom churn``: synthetic districts, and the next snapshot of one, for tests, demos and benchmarks."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from homeroom.cli.render import errors_as_messages, out
from homeroom.cli.stages import stages, wanted


def generate(
    students: Annotated[int, typer.Option(min=1, help="Number of students.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the CSV files into.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 1,
    defect_rate: Annotated[float, typer.Option(min=0.0, max=0.5, help="Share of rows per file with a planted defect.")] = 0.0,
    school_year: Annotated[int, typer.Option(help="The school year (its ending year).")] = 2026,
    format_name: Annotated[
        str, typer.Option("--format", help="Roster format of the files: sds-v2.1, sds-v1, sds-v1-uk, oneroster-1.1 or oneroster-1.2.")
    ] = "sds-v2.1",
) -> None:
    """Write a realistic synthetic district (SDS v2.1, or another format) and expected-findings.json."""
    from homeroom.synthetic import generate_district

    started = time.perf_counter()
    with errors_as_messages(), stages(wanted()) as progress:
        expected = generate_district(
            out_dir, students, seed=seed, defect_rate=defect_rate, school_year=school_year,
            progress=progress, format_name=format_name,
        )
    rows = sum(f["records"] for f in expected["files"].values())
    out.print(
        f"wrote {rows:,} rows to {out_dir} in {time.perf_counter() - started:.1f} s "
        f"({expected['totals']['errors']:,} planted errors, {expected['totals']['warnings']:,} planted warnings)"
    )


def churn(
    source: Annotated[Path, typer.Argument(help="An SDS v2.1 package without broken lines (e.g. from generate).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the next snapshot.")],
    rate: Annotated[float, typer.Option(help="Share of students that leave (as many arrive and as many are renamed).")] = 0.01,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Write the next snapshot of a district: some students leave, some arrive, some are renamed."""
    from homeroom.synthetic.churn import churn_package

    with errors_as_messages():
        summary = churn_package(source, out_dir, rate, seed)
    out.print(f"wrote {out_dir}: {summary['left']:,} students left, {summary['arrived']:,} arrived, {summary['renamed']:,} renamed")
