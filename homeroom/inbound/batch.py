"""What the inbound stage hands to validation: a ``Batch`` of canonical source rows and what reading found.

Every source produces the same ``Batch``: a CSV package (``reader.read_package``) and, later, a
OneRoster REST API. The validate stage's ``check`` runs the record checks over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

import polars as pl

from homeroom.findings import Findings
from homeroom.model.entities import Entity

#: Called as progress(file, stage, done, total) while a package is read and checked.
Progress = Callable[[str, str, int, int], None]
#: ``bulk``: the batch holds all of the source's data; ``delta``: only changes since an earlier one.
Mode = Literal["bulk", "delta"]

#: Columns of a source frame with this prefix are carried, unchecked, into the validated table
#: (without the prefix): OneRoster's status and dateLastModified, extension columns.
KEEP_PREFIX = "__keep_"
#: A boolean column of a source frame: where true, a reference to a record that is not in the
#: package is accepted (OneRoster delta rows refer to records sent earlier); a reference to a
#: record that was dropped is still reported.
OPEN_REFERENCES = "__open_references"
#: A boolean column of a source frame: where true, the format has dropped the row with a finding of
#: its own (OneRoster: a delta row without a valid status); the row is not checked, but references
#: to it are reported as ``ReferenceDropped``.
DROPPED = "__dropped"


@dataclass
class SourceRows:
    """Rows of one canonical entity read from one source file, as text, ready for the record checks.

    ``frame`` has one String column per canonical field (null where blank), ``__line`` (the line
    of the row in ``file``) and any ``__keep_*`` columns to carry through. ``headers`` names each
    canonical field as ``file`` spells it, so that findings speak the file's language.

    A ``__hint_<field>`` column (text, null for none) is appended to the message of an invalid
    value of that field on its row, to say how to fix it (SDS v1: how to configure a domain).
    """

    entity: Entity
    file: str
    frame: pl.DataFrame
    headers: dict[str, str]
    #: Fields that must have a value in this file although they are optional in the entity
    #: (SDS v1 User.csv: a contact's First Name and Last Name).
    required: frozenset[str] = frozenset()


@dataclass
class FileStats:
    """Counts for one file of the package."""

    records: int = 0  # records in the file (a record broken over two lines counts once)
    valid: int = 0  # records that passed


@dataclass
class Batch:
    """One read of a source: its canonical rows, and the findings, counts and mode that reading gave.

    A batch is checked once: the validate stage's ``check`` takes its source rows, adds to its
    findings and completes the ``valid`` counts of its files.
    """

    package: str  # the package's name (its folder or archive)
    format: str | None  # the format's --format name; None when it could not be told
    findings: Findings  # the package checks, broken lines, and what the format found reading rows
    sources: list[SourceRows] = field(default_factory=list)  # empty when the package was not read
    files: dict[str, FileStats] = field(default_factory=dict)  # file name -> counts, for the files read
    recognised: list[str] = field(default_factory=list)  # the package's files that are files of its format
    #: Entity name -> the format's files that fill it, in the format's order (the first names an
    #: absent entity in findings; each gets the valid count of that entity's records from it).
    entity_files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    stopped: bool = False  # a catastrophic finding stopped the reading: there is nothing to check
    mode: Mode = "bulk"  # what the format says the files hold (OneRoster: a delta file in the manifest); bulk until read

    def take_sources(self) -> list[SourceRows]:
        """The source rows, handed over: the batch no longer holds them, so that each can be released once checked."""
        sources, self.sources = self.sources, []
        return sources
