"""What Homeroom knows, listed: validation rules, reference data, formats and settings.

Each command prints a table; with ``--markdown`` it prints the docs page (or its tables) generated from the same data.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from homeroom.cli.render import out


def rules(markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/validation-rules.md.")] = False) -> None:
    """List every validation rule code."""
    from homeroom.findings.rules import RULES, rules_markdown

    if markdown:
        sys.stdout.write(rules_markdown())
        return
    table = Table("code", "levels", "meaning")
    for r in RULES.values():
        table.add_row(r.code, "/".join(r.levels), r.summary)
    out.print(table)


def reference(markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/reference-data.md.")] = False) -> None:
    """List the default reference data (codes of each reference type)."""
    from homeroom.model.reference import ReferenceData, reference_markdown

    if markdown:
        sys.stdout.write(reference_markdown())
        return
    table = Table("referenceType", "codes")
    data = ReferenceData.default()
    for ref_type in sorted({d.reference_type for d in data.definitions()}):
        table.add_row(ref_type, ", ".join(d.code for d in data.definitions(ref_type)))
    out.print(table)


def formats(markdown: Annotated[bool, typer.Option("--markdown", help="Print the column tables of docs/formats.md.")] = False) -> None:
    """List the roster formats Homeroom reads, and their files."""
    from homeroom.inbound.formats import FORMATS
    from homeroom.inbound.formats.base import format_markdown

    if markdown:
        sys.stdout.write("\n".join(format_markdown(f) for f in FORMATS.values()))
        return
    for f in FORMATS.values():
        out.print(f"[bold]{f.name}[/] ({f.display_name}): " + ", ".join(s.name for s in f.files))


def settings_command(markdown: Annotated[bool, typer.Option("--markdown", help="Print the table of docs/configuration.md.")] = False) -> None:
    """Every setting, its environment variable and the value in effect (storage options are masked)."""
    from homeroom.settings import Settings, get_settings, settings_markdown

    if markdown:
        sys.stdout.write(settings_markdown())
        return
    current = get_settings()
    table = Table("variable", "value")
    for name in Settings.model_fields:
        value = getattr(current, name)
        if name.endswith("storage_options") and value:
            value = {k: "***" for k in value}  # credentials live here
        table.add_row(f"HOMEROOM_{name.upper()}", "unset" if value is None else str(value))
    out.print(table)
