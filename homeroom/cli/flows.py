"""``homeroom flows``: inbound flows made from the command line: for the CSV upload loop, and OneRoster API flows."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from homeroom.cli.options import TenantOption
from homeroom.cli.render import fail, out

flows_app = typer.Typer(help="Inbound flows: create a CSV upload flow or a OneRoster API flow (source system, year, connector) without Graph calls.",
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


@flows_app.command("create-api")
def flows_create_api(
    name: Annotated[str, typer.Option(help="The flow's display name; its connector is named '<name> API'.")],
    year: Annotated[str, typer.Option(help="The school year the flow brings data into (its ending year, e.g. 2026).")],
    base_url: Annotated[str, typer.Option(help="The OneRoster API: its rostering root (https://sis/ims/oneroster/v1p1) or its host.")],
    client_id: Annotated[str, typer.Option(help="The OAuth client id (OAuth 1.0a: the consumer key).")],
    client_secret: Annotated[str, typer.Option(
        envvar="ONEROSTER_CLIENT_SECRET", prompt=True, hide_input=True, show_default=False,
        help="The OAuth client secret; asked for when not in ONEROSTER_CLIENT_SECRET. Stored write-only, never printed.")],
    api_version: Annotated[str, typer.Option(help="OneRoster version: 1.1 or 1.2.")] = "1.1",
    auth: Annotated[str, typer.Option(help="oauth1 (signed requests, OneRoster 1.1) or oauth2 (client credentials).")] = "oauth1",
    token_url: Annotated[Optional[str], typer.Option(help="OAuth 2: the token endpoint.")] = None,
    scope: Annotated[Optional[str], typer.Option(help="OAuth 2: the scopes to ask for, space-separated (none by default).")] = None,
    demographics: Annotated[bool, typer.Option(help="Read /demographics (isDemographicsEnabled).")] = False,
    contacts: Annotated[bool, typer.Option(help="Keep parents, guardians and relatives (isContactsEnabled).")] = False,
    tenant: TenantOption = "default",
    source: Annotated[str, typer.Option(help="The source system (SIS) name; created if new.")] = "Default source",
    json_output: Annotated[bool, typer.Option("--json", help="Print the ids as JSON.")] = False,
) -> None:
    """Create (or update) an inboundApiFlow with its oneRosterApiDataConnector; `homeroom pull --flow NAME` runs it."""
    import json

    from homeroom.settings import get_settings
    from homeroom.store import service
    from homeroom.store.database import open_database

    if api_version not in ("1.1", "1.2"):
        fail(f"--api-version is 1.1 or 1.2, not {api_version!r}")
    if auth not in ("oauth1", "oauth2"):
        fail(f"--auth is oauth1 or oauth2, not {auth!r}")
    if auth == "oauth2" and not token_url:
        fail("--auth oauth2 needs --token-url, the token endpoint of the SIS")
    if auth == "oauth1" and (token_url or scope):
        fail("--token-url and --scope are for --auth oauth2; OAuth 1.0a signs each request with the secret")
    if not (len(year) == 4 and year.isdigit()):
        fail(f"--year is a four-digit school year (its ending year), not {year!r}")
    kind = "oAuth2ClientCredential" if auth == "oauth2" else "oAuth1ClientCredential"
    credential = {"@odata.type": f"#microsoft.graph.industryData.{kind}", "displayName": f"{name} credential", "clientId": client_id}
    if auth == "oauth2":
        credential.update({"tokenUrl": token_url, "scope": scope})
    from homeroom.errors import HomeroomError

    try:
        with open_database(get_settings()).begin() as db:
            service.ensure_tenant(db=db, tenant_id=tenant)
            flow = service.ensure_api_flow(db=db, tenant_id=tenant, display_name=name, source_name=source, year_code=year,
                                           base_url=base_url, api_version=api_version, credential=credential,
                                           client_secret=client_secret, demographics=demographics, contacts=contacts)
            record = {"tenantId": tenant, "flowId": flow.id, "flow": flow.display_name, "connectorId": flow.connector_id,
                      "connector": flow.connector.display_name, "baseUrl": base_url, "apiVersion": api_version,
                      "year": flow.year.code}
    except HomeroomError as exc:
        fail(exc.message)
    if json_output:
        print(json.dumps(record))
        return
    out.print(f"flow [bold]{record['flow']}[/] ({record['flowId']}) into {record['year']}; connector "
              f"[bold]{record['connector']}[/] ({record['connectorId']}, OneRoster {api_version} at {base_url})")
