"""What every command prints through: standard output and error as Rich consoles, and the one-line error that ends a command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console

from homeroom.errors import HomeroomError

#: ``err`` carries errors, progress and notices, so that ``out`` (standard output) holds only what a command reports.
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: <message>`` on standard error and end the command with exit code ``code``."""
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@contextmanager
def errors_as_messages() -> Iterator[None]:
    """Inside, a ``HomeroomError`` (Homeroom refusing on purpose) ends the command through ``fail``: one line, no traceback."""
    try:
        yield
    except HomeroomError as exc:
        fail(str(exc))
