"""``homeroom targets``: the directories Homeroom reads and writes (add, update, remove, list, provision, check,
snapshot); secrets are write-only."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from homeroom.cli.options import TenantOption
from homeroom.cli.render import errors_as_messages, fail, out
from homeroom.cli.stages import stages, wanted

targets_app = typer.Typer(help="Directory targets: add, update, remove, list, provision, check and snapshot (Active Directory, "
                                       "LDAP, SCIM, Entra, Google).",
                          no_args_is_help=True)
TargetName = Annotated[str, typer.Argument(help="The target's name.")]


def _setting(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        fail(f"--set takes KEY=VALUE, not {text!r}")
    try:
        return key, json.loads(value)  # numbers, true/false, lists
    except ValueError:
        return key, value


def _secrets(kind_secrets: tuple[str, ...], prompted: list[str], files: list[str], env: list[str]) -> dict[str, str]:
    """Secret values from prompts (hidden), files or environment variables; never from the command line itself."""
    values: dict[str, str] = {}
    for name in prompted:
        values[name] = typer.prompt(f"{name}", hide_input=True)
    for item in files:
        name, sep, path = item.partition("=")
        if not sep:
            fail(f"--secret-file takes NAME=PATH, not {item!r}")
        try:
            values[name] = Path(path).read_text("utf-8").strip()
        except OSError as exc:
            fail(f"--secret-file {name}: cannot read {path} ({exc.strerror})")
    for item in env:
        name, sep, variable = item.partition("=")
        if not sep:
            fail(f"--secret-env takes NAME=VARIABLE, not {item!r}")
        if variable not in os.environ:
            fail(f"--secret-env {name}: the environment variable {variable} is not set")
        values[name] = os.environ[variable]
    if unknown := sorted(set(values) - set(kind_secrets)):
        fail(f"no secret {', '.join(unknown)} for this kind; its secrets: {', '.join(kind_secrets) or 'none'}")
    return values


@targets_app.command("add")
def targets_add(
    name: TargetName,
    kind: Annotated[str, typer.Option(help="active-directory, ldap, scim, entra or google.")],
    tenant: TenantOption = "default",
    setting: Annotated[Optional[list[str]], typer.Option("--set", help="A setting KEY=VALUE (repeat); see docs/directory.md.")] = None,
    settings_file: Annotated[Optional[Path], typer.Option(help="Settings as a JSON object in a file.")] = None,
    secret: Annotated[Optional[list[str]], typer.Option(help="A secret to prompt for, hidden (repeat).")] = None,
    secret_file: Annotated[Optional[list[str]], typer.Option(help="A secret NAME=PATH read from a file (repeat).")] = None,
    secret_env: Annotated[Optional[list[str]], typer.Option(help="A secret NAME=VARIABLE read from the environment (repeat).")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="A source system whose people runs match against it (repeat).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the target as JSON.")] = False,
) -> None:
    """Add a target; its secrets are stored write-only (never printed, never logged)."""
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database
    from homeroom.targets import kind_of
    from homeroom.targets import service

    settings: dict = {}
    if settings_file is not None:
        try:
            settings = json.loads(settings_file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            fail(f"--settings-file {settings_file}: not a JSON object ({exc})")
    settings.update(_setting(s) for s in setting or [])
    with errors_as_messages():
        known = kind_of(kind)
        secrets = _secrets(known.secrets, secret or [], secret_file or [], secret_env or [])
        with open_database(get_settings()).begin() as db:
            row = service.add_target(db=db, tenant_id=tenant, name=name, kind=kind, settings=settings, secrets=secrets,
                                     source_systems=source or [])
            shown = service.target_json(row)
    if json_output:
        print(json.dumps(shown))
        return
    missing = [s for s in known.secrets if s not in shown["secretsSet"]]
    out.print(f"target [bold]{name}[/] ({kind}) added" + (f"; secrets not set: {', '.join(missing)}" if missing else ""))


@targets_app.command("update")
def targets_update(
    name: TargetName,
    tenant: TenantOption = "default",
    setting: Annotated[Optional[list[str]], typer.Option("--set", help="Change a setting KEY=VALUE (repeat); KEY= removes it.")] = None,
    secret: Annotated[Optional[list[str]], typer.Option(help="A secret to prompt for, hidden (repeat).")] = None,
    secret_file: Annotated[Optional[list[str]], typer.Option(help="A secret NAME=PATH read from a file (repeat).")] = None,
    secret_env: Annotated[Optional[list[str]], typer.Option(help="A secret NAME=VARIABLE read from the environment (repeat).")] = None,
    clear_secret: Annotated[Optional[list[str]], typer.Option(help="Remove a secret (repeat).")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="Replace the source systems matched against it (repeat).")] = None,
) -> None:
    """Change a target's settings, secrets or source systems; what is not given stays as it is."""
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database
    from homeroom.targets import service

    changes = {k: (None if v == "" else v) for k, v in (_setting(s) for s in setting or [])}
    with errors_as_messages():
        with open_database(get_settings()).begin() as db:
            row = service.get_target(db=db, tenant_id=tenant, name=name)
            from homeroom.targets import kind_of

            secrets: dict[str, str | None] = dict(_secrets(kind_of(row.kind).secrets, secret or [], secret_file or [], secret_env or []))
            secrets.update({k: None for k in clear_secret or []})
            service.update_target(db=db, tenant_id=tenant, target=row, settings=changes if setting else None,
                                  secrets=secrets or None, source_systems=source)
    out.print(f"target [bold]{name}[/] updated")


@targets_app.command("remove")
def targets_remove(name: TargetName, tenant: TenantOption = "default") -> None:
    """Forget a target's configuration and secrets (its snapshots and links stay in the lake)."""
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database
    from homeroom.targets import service

    with errors_as_messages():
        with open_database(get_settings()).begin() as db:
            service.delete_target(db=db, tenant_id=tenant, target=service.get_target(db=db, tenant_id=tenant, name=name))
    out.print(f"target [bold]{name}[/] removed")


@targets_app.command("list")
def targets_list(
    tenant: TenantOption = "default",
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the tenant's targets (which secrets are set, never their values)."""
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database
    from homeroom.targets import service

    with open_database(get_settings())() as db:
        rows = [service.target_json(t) for t in service.list_targets(db=db, tenant_id=tenant)]
    if json_output:
        print(json.dumps(rows))
        return
    table = Table("name", "kind", "settings", "secrets set", "source systems", title="Targets", title_justify="left")
    for t in rows:
        table.add_row(t["name"], t["kind"], json.dumps(t["settings"]), ", ".join(t["secretsSet"]) or "-",
                      str(len(t["sourceSystemIds"])))
    out.print(table)


@targets_app.command("provision")
def targets_provision(
    name: TargetName,
    flow_set: Annotated[str, typer.Option("--flow-set", help="The outbound flow set (display name or id).")],
    tenant: TenantOption = "default",
) -> None:
    """Make an outbound flow set provision this target: the runs that match their people against it then plan
    and apply the set (NAME '-': the set provisions no target)."""
    from homeroom.outbound.service import provision_target
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    with errors_as_messages():
        with open_database(get_settings()).begin() as db:
            row = provision_target(db=db, tenant_id=tenant, flow_set=flow_set, target=None if name == "-" else name)
            set_name = row.display_name
    out.print(f"flow set [bold]{set_name}[/] provisions " + ("no target" if name == "-" else f"target [bold]{name}[/]"))


@targets_app.command("check")
def targets_check(name: TargetName, tenant: TenantOption = "default") -> None:
    """Connect to a target and sign in; exit 1 with what to fix when it fails."""
    from homeroom.errors import ExternalError
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database
    from homeroom.targets import service

    with errors_as_messages():
        with open_database(get_settings())() as db:
            target = service.connect(service.get_target(db=db, tenant_id=tenant, name=name))
        try:
            target.check()
        except ExternalError as exc:
            fail(str(exc), code=1)
        finally:
            target.close()
    out.print(f"target [bold]{name}[/]: [green]connected[/]")


@targets_app.command("snapshot")
def targets_snapshot(
    name: TargetName,
    tenant: TenantOption = "default",
    full: Annotated[bool, typer.Option(help="Read everything, even where the target can send only the changes.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Read the target's accounts and groups into the lake (directory_accounts, directory_groups)."""
    from homeroom.match.service import snapshot_stored
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database

    settings = get_settings()
    with errors_as_messages(), stages(wanted(json_output)) as progress:
        result = snapshot_stored(settings, open_database(settings), tenant, name, full=full, progress=progress)
    counts = result.counts()
    if json_output:
        print(json.dumps(counts))
        return
    table = Table("table", "added", "updated", "deactivated", "reactivated", "active", "inactive", title=f"Snapshot of {name}",
                  title_justify="left")
    for what in ("accounts", "groups"):
        c = counts[what]
        table.add_row(what, *(f"{c[k]:,}" for k in ("added", "updated", "deactivated", "reactivated", "active", "inactive")))
    out.print(table)
