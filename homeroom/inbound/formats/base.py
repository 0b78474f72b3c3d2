"""What a CSV roster format is: its files, which are required, and how their columns map to entities."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable, Literal

import polars as pl

from homeroom.findings import Findings
from homeroom.inbound.batch import KEEP_PREFIX, Mode, SourceRows
from homeroom.inbound.csv_reader import RawTable
from homeroom.model.delta import Owner
from homeroom.model.entities import ENTITY_BY_NAME, Entity


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
    if not chosen:  # no column of the file feeds this entity: all null, one row per record
        return pl.DataFrame([pl.repeat(None, df.height, dtype=pl.String, eager=True).alias(f.name) for f in entity.fields]).with_columns(
            line.alias("__line")
        )
    return df.select(cols).with_columns(line.alias("__line"))


def same_names(*names: str) -> tuple[tuple[str, str], ...]:
    """Columns whose header is the canonical field's name: ``(("sourcedId", "sourcedId"), ...)``."""
    return tuple((n, n) for n in names)


@dataclass(frozen=True)
class FileSpec:
    """One file of a format and the canonical entity it fills.

    A column's canonical field is a field of ``entity``, or ``"entity.field"`` for a field of
    another entity that the same rows fill (SDS v1 Student.csv: ``("School SIS ID",
    "roles.orgSourcedId")``), or ``None`` for a documented column that has no canonical field (it
    is accepted and not carried). A header may appear more than once, to fill several fields.
    A canonical field named ``__keep_<name>`` (or ``"entity.__keep_<name>"``) is carried into the
    validated table as ``<name>`` (see ``KEEP_PREFIX``).

    ``entity`` is ``None`` for a file that fills no entity: a control file (OneRoster
    ``manifest.csv``) or a file that is recognised and skipped (``skip_reason``). A ``"manifest"``
    requirement means the package's manifest says whether the file is present (OneRoster
    ``file.<name>`` = bulk, delta or absent): the format's ``check_package`` checks it, and the
    reader does not report the file as missing.
    """

    name: str
    entity: Entity | None
    requirement: Literal["required", "optional", "manifest"]
    columns: tuple[tuple[str, str | None], ...]  # (header, canonical field) in the format's documented order
    aliases: tuple[tuple[str, str], ...] = ()  # other accepted spellings: (header, canonical field)
    missing_consequence: str = "its records are not part of this package"
    #: Headers that must be present; ``None``: the headers of the required fields they fill.
    required_columns: tuple[str, ...] | None = None
    #: Canonical fields not read from a column, and where their value comes from (for the docs):
    #: (``"roles.role"``, ``"always `student`"``).
    derived: tuple[tuple[str, str], ...] = ()
    #: Notes on columns that are carried or used without a canonical field of their own, for the
    #: docs: (header, note).
    column_notes: tuple[tuple[str, str], ...] = ()
    #: What the file holds, when it is recognised but not read (a ``FileSkipped`` finding says so).
    skip_reason: str | None = None

    def header_for(self, canonical: str) -> str:
        """The documented header of a canonical field."""
        for header, name in self.columns:
            if name == canonical:
                return header
        raise KeyError(canonical)

    def target(self, canonical: str) -> tuple[Entity, str]:
        """The entity and field that a column's canonical field names (``"roles.grade"`` or ``"grade"``)."""
        entity_name, _, name = canonical.rpartition(".")
        if not entity_name:
            return self.entity, name
        return ENTITY_BY_NAME[entity_name], name

    def mappings(self) -> dict[str, dict[str, str]]:
        """For each entity the file fills: {header: field}, the file's own entity first (aliases included)."""
        maps: dict[str, dict[str, str]] = {self.entity.name: {}}
        for header, canonical in (*self.columns, *self.aliases):
            if canonical is not None:
                entity, name = self.target(canonical)
                maps.setdefault(entity.name, {}).setdefault(header, name)
        return maps

    @property
    def required_headers(self) -> list[str]:
        """Headers that must be present: declared ones, or those of the required fields they fill."""
        if self.required_columns is not None:
            return list(self.required_columns)
        headers = []
        for header, canonical in self.columns:
            if canonical is not None:
                entity, name = self.target(canonical)
                if entity.field(name).required and header not in headers:
                    headers.append(header)
        return headers


def file_sources(spec: FileSpec, raw: RawTable) -> dict[str, SourceRows]:
    """The rows of every entity one file fills (see ``FileSpec``), by entity name, as text frames.

    Formats whose rows fill several entities start from these and then derive, filter or
    normalise columns with Polars expressions.
    """
    sources = {}
    for entity_name, mapping in spec.mappings().items():
        entity = ENTITY_BY_NAME[entity_name]
        sources[entity_name] = SourceRows(entity, spec.name, text_frame(raw, mapping, entity), _headers_used(spec, raw, entity))
    return sources


def _headers_used(spec: FileSpec, raw: RawTable, entity: Entity) -> dict[str, str]:
    """How the file names each field of ``entity`` that it fills: the documented header, or the alias the file uses instead."""
    headers: dict[str, str] = {}
    for header, canonical in spec.columns:
        if canonical is not None and spec.target(canonical)[0] is entity:
            headers.setdefault(spec.target(canonical)[1], header)
    for alias, canonical in spec.aliases:
        target, name = spec.target(canonical)
        if target is entity and alias in raw.header and headers.get(name) not in raw.header:
            headers[name] = alias
    return headers


def direct_sources(fmt: "CsvFormat", raws: dict[str, RawTable], findings: Findings, options: Mapping[str, object]) -> list[SourceRows]:
    """Each file fills its own entity, column by column (SDS v2.1 and other one-to-one formats)."""
    return [file_sources(spec, raws[spec.name])[spec.entity.name] for spec in fmt.files if spec.name in raws]


@dataclass(frozen=True)
class CsvFormat:
    """A CSV roster format."""

    name: str  # the --format name, e.g. "sds-v2.1"
    display_name: str
    file_format_code: str  # Graph RefFileFormat code
    files: tuple[FileSpec, ...]
    together: tuple[tuple[str, ...], ...] = ()  # groups of files that must be supplied together (all or none)
    case_sensitive_names: bool = True
    allow_line_breaks: bool = False
    notes: tuple[str, ...] = field(default=())
    #: Turns the parsed files into rows of canonical entities; formats whose files are not one
    #: entity each (SDS v1, OneRoster) supply their own. It may add format-specific findings.
    to_sources: Callable[["CsvFormat", dict[str, RawTable], Findings, Mapping[str, object]], list[SourceRows]] = (
        direct_sources
    )
    #: Checks of the package as a whole, run once its files are read and before any record is used
    #: (OneRoster: the manifest, column order): called with the names of the format's files that
    #: are present, the parsed files and the findings. A catastrophic finding stops the run.
    check_package: Callable[["CsvFormat", set[str], dict[str, RawTable], Findings], None] | None = None
    #: Whether a package holds all of its data or only changes, from its parsed files (OneRoster:
    #: the manifest); ``None``: every package of the format is bulk.
    mode_of: Callable[[dict[str, RawTable]], Mode] | None = None
    #: In a delta package, the entities whose rows a record restates as a whole, and that record (the
    #: lake's delta diff deactivates the rows it no longer lists): OneRoster's users.csv row lists all
    #: of a user's orgs and agents.
    delta_owners: Mapping[str, Owner] = field(default_factory=dict)
    #: Headers starting with this are extension columns, accepted in every file (OneRoster ``metadata.``).
    extension_prefix: str | None = None
    #: How columns are matched, for the docs.
    column_rule: str = "Columns are matched by header name; their order does not matter. Unknown columns are ignored with a warning."

    def sources(
        self, raws: dict[str, RawTable], findings: Findings, options: Mapping[str, object] | None = None
    ) -> list[SourceRows]:
        """The canonical source rows of a parsed package; ``options`` are format-specific settings."""
        return self.to_sources(self, raws, findings, options or {})

    def mode(self, raws: dict[str, RawTable]) -> Mode:
        """``bulk`` or ``delta``: what a parsed package holds."""
        return "bulk" if self.mode_of is None else self.mode_of(raws)

    def entity_files(self) -> dict[str, tuple[str, ...]]:
        """Entity name -> the files that fill it, in the format's order."""
        files: dict[str, tuple[str, ...]] = {}
        for spec in self.files:
            if spec.entity is not None:
                files[spec.entity.name] = (*files.get(spec.entity.name, ()), spec.name)
        return files

    def file(self, name: str) -> FileSpec:
        """The spec of one file, by its exact name."""
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(name)


_REQUIREMENT_TEXT = {"manifest": "optional; manifest.csv lists it as bulk, delta or absent"}

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
    for group in fmt.together:
        names = [f"`{n}`" for n in group]
        lines.append(f"{', '.join(names[:-1])} and {names[-1]} are supplied together or not at all.")
    lines.append(
        "File names and headers are case-sensitive." if fmt.case_sensitive_names else "File names are matched without regard to case."
    )
    lines.append(fmt.column_rule)
    lines += [*fmt.notes, ""]
    skipped = [spec for spec in fmt.files if spec.skip_reason is not None]
    if skipped:
        listed = ", ".join(f"`{s.name}` ({s.skip_reason})" for s in skipped)
        lines += [f"Recognised and not read (a `FileSkipped` finding, level info): {listed}.", ""]
    notes_of = {spec.name: dict(spec.column_notes) for spec in fmt.files}
    for spec in fmt.files:
        entity = spec.entity
        if entity is None:
            if spec.skip_reason is None:  # a control file
                lines += [f"### `{spec.name}` ({spec.requirement})", "", "| column | required | use |", "|---|---|---|"]
                lines += [
                    f"| `{h}` | {'yes' if h in spec.required_headers else 'no'} | {notes_of[spec.name].get(h, '')} |"
                    for h, _ in spec.columns
                ]
                lines.append("")
            continue
        derived = dict(spec.derived)
        key = " + ".join(f"`{spec.header_for(k)}`" if k not in derived else f"{k} ({derived[k]})" for k in entity.key)
        lines += [
            f"### `{spec.name}` → `{entity.name}` ({_REQUIREMENT_TEXT.get(spec.requirement, spec.requirement)})",
            "",
            f"{entity.description} Key: {key}.",
            "",
            "| column | canonical field | required | type | references / codes |",
            "|---|---|---|---|---|",
        ]
        required_headers = spec.required_headers
        for header, name in spec.columns:
            required = "yes" if header in required_headers else "no"
            if name is None:
                note = notes_of[spec.name].get(header, "not carried (no canonical field)")
                lines.append(f"| `{header}` | — | {required} | {note} | |")
                continue
            target_entity, field_name = spec.target(name)
            if field_name.startswith(KEEP_PREFIX):
                kept = name.replace(KEEP_PREFIX, "", 1)
                note = notes_of[spec.name].get(header, "text, not checked")
                lines.append(f"| `{header}` | `{kept}` (kept) | {required} | {note} | |")
                continue
            f = target_entity.field(field_name)
            target = f.references and f"`{f.references}.sourcedId`" or f.reference_type and f"`{f.reference_type}`" or ""
            lines.append(f"| `{header}` | `{name}` | {required} | {_KIND_TEXT[f.kind.value]} | {target} |")
        for name, source in spec.derived:
            lines.append(f"| — | `{name}` | | {source} | |")
        for header, name in spec.aliases:
            lines.append(f"| `{header}` | `{name}` | | also accepted for `{spec.header_for(name)}` | |")
        lines.append("")
    return "\n".join(lines)
