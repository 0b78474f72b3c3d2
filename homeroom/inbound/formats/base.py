"""What a CSV roster format is: its files, which are required, and how their columns map to entities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from homeroom.model.entities import Entity


@dataclass(frozen=True)
class FileSpec:
    """One file of a format and the canonical entity it fills."""

    name: str
    entity: Entity
    requirement: Literal["required", "optional"]
    columns: tuple[tuple[str, str], ...]  # (header, canonical field) in the format's documented order
    aliases: tuple[tuple[str, str], ...] = ()  # other accepted spellings: (header, canonical field)
    missing_consequence: str = "its records are not part of this package"

    def header_for(self, canonical: str) -> str:
        """The documented header of a canonical field."""
        for header, name in self.columns:
            if name == canonical:
                return header
        raise KeyError(canonical)

    @property
    def required_headers(self) -> list[str]:
        """Headers that must be present: those of the entity's required fields."""
        return [h for h, name in self.columns if self.entity.field(name).required]


@dataclass(frozen=True)
class CsvFormat:
    """A CSV roster format."""

    name: str  # the --format name, e.g. "sds-v2.1"
    display_name: str
    file_format_code: str  # Graph RefFileFormat code
    files: tuple[FileSpec, ...]
    together: tuple[tuple[str, str], ...] = ()  # files that must be supplied together
    case_sensitive_names: bool = True
    allow_line_breaks: bool = False
    notes: tuple[str, ...] = field(default=())

    def file(self, name: str) -> FileSpec:
        """The spec of one file, by its exact name."""
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(name)


_KIND_TEXT = {
    "id": "id (case-sensitive)",
    "string": "text",
    "secret": "text, never echoed in findings",
    "username": "user principal name (name@domain)",
    "enum": "code",
    "enumList": "list of codes (comma-separated, quoted)",
    "idList": "list of ids (comma-separated, quoted)",
    "email": "email (lower-cased)",
    "phone": "phone (normalised to E.164)",
    "date": "date YYYY-MM-DD",
    "bool": "true/false",
    "year": "year YYYY",
}


def format_markdown(fmt: CsvFormat) -> str:
    """A Markdown section describing every file and column of a format and its canonical mapping."""
    lines = [f"## {fmt.display_name} (`--format {fmt.name}`)", ""]
    required = [f.name for f in fmt.files if f.requirement == "required"]
    lines.append(f"Required files: {', '.join(f'`{n}`' for n in required)}.")
    for a, b in fmt.together:
        lines.append(f"`{a}` and `{b}` are supplied together or not at all.")
    lines.append(
        "File names and headers are case-sensitive." if fmt.case_sensitive_names else "File names are matched without regard to case."
    )
    lines.append("Columns are matched by header name; their order does not matter. Unknown columns are ignored with a warning.")
    lines.append("")
    for spec in fmt.files:
        entity = spec.entity
        key = " + ".join(f"`{spec.header_for(k)}`" for k in entity.key)
        lines += [
            f"### `{spec.name}` → `{entity.name}` ({spec.requirement})",
            "",
            f"{entity.description} Key: {key}.",
            "",
            "| column | canonical field | required | type | references / codes |",
            "|---|---|---|---|---|",
        ]
        for header, name in spec.columns:
            f = entity.field(name)
            target = f.references and f"`{f.references}.sourcedId`" or f.reference_type and f"`{f.reference_type}`" or ""
            lines.append(f"| `{header}` | `{name}` | {'yes' if f.required else 'no'} | {_KIND_TEXT[f.kind.value]} | {target} |")
        for header, name in spec.aliases:
            lines.append(f"| `{header}` | `{name}` | | also accepted for `{spec.header_for(name)}` | |")
        lines.append("")
    return "\n".join(lines)
