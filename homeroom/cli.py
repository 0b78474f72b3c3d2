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


StudentDomain = Annotated[
    Optional[str], typer.Option(help="SDS v1: domain added to students' usernames that have none (e.g. students.contoso.edu).")
]
TeacherDomain = Annotated[Optional[str], typer.Option(help="SDS v1: domain added to teachers' usernames that have none.")]


def _format_options(student_domain: str | None, teacher_domain: str | None) -> dict:
    options = {}
    if student_domain:
        options["student_domain"] = student_domain
    if teacher_domain:
        options["teacher_domain"] = teacher_domain
    return options


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="A package: a folder of CSV files or a zip archive.")],
    report: Annotated[Optional[Path], typer.Option(help="Write every finding to this file (.csv, or .jsonl for JSON lines).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary to stdout.")] = False,
    format_name: Annotated[
        Optional[str], typer.Option("--format", help=f"Skip detection; one of: {', '.join(sorted(FORMATS))}.")
    ] = None,
    student_domain: StudentDomain = None,
    teacher_domain: TeacherDomain = None,
) -> None:
    """Validate a roster package. Exit code: 0 no errors, 1 errors, 2 the package was refused."""
    from homeroom.validate import validate_package

    if format_name is not None and format_name not in FORMATS:
        _fail(f"unknown format {format_name!r}; known formats: {', '.join(sorted(FORMATS))}")
    options = _format_options(student_domain, teacher_domain)
    started = time.perf_counter()
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else (path.stat().st_size if path.exists() else 0)
    show_progress = size > PROGRESS_BYTES and not json_output and err.is_terminal
    try:
        if show_progress:
            with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err, transient=True) as bar:
                task = bar.add_task("validating", total=None)

                def progress(file: str, stage: str, done: int, total: int) -> None:
                    bar.update(task, description=f"{stage} {file}", completed=done, total=total or None)

                result = validate_package(path, format_name=format_name, progress=progress, options=options)
        else:
            result = validate_package(path, format_name=format_name, options=options)
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


@app.command()
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
    try:
        expected = generate_district(
            out_dir, students, seed=seed, defect_rate=defect_rate, school_year=school_year,
            progress=lambda msg: err.print(f"[dim]{msg}[/]") if err.is_terminal else None, format_name=format_name,
        )
    except HomeroomError as exc:
        _fail(str(exc))
    rows = sum(f["records"] for f in expected["files"].values())
    out.print(
        f"wrote {rows:,} rows to {out_dir} in {time.perf_counter() - started:.1f} s "
        f"({expected['totals']['errors']:,} planted errors, {expected['totals']['warnings']:,} planted warnings)"
    )


@app.command()
def churn(
    source: Annotated[Path, typer.Argument(help="An SDS v2.1 package without broken lines (e.g. from generate).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the next snapshot.")],
    rate: Annotated[float, typer.Option(help="Share of students that leave (as many arrive and as many are renamed).")] = 0.01,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Write the next snapshot of a district: some students leave, some arrive, some are renamed."""
    from homeroom.synthetic.churn import churn_package

    try:
        summary = churn_package(source, out_dir, rate, seed)
    except HomeroomError as exc:
        _fail(str(exc))
    out.print(f"wrote {out_dir}: {summary['left']:,} students left, {summary['arrived']:,} arrived, {summary['renamed']:,} renamed")


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


runs_app = typer.Typer(help="List, inspect, approve and discard runs.", no_args_is_help=True)
lake_app = typer.Typer(help="Read the lake.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
app.add_typer(lake_app, name="lake")
TenantOption = Annotated[str, typer.Option(help="The tenant (embedded default: 'default').")]


def _runner(tenant: str):
    from homeroom.runs import Runner

    return Runner(tenant)


def _print_changes(activity) -> None:
    if not activity.changes:
        return
    table = Table("entity", "added", "updated", "deactivated", "reactivated", "active", "inactive", title="Changes", title_justify="left")
    for entity, c in activity.changes.items():
        table.add_row(entity, *(f"{c[k]:,}" for k in ("added", "updated", "deactivated", "reactivated", "active", "inactive")))
    out.print(table)


def _print_run(run, activity) -> None:
    colour = {"completed": "green", "held": "yellow", "failed": "red", "discarded": "dim"}.get(run.status, "yellow")
    out.print(f"run [bold]{run.id}[/] ({run.display_name}): [{colour}]{run.status}[/]")
    _print_changes(activity)
    stats = activity.statistics or {}
    if stats:
        out.print(
            f"errors {stats['errors']:,}, warnings {stats['warnings']:,}; people {stats['people']['active']:,} active / "
            f"{stats['people']['inactive']:,} inactive; organizations {stats['organizations']['active']:,}; "
            f"groups {stats['groups']['active']:,}; memberships {stats['memberships']['active']:,}"
        )
    for reason in run.held_reason or [] if run.status == "held" else []:
        out.print(f"[yellow]held:[/] {reason['message']}")
    if run.status == "held":
        out.print(f"approve with: homeroom runs approve {run.id}   discard with: homeroom runs discard {run.id}")
    if run.blocking_error:
        out.print(f"[red]{run.blocking_error['code']}:[/] {run.blocking_error['message']}")


@app.command("run")
def run_command(
    path: Annotated[Path, typer.Argument(help="The package: a folder of CSV files or a zip archive.")],
    flow: Annotated[str, typer.Option(help="The inbound flow's name (created with its source and year if new).")],
    year: Annotated[str, typer.Option(help="The school year the data belongs to (its ending year, e.g. 2026).")],
    tenant: TenantOption = "default",
    source: Annotated[str, typer.Option(help="The source system's name, for a new flow.")] = "Default source",
    format_name: Annotated[Optional[str], typer.Option("--format", help="Skip format detection.")] = None,
    delta: Annotated[bool, typer.Option(help="The package holds only changes (OneRoster delta): absent records stay as they are.")] = False,
    threshold: Annotated[
        Optional[list[str]],
        typer.Option(help="Deactivation threshold kept for the flow, as default=0.1 or ENTITY=SHARE (repeatable)."),
    ] = None,
    student_domain: StudentDomain = None,
    teacher_domain: TeacherDomain = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Run a package: validate it, update the lake, record statistics. Exit code 0 completed, 1 held or with errors, 2 failed."""
    from homeroom.runs.views import run_json

    thresholds = {}
    for item in threshold or []:
        name, _, share = item.partition("=")
        try:
            thresholds[name.strip()] = float(share)
        except ValueError:
            _fail(f"--threshold takes NAME=SHARE, e.g. default=0.1 or users=0.05, not {item!r}")
    try:
        runner = _runner(tenant)
        outcome = runner.run(
            path, flow_name=flow, year=year, source_name=source, format_name=format_name, delta=delta, thresholds=thresholds,
            options=_format_options(student_domain, teacher_domain),
            progress=lambda msg: err.print(f"[dim]{msg}...[/]") if not json_output else None,
        )
    except HomeroomError as exc:
        _fail(str(exc))
    if json_output:
        sys.stdout.write(dumps(run_json(outcome.run)) + "\n")
    else:
        _print_run(outcome.run, outcome.activity)
        out.print(f"findings: {runner.findings_file(outcome.run.id)}")
    raise typer.Exit({"completed": 0, "completedWithWarnings": 0, "failed": 2}.get(outcome.run.status, 1))


@runs_app.command("list")
def runs_list(tenant: TenantOption = "default", limit: int = 20) -> None:
    """The tenant's runs, newest first."""
    from homeroom.store import service

    runner = _runner(tenant)
    runner.recover()
    table = Table("run", "started", "status", "flow", "errors", "warnings")
    with runner.sessions() as db:
        for run in service.list_runs(db=db, tenant_id=tenant, limit=limit):
            a = run.activities[0] if run.activities else None
            stats = (a.statistics if a else {}) or {}
            table.add_row(run.id, f"{run.started:%Y-%m-%d %H:%M:%S}", run.status, a.display_name if a else "",
                          str(stats.get("errors", "")), str(stats.get("warnings", "")))
    out.print(table)


def _get_run(runner, run_id: str):
    from homeroom.store import service

    with runner.sessions() as db:
        run = service.get_run(db=db, tenant_id=runner.tenant, run_id=run_id)
        if run is None:
            _fail(f"no run {run_id!r} in tenant {runner.tenant!r}")
        return run


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="The run id (or a unique prefix).")], tenant: TenantOption = "default",
              json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A run: status, changes, statistics, why it was held or failed, where its findings are."""
    from homeroom.runs.views import run_json

    runner = _runner(tenant)
    runner.recover()
    run = _get_run(runner, run_id)
    if json_output:
        sys.stdout.write(dumps(run_json(run)) + "\n")
        return
    _print_run(run, run.activities[0])
    out.print(f"findings: {runner.findings_file(run.id)}")


@runs_app.command("approve")
def runs_approve(run_id: Annotated[str, typer.Argument(help="The held run's id.")], tenant: TenantOption = "default") -> None:
    """Apply a held run."""
    try:
        outcome = _runner(tenant).approve(run_id)
    except HomeroomError as exc:
        _fail(str(exc))
    _print_run(outcome.run, outcome.activity)


@runs_app.command("discard")
def runs_discard(run_id: Annotated[str, typer.Argument(help="The held run's id.")], tenant: TenantOption = "default") -> None:
    """Discard a held run: nothing it would have changed is written."""
    try:
        run = _runner(tenant).discard(run_id)
    except HomeroomError as exc:
        _fail(str(exc))
    out.print(f"run {run.id}: {run.status}")


@lake_app.command("query")
def lake_query(
    sql: Annotated[str, typer.Argument(help="SQL over the tables orgs, users, roles, classes, enrollments, ..., and changes.")],
    tenant: TenantOption = "default",
    csv_output: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Query the lake's Delta tables with SQL (Polars SQL)."""
    import polars as pl

    from homeroom.lake import Lake
    from homeroom.settings import get_settings

    lake = Lake.from_settings(get_settings(), tenant)
    context = pl.SQLContext()
    for name in lake.tables():
        context.register(name.lstrip("_"), pl.scan_delta(lake.uri(name), storage_options=lake.storage_options))
    try:
        frame = context.execute(sql, eager=True)
    except Exception as exc:  # noqa: BLE001 - a bad query is the user's, not a crash
        _fail(f"query failed: {exc}")
    if csv_output:
        sys.stdout.write(frame.write_csv())
    else:
        with pl.Config(tbl_rows=50, tbl_cols=20, fmt_str_lengths=60):
            out.print(str(frame))


apps_app = typer.Typer(help="Register apps that may call the API, with their permissions.", no_args_is_help=True)
app.add_typer(apps_app, name="apps")


@apps_app.command("create")
def apps_create(
    tenant: Annotated[str, typer.Option(help="The tenant the app belongs to (created if new).")],
    permission: Annotated[list[str], typer.Option("--permission", help="A permission to grant, e.g. IndustryData-SourceSystem.Read.All; repeatable.")],
    name: Annotated[str, typer.Option(help="The app's display name.")] = "Homeroom API client",
    json_output: Annotated[bool, typer.Option("--json", help="Print the client id and secret as JSON.")] = False,
) -> None:
    """Register an app and print its client id and secret (the secret is shown only this once)."""
    import json

    from homeroom.api.apps import create_app_registration
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    sessions = open_database(get_settings())
    try:
        with sessions() as db:
            registration, secret = create_app_registration(db=db, tenant_id=tenant, display_name=name, permissions=permission)
            db.commit()
    except HomeroomError as exc:
        _fail(str(exc))
    record = {"tenantId": tenant, "clientId": registration.id, "clientSecret": secret, "displayName": registration.display_name,
              "permissions": registration.permissions}
    if json_output:
        print(json.dumps(record))
        return
    out.print(f"client id:     [bold]{registration.id}[/]\nclient secret: [bold]{secret}[/] (shown once; it is stored only as a hash)")
    out.print(f"token endpoint: /{tenant}/oauth2/v2.0/token   permissions: {', '.join(registration.permissions)}")


@apps_app.command("list")
def apps_list(tenant: TenantOption = "default") -> None:
    """The tenant's apps and their permissions (never their secrets)."""
    from homeroom.api.apps import list_app_registrations
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    with open_database(get_settings())() as db:
        table = Table("name", "permissions")
        table.add_column("client id", no_wrap=True)
        for registration in list_app_registrations(db=db, tenant_id=tenant):
            table.add_row(registration.display_name, "\n".join(registration.permissions), registration.id)
    out.print(table)


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Address to listen on (default: HOMEROOM_API_HOST, 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port to listen on (default: HOMEROOM_API_PORT, 8000).")] = None,
) -> None:
    """Serve the Graph-compatible API (/beta/external/industryData) with uvicorn."""
    import uvicorn

    from homeroom.api import create_app
    from homeroom.settings import get_settings

    settings = get_settings()
    uvicorn.run(create_app(settings), host=host or settings.api_host, port=port or settings.api_port, log_level="info")


def main() -> None:
    """Entry point for ``python -m homeroom``."""
    app()
