"""``homeroom match``: a source system's matching settings, matching on demand, and the match report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from homeroom.cli.options import TenantOption
from homeroom.cli.render import errors_as_messages, fail, out

match_app = typer.Typer(help="Identity matching: settings per source system, matching, and the match report.", no_args_is_help=True)
Source = Annotated[str, typer.Option(help="The source system (its display name or id).")]


@match_app.command("settings")
def match_settings(
    source: Source,
    tenant: TenantOption = "default",
    role_group: Annotated[Optional[str], typer.Option(help="The role group a new rule is for: students or staff.")] = None,
    identifier: Annotated[Optional[str], typer.Option(help="The source identifier: username, email, sourcedId, ...")] = None,
    target_attribute: Annotated[Optional[str], typer.Option("--attribute", help="The account attribute: userPrincipalName, "
                                                            "mail, employeeId, sAMAccountName, externalId, extension:NAME, ...")] = None,
    rewrite_domain: Annotated[Optional[str], typer.Option(help="Replace the source value's domain with this one.")] = None,
    priority: Annotated[Optional[int], typer.Option(help="The rule's priority within its role group (0 first).")] = None,
    clear: Annotated[bool, typer.Option(help="Remove the role group's rules (all rules without --role-group).")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the settings as JSON.")] = False,
) -> None:
    """Show a source system's userMatchingSettings, or add a rule (--role-group, --identifier, --attribute)."""
    from homeroom.match.service import source_system
    from homeroom.match.settings import ROLE_GROUP_IDS, rules_from_settings
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    adding = identifier is not None or target_attribute is not None
    if adding and (role_group is None or identifier is None or target_attribute is None):
        fail("a new rule needs --role-group, --identifier and --attribute")
    if role_group is not None and role_group not in ROLE_GROUP_IDS:
        fail(f"--role-group is one of {', '.join(ROLE_GROUP_IDS)}, not {role_group!r}")
    with errors_as_messages(), open_database(get_settings()).begin() as db:
        system = source_system(db, tenant, source)
        entries = list(system.user_matching_settings or [])
        if clear:
            entries = [e for e in entries if role_group is not None and e.get("roleGroupId") != role_group]
        if adding:
            same = [e for e in entries if e.get("roleGroupId") == role_group]
            entry = {"priorityOrder": priority if priority is not None else len(same),
                     "sourceIdentifier": {"code": identifier}, "matchTarget": {"code": target_attribute}, "roleGroupId": role_group}
            if rewrite_domain:
                entry["rewriteDomain"] = rewrite_domain
            entries.append(entry)
        rules_from_settings(entries, ["sourcedId", "username", "email", "activeDirectoryMatchId", "givenName", "familyName"])
        if clear or adding:
            system.user_matching_settings = entries
        rules = rules_from_settings(entries, ["sourcedId", "username", "email", "activeDirectoryMatchId", "givenName", "familyName"])
    if json_output:
        print(json.dumps(entries))
        return
    table = Table("role group", "priority", "source identifier", "account attribute", "rewrite domain",
                  title=f"Matching rules of {source}", title_justify="left")
    for r in rules:
        table.add_row(r.role_group, str(r.rank), r.source_identifier, r.match_target, r.rewrite_domain or "-")
    out.print(table)


@match_app.command("run")
def match_run(
    target: Annotated[str, typer.Option(help="The target to match against (snapshotted first unless --no-snapshot).")],
    source: Source,
    year: Annotated[str, typer.Option(help="The school year whose people are matched (its ending year).")],
    tenant: TenantOption = "default",
    snapshot: Annotated[bool, typer.Option(help="Snapshot the target first.")] = True,
) -> None:
    """Match a source system's people (as the lake holds them) against a target, and print the counts."""
    from homeroom.match.service import match_stored, snapshot_stored
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    settings = get_settings()
    sessions = open_database(settings)
    with errors_as_messages():
        if snapshot:
            snapshot_stored(settings, sessions, tenant, target)
        result = match_stored(settings, sessions, tenant, target, source, year)
    _print_counts([{"roleGroup": g, **c, "total": sum(c.values())} for g, c in result.counts().items()])


def _print_counts(rows: list[dict]) -> None:
    from homeroom.match.tables import OUTCOMES

    table = Table("role group", *OUTCOMES, "total", title="Matching", title_justify="left")
    for row in rows:
        table.add_row(row["roleGroup"], *(f"{row[o]:,}" for o in OUTCOMES), f"{row['total']:,}")
    out.print(table)


@match_app.command("report")
def match_report(
    target: Annotated[str, typer.Option(help="The target whose links are reported.")],
    tenant: TenantOption = "default",
    source: Annotated[Optional[str], typer.Option(help="Only this source system's people.")] = None,
    year: Annotated[Optional[str], typer.Option(help="Only this school year's people.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    output: Annotated[Optional[Path], typer.Option(help="Write the report to this file instead of standard output.")] = None,
    limit: Annotated[int, typer.Option(help="Table: how many people to list (ambiguous and conflicting first).")] = 50,
) -> None:
    """The match report: counts by role group and outcome, then each person, ambiguous and conflicting first."""
    import polars as pl

    from homeroom.runs.readers import reader_lake
    from homeroom.match.report import report_counts, report_csv, report_json, report_links
    from homeroom.match.service import source_system
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database
    from homeroom.targets import service

    if output_format not in ("table", "csv", "json"):
        fail(f"--format is table, csv or json, not {output_format!r}")
    settings = get_settings()
    with errors_as_messages():
        with open_database(settings)() as db:
            name = service.get_target(db=db, tenant_id=tenant, name=target).name
            source_id = source_system(db, tenant, source).id if source else None
        people = report_links(reader_lake(settings, open_database(settings), tenant), name, source_id, year)
    if output_format == "table":
        _print_counts(report_counts(people))
        listed = people.filter(pl.col("outcome") != "matched").head(limit)
        if listed.height:
            table = Table("outcome", "role group", "person", "candidates", title="Not matched", title_justify="left")
            for row in listed.iter_rows(named=True):
                table.add_row(row["outcome"], row["roleGroup"], row["personSourcedId"], ", ".join(row["candidates"] or []))
            out.print(table)
        return
    text = report_csv(people) if output_format == "csv" else report_json(people)
    if output is not None:
        output.write_text(text, "utf-8")
    else:
        sys.stdout.write(text)
