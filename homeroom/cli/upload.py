"""``homeroom upload``: the CSV upload loop that School Data Sync clients run, against a Homeroom server.

Upload session, Azure Blob uploads, validate, and optionally ``runs/start`` with its statistics and findings log,
all through ``homeroom.client.GraphClient``; this module prints each step as it happens, or one JSON document.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from homeroom.cli.render import err, fail, out

if TYPE_CHECKING:
    from homeroom.client import GraphClient, UploadedFile

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
    try:
        files = package_files(paths)
        with GraphClient(server, tenant, client_id, client_secret, on_retry=_print_retry) as graph:
            code = _upload_loop(graph, report, connector, files, reset_session=reset_session, run=run, poll_seconds=poll_seconds,
                                timeout=timeout_minutes * 60 or None, findings=findings, json_output=json_output)
    except ClientError as exc:
        if json_output:
            sys.stdout.write(json.dumps({**report, "error": exc.to_json(), "exitCode": 2}) + "\n")
        fail(escape(str(exc)))
    except OSError as exc:  # a file that cannot be read while uploading
        fail(escape(f"upload: {exc}"))
    if json_output:
        sys.stdout.write(json.dumps({**report, "exitCode": code}) + "\n")
    raise typer.Exit(code)


def _print_retry(call: str, seconds: float) -> None:
    err.print(f"[yellow]throttled:[/] {escape(call)} answered 429 Too Many Requests; retrying in {seconds:g} s")


def _upload_loop(graph: GraphClient, report: dict, connector: str, files: list[Path], *, reset_session: bool, run: bool,
                 poll_seconds: float, timeout: float | None, findings: Path | None, json_output: bool) -> int:
    """Upload ``files`` into the connector's upload session and validate them; with ``run``, run them too.

    Each step is printed as it ends (unless ``json_output``) and recorded in ``report``, so that a call failing half-way
    still shows what was done. Returns the exit code.
    """
    found = graph.find_connector(connector)
    report["connector"] = {"id": found["id"], "displayName": found.get("displayName")}
    session = graph.upload_session(found["id"], reset=reset_session)
    report["session"] = session.to_json()
    if not json_output:
        out.print(f"connector [bold]{escape(str(found.get('displayName')))}[/] ({found['id']}); upload session "
                  f"{session.container_id}, open until {session.session_expires}")
    uploaded = _upload_files(graph, session.session_url, files, show_progress=err.is_terminal and not json_output)
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
        return max(code, _run_uploaded(graph, report, poll_seconds, timeout, findings, json_output))
    if run and not json_output:
        out.print("no run started: the upload was refused.")
    return code


def _upload_files(graph: GraphClient, session_url: str, files: list[Path], *, show_progress: bool) -> list[UploadedFile]:
    """The files into the session's container; with ``show_progress``, a progress bar for each file on standard error."""
    if not show_progress:
        return graph.upload_files(session_url, files)
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=err) as bar:
        tasks = {f.name: bar.add_task(f.name, total=f.stat().st_size) for f in files}
        return graph.upload_files(session_url, files, lambda name, done, total: bar.update(tasks[name], completed=done))


def _run_uploaded(graph: GraphClient, report: dict, poll_seconds: float, timeout: float | None, findings: Path | None,
                  json_output: bool) -> int:
    """``runs/start``, waited for to the end; its statistics and, with ``findings``, its findings log. Returns its exit code."""
    if not json_output:
        out.print("starting a run...")
    run_record = graph.wait_run(graph.start_run(), poll_seconds, timeout)
    stats = graph.statistics(run_record["id"])
    report["run"], report["statistics"] = run_record, stats
    if not json_output:
        _print_upload_run(run_record, stats)
    if findings is not None:
        size = graph.download_findings(run_record["id"], findings, "jsonl" if findings.suffix.lower() == ".jsonl" else "csv")
        report["findings"] = str(findings)
        if not json_output:
            out.print(f"findings log ({size:,} bytes) written to {escape(str(findings))}")
    return UPLOAD_RUN_EXIT.get(run_record.get("status", ""), 2)
