"""``homeroom flows``: inbound flows made from the command line, for the CSV upload loop."""

from __future__ import annotations

from typing import Annotated

import typer

from homeroom.cli.options import TenantOption
from homeroom.cli.render import fail, out

flows_app = typer.Typer(help="Inbound flows: create a CSV upload flow (source system, year, connector) without Graph calls.",
                        no_args_is_help=True)


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
    from homeroom.model.reference import ReferenceData

    codes = sorted(ReferenceData.default().codes("RefFileFormat").values(), reverse=True)  # Graph's fileFormat codes
    if file_format not in codes:
        fail(f"--file-format is one of {', '.join(codes)}, not {file_format!r}")
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
