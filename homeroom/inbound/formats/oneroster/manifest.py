"""OneRoster's ``manifest.csv``: the version, and each file's mode (bulk, delta or absent).

The manifest is a two-column table (``propertyName,value``). ``manifest.version`` is ``1.0``,
``oneroster.version`` is ``1.1`` or ``1.2`` (errata releases such as ``1.1.1`` count as their
version), and ``file.<name>`` says whether ``<name>.csv`` holds the complete data (``bulk``), only
changes (``delta``), or is not in the package (``absent``). Source: ``roster-csv-formats.md`` §4.1, §5.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from homeroom.inbound.csv_reader import RawTable

MANIFEST = "manifest.csv"
MODES = ("bulk", "delta", "absent")
#: The ``--format`` name of each OneRoster version Homeroom reads.
FORMAT_OF_VERSION = {"1.1": "oneroster-1.1", "1.2": "oneroster-1.2"}
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(\.\d+)*$", re.IGNORECASE)
#: Headers that only OneRoster files have: a package with one of them and no manifest is a
#: OneRoster package that lost its manifest, not an SDS one. (users.csv ``enabledUser`` only
#: counts without an SDS v2.1 roles.csv, so that an SDS package with an extra column stays SDS.)
_ONEROSTER_ONLY_HEADERS = {
    "users.csv": "enabledUser", "roles.csv": "roleType", "classes.csv": "termSourcedIds", "enrollments.csv": "schoolSourcedId",
}


def version_of(value: str | None) -> str | None:
    """``1.1`` for ``1.1``, ``1.1.1`` or ``v1.1``; the value itself when it is not ``major.minor``."""
    if value is None:
        return None
    match = _VERSION.match(value.strip())
    return f"{match.group(1)}.{match.group(2)}" if match else value.strip()


@dataclass
class Manifest:
    """The properties of a manifest, each with the line it is on; repeated properties are kept apart."""

    header: list[str]
    values: dict[str, tuple[int, str]] = field(default_factory=dict)  # property -> (line, value), first seen
    repeats: list[tuple[str, int, str]] = field(default_factory=list)  # (property, line, value) seen again
    blank_names: list[int] = field(default_factory=list)  # lines with a value but no property name

    @classmethod
    def from_rows(cls, header: list[str], rows: list[tuple[int, str | None, str | None]]) -> "Manifest":
        manifest = cls(header)
        for line, name, value in rows:
            name, value = (name or "").strip(), (value or "").strip()
            if not name:
                if value:
                    manifest.blank_names.append(line)
                continue
            if name in manifest.values:
                manifest.repeats.append((name, line, value))
            else:
                manifest.values[name] = (line, value)
        return manifest

    @classmethod
    def from_raw(cls, raw: RawTable) -> "Manifest":
        """The manifest as the reader parsed it (exact line numbers)."""
        table = raw.table
        names = table.column(0).to_pylist() if table.num_columns else []
        values = table.column(1).to_pylist() if table.num_columns > 1 else [None] * len(names)
        lines = list(range(2, len(names) + 2)) if raw.lines is None else [int(n) for n in raw.lines]
        return cls.from_rows(raw.header, list(zip(lines, names, values)))

    @classmethod
    def from_text(cls, header: list[str], body: str) -> "Manifest":
        """The manifest from its header and the text after it (for format detection)."""
        reader = csv.reader(io.StringIO(body, newline=""))
        rows = []
        try:
            for fields in reader:
                if fields:
                    rows.append((reader.line_num + 1, fields[0], fields[1] if len(fields) > 1 else None))
        except csv.Error:
            pass  # detection only needs the version; the reader reports broken lines
        return cls.from_rows(header, rows)

    def value(self, name: str) -> str | None:
        """The (first) value of a property, or ``None`` when it is not listed or blank."""
        found = self.values.get(name)
        return found[1] or None if found else None

    def line(self, name: str) -> int | None:
        """The line of a property."""
        found = self.values.get(name)
        return found[0] if found else None

    @property
    def version(self) -> str | None:
        """The OneRoster version the manifest declares (``1.1``, ``1.2``, or what it says)."""
        return version_of(self.value("oneroster.version"))

    def mode(self, file_name: str) -> str | None:
        """``bulk``, ``delta`` or ``absent`` for ``users.csv`` (from ``file.users``, any case), else ``None``."""
        value = self.value(self.property_of(file_name) or "")
        return value.lower() if value and value.lower() in MODES else None

    @property
    def lists_delta(self) -> bool:
        """Whether any ``file.<name>`` property says ``delta`` (the package then holds changes only)."""
        return any(value.lower() == "delta" for name, (_line, value) in self.values.items() if name.lower().startswith("file."))

    def property_of(self, file_name: str) -> str | None:
        """The property naming a file, as the manifest spells it (``file.users`` for ``users.csv``)."""
        wanted = "file." + file_name.removesuffix(".csv").lower()
        return next((name for name in self.values if name.lower() == wanted), None)


def detect_version(
    lower_names: dict[str, str],
    header_of: Callable[[str], list[str] | None],
    body_of: Callable[[str], str | None] | None,
) -> tuple[str, str]:
    """The ``--format`` name of a package with a manifest, and the evidence in words.

    The manifest's ``oneroster.version`` decides. Without a usable one: a ``roles.csv``, or a
    ``users.csv`` without ``role``, means 1.2 (``roster-csv-formats.md`` §5); else 1.1. The
    package checks then report what is wrong with the manifest.
    """
    name = lower_names[MANIFEST]
    header = header_of(name) or []
    body = body_of(name) if body_of is not None else None
    manifest = Manifest.from_text(header, body) if body is not None and header[:2] == ["propertyName", "value"] else None
    declared = manifest.value("oneroster.version") if manifest else None
    if declared is not None:
        version = version_of(declared)
        return FORMAT_OF_VERSION.get(version, f"oneroster-{version}"), f"{name} says oneroster.version {declared}"
    users = lower_names.get("users.csv")
    users_header = header_of(users) if users else None
    why = f"{name} does not say oneroster.version"
    if "roles.csv" in lower_names:
        return "oneroster-1.2", f"{why}; read as 1.2 because there is a roles.csv"
    if users_header is not None and "role" not in users_header:
        return "oneroster-1.2", f"{why}; read as 1.2 because {users} has no role column"
    return "oneroster-1.1", f"{why}; read as 1.1"


def missing_manifest_evidence(lower_names: dict[str, str], header_of: Callable[[str], list[str] | None]) -> str | None:
    """Why a package without ``manifest.csv`` looks like OneRoster, or ``None`` when it does not."""
    for file, column in _ONEROSTER_ONLY_HEADERS.items():
        name = lower_names.get(file)
        if file == "users.csv" and "roles.csv" in lower_names:
            continue
        if name is not None and column in (header_of(name) or []):
            return (
                f"{name} has the column {column}, as OneRoster files do, but there is no {MANIFEST}; every OneRoster "
                f"package needs one (propertyName,value rows: manifest.version, oneroster.version, and file.<name> "
                f"= bulk, delta or absent for each file)"
            )
    return None
