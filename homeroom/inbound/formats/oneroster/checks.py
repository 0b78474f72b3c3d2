"""Package checks of a OneRoster package: the manifest against the files, and the columns of each file.

Run once the files are read and before any record is used (``CsvFormat.check_package``):

- the manifest's properties: a repeated property with another value, or a file mode other than
  ``bulk``/``delta``/``absent``, stops the run (``InvalidManifest``); a missing or different
  version is a warning, since the package is read as the format detected or asked for;
- the manifest against the files (``ManifestFileMismatch``): a file listed as bulk or delta must
  be present, a file listed as absent must not be; either stops the run, except for files that are
  skipped anyway (a warning). A present file that is not listed is read as bulk, with a warning;
- a delta file must have the ``status`` and ``dateLastModified`` columns (``HeaderNotPresent``);
- every column of the file's table should be present (``ColumnNotPresent``, warning) and in the
  specification's order, extension columns last (``ColumnOrder``, warning). Columns are matched
  by name either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeroom.findings import Findings
from homeroom.inbound.csv_reader import RawTable
from homeroom.inbound.formats.oneroster.manifest import MANIFEST, MODES, Manifest, version_of
from homeroom.inbound.formats.oneroster.files import spec_order

if TYPE_CHECKING:
    from homeroom.inbound.batch import Mode
    from homeroom.inbound.formats.base import CsvFormat, FileSpec

EXTENSION_PREFIX = "metadata."
_MANIFEST_VERSION = "1.0"


def format_version(fmt: "CsvFormat") -> str:
    """``1.1`` for ``oneroster-1.1``."""
    return fmt.name.removeprefix("oneroster-")


def file_modes(fmt: "CsvFormat", raws: dict[str, RawTable]) -> dict[str, str]:
    """``bulk`` or ``delta`` for each data file that was read (a file the manifest does not list: ``bulk``)."""
    raw = raws.get(MANIFEST)
    manifest = Manifest.from_raw(raw) if raw is not None else None
    modes = {}
    for name in raws:
        if name != MANIFEST:
            mode = manifest.mode(name) if manifest else None
            modes[name] = mode if mode in ("bulk", "delta") else "bulk"
    return modes


def package_mode(raws: dict[str, RawTable]) -> Mode:
    """``delta`` when the manifest lists any file as delta (even one that is not read), else ``bulk``."""
    raw = raws.get(MANIFEST)
    return "delta" if raw is not None and Manifest.from_raw(raw).lists_delta else "bulk"


def check_package(fmt: "CsvFormat", present: set[str], raws: dict[str, RawTable], findings: Findings) -> None:
    """The package checks of a OneRoster package (see the module docstring)."""
    raw = raws.get(MANIFEST)
    if raw is None:  # not readable: the reader has reported why
        return
    manifest = Manifest.from_raw(raw)
    _check_properties(fmt, manifest, findings)
    _check_files(fmt, manifest, present, findings)
    for spec in fmt.files:
        if spec.entity is not None and spec.name in raws:
            _check_columns(fmt, spec, raws[spec.name].header, manifest.mode(spec.name), findings)


def _invalid(findings: Findings, level: str, line: int | None, prop: str | None, value: str | None, detail: str) -> None:
    findings.add("InvalidManifest", level, MANIFEST, line=line, record_id=prop, field="value" if prop else None, value=value, detail=detail)


def _check_properties(fmt: "CsvFormat", manifest: Manifest, findings: Findings) -> None:
    for prop, line, value in manifest.repeats:
        first_line, first = manifest.values[prop]
        if value != first:
            _invalid(findings, "catastrophic", line, prop, value,
                     f"{MANIFEST} gives {prop} twice, '{first}' on line {first_line} and '{value}' on line {line}: keep one.")
    for line in manifest.blank_names:
        _invalid(findings, "warning", line, None, None, f"Line {line} of {MANIFEST} has a value but no propertyName; it was ignored.")
    version = format_version(fmt)
    declared = manifest.value("oneroster.version")
    if declared is None:
        _invalid(findings, "warning", None, "oneroster.version", None,
                 f"{MANIFEST} does not say oneroster.version; the package was read as {fmt.display_name}.")
    elif version_of(declared) != version:
        _invalid(findings, "warning", manifest.line("oneroster.version"), "oneroster.version", declared,
                 f"{MANIFEST} says oneroster.version {declared}, but the package was read as {fmt.display_name}, as asked.")
    manifest_version = manifest.value("manifest.version")
    if manifest_version is None:
        _invalid(findings, "warning", None, "manifest.version", None,
                 f"{MANIFEST} does not say manifest.version (expected {_MANIFEST_VERSION}); it was read as {_MANIFEST_VERSION}.")
    elif version_of(manifest_version) != _MANIFEST_VERSION:
        _invalid(findings, "warning", manifest.line("manifest.version"), "manifest.version", manifest_version,
                 f"{MANIFEST} says manifest.version {manifest_version}; expected {_MANIFEST_VERSION}, and it was read as such.")
    data_files = {spec.name.removesuffix(".csv").lower() for spec in fmt.files if spec.name != MANIFEST}
    for prop, (line, value) in manifest.values.items():
        if not prop.lower().startswith("file."):
            continue
        name = prop[len("file."):]
        if name.lower() not in data_files:
            _invalid(findings, "warning", line, prop, value,
                     f"{MANIFEST} lists {prop}, but {name}.csv is not a file of {fmt.display_name}; the line was ignored.")
        elif value.lower() not in MODES:
            _invalid(findings, "catastrophic", line, prop, value or None,
                     f"{MANIFEST} gives {prop} the mode '{value}'; expected bulk, delta or absent.")


def _check_files(fmt: "CsvFormat", manifest: Manifest, present: set[str], findings: Findings) -> None:
    for spec in fmt.files:
        if spec.name == MANIFEST:
            continue
        prop = manifest.property_of(spec.name)
        mode = manifest.mode(spec.name)
        line = manifest.line(prop) if prop else None
        level = "warning" if spec.skip_reason is not None else "catastrophic"
        here = spec.name in present

        def mismatch(level: str, detail: str) -> None:
            findings.add("ManifestFileMismatch", level, MANIFEST, line=line, record_id=prop, field="value" if prop else None,
                         value=mode, detail=detail)

        if mode in ("bulk", "delta") and not here:
            mismatch(level, f"{MANIFEST} lists {spec.name} as {mode} (line {line}), but the package has no {spec.name}.")
        elif mode == "absent" and here:
            mismatch(level, f"{spec.name} is in the package, but {MANIFEST} lists it as absent (line {line}): "
                            f"remove the file, or list it as bulk or delta.")
        elif prop is None and here:
            mismatch("warning", f"{spec.name} is in the package, but {MANIFEST} has no file.{spec.name.removesuffix('.csv')} "
                                f"line; it was read as bulk.")


def _check_columns(fmt: "CsvFormat", spec: "FileSpec", header: list[str], mode: str | None, findings: Findings) -> None:
    required = set(spec.required_headers)
    if mode == "delta":
        for column in ("status", "dateLastModified"):
            if column not in header:
                findings.add("HeaderNotPresent", "catastrophic", spec.name, line=1, header=column,
                             hint=f"It is required in a delta file, and {MANIFEST} lists {spec.name} as delta.")
                required.add(column)
    order = spec_order(spec)
    by_lower = {h.lower(): h for h in header}
    for column in order:
        if column not in header and column not in required:
            near = by_lower.get(column.lower())
            hint = f" Found {near!r}: header names are case-sensitive; rename it to {column!r}." if near else ""
            findings.add("ColumnNotPresent", "warning", spec.name, line=1, field=column, header=column,
                         format=fmt.display_name, hint=hint)
    # Spec columns must follow the spec order, and extension columns come after all of them.
    rank = {column: i for i, column in enumerate(order)}
    highest, seen_extension = -1, False
    for h in header:
        if h.startswith(EXTENSION_PREFIX):
            seen_extension = True
            continue
        if h not in rank:
            continue
        if rank[h] < highest or seen_extension:
            expected = ", ".join(c for c in order if c in header)
            if any(c.startswith(EXTENSION_PREFIX) for c in header):
                expected += ", then metadata.* columns"
            findings.add("ColumnOrder", "warning", spec.name, line=1, field=h, expected=expected, format=fmt.display_name)
            return
        highest = max(highest, rank[h])
