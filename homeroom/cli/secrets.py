"""``homeroom secrets``: the key that encrypts the store's secrets at rest (see docs/operations.md)."""

from __future__ import annotations

import typer

from homeroom.cli.render import errors_as_messages, out

secrets_app = typer.Typer(help="The key that encrypts stored secrets.", no_args_is_help=True)


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Make a new key, re-encrypt every stored secret with it and drop the old key."""
    from homeroom.settings import get_settings
    from homeroom.store.database import open_database
    from homeroom.store.sealed import key_path, rotate_key

    settings = get_settings()
    with errors_as_messages():
        sessions = open_database(settings)
        count = rotate_key(settings, sessions.kw["bind"])
    out.print(f"re-encrypted {count} stored secret value(s) with a new key in {key_path(settings)}")
