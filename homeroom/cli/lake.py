"""``homeroom lake``: read the lake's Delta tables."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from homeroom.cli.options import TenantOption
from homeroom.cli.render import fail, out

lake_app = typer.Typer(help="Read the lake.", no_args_is_help=True)


@lake_app.command("query")
def lake_query(
    sql: Annotated[str, typer.Argument(help="SQL over the tables orgs, users, roles, classes, enrollments, ..., and changes.")],
    tenant: TenantOption = "default",
    csv_output: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Query the lake's Delta tables with SQL (Polars SQL), as the last finished run left them."""
    import polars as pl

    from homeroom.runs.readers import reader_lake
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    settings = get_settings()
    # Every table at the version the last finished run published: a reader never sees half a run.
    lake = reader_lake(settings, open_database(settings), tenant)
    context = pl.SQLContext()
    for name in lake.tables():
        context.register(name.lstrip("_"), lake.scan(name))
    try:
        frame = context.execute(sql, eager=True)
    except Exception as exc:  # noqa: BLE001 - a bad query is the user's, not a crash
        fail(f"query failed: {exc}")
    if csv_output:
        sys.stdout.write(frame.write_csv())
    else:
        with pl.Config(tbl_rows=50, tbl_cols=20, fmt_str_lengths=60):
            out.print(str(frame))


@lake_app.command("versions")
def lake_versions(
    tenant: TenantOption = "default",
    json_output: Annotated[bool, typer.Option("--json", help="Print {table: {uri, version}} as JSON.")] = False,
) -> None:
    """The version of each table that readers read: the state the last finished run left (read the Delta tables at
    these versions from DuckDB, Polars or Spark to see what Homeroom's readers see, never a run's half)."""
    import json

    from rich.table import Table

    from homeroom.runs.readers import reader_lake
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    settings = get_settings()
    lake = reader_lake(settings, open_database(settings), tenant)
    tables = {name: {"uri": lake.uri(name), "version": lake.version(name)} for name in lake.tables()}
    if json_output:
        sys.stdout.write(json.dumps(tables, indent=2) + "\n")
        return
    table = Table("table", "version", "uri", title=f"Lake of tenant {tenant!r} as readers see it", title_justify="left")
    for name, entry in tables.items():
        table.add_row(name, str(entry["version"]), entry["uri"])
    out.print(table)
