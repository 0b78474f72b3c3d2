"""Read a roster package (a folder or a zip archive of CSV files) into a ``Batch`` of canonical source rows.

The package checks (the archive, file names, required files, headers, encoding, the format's own
package checks) are all run, and if any of them is catastrophic the batch is ``stopped`` before a
single record is used. Otherwise every file is parsed, its broken lines become findings, and the
format turns the files into canonical source rows, for the validate stage's ``check``.
"""

from __future__ import annotations

import os
import traceback
import zipfile
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from homeroom.findings import Findings
from homeroom.inbound import rules  # noqa: F401  (registers the codes of the checks made here)
from homeroom.inbound.batch import Batch, FileStats, Progress
from homeroom.inbound.checks import check_file_names, check_header
from homeroom.inbound.csv_reader import EncodingProblem, HeaderProblem, RawTable, read_csv_body, split_header, strip_bom
from homeroom.inbound.detect import detect_format
from homeroom.inbound.formats import FORMATS, FileSpec
from homeroom.inbound.package import ArchiveLimitExceeded, PackageFile, open_package
from homeroom.settings import Settings, get_settings


#: How many files of a package are parsed at the same time (at most one per core).
PARALLEL_FILES = 2


def read_package(
    path: Path | str,
    *,
    format_name: str | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    options: Mapping[str, object] | None = None,
    basic_only: bool = False,
) -> Batch:
    """Read the roster package at ``path`` (a folder or a zip archive) as ``format_name`` (default: detected).

    ``basic_only`` stops after SDS's *basic* checks (the package, its files' names, encoding of the
    header and the headers): what an upload session's ``validate`` reports. Records are not read.

    ``options`` are format-specific settings (see each format module); the format also receives
    ``settings`` under the key ``"settings"``. Raises ``PackageError`` only when the path cannot be
    opened at all, and ``ValueError`` for an unknown ``format_name``; every problem in the package
    is a finding.
    """
    settings = settings or get_settings()
    findings = Findings()
    package = open_package(Path(path), settings)
    batch = Batch(package.name, None, findings)
    report = progress or (lambda *_: None)

    def stop() -> Batch:
        batch.stopped = True
        return batch

    for problem in package.problems:
        findings.add(problem.rule, "catastrophic", problem.file, **problem.values)
    if findings.has_catastrophic():  # the files themselves cannot be trusted: stop here
        return stop()

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
        elif format_name not in FORMATS:
            findings.add(
                "UnsupportedFormatVersion", "catastrophic", package.name,
                detail=(
                    f"{package.name} is a package in {detection.display_name} format ({detection.evidence}); "
                    f"this version of Homeroom validates {', '.join(FORMATS[f].display_name for f in sorted(FORMATS))} packages."
                ),
            )
    elif format_name not in FORMATS:
        raise ValueError(f"unknown format {format_name!r}; known: {', '.join(sorted(FORMATS))}")
    batch.format = format_name
    if format_name not in FORMATS or findings.has_catastrophic():
        return stop()

    fmt = FORMATS[format_name]
    batch.entity_files = fmt.entity_files()
    present = check_file_names(fmt, package, findings)
    batch.recognised = sorted(pf.name for pf in present.values())
    for spec in fmt.files:
        if spec.name in present and spec.skip_reason is not None:  # recognised, holds nothing to roster: not read
            findings.add("FileSkipped", "info", spec.name, reason=spec.skip_reason)
        elif spec.name in present and (loaded := load(present[spec.name].name)) is not None:
            check_header(spec, loaded[0], fmt, findings)
    if basic_only:
        batch.stopped = findings.has_catastrophic()
        return batch

    raws: dict[str, RawTable] = {}
    if not findings.has_catastrophic():
        todo = [(spec, present[spec.name]) for spec in fmt.files if spec.name in present and spec.skip_reason is None]

        def parse(item: tuple[FileSpec, PackageFile]) -> RawTable | Exception:
            spec, pf = item
            header, body = headers[pf.name]  # type: ignore[misc]
            try:
                return read_csv_body(body, header, allow_line_breaks=fmt.allow_line_breaks)
            except Exception as exc:  # noqa: BLE001 - a parser failure must become a finding, not a traceback
                return exc
            finally:
                headers.pop(pf.name, None)
                data_cache.pop(pf.name, None)

        # Files are parsed side by side (PyArrow and numpy release the GIL), their findings added in the format's order.
        with ThreadPoolExecutor(max(1, min(os.cpu_count() or 1, PARALLEL_FILES))) as pool:
            futures = [pool.submit(parse, item) for item in todo]
            for (spec, pf), future in zip(todo, futures):
                report(spec.name, "reading", 0, pf.size)
                parsed = future.result()
                if isinstance(parsed, EncodingProblem):
                    findings.add("InvalidEncoding", "catastrophic", spec.name, line=parsed.line, detail=parsed.detail)
                elif isinstance(parsed, Exception):
                    findings.add("InternalApplicationError", "catastrophic", spec.name, error=_describe(parsed))
                else:
                    raws[spec.name] = parsed
                report(spec.name, "reading", pf.size, pf.size)
        batch.mode = fmt.mode(raws)
        if fmt.check_package is not None and not findings.has_catastrophic():
            fmt.check_package(fmt, set(present), raws, findings)  # e.g. OneRoster's manifest
    if findings.has_catastrophic():
        return stop()

    for spec in fmt.files:
        raw = raws.get(spec.name)
        if raw is not None:
            for lf in raw.line_findings:
                findings.add(lf.rule, "error", spec.name, line=lf.line, record_id=lf.record_id, **lf.values)
            batch.files[spec.name] = FileStats(records=raw.records)
            if spec.entity is None:  # a control file (OneRoster's manifest): its readable rows are its valid ones
                batch.files[spec.name].valid = raw.records - len(raw.line_findings)
    # Formats read their defaults (e.g. SDS v1 username domains) from the run's settings.
    batch.sources = fmt.sources(raws, findings, {"settings": settings, **(options or {})})
    raws.clear()  # the source frames hold what is needed; let the raw tables go
    return batch


def _describe(exc: Exception) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" (in {Path(frame.filename).name}:{frame.lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"
