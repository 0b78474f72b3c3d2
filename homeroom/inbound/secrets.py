"""Secrets a SIS exports (users' initial passwords): Homeroom keeps none of them.

A package's password columns are validated like any text, then dropped: they are not in the canonical tables a
run diffs and writes (``without_secrets``), so they never reach the lake, its Parquet files or its Delta log's
column statistics, a held run's pending data, ``homeroom lake query``, the APIs or findings. Provisioning does not
need them: new accounts get the provisioning flow's default password, a sealed secret of the store. A package
Homeroom keeps (a validated upload, ``packages/<tenant>/<connector>/<operation>/``) has those columns blanked in
place (``blank_secret_columns``), in its CSV files and in the CSV members of its zip archives.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import pyarrow as pa

from homeroom.inbound.csv_reader import MAX_LINES_PER_RECORD
from homeroom.inbound.formats import FORMATS
from homeroom.model.entities import ENTITY_BY_NAME, Kind

#: Headers taken as secret in any file, whatever its format says (a format that does not know a password column).
ALWAYS_SECRET = frozenset({"password"})


def secret_columns(entity: str) -> list[str]:
    """The canonical columns of an entity that hold secrets."""
    found = ENTITY_BY_NAME.get(entity)
    return [] if found is None else [f.name for f in found.fields if f.kind == Kind.SECRET]


def without_secrets(tables: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    """The canonical tables of a package without their secret columns."""
    out = {}
    for name, table in tables.items():
        drop = [c for c in secret_columns(name) if c in table.column_names]
        out[name] = table.drop_columns(drop) if drop else table
    return out


def secret_headers(format_name: str | None, file: str) -> set[str]:
    """The headers (lower case) of a package's ``file`` whose field is a secret in the package's format."""
    fmt = FORMATS.get(format_name or "")
    spec = next((s for s in fmt.files if s.name.lower() == file.lower()), None) if fmt else None
    secret = set()
    for header, canonical in (spec.columns if spec else ()):
        if canonical is None:
            continue
        try:
            entity, name = spec.target(canonical)
            if entity.field(name).kind == Kind.SECRET:
                secret.add(header.lower())
        except (KeyError, ValueError, AttributeError):
            continue
    return secret | ALWAYS_SECRET


def blank_secret_columns(package: Path, format_name: str | None) -> list[str]:
    """Blank every secret column of a kept package's CSV files (and of the CSV members of its zip archives), in
    place; returns the files changed (a zip's member as ``archive.zip/member.csv``).

    Only the secret fields change: every other field, and the number of records and lines, stay as they were, so
    the run's findings name the same lines as validation's. Files are streamed, never held whole in memory.
    """
    changed = []
    for path in sorted(p for p in package.rglob("*") if p.is_file() and not p.is_symlink()):
        name = path.name.lower()
        if name.endswith(".csv"):
            secret = secret_headers(format_name, path.name)
            with open(path, "rb") as src:
                if _secret_indexes(src, secret) is None:
                    continue
            tmp = path.with_name(path.name + ".tmp")
            with open(path, "rb") as src, open(tmp, "wb") as dst:
                done = _blank(src, dst, secret)
            if done:
                os.replace(tmp, path)
                changed.append(str(path.relative_to(package)))
            else:
                tmp.unlink(missing_ok=True)
        elif name.endswith(".zip") and zipfile.is_zipfile(path):
            changed += _blank_zip(path, package, format_name)
    return changed


def _secret_indexes(src: IO[bytes], secret: set[str]) -> list[int] | None:
    """The positions of the secret columns in the header of the CSV ``src`` (read from its start), or None."""
    head = src.read(1 << 16)
    text = head.decode("utf-8-sig", errors="replace")
    line = text.splitlines()[0] if text else ""
    try:
        header = next(csv.reader([line]))
    except (StopIteration, csv.Error):
        return None
    columns = [i for i, h in enumerate(header) if h.strip().lower() in secret]
    return columns or None


def _blank(src: IO[bytes], dst: IO[bytes], secret: set[str]) -> bool:
    """Copy the CSV ``src`` to ``dst`` with its secret values emptied; False when it has none or is not UTF-8 text.

    Only the bytes of secret values change. The run validates the kept package later, so every other byte stays,
    on broken lines too (an unbalanced quote, a ragged line): such a line is copied as it is, and the line
    numbers, quoting and line ends of the file are the ones validation saw. Records are the physical lines
    validation reads: a line whose quotes do not balance joins the lines up to the next such line when together
    they parse as one record of the header's width (``csv_reader.MAX_LINES_PER_RECORD``), as validation does.
    """
    columns = _secret_indexes(src, secret)
    src.seek(0)
    if columns is None:
        return False
    text = io.TextIOWrapper(src, encoding="utf-8", newline="")  # newline="": lines keep their own \r\n, \r or \n
    out = io.TextIOWrapper(dst, encoding="utf-8", newline="")
    try:
        lines = iter(text)
        header = next(lines, "")
        out.write(header)
        width = len(next(csv.reader([header.lstrip("\ufeff").rstrip("\r\n")])))
        blank = sorted(set(columns))
        pending: list[str] = []  # lines read ahead while looking for the end of a multi-line record
        while True:
            line = pending.pop(0) if pending else next(lines, None)
            if line is None:
                break
            if line.count('"') % 2 == 0:
                out.write(_blank_record(line, blank, width))
                continue
            while len(pending) < MAX_LINES_PER_RECORD - 1 and not any(p.count('"') % 2 for p in pending):
                more = next(lines, None)
                if more is None:
                    break
                pending.append(more)
            end = next((k for k, p in enumerate(pending) if p.count('"') % 2), None)
            record = line + "".join(pending[: end + 1]) if end is not None else None
            spans = _spans(record.rstrip("\r\n")) if record is not None else None
            if spans is not None and len(spans) == width:
                del pending[: end + 1]
                out.write(_blank_record(record, blank, width))
            else:
                out.write(line)  # validation reports this line (an unterminated quote) and keeps nothing of it
    except (csv.Error, UnicodeDecodeError, StopIteration):
        return False  # validation refuses such a file; nothing of it is run
    finally:
        out.flush()
        out.detach()  # the caller's files stay open
        text.detach()
    return True


_QUOTED = re.compile(r'"(?:[^"]|"")*"')
_UNQUOTED = re.compile(r"[^,]*")


def _spans(body: str) -> list[tuple[int, int]] | None:
    """Where each field's raw text lies in one record (its line end removed), or None when the record is not
    well-formed CSV (a quoted value followed by anything but a comma). Read by scanning, not with the csv module,
    whose value-length limit is a setting of the whole process."""
    spans, at = [], 0
    while True:
        match = (_QUOTED if body.startswith('"', at) else _UNQUOTED).match(body, at)
        if match is None:
            return None  # a quote that does not close
        spans.append((at, match.end()))
        at = match.end()
        if at == len(body):
            return spans
        if body[at] != ",":
            return None
        at += 1


def _blank_record(record: str, blank: list[int], width: int) -> str:
    """``record`` with the raw text of its fields at ``blank`` emptied, when it is one record of ``width`` values;
    otherwise (a ragged or unreadable line, which validation reports) as it is."""
    body = record.rstrip("\r\n")
    ending = record[len(body):]
    if '"' not in body:
        fields = body.split(",")
        if len(fields) != width or not any(fields[i] for i in blank):
            return record
        for i in blank:
            fields[i] = ""
        return ",".join(fields) + ending
    spans = _spans(body)
    if spans is None or len(spans) != width:
        return record
    pieces, last = [], 0
    for i in blank:
        start, stop = spans[i]
        # A quoted value with line breaks keeps them, so the lines after it keep their numbers.
        kept = "".join(c for c in body[start:stop] if c in "\r\n")
        pieces += [body[last:start], f'"{kept}"' if kept else ""]
        last = stop
    return "".join(pieces) + body[last:] + ending


def _blank_zip(path: Path, package: Path, format_name: str | None) -> list[str]:
    changed: list[str] = []
    with zipfile.ZipFile(path) as archive:
        secret_members = []
        for info in archive.infolist():
            if info.filename.lower().endswith(".csv") and not info.is_dir():
                with archive.open(info) as member:
                    if _secret_indexes(member, secret_headers(format_name, Path(info.filename).name)) is not None:
                        secret_members.append(info.filename)
        if not secret_members:
            return []
        tmp = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as rewritten:
            for info in archive.infolist():
                target = zipfile.ZipInfo(info.filename, info.date_time)
                target.compress_type, target.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
                with archive.open(info) as src, rewritten.open(target, "w", force_zip64=True) as dst:
                    if info.filename not in secret_members:
                        shutil.copyfileobj(src, dst)
                        continue
                    # Zip members do not seek: spool the member, blank it into a second file, and copy whichever is whole.
                    with tempfile.TemporaryFile() as spooled, tempfile.TemporaryFile() as blanked:
                        shutil.copyfileobj(src, spooled)
                        spooled.seek(0)
                        done = _blank(spooled, blanked, secret_headers(format_name, Path(info.filename).name))
                        chosen = blanked if done else spooled
                        chosen.seek(0)
                        shutil.copyfileobj(chosen, dst)
                        if done:
                            changed.append(f"{path.relative_to(package)}/{info.filename}")
    os.replace(tmp, path)
    return changed
