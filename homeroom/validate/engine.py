"""Validate what the inbound stage read: the record checks over a ``Batch``, then the validated tables.

``check`` reads no files: ``homeroom.inbound.read_package`` has opened the package, run its package
checks and turned its files into canonical source rows. The rows are checked entity by entity, in
dependency order, and the records that pass are returned as Arrow tables. ``validate_package`` is
the two steps together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa

from homeroom.inbound import Batch, FileStats, Mode, Progress, read_package
from homeroom.model.entities import ENTITIES
from homeroom.model.reference import ReferenceData
from homeroom.settings import Settings, get_settings
from homeroom.validate.records import RecordChecker


@dataclass
class ValidationResult:
    """What validation found and what passed."""

    package: str
    format: str | None
    findings: pl.DataFrame
    tables: dict[str, pa.Table] = field(default_factory=dict)  # entity name -> validated records
    files: dict[str, FileStats] = field(default_factory=dict)  # file name -> counts
    stopped: bool = False  # a catastrophic finding stopped the run
    recognised: list[str] = field(default_factory=list)  # the package's files that are files of its format
    mode: Mode = "bulk"  # "delta" when the package holds only changes (a OneRoster manifest says so)

    def count(self, level: str) -> int:
        """How many findings of a level."""
        return int((self.findings.get_column("level") == level).sum())

    @property
    def exit_code(self) -> int:
        """0 without errors, 1 with errors, 2 with a catastrophic finding."""
        if self.stopped or self.count("catastrophic"):
            return 2
        return 1 if self.count("error") else 0


def check(
    batch: Batch,
    *,
    reference: ReferenceData | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> ValidationResult:
    """Run the record checks over a batch (nothing when it is stopped); the batch is used up (see ``Batch``).

    ``reference`` gives the codes of each reference type (default: Homeroom's reference data).
    """
    result = ValidationResult(
        batch.package, batch.format, pl.DataFrame(), files=batch.files, stopped=batch.stopped,
        recognised=batch.recognised, mode=batch.mode,
    )
    findings = batch.findings
    if batch.stopped:
        result.findings = findings.frame()
        return result
    report = progress or (lambda *_: None)
    checker = RecordChecker(reference or ReferenceData.default(), settings or get_settings(), findings)
    sources = batch.take_sources()
    for entity in ENTITIES:
        mine = [s for s in sources if s.entity is entity]
        files = batch.entity_files.get(entity.name, ())
        if not mine:
            checker.absent(entity, files[0] if files else f"{entity.name} data")
            continue
        report(entity.name, "checking", 0, sum(s.frame.height for s in mine))
        sources = [s for s in sources if s.entity is not entity]  # the checked rows can go
        valid, per_file = checker.check(entity, mine)
        result.tables[entity.name] = valid.to_arrow(compat_level=pl.CompatLevel.newest())  # zero-copy
        for name in files:  # a file's valid records are those of the entity it primarily fills
            if name in result.files:
                result.files[name].valid = per_file.get(name, 0)
        report(entity.name, "checking", valid.height, valid.height)
    result.findings = findings.frame()
    return result


def validate_package(
    path: Path | str,
    *,
    format_name: str | None = None,
    reference: ReferenceData | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    options: Mapping[str, object] | None = None,
    basic_only: bool = False,
) -> ValidationResult:
    """Read the roster package at ``path`` (a folder or a zip archive) and check its records.

    See ``homeroom.inbound.read_package`` for ``format_name``, ``options`` and ``basic_only`` (the
    records are then neither read nor checked), and ``check`` for ``reference``. Raises
    ``PackageError`` only when the path cannot be opened at all; every problem in the package is a
    finding.
    """
    batch = read_package(path, format_name=format_name, settings=settings, progress=progress, options=options, basic_only=basic_only)
    return check(batch, reference=reference, settings=settings, progress=progress)
