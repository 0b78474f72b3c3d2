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
