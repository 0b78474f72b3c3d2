"""Validate a roster package: package checks, then line and record checks, then the validated tables.

Package checks (file names, required files, headers, encoding, archives) are all run, and if any
of them is catastrophic the run stops before a single record is used. Otherwise every file is read
and checked in dependency order, and the records that pass are returned as Arrow tables.
"""

from __future__ import annotations

import traceback
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl
import pyarrow as pa

from homeroom.findings import Findings
from homeroom.inbound.csv_reader import EncodingProblem, HeaderProblem, RawTable, read_csv_body, split_header, strip_bom
from homeroom.inbound.detect import SUPPORTED, detect_format
from homeroom.inbound.formats import FORMATS, CsvFormat, FileSpec
from homeroom.inbound.package import ArchiveLimitExceeded, Package, PackageFile, open_package
from homeroom.model.entities import ENTITIES
from homeroom.model.reference import ReferenceData
from homeroom.settings import Settings, get_settings
from homeroom.validate.records import RecordChecker

#: Called as progress(file, stage, done, total) while a package is validated.
Progress = Callable[[str, str, int, int], None]


@dataclass
class FileStats:
    """Counts for one file of the package."""

    records: int = 0  # records in the file (a record broken over two lines counts once)
    valid: int = 0  # records that passed


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

    def count(self, level: str) -> int:
        """How many findings of a level."""
        return int((self.findings.get_column("level") == level).sum())

    @property
    def exit_code(self) -> int:
        """0 without errors, 1 with errors, 2 with a catastrophic finding."""
        if self.stopped or self.count("catastrophic"):
            return 2
        return 1 if self.count("error") else 0


def _check_file_names(fmt: CsvFormat, package: Package, findings: Findings) -> dict[str, PackageFile]:
    """Match package files to the format's files; returns {spec name: file} for the usable ones."""
    present: dict[str, PackageFile] = {}
    spec_by_lower = {s.name.lower(): s for s in fmt.files}
    for name, pf in package.files.items():
        spec = spec_by_lower.get(name.lower())
        if spec is None:
            findings.add("UnknownFile", "warning", name, format=fmt.display_name)
        elif spec.name != name and fmt.case_sensitive_names:
            findings.add("FileNameCaseMismatch", "catastrophic", spec.name, found=name)
        else:
            present[spec.name] = pf
    named_case_wrong = {n.lower() for n in package.files}
    for spec in fmt.files:
        if spec.name in present or spec.name.lower() in named_case_wrong:
            continue
        if spec.requirement == "required":
            findings.add(
                "RequiredFileNotFound", "catastrophic", spec.name, package=package.name,
                reason=f"{spec.name} is required in every {fmt.display_name} package.",
            )
    for group in fmt.together:  # all or none: each missing member is named once
        have = [n for n in group if n in present]
        for missing in group:
            if have and missing not in present and missing.lower() not in named_case_wrong:
                findings.add(
                    "RequiredFileNotFound", "catastrophic", missing, package=package.name,
                    reason=f"{', '.join(group[:-1])} and {group[-1]} must be supplied together, and {have[0]} is present.",
                )
    for spec in fmt.files:
        together = any(spec.name in pair for pair in fmt.together)
        if spec.requirement == "optional" and spec.name not in present and spec.name.lower() not in named_case_wrong:
            if together and any(other in present for pair in fmt.together if spec.name in pair for other in pair):
                continue  # already reported as required
            findings.add("OptionalFileNotFound", "warning", spec.name, consequence=spec.missing_consequence + ".")
    return present


def _check_header(spec: FileSpec, header: list[str], fmt: CsvFormat, findings: Findings) -> None:
    positions: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        positions.setdefault(h, []).append(i + 1)
    for h, cols in positions.items():
        if len(cols) > 1 and h:
            findings.add("DuplicateColumnsInHeader", "catastrophic", spec.name, line=1, header=h, columns=", ".join(map(str, cols)))
    known = {h for h, _ in spec.columns} | {h for h, _ in spec.aliases}
    lower_to_actual = {h.lower(): h for h in header}
    for required in spec.required_headers:
        aliases = [a for a, name in spec.aliases if name == dict(spec.columns).get(required)]
        if required in positions or any(a in positions for a in aliases):
            continue
        near = lower_to_actual.get(required.lower())
        hint = (
            f"Found {near!r}: header names are case-sensitive; rename it to {required!r}."
            if near
            else "Correct the extract so that the header reads exactly as expected, then upload it again."
        )
        findings.add("HeaderNotPresent", "catastrophic", spec.name, line=1, header=required, hint=hint)
    for h in header:
        if fmt.extension_prefix and h.startswith(fmt.extension_prefix):
            continue  # an extension column (OneRoster metadata.*): the format decides what to do with it
        if h not in known and not (h.lower() in {k.lower() for k in known} and h.lower() in {r.lower() for r in spec.required_headers}):
            findings.add("UnknownColumn", "warning", spec.name, line=1, field=h or "(blank)", header=h or "(blank)", format=fmt.display_name)


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
    """Validate the roster package at ``path`` (a folder or a zip archive).

    ``basic_only`` stops after SDS's *basic* checks (the package, its files' names, encoding of the
    header and the headers): what an upload session's ``validate`` reports. Records are not read.

    ``options`` are format-specific settings (see each format module); the format also receives
    ``settings`` under the key ``"settings"``. Raises ``PackageError``
    only when the path cannot be opened at all; every problem in the package is a finding.
    """
    settings = settings or get_settings()
    reference = reference or ReferenceData.default()
    findings = Findings()
    package = open_package(Path(path), settings)
    result = ValidationResult(package.name, None, findings.frame())
    report = progress or (lambda *_: None)

    for problem in package.problems:
        findings.add(problem.rule, "catastrophic", problem.file, **problem.values)
    if findings.has_catastrophic():  # the files themselves cannot be trusted: stop here
        result.findings, result.stopped = findings.frame(), True
        return result

    headers: dict[str, tuple[list[str], memoryview] | None] = {}
    data_cache: dict[str, bytes | memoryview] = {}

    def load(name: str) -> tuple[list[str], memoryview] | None:
        """Read a file and split its header, turning every problem into a finding."""
        if name in headers:
            return headers[name]
        headers[name] = None
        pf = package.files[name]
        try:
            data_cache[name] = pf.read()
            headers[name] = split_header(strip_bom(data_cache[name]))
        except ArchiveLimitExceeded as exc:
            findings.add("ArchiveTooLarge", "catastrophic", name, archive=pf.origin.split(":")[0], detail=str(exc))
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            findings.add("InvalidFileFormat", "catastrophic", name, entry=f"{name!r} (corrupt: {exc})", archive=pf.origin.split(":")[0])
        except EncodingProblem as exc:
            findings.add("InvalidEncoding", "catastrophic", name, line=exc.line, detail=exc.detail)
        except HeaderProblem as exc:
            findings.add("HeaderNotPresent", "catastrophic", name, line=1, header="the header row", hint=f"({exc}).")
        except OSError as exc:
            findings.add("InternalApplicationError", "catastrophic", name, error=str(exc))
        return headers[name]

    if format_name is None:
        detection = detect_format(
            list(package.files), lambda n: (load(n) or ([], None))[0],
            lambda n: None if (loaded := load(n)) is None else bytes(loaded[1]).decode("utf-8", "replace"),
        )
        format_name = detection.format
        if format_name is None:
            findings.add("UnknownFormat", "catastrophic", package.name, detail=f"Cannot tell the format of {package.name}: {detection.evidence}.")
        elif format_name not in SUPPORTED:
            findings.add(
                "UnsupportedFormatVersion", "catastrophic", package.name,
                detail=(
                    f"{package.name} is a package in {detection.display_name} format ({detection.evidence}); "
                    f"this version of Homeroom validates {', '.join(FORMATS[f].display_name for f in sorted(SUPPORTED))} packages."
                ),
            )
    elif format_name not in FORMATS:
        raise ValueError(f"unknown format {format_name!r}; known: {', '.join(sorted(FORMATS))}")
    result.format = format_name
    if format_name not in FORMATS or findings.has_catastrophic():
        result.findings, result.stopped = findings.frame(), True
        return result

    fmt = FORMATS[format_name]
    present = _check_file_names(fmt, package, findings)
    result.recognised = sorted(pf.name for pf in present.values())
    for spec in fmt.files:
        if spec.name in present and spec.skip_reason is not None:  # recognised, holds nothing to roster: not read
            findings.add("FileSkipped", "info", spec.name, reason=spec.skip_reason)
        elif spec.name in present and (loaded := load(present[spec.name].name)) is not None:
            _check_header(spec, loaded[0], fmt, findings)
    if basic_only:
        result.findings, result.stopped = findings.frame(), findings.has_catastrophic()
        return result

    raws: dict[str, RawTable] = {}
    if not findings.has_catastrophic():
        for spec in fmt.files:
            if spec.name not in present or spec.skip_reason is not None:
                continue
            pf = present[spec.name]
            report(spec.name, "reading", 0, pf.size)
            header, body = headers[pf.name]  # type: ignore[misc]
            try:
                raws[spec.name] = read_csv_body(body, header, allow_line_breaks=fmt.allow_line_breaks)
            except EncodingProblem as exc:
                findings.add("InvalidEncoding", "catastrophic", spec.name, line=exc.line, detail=exc.detail)
            except Exception as exc:  # noqa: BLE001 - a parser failure must become a finding, not a traceback
                findings.add("InternalApplicationError", "catastrophic", spec.name, error=_describe(exc))
            finally:
                headers.pop(pf.name, None)
                data_cache.pop(pf.name, None)
            report(spec.name, "reading", pf.size, pf.size)
        if fmt.check_package is not None and not findings.has_catastrophic():
            fmt.check_package(fmt, set(present), raws, findings)  # e.g. OneRoster's manifest
    if findings.has_catastrophic():
        result.findings, result.stopped = findings.frame(), True
        return result

    for spec in fmt.files:
        raw = raws.get(spec.name)
        if raw is not None:
            for lf in raw.line_findings:
                findings.add(lf.rule, "error", spec.name, line=lf.line, record_id=lf.record_id, **lf.values)
            result.files[spec.name] = FileStats(records=raw.records)
            if spec.entity is None:  # a control file (OneRoster's manifest): its readable rows are its valid ones
                result.files[spec.name].valid = raw.records - len(raw.line_findings)
    # Formats read their defaults (e.g. SDS v1 username domains) from the run's settings.
    sources = fmt.sources(raws, findings, {"settings": settings, **(options or {})})
    raws.clear()  # the source frames hold what is needed; let the raw tables go
    checker = RecordChecker(reference, settings, findings)
    for entity in ENTITIES:
        mine = [s for s in sources if s.entity is entity]
        if not mine:
            files = [spec.name for spec in fmt.files if spec.entity is entity]
            checker.absent(entity, files[0] if files else f"{entity.name} data")
            continue
        report(entity.name, "checking", 0, sum(s.frame.height for s in mine))
        sources = [s for s in sources if s.entity is not entity]
        valid, per_file = checker.check(entity, mine)
        result.tables[entity.name] = valid.to_arrow(compat_level=pl.CompatLevel.newest())  # zero-copy
        for spec in fmt.files:  # a file's valid records are those of the entity it primarily fills
            if spec.entity is entity and spec.name in result.files:
                result.files[spec.name].valid = per_file.get(spec.name, 0)
        report(entity.name, "checking", valid.height, valid.height)
    result.findings = findings.frame()
    return result


def _describe(exc: Exception) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" (in {Path(frame.filename).name}:{frame.lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"
