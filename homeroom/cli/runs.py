"""``homeroom run`` and ``homeroom runs``: run a package into the lake, then list, show, approve and discard runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from homeroom.cli.options import StudentDomain, TeacherDomain, TenantOption, format_options
from homeroom.cli.render import errors_as_messages, fail, out
from homeroom.cli.stages import stages, wanted

runs_app = typer.Typer(help="List, inspect, approve and discard runs.", no_args_is_help=True)
HeldRunId = Annotated[str, typer.Argument(help="The held run's id.")]


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


def _finish(runner, outcome, json_output: bool) -> None:
    """Print a run (a summary, or JSON) and exit: 0 completed, 1 held or with errors, 2 failed."""
    from homeroom.findings.reports import dumps
    from homeroom.runs.reports import run_json

    if json_output:
        sys.stdout.write(dumps(run_json(outcome.run)) + "\n")
    else:
        _print_run(outcome.run, outcome.activity)
        out.print(f"findings: {runner.findings_file(outcome.run.id)}")
    raise typer.Exit({"completed": 0, "completedWithWarnings": 0, "failed": 2}.get(outcome.run.status, 1))


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
    thresholds = {}
    for item in threshold or []:
        name, _, share = item.partition("=")
        try:
            thresholds[name.strip()] = float(share)
        except ValueError:
            fail(f"--threshold takes NAME=SHARE, e.g. default=0.1 or users=0.05, not {item!r}")
    with errors_as_messages(), stages(wanted(json_output)) as progress:
        runner = _runner(tenant)
        outcome = runner.run(
            path, flow_name=flow, year=year, source_name=source, format_name=format_name, delta=delta, thresholds=thresholds,
            options=format_options(student_domain, teacher_domain), progress=progress,
        )
    _finish(runner, outcome, json_output)


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
            fail(f"no run {run_id!r} in tenant {runner.tenant!r}")
        return run


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="The run id (or a unique prefix).")], tenant: TenantOption = "default",
              json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A run: status, changes, statistics, why it was held or failed, where its findings are."""
    from homeroom.runs.reports import run_json
    from homeroom.findings.reports import dumps

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
def runs_approve(run_id: HeldRunId, tenant: TenantOption = "default") -> None:
    """Apply a held run (held inbound data is written; a held provisioning plan is applied as shown)."""
    with errors_as_messages():
        runner = _runner(tenant)
        outcome = runner.approve(run_id)
        if outcome is None:  # a provisioning plan was approved and applied
            from homeroom.store import service

            with runner.sessions() as db:
                run = service.get_run(db=db, tenant_id=tenant, run_id=run_id)
                out.print(f"run {run.id}: {run.status}; its provisioning plan was applied (homeroom plan show {run.id})")
            return
    _print_run(outcome.run, outcome.activity)


@runs_app.command("discard")
def runs_discard(run_id: HeldRunId, tenant: TenantOption = "default") -> None:
    """Discard a held run: nothing it would have changed is written."""
    with errors_as_messages():
        run = _runner(tenant).discard(run_id)
    out.print(f"run {run.id}: {run.status}")


def pull_command(
    flow: Annotated[str, typer.Option(help="The OneRoster API flow (homeroom flows create-api).")],
    tenant: TenantOption = "default",
    json_output: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Run a OneRoster API flow now: pull the API (a delta after the first full pull), validate, update the lake.

    Exit code 0 completed, 1 held or with errors, 2 failed (an incomplete pull fails and writes nothing)."""
    with errors_as_messages():
        runner = _runner(tenant)
        with stages(wanted(json_output)) as progress:
            outcome = runner.pull(flow, progress=progress)
    _finish(runner, outcome, json_output)
