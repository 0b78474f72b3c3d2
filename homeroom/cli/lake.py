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

    from homeroom.lake import Lake
    from homeroom.runs.engine import readable_versions
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    settings = get_settings()
    lake = Lake.from_settings(settings, tenant)
    # While a run is writing, read the tables as they were before it: a reader never sees half a run.
    versions = readable_versions(open_database(settings), tenant)
    context = pl.SQLContext()
    for name in lake.tables():
        if versions is not None and name in versions and versions[name] is None:
            continue  # the run in progress is creating this table
        version = None if versions is None else versions.get(name)
        context.register(name.lstrip("_"), pl.scan_delta(lake.uri(name), version=version, storage_options=lake.storage_options))
    try:
        frame = context.execute(sql, eager=True)
    except Exception as exc:  # noqa: BLE001 - a bad query is the user's, not a crash
        fail(f"query failed: {exc}")
    if csv_output:
        sys.stdout.write(frame.write_csv())
    else:
        with pl.Config(tbl_rows=50, tbl_cols=20, fmt_str_lengths=60):
            out.print(str(frame))
