"""The ``homeroom`` command line: validate packages, generate synthetic districts, list rules."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from homeroom.cli import catalog, generate, lake, runs, validate
from homeroom.cli.options import TenantOption
from homeroom.cli.render import err, fail, out
from homeroom.errors import HomeroomError

app = typer.Typer(help="Homeroom: validate and sync school roster packages.", no_args_is_help=True, add_completion=False)
# The order here is the order of `homeroom --help`.
app.command()(validate.validate)
app.command()(generate.generate)
app.command()(generate.churn)
app.command()(catalog.rules)
app.command()(catalog.reference)
app.command()(catalog.formats)
app.command("settings")(catalog.settings_command)
app.command("run")(runs.run_command)

app.add_typer(runs.runs_app, name="runs")
app.add_typer(lake.lake_app, name="lake")


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
        fail(str(exc))
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
        fail(f"--file-format is one of {', '.join(FILE_FORMATS)}, not {file_format!r}")
    if not (len(year) == 4 and year.isdigit()):
        fail(f"--year is a four-digit school year (its ending year), not {year!r}")
    with open_database(get_settings()).begin() as db:
        service.ensure_tenant(db=db, tenant_id=tenant)
        flow = service.ensure_file_flow(db=db, tenant_id=tenant, display_name=name, source_name=source, year_code=year,
                                        file_format=file_format)
        if flow.year.code != year:
            fail(f"flow {name!r} already exists and brings data into school year {flow.year.code}; use another name")
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
        fail(str(exc))
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
        fail("no client secret: set the environment variable HOMEROOM_CLIENT_SECRET (or pass --client-secret).")
    if findings is not None and not run:
        fail("--findings needs --run: the findings log belongs to a run.")
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
        fail(escape(str(exc)))
    except OSError as exc:  # a file that cannot be read while uploading
        fail(escape(f"upload: {exc}"))
    if json_output:
        sys.stdout.write(json.dumps({**report, "exitCode": code}) + "\n")
    raise typer.Exit(code)


def main() -> None:
    """Entry point for ``python -m homeroom``."""
    app()
