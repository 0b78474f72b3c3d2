"""``homeroom plan``: make a run's provisioning plan, show and export it, approve, discard or apply it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from homeroom.cli.options import TenantOption
from homeroom.cli.render import err, errors_as_messages, fail, out
from homeroom.cli.stages import stages, wanted

plan_app = typer.Typer(help="Provisioning plans: make, show, export, approve, discard, apply.", no_args_is_help=True)
RunId = Annotated[str, typer.Argument(help="The run's id.")]


def _provisioner(tenant: str):
    from homeroom.outbound.service import Provisioner

    return Provisioner(tenant)


def _print_summary(plan) -> None:
    from homeroom.outbound.export import summary

    table = Table("operation", "reason", "count", "done", title="Plan", title_justify="left")
    for op, reason, count, done in summary(plan).iter_rows():
        table.add_row(op, reason, f"{count:,}", f"{done:,}")
    out.print(table)


def _print_reasons(reasons: list[dict], run_id: str) -> None:
    for reason in reasons:
        out.print(f"[yellow]held:[/] {reason['message']}")
    if reasons:
        out.print(f"review with: homeroom plan show {run_id}   approve with: homeroom plan approve {run_id}   "
                  f"discard with: homeroom plan discard {run_id}")


@plan_app.command("make")
def make(
    run_id: RunId,
    flow_set: Annotated[str, typer.Option("--flow-set", help="The outbound flow set (display name or id).")],
    target: Annotated[str, typer.Option(help="The directory target's name (its snapshot and match links in the lake).")],
    kind: Annotated[str, typer.Option(help="The target's kind: active-directory, ldap, scim, entra or google.")],
    tenant: TenantOption = "default",
) -> None:
    """Plan a flow set's provisioning from a completed run; exit code 0 ready to apply, 1 held for approval."""
    from homeroom.outbound.plan import CAPABILITIES

    if kind not in CAPABILITIES:
        fail(f"--kind must be one of {', '.join(CAPABILITIES)}, not {kind!r}")
    import polars as pl

    provisioner = _provisioner(tenant)
    with errors_as_messages():
        outcome = provisioner.plan(run_id, flow_set, target=target, target_kind=kind)
        _print_summary(provisioner.read(run_id).filter(pl.col("flowSetId") == outcome.flow_set_id))
    if outcome.plan.collisions.height:
        out.print(f"{outcome.plan.collisions.height:,} names collided and were given a suffix (see docs/provisioning.md)")
    counts = outcome.plan.counts
    if counts.get("unmatchedNotCreated") or counts.get("ambiguousNotCreated"):
        out.print(f"not created: {counts.get('unmatchedNotCreated', 0):,} unmatched (createUnmatchedUsers is off), "
                  f"{counts.get('ambiguousNotCreated', 0):,} ambiguous or conflicting matches")
    _print_reasons(outcome.reasons, run_id)
    raise typer.Exit(1 if outcome.reasons else 0)


@plan_app.command("show")
def show(
    run_id: RunId,
    tenant: TenantOption = "default",
    limit: Annotated[int, typer.Option(help="Operations to list after the summary (0: none).")] = 20,
    json_output: Annotated[bool, typer.Option("--json", help="Print every operation as JSON.")] = False,
) -> None:
    """Show a run's plan: counts by operation and reason, then its first operations."""
    from homeroom.outbound.export import plan_json

    with errors_as_messages():
        plan = _provisioner(tenant).read(run_id)
    if json_output:
        sys.stdout.write(json.dumps({"runId": run_id, "value": plan_json(plan)}, ensure_ascii=False, indent=2) + "\n")
        return
    _print_summary(plan)
    if limit > 0 and plan.height:
        table = Table("seq", "op", "object", "member", "reason", "change", "status", title=f"First {min(limit, plan.height):,} of "
                      f"{plan.height:,} operations", title_justify="left")
        for row in plan.head(limit).iter_rows(named=True):
            change = row["attributes"] if row["old"] is None else f"{row['old']} -> {row['attributes']}"
            table.add_row(str(row["seq"]), row["op"], row["objectKey"], row["memberKey"] or "", row["reason"], change or "",
                          row["status"] or "")
        out.print(table)


@plan_app.command("export")
def export(
    run_id: RunId,
    out_file: Annotated[Path, typer.Option("--out", help="The file to write (.csv or .json).")],
    tenant: TenantOption = "default",
    format_name: Annotated[Optional[str], typer.Option("--format", help="csv or json (default: from the file name).")] = None,
) -> None:
    """Export a run's plan as CSV (spreadsheet-safe) or JSON, to review before approving."""
    from homeroom.outbound.export import plan_csv, plan_json

    kind = (format_name or out_file.suffix.lstrip(".") or "csv").lower()
    if kind not in ("csv", "json"):
        fail(f"--format must be csv or json, not {kind!r}")
    with errors_as_messages():
        plan = _provisioner(tenant).read(run_id)
    if kind == "csv":
        out_file.write_bytes(plan_csv(plan))
    else:
        out_file.write_text(json.dumps({"runId": run_id, "value": plan_json(plan)}, ensure_ascii=False, indent=2), "utf-8")
    err.print(f"wrote {plan.height:,} operations to {out_file}")


@plan_app.command("approve")
def approve(run_id: RunId, tenant: TenantOption = "default") -> None:
    """Approve a held plan: apply exactly the operations shown."""
    with errors_as_messages(), stages(wanted()) as progress:
        reports = _provisioner(tenant).approve(run_id, progress=progress)
    _print_reports(reports)


@plan_app.command("discard")
def discard(run_id: RunId, tenant: TenantOption = "default") -> None:
    """Discard a held plan: nothing of it is applied."""
    with errors_as_messages():
        run = _provisioner(tenant).discard(run_id)
    out.print(f"plan of run {run.id} discarded; the run is {run.status}")


@plan_app.command("apply")
def apply(run_id: RunId, tenant: TenantOption = "default") -> None:
    """Apply a run's plan (or resume an apply that stopped); exit code 1 if any operation failed."""
    with errors_as_messages(), stages(wanted()) as progress:
        reports = _provisioner(tenant).apply(run_id, progress=progress)
    _print_reports(reports)


def _print_reports(reports) -> None:
    failed = 0
    for set_id, r in reports.items():
        out.print(f"flow set {set_id}: {r.done:,} done, {r.failed:,} failed, {r.skipped:,} skipped, "
                  f"{r.already_done:,} already done, {r.retries:,} retries")
        for error in r.errors[:20]:
            out.print(f"[red]failed:[/] {error}")
        failed += r.failed
    if failed:
        raise typer.Exit(1)
