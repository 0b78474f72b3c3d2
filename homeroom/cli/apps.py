"""``homeroom apps`` and ``homeroom users``: who may call the API, as an app (client credentials) or a person (delegated)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from homeroom.cli.options import TenantOption
from homeroom.cli.render import errors_as_messages, out

apps_app = typer.Typer(help="Register apps that may call the API, with their permissions.", no_args_is_help=True)


@apps_app.command("create")
def apps_create(
    tenant: Annotated[str, typer.Option(help="The tenant the app belongs to (created if new).")],
    permission: Annotated[list[str], typer.Option("--permission", help="A permission to grant, e.g. IndustryData-SourceSystem.Read.All; repeatable.")],
    name: Annotated[str, typer.Option(help="The app's display name.")] = "Homeroom API client",
    json_output: Annotated[bool, typer.Option("--json", help="Print the client id and secret as JSON.")] = False,
) -> None:
    """Register an app and print its client id and secret (the secret is shown only this once)."""
    import json

    from homeroom.auth.registrations import create_app_registration
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    sessions = open_database(get_settings())
    with errors_as_messages(), sessions() as db:
        registration, secret = create_app_registration(db=db, tenant_id=tenant, display_name=name, permissions=permission)
        db.commit()
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
    from homeroom.auth.registrations import list_app_registrations
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    with open_database(get_settings())() as db:
        table = Table("name", "permissions")
        table.add_column("client id", no_wrap=True)
        for registration in list_app_registrations(db=db, tenant_id=tenant):
            table.add_row(registration.display_name, "\n".join(registration.permissions), registration.id)
    out.print(table)


users_app = typer.Typer(help="People who sign in for delegated tokens (scripts, connectors).", no_args_is_help=True)


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

    from homeroom.auth.registrations import create_user
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    given = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with errors_as_messages(), open_database(get_settings())() as db:
        user, password = create_user(db=db, tenant_id=tenant, username=username, permissions=permission, password=given)
        db.commit()
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
    from homeroom.auth.registrations import list_users
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    with open_database(get_settings())() as db:
        table = Table("username", "permissions", "user id")
        for user in list_users(db=db, tenant_id=tenant):
            table.add_row(user.username + (" (disabled)" if user.disabled else ""), "\n".join(user.permissions), user.id)
    out.print(table)
