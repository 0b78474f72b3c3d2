"""The ``homeroom`` command line: validate packages, generate synthetic districts, list rules."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from homeroom.errors import HomeroomError
from homeroom.inbound.formats import FORMATS
from homeroom.findings.reports import dumps, summary_by_rule, summary_json, write_report
from homeroom.findings.rules import rules_markdown

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
    from homeroom.findings.rules import RULES

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


@app.command("settings")
def settings_command(markdown: Annotated[bool, typer.Option("--markdown", help="Print the table of docs/configuration.md.")] = False) -> None:
    """Every setting, its environment variable and the value in effect (storage options are masked)."""
    from homeroom.settings import Settings, get_settings, settings_markdown

    if markdown:
        sys.stdout.write(settings_markdown())
        return
    current = get_settings()
    table = Table("variable", "value")
    for name in Settings.model_fields:
        value = getattr(current, name)
        if name.endswith("storage_options") and value:
            value = {k: "***" for k in value}  # credentials live here
        table.add_row(f"HOMEROOM_{name.upper()}", "unset" if value is None else str(value))
    out.print(table)


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


_COLOURS = {"completed": "green", "held": "yellow", "failed": "red", "discarded": "dim", "skipped": "dim"}


def _print_run(run, activity) -> None:
    colour = _COLOURS.get(run.status, "yellow")
    out.print(f"run [bold]{run.id}[/] ({run.display_name}, {run.trigger}): [{colour}]{run.status}[/]")
    if len(run.activities) > 1:  # a run of several flows (runs/start, the scheduler): each one's outcome
        for other in run.activities:
            note = f" ({other.blocking_error['code']})" if other.blocking_error else ""
            out.print(f"  flow {other.display_name}: [{_COLOURS.get(other.status, 'yellow')}]{other.status}[/]{note}")
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
    table = Table("run", "started", "by", "status", "flows", "errors", "warnings")
    with runner.sessions() as db:
        for run in service.list_runs(db=db, tenant_id=tenant, limit=limit):
            ran = [a for a in run.activities if a.status != "skipped"]
            stats = [a.statistics or {} for a in ran]
            table.add_row(run.id, f"{run.started:%Y-%m-%d %H:%M:%S}", run.trigger, run.status,
                          ", ".join(a.display_name for a in ran) or "(none ran)",
                          str(sum(s.get("errors", 0) for s in stats)), str(sum(s.get("warnings", 0) for s in stats)))
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
    for activity in run.activities[1:]:  # the changes of a run's other flows
        if activity.changes:
            out.print(f"[bold]flow {activity.display_name}[/]")
            _print_changes(activity)
    for activity in run.activities:
        if activity.status != "skipped":
            where = f" of {activity.display_name}" if len(run.activities) > 1 else ""
            out.print(f"findings{where}: {runner.findings_file(run.id, activity_id=activity.id)}")


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


flows_app = typer.Typer(help="Inbound flows: create a CSV upload flow (source system, year, connector) without Graph calls.",
                        no_args_is_help=True)
app.add_typer(flows_app, name="flows")


@flows_app.command("create")
def flows_create(
    name: Annotated[str, typer.Option(help="The flow's display name; its connector is named '<name> files'.")],
    year: Annotated[str, typer.Option(help="The school year the flow brings data into (its ending year, e.g. 2026).")],
    tenant: TenantOption = "default",
    source: Annotated[str, typer.Option(help="The source system (SIS) name; created if new.")] = "Default source",
    file_format: Annotated[str, typer.Option(help="The connector's fileFormat: schoolDataSyncV2Rev1 or schoolDataSyncV1.")] = "schoolDataSyncV2Rev1",
    json_output: Annotated[bool, typer.Option("--json", help="Print the ids as JSON.")] = False,
) -> None:
    """Create an inboundFileFlow with its azureDataLakeConnector, ready for `homeroom upload` (or return the existing one)."""
    import json

    from homeroom.settings import get_settings
    from homeroom.store import service
    from homeroom.store.database import open_database
    from homeroom.uploads.sessions import FILE_FORMATS

    if file_format not in FILE_FORMATS:
        _fail(f"--file-format is one of {', '.join(FILE_FORMATS)}, not {file_format!r}")
    if not (len(year) == 4 and year.isdigit()):
        _fail(f"--year is a four-digit school year (its ending year), not {year!r}")
    with open_database(get_settings()).begin() as db:
        service.ensure_tenant(db=db, tenant_id=tenant)
        flow = service.ensure_file_flow(db=db, tenant_id=tenant, display_name=name, source_name=source, year_code=year,
                                        file_format=file_format)
        if flow.year.code != year:
            _fail(f"flow {name!r} already exists and brings data into school year {flow.year.code}; use another name")
        record = {"tenantId": tenant, "flowId": flow.id, "flow": flow.display_name, "connectorId": flow.connector_id,
                  "connector": flow.connector.display_name, "fileFormat": flow.connector.file_format, "year": flow.year.code}
    if json_output:
        print(json.dumps(record))
        return
    out.print(f"flow [bold]{record['flow']}[/] ({record['flowId']}) into {record['year']}; connector "
              f"[bold]{record['connector']}[/] ({record['connectorId']}, {record['fileFormat']})")

users_app = typer.Typer(help="People who sign in for delegated tokens (scripts, connectors).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("create")
def users_create(
    tenant: Annotated[str, typer.Option(help="The tenant the user belongs to (created if new).")],
    username: Annotated[str, typer.Option(help="The sign-in name, e.g. it-admin@district.example.")],
    permission: Annotated[list[str], typer.Option("--permission", help="A delegated permission, e.g. IndustryData-DataConnector.Upload; repeatable.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input instead of generating one.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the user (and a generated password) as JSON.")] = False,
) -> None:
    """Create a user for the password and refresh-token grants; a generated password is shown only this once."""
    import json
    import sys

    from homeroom.api.apps import create_user
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    given = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    try:
        with open_database(get_settings())() as db:
            user, password = create_user(db=db, tenant_id=tenant, username=username, permissions=permission, password=given)
            db.commit()
    except HomeroomError as exc:
        _fail(str(exc))
    record = {"tenantId": tenant, "userId": user.id, "username": user.username, "permissions": user.permissions}
    if given is None:
        record["password"] = password
    if json_output:
        print(json.dumps(record))
        return
    out.print(f"user [bold]{user.username}[/] ({user.id}) in tenant {tenant}: {', '.join(user.permissions)}")
    if given is None:
        out.print(f"password: [bold]{password}[/] (shown once; it is stored only as a hash)")


@users_app.command("list")
def users_list(tenant: TenantOption = "default") -> None:
    """The tenant's users and their delegated permissions (never their passwords)."""
    from homeroom.api.apps import list_users
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    with open_database(get_settings())() as db:
        table = Table("username", "permissions", "user id")
        for user in list_users(db=db, tenant_id=tenant):
            table.add_row(user.username + (" (disabled)" if user.disabled else ""), "\n".join(user.permissions), user.id)
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


#: Exit codes of ``homeroom upload`` by the run's (Graph) status; held runs show ``unknownFutureValue``.
UPLOAD_RUN_EXIT = {"completed": 0, "completedWithWarnings": 1, "completedWithErrors": 1, "unknownFutureValue": 1, "failed": 2}


def _print_wide(table: Table) -> None:
    """A table in full: wrapped to a terminal, unwrapped in a log or pipe (one finding per line stays greppable)."""
    if out.is_terminal:
        out.print(table)
        return
    from rich.measure import Measurement

    Console(file=out.file, width=Measurement.get(out, out.options.update_width(10_000), table).maximum).print(table)


def _print_validation(operation: dict) -> None:
    from rich.text import Text

    findings = [("error", e) for e in operation.get("errors") or []] + [("warning", w) for w in operation.get("warnings") or []]
    if findings:
        table = Table("level", "code", "file", "where", "message", title="Validation errors and warnings", title_justify="left")
        for level, e in findings:
            where = ", ".join(d.get("target") or "" for d in e.get("details") or [] if d.get("target"))
            table.add_row(Text(level, style="red" if level == "error" else "yellow"), Text(e.get("code") or ""),
                          Text(e.get("target") or ""), Text(where), Text(e.get("message") or ""))
        _print_wide(table)
    errors, warnings, files = len(operation.get("errors") or []), len(operation.get("warnings") or []), operation.get("validatedFiles") or []
    if operation.get("status") != "succeeded":
        out.print(f"[bold red]validation failed[/] on the server: {escape(operation.get('statusDetail') or 'no detail')}")
    elif errors:
        out.print(f"[bold red]refused:[/] {errors} error(s), {warnings} warning(s); nothing was kept. "
                  "Fix the files and upload all of them again.")
    else:
        verdict = f"[yellow]accepted with {warnings} warning(s)[/]" if warnings else "[green]accepted[/]"
        out.print(f"{verdict}: {len(files)} file(s) validated: {escape(', '.join(files))}")


def _print_upload_run(run: dict, stats: dict) -> None:
    colour = {"completed": "green", "failed": "red"}.get(run.get("status", ""), "yellow")
    out.print(f"run [bold]{run.get('id')}[/] ({escape(run.get('displayName') or '')}): [{colour}]{run.get('status')}[/]")
    if run.get("blockingError"):
        error = run["blockingError"]
        out.print(f"[red]{escape(error.get('code') or '')}:[/] {escape(error.get('message') or '')}")
    t = stats.get("inboundTotals") or {}
    if t:
        out.print(f"errors {t.get('errors', 0):,}, warnings {t.get('warnings', 0):,}; active people {t.get('people', 0):,}, "
                  f"organizations {t.get('organizations', 0):,}, groups {t.get('groups', 0):,}, memberships {t.get('memberships', 0):,}")


@app.command()
def upload(
    paths: Annotated[list[Path], typer.Argument(help="The CSV files, or a folder whose *.csv files are uploaded. A zip is refused: extract it first.")],
    server: Annotated[str, typer.Option(help="Homeroom's base URL, e.g. https://homeroom.example.org (no /beta).")],
    connector: Annotated[str, typer.Option(help="The azureDataLakeConnector's id or displayName.")],
    tenant: Annotated[str, typer.Option(help="The tenant.")],
    client_id: Annotated[str, typer.Option(help="The client id of an app made with `homeroom apps create`.")],
    client_secret: Annotated[Optional[str], typer.Option(
        envvar="HOMEROOM_CLIENT_SECRET", show_default=False,
        help="The app's secret. Prefer the environment variable HOMEROOM_CLIENT_SECRET: a command line is visible to other users.")] = None,
    reset_session: Annotated[bool, typer.Option(help="Start from a new, empty upload session (discarding files uploaded before).")] = True,
    run: Annotated[bool, typer.Option("--run", help="Once accepted, start a run (runs/start), wait for it and print its statistics.")] = False,
    poll_seconds: Annotated[float, typer.Option(min=0.0, help="Seconds between polls; SDS asks for 5 or more.")] = 5.0,
    timeout_minutes: Annotated[float, typer.Option(min=0.0, help="Give up waiting for the validation, or for the run, after this long (0: never).")] = 240.0,
    findings: Annotated[Optional[Path], typer.Option(help="With --run: save the run's findings log here (.csv, or .jsonl).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document: the operation, and with --run the run and its statistics.")] = False,
) -> None:
    """Upload CSV files to a connector's upload session, validate them and optionally run them, as SDS clients do.

    Exit code: 0 accepted (and the run completed), 1 accepted with warnings (or the run completed with warnings or
    errors, or is held), 2 refused (validation errors, a failed run, or any error calling the server).
    """
    import json

    from homeroom.client import ClientError, GraphClient, package_files

    if not client_secret:
        _fail("no client secret: set the environment variable HOMEROOM_CLIENT_SECRET (or pass --client-secret).")
    if findings is not None and not run:
        _fail("--findings needs --run: the findings log belongs to a run.")
    report: dict = {"server": server, "tenant": tenant}
    timeout = timeout_minutes * 60 or None

    def retrying(call: str, seconds: float) -> None:
        err.print(f"[yellow]throttled:[/] {escape(call)} answered 429 Too Many Requests; retrying in {seconds:g} s")

    try:
        files = package_files(paths)
        with GraphClient(server, tenant, client_id, client_secret, on_retry=retrying) as graph:
            found = graph.find_connector(connector)
            report["connector"] = {"id": found["id"], "displayName": found.get("displayName")}
            session = graph.upload_session(found["id"], reset=reset_session)
            report["session"] = session.to_json()
            if not json_output:
                out.print(f"connector [bold]{escape(str(found.get('displayName')))}[/] ({found['id']}); upload session "
                          f"{session.container_id}, open until {session.session_expires}")
            if err.is_terminal and not json_output:
                from rich.progress import DownloadColumn, TransferSpeedColumn

                with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=err) as bar:
                    tasks = {f.name: bar.add_task(f.name, total=f.stat().st_size) for f in files}
                    uploaded = graph.upload_files(session.session_url, files, lambda name, done, total: bar.update(tasks[name], completed=done))
            else:
                uploaded = graph.upload_files(session.session_url, files)
            report["uploadedFiles"] = [f.to_json() for f in uploaded]
            if not json_output:
                out.print(f"uploaded {len(uploaded)} file(s), {sum(f.size for f in uploaded):,} bytes: "
                          f"{escape(', '.join(f.name for f in uploaded))}")
            operation = graph.wait(graph.validate(found["id"]), poll_seconds, timeout)
            report["operation"] = operation
            code = 2 if operation.get("status") != "succeeded" or operation.get("errors") else 1 if operation.get("warnings") else 0
            if not json_output:
                _print_validation(operation)
            if run and code < 2:
                if not json_output:
                    out.print("starting a run...")
                run_record = graph.wait_run(graph.start_run(), poll_seconds, timeout)
                stats = graph.statistics(run_record["id"])
                report["run"], report["statistics"] = run_record, stats
                code = max(code, UPLOAD_RUN_EXIT.get(run_record.get("status", ""), 2))
                if not json_output:
                    _print_upload_run(run_record, stats)
                if findings is not None:
                    size = graph.download_findings(run_record["id"], findings, "jsonl" if findings.suffix.lower() == ".jsonl" else "csv")
                    report["findings"] = str(findings)
                    if not json_output:
                        out.print(f"findings log ({size:,} bytes) written to {escape(str(findings))}")
            elif run and not json_output:
                out.print("no run started: the upload was refused.")
    except ClientError as exc:
        if json_output:
            sys.stdout.write(json.dumps({**report, "error": exc.to_json(), "exitCode": 2}) + "\n")
        _fail(escape(str(exc)))
    except OSError as exc:  # a file that cannot be read while uploading
        _fail(escape(f"upload: {exc}"))
    if json_output:
        sys.stdout.write(json.dumps({**report, "exitCode": code}) + "\n")
    raise typer.Exit(code)


def main() -> None:
    """Entry point for ``python -m homeroom``."""
    app()
