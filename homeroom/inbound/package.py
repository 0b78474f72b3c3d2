"""Open a roster package, a folder or a zip archive, without trusting it.

A package is a set of named CSV files. A folder may hold CSV files and zip archives side by side;
an archive may hold only CSV files at its top level. Refused, each with a catastrophic finding:
symbolic links that lead outside the package folder (and link entries in archives),
entries that are folders, non-CSV files or paths (``../x.csv``, ``a/b.csv``, absolute names),
the same file supplied twice, too many entries, and archives that expand beyond the configured
size or ratio (zip bombs; the real expansion is counted while reading, not taken from headers).
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

import pyarrow as pa

from homeroom.errors import PackageError
from homeroom.settings import Settings

#: Entries that archiving tools add on their own; they are ignored with a warning.
_TOOL_DEBRIS_PREFIXES = ("__MACOSX/",)
_TOOL_DEBRIS_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


class ArchiveLimitExceeded(Exception):
    """Reading an archive entry expanded past the configured limits."""


@dataclass
class PackageFile:
    """One CSV file of a package."""

    name: str  # the file name as supplied (case kept)
    origin: str  # where it came from, for messages: "users.csv" or "roster.zip:users.csv"
    read: Callable[[], bytes | memoryview] = field(repr=False)
    size: int = 0  # bytes (uncompressed)


@dataclass
class PackageProblem:
    """A package-level problem found while opening (turned into a finding by the reader)."""

    rule: str
    file: str
    values: dict[str, object]


@dataclass
class Package:
    """The files of a package and the problems found opening it."""

    name: str
    files: dict[str, PackageFile]
    problems: list[PackageProblem]
    ignored: list[str]  # files that are not CSV (a folder's other files, archive debris)


def _read_limited(archive: Path, info: zipfile.ZipInfo, settings: Settings, budget: list[int]) -> bytes:
    chunks, total = [], 0
    with zipfile.ZipFile(archive) as zf, zf.open(info) as fh:
        while chunk := fh.read(1 << 20):
            total += len(chunk)
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise ArchiveLimitExceeded(
                    f"the files expand to more than {settings.zip_max_total_bytes} bytes in total (HOMEROOM_ZIP_MAX_TOTAL_BYTES)"
                )
            if info.compress_size and total > 1 << 20 and total / info.compress_size > settings.zip_max_ratio:
                raise ArchiveLimitExceeded(
                    f"{info.filename} expands more than {settings.zip_max_ratio:g} times (HOMEROOM_ZIP_MAX_RATIO)"
                )
            chunks.append(chunk)
    return b"".join(chunks)


def _map_file(path: Path) -> memoryview:
    """The file's bytes, memory-mapped (no copy); an empty file cannot be mapped and is read."""
    if path.stat().st_size == 0:
        return memoryview(b"")
    return memoryview(pa.memory_map(str(path)).read_buffer())


def _unsafe_entry_reason(name: str) -> str | None:
    if name.endswith("/"):
        return "a folder"
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or len(path.parts) != 1 or ":" in name:
        return "a path outside the archive's top level"
    if not name.lower().endswith(".csv"):
        return "not a .csv file"
    return None


def _open_archive(archive: Path, settings: Settings, package: Package) -> list[PackageFile]:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        package.problems.append(
            PackageProblem("InvalidFileFormat", archive.name, {"entry": archive.name, "archive": f"{archive.name} ({exc})"})
        )
        return []
    with zf:
        infos = zf.infolist()
    if len(infos) > settings.zip_max_entries:
        package.problems.append(
            PackageProblem(
                "ArchiveTooLarge",
                archive.name,
                {"archive": archive.name, "detail": f"it has {len(infos)} entries; at most {settings.zip_max_entries} are accepted"},
            )
        )
        return []
    declared = sum(i.file_size for i in infos)
    if declared > settings.zip_max_total_bytes:
        package.problems.append(
            PackageProblem(
                "ArchiveTooLarge",
                archive.name,
                {"archive": archive.name, "detail": f"its files declare {declared} bytes, more than {settings.zip_max_total_bytes}"},
            )
        )
        return []
    budget = [settings.zip_max_total_bytes]
    files = []
    for info in infos:
        name = info.filename
        if name.startswith(_TOOL_DEBRIS_PREFIXES) or PurePosixPath(name).name in _TOOL_DEBRIS_NAMES:
            package.ignored.append(f"{archive.name}:{name}")
            continue
        if stat.S_ISLNK(info.external_attr >> 16):  # a link entry: its target would be read on extraction, not its bytes
            package.problems.append(PackageProblem("LinkOutsidePackage", f"{archive.name}:{name}",
                                                   {"where": f"a link entry in {archive.name}"}))
            continue
        reason = _unsafe_entry_reason(name)
        if reason is not None:
            package.problems.append(
                PackageProblem("InvalidFileFormat", archive.name, {"entry": f"{name!r} ({reason})", "archive": archive.name})
            )
            continue
        if info.compress_size and info.file_size / info.compress_size > settings.zip_max_ratio and info.file_size > 1 << 20:
            package.problems.append(
                PackageProblem(
                    "ArchiveTooLarge",
                    archive.name,
                    {"archive": archive.name, "detail": f"{name} declares an expansion of more than {settings.zip_max_ratio:g} times"},
                )
            )
            continue
        files.append(
            PackageFile(
                name,
                f"{archive.name}:{name}",
                lambda info=info: _read_limited(archive, info, settings, budget),
                info.file_size,
            )
        )
    return files


def _inside(entry: Path, root: Path) -> bool:
    """Whether a link resolves to a file within the package folder ``root`` (a broken link does not)."""
    try:
        target = entry.resolve(strict=True)
    except (OSError, RuntimeError):  # broken, or a loop
        return False
    return target.is_relative_to(root) and target != root


def open_package(path: Path, settings: Settings) -> Package:
    """List the CSV files of a folder or zip package; raise ``PackageError`` if the path is unusable."""
    path = Path(path)
    if not path.exists():
        raise PackageError(f"{path} does not exist")
    package = Package(path.name, {}, [], [])
    candidates: list[PackageFile] = []
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise PackageError(f"{path} is neither a folder nor a zip archive")
        candidates = _open_archive(path, settings, package)
    elif path.is_dir():
        root = path.resolve()
        for entry in sorted(path.iterdir()):
            if entry.is_symlink() and not _inside(entry, root):
                if entry.suffix.lower() in (".csv", ".zip"):
                    package.problems.append(PackageProblem("LinkOutsidePackage", entry.name, {"where": "in the package folder"}))
                else:
                    package.ignored.append(entry.name)
                continue
            if entry.is_file() and entry.suffix.lower() == ".csv":
                candidates.append(PackageFile(entry.name, entry.name, lambda entry=entry: _map_file(entry), entry.stat().st_size))
            elif entry.is_file() and entry.suffix.lower() == ".zip":
                candidates += _open_archive(entry, settings, package)
            elif not entry.name.startswith("."):
                package.ignored.append(entry.name)  # not a CSV: not part of the package
    else:
        raise PackageError(f"{path} is neither a folder nor a zip archive")
    by_name: dict[str, list[PackageFile]] = {}
    for f in candidates:
        by_name.setdefault(f.name, []).append(f)
    for name, copies in by_name.items():
        if len(copies) > 1:
            package.problems.append(
                PackageProblem("DuplicateFileFound", name, {"sources": ", ".join(c.origin for c in copies)})
            )
        package.files[name] = copies[0]
    return package
