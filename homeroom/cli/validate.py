"""``homeroom validate``: check a package and print its findings by rule, or a JSON summary, with the exit code as verdict."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from homeroom.cli.options import StudentDomain, TeacherDomain, format_options
from homeroom.cli.render import err, errors_as_messages, fail, out

#: Packages larger than this show a progress bar.
PROGRESS_BYTES = 20 * 1024 * 1024
#: The names of ``homeroom.inbound.formats.FORMATS``, sorted, for the help of ``--format``: importing the formats
#: imports Polars, which ``homeroom --help`` should not wait for. tests/cli/test_cli_validate.py keeps the two equal.
FORMAT_NAMES = ("oneroster-1.1", "oneroster-1.2", "sds-v1", "sds-v1-uk", "sds-v2.0", "sds-v2.1")


def validate(
    path: Annotated[Path, typer.Argument(help="A package: a folder of CSV files or a zip archive.")],
    report: Annotated[Optional[Path], typer.Option(help="Write every finding to this file (.csv, or .jsonl for JSON lines).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary to stdout.")] = False,
    format_name: Annotated[
        Optional[str], typer.Option("--format", help=f"Skip detection; one of: {', '.join(FORMAT_NAMES)}.")
    ] = None,
    student_domain: StudentDomain = None,
    teacher_domain: TeacherDomain = None,
) -> None:
    """Validate a roster package. Exit code: 0 no errors, 1 errors, 2 the package was refused."""
    from homeroom.inbound.formats import FORMATS
    from homeroom.validate import validate_package
    from homeroom.findings.reports import dumps, summary_json, write_report

    if format_name is not None and format_name not in FORMATS:
        fail(f"unknown format {format_name!r}; known formats: {', '.join(sorted(FORMATS))}")
    options = format_options(student_domain, teacher_domain)
    started = time.perf_counter()
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else (path.stat().st_size if path.exists() else 0)
    show_progress = size > PROGRESS_BYTES and not json_output and err.is_terminal
    with errors_as_messages():
        if show_progress:
            with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err, transient=True) as bar:
                task = bar.add_task("validating", total=None)

                def progress(file: str, stage: str, done: int, total: int) -> None:
                    bar.update(task, description=f"{stage} {file}", completed=done, total=total or None)

                result = validate_package(path, format_name=format_name, progress=progress, options=options)
        else:
            result = validate_package(path, format_name=format_name, options=options)
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

    from homeroom.findings.reports import summary_by_rule

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
            colour = {"catastrophic": "bold red", "error": "red", "warning": "yellow"}.get(row["level"], "dim")
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
