"""What a CSV roster format is: its files, which are required, and how their columns map to entities."""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import TYPE_CHECKING, Callable, Literal

import polars as pl

from homeroom.inbound.csv_reader import RawTable
from homeroom.model.entities import Entity

if TYPE_CHECKING:
    from homeroom.validate.findings import Findings

#: Columns of a source frame with this prefix are carried, unchecked, into the validated table
#: (without the prefix): OneRoster's status and dateLastModified, extension columns.
KEEP_PREFIX = "__keep_"


@dataclass
class SourceRows:
    """Rows of one canonical entity read from one source file, as text, ready for the record checks.

    ``frame`` has one String column per canonical field (null where blank), ``__line`` (the line
    of the row in ``file``) and any ``__keep_*`` columns to carry through. ``headers`` names each
    canonical field as ``file`` spells it, so that findings speak the file's language.
    """

    entity: Entity
    file: str
    frame: pl.DataFrame
    headers: dict[str, str]


def text_frame(raw: RawTable, mapping: dict[str, str], entity: Entity) -> pl.DataFrame:
    """Rename a file's columns to canonical fields (``mapping``: header -> field), trim, blank = null.

    Fields the file does not have are null columns; unknown headers are left out.
    """
    df = pl.from_arrow(raw.table)
    assert isinstance(df, pl.DataFrame)
    chosen: dict[str, str] = {}
    for header in df.columns:
        name = mapping.get(header)
        if name is not None and name not in chosen.values():
            chosen[header] = name

    def pads(h: str) -> pl.Expr:
        e = pl.col(h).str.starts_with(" ") | pl.col(h).str.ends_with(" ")
        if raw.has_tab:  # a file without any tab cannot have a value padded with one
            e = e | pl.col(h).str.starts_with("\t") | pl.col(h).str.ends_with("\t")
        return e.any().alias(h)

    padded = df.select(pads(h) for h in chosen).row(0, named=True) if chosen and df.height else {}
    cols = []
    for header, name in chosen.items():  # empty values are already null (the reader makes them so)
        if padded.get(header):
            stripped = pl.col(header).str.strip_chars()
            cols.append(pl.when(stripped == "").then(None).otherwise(stripped).alias(name))
        else:
            cols.append(pl.col(header).alias(name))
    cols += [pl.lit(None, pl.String).alias(f.name) for f in entity.fields if f.name not in chosen.values()]
    line = pl.int_range(2, df.height + 2, dtype=pl.Int64) if raw.lines is None else pl.Series(raw.lines)
    return df.select(cols).with_columns(line.alias("__line"))


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


def direct_sources(
    fmt: "CsvFormat", raws: dict[str, RawTable], findings: "Findings", options: Mapping[str, object]
) -> list[SourceRows]:
    """Each file fills its own entity, column by column (SDS v2.1 and other one-to-one formats)."""
    sources = []
    for spec in fmt.files:
        raw = raws.get(spec.name)
        if raw is None:
            continue
        mapping = {h: name for h, name in (*spec.columns, *spec.aliases)}
        headers = {name: header for header, name in spec.columns}
        for alias, name in spec.aliases:  # an alias the file actually uses is how the file names the field
            if alias in raw.header and headers[name] not in raw.header:
                headers[name] = alias
        sources.append(SourceRows(spec.entity, spec.name, text_frame(raw, mapping, spec.entity), headers))
    return sources


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
    #: Turns the parsed files into rows of canonical entities; formats whose files are not one
    #: entity each (SDS v1, OneRoster) supply their own. It may add format-specific findings.
    to_sources: Callable[["CsvFormat", dict[str, RawTable], "Findings", Mapping[str, object]], list[SourceRows]] = (
        direct_sources
    )

    def sources(
        self, raws: dict[str, RawTable], findings: "Findings", options: Mapping[str, object] | None = None
    ) -> list[SourceRows]:
        """The canonical source rows of a parsed package; ``options`` are format-specific settings."""
        return self.to_sources(self, raws, findings, options or {})

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
