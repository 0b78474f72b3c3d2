"""The basic checks of a package read as a format: its files' names, and each file's header.

SDS calls these *basic* validation (what an upload session's ``validate`` reports): a missing
required file, a file name in the wrong case, a missing or repeated header stops the run; an
unknown file or column, or a missing optional file, is a warning.
"""

from __future__ import annotations

from homeroom.findings import Findings
from homeroom.inbound import rules  # noqa: F401  (registers the codes of these checks)
from homeroom.inbound.formats import CsvFormat, FileSpec
from homeroom.inbound.package import Package, PackageFile


def check_file_names(fmt: CsvFormat, package: Package, findings: Findings) -> dict[str, PackageFile]:
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


#: No file of any format has more than about 40 columns (with aliases and a few extension columns): a header
#: wider than this is not a roster file, and reporting each unknown column would flood the findings.
MAX_HEADER_COLUMNS = 256


def check_header(spec: FileSpec, header: list[str], fmt: CsvFormat, findings: Findings) -> None:
    """Check one file's header: its width, repeated columns, required headers (with a hint on case), unknown columns."""
    if len(header) > MAX_HEADER_COLUMNS:
        findings.add("TooManyColumns", "catastrophic", spec.name, line=1, count=len(header), limit=MAX_HEADER_COLUMNS)
        return
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
