"""What every command prints through: standard output and error as Rich consoles, and the one-line error that ends a command."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

#: Errors, progress and notices; standard output stays for what a command produces (tables, JSON, CSV).
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: <message>`` on standard error and end the command with exit code ``code``."""
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)
