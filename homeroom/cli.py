"""The ``homeroom`` command line: validate packages, generate synthetic districts, list rules."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from homeroom.errors import HomeroomError
from homeroom.inbound.formats import FORMATS
from homeroom.validate.reports import dumps, summary_by_rule, summary_json, write_report
from homeroom.validate.rules import rules_markdown

app = typer.Typer(help="Homeroom: validate and sync school roster packages.", no_args_is_help=True, add_completion=False)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

#: Packages larger than this show a progress bar.
PROGRESS_BYTES = 20 * 1024 * 1024


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="A package: a folder of CSV files or a zip archive.")],
    report: Annotated[Optional[Path], typer.Option(help="Write every finding to this file (.csv, or .jsonl for JSON lines).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary to stdout.")] = False,
    format_name: Annotated[
        Optional[str], typer.Option("--format", help=f"Skip detection; one of: {', '.join(sorted(FORMATS))}.")
    ] = None,
) -> None:
    """Validate a roster package. Exit code: 0 no errors, 1 errors, 2 the package was refused."""
    from homeroom.validate import validate_package

    if format_name is not None and format_name not in FORMATS:
        _fail(f"unknown format {format_name!r}; known formats: {', '.join(sorted(FORMATS))}")
    started = time.perf_counter()
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else (path.stat().st_size if path.exists() else 0)
    show_progress = size > PROGRESS_BYTES and not json_output and err.is_terminal
    try:
        if show_progress:
            with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err, transient=True) as bar:
                task = bar.add_task("validating", total=None)

                def progress(file: str, stage: str, done: int, total: int) -> None:
                    bar.update(task, description=f"{stage} {file}", completed=done, total=total or None)

                result = validate_package(path, format_name=format_name, progress=progress)
        else:
            result = validate_package(path, format_name=format_name)
    except HomeroomError as exc:
        _fail(str(exc))
    elapsed = time.perf_counter() - started
    if report is not None:
        write_report(result.findings, report)
    if json_output:
        sys.stdout.write(dumps(summary_json(result)) + "\n")
    else:
        _print_summary(result, elapsed, report)
    raise typer.Exit(result.exit_code)


def _print_summary(result, elapsed: float, report: Optional[Path]) -> None:
    import polars as pl

    out.print(f"[bold]{result.package}[/]: format {result.format or 'unknown'}, checked in {elapsed:.2f} s")
    if result.files:
        files = Table("file", "rows", "valid", title="Files", title_justify="left")
        for name, s in result.files.items():
            files.add_row(name, f"{s.records:,}", f"{s.valid:,}")
        out.print(files)
    summary = summary_by_rule(result.findings)
    if summary.height:
        table = Table("level", "rule", "file", "count", "fields", title="Findings by rule (most frequent first)", title_justify="left")
        for row in summary.head(40).iter_rows(named=True):
            colour = {"catastrophic": "bold red", "error": "red", "warning": "yellow"}.get(row["level"], "")
            table.add_row(f"[{colour}]{row['level']}[/]", row["rule"], row["file"], f"{row['count']:,}", row["fields"])
        out.print(table)
        if summary.height > 40:
            out.print(f"... and {summary.height - 40} more groups; use --report to see every finding.")
    stops = result.findings.filter(pl.col("level") == "catastrophic")
    for row in stops.iter_rows(named=True):
        out.print(f"[bold red]stopped:[/] {row['file']}: {row['message']}")
    counts = f"{result.count('catastrophic')} catastrophic, {result.count('error'):,} errors, {result.count('warning'):,} warnings"
    verdict = {0: "[green]valid[/]", 1: "[red]errors found[/]", 2: "[bold red]package refused[/]"}[result.exit_code]
    out.print(f"{verdict}: {counts}")
    if report is not None:
        out.print(f"every finding written to {report}")


@app.command()
def generate(
    students: Annotated[int, typer.Option(min=1, help="Number of students.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the SDS v2.1 CSV files into.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 1,
    defect_rate: Annotated[float, typer.Option(min=0.0, max=0.5, help="Share of rows per file with a planted defect.")] = 0.0,
    school_year: Annotated[int, typer.Option(help="The school year (its ending year).")] = 2026,
) -> None:
    """Write a realistic synthetic district (SDS v2.1) and expected-findings.json."""
    from homeroom.synthetic import generate_district

    started = time.perf_counter()
    try:
        expected = generate_district(
            out_dir, students, seed=seed, defect_rate=defect_rate, school_year=school_year,
            progress=lambda msg: err.print(f"[dim]{msg}[/]") if err.is_terminal else None,
        )
    except HomeroomError as exc:
        _fail(str(exc))
    rows = sum(f["records"] for f in expected["files"].values())
    out.print(
        f"wrote {rows:,} rows to {out_dir} in {time.perf_counter() - started:.1f} s "
        f"({expected['totals']['errors']:,} planted errors, {expected['totals']['warnings']:,} planted warnings)"
    )


@app.command()
def rules(markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/validation-rules.md.")] = False) -> None:
    """List every validation rule code."""
    from homeroom.validate.rules import RULES

    if markdown:
        sys.stdout.write(rules_markdown())
        return
    table = Table("code", "levels", "meaning")
    for r in RULES.values():
        table.add_row(r.code, "/".join(r.levels), r.summary)
    out.print(table)


@app.command()
def reference(markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/reference-data.md.")] = False) -> None:
    """List the default reference data (codes of each reference type)."""
    from homeroom.model.reference import ReferenceData, reference_markdown

    if markdown:
        sys.stdout.write(reference_markdown())
        return
    table = Table("referenceType", "codes")
    data = ReferenceData.default()
    for ref_type in sorted({d.reference_type for d in data.definitions()}):
        table.add_row(ref_type, ", ".join(d.code for d in data.definitions(ref_type)))
    out.print(table)


@app.command()
def formats(markdown: Annotated[bool, typer.Option("--markdown", help="Print the column tables of docs/formats.md.")] = False) -> None:
    """List the roster formats Homeroom reads, and their files."""
    from homeroom.inbound.formats.base import format_markdown

    if markdown:
        sys.stdout.write("\n".join(format_markdown(f) for f in FORMATS.values()))
        return
    for f in FORMATS.values():
        out.print(f"[bold]{f.name}[/] ({f.display_name}): " + ", ".join(s.name for s in f.files))


def main() -> None:
    """Entry point for ``python -m homeroom``."""
    app()
