"""Tell roster formats apart from the package itself (file names, and headers where names agree).

Rules (``roster-csv-formats.md`` §7): ``manifest.csv`` is OneRoster; ``School/Student/Teacher``
files are SDS v1 (UK when the key headers say ``DfE Number`` / ``ID``, US when they say ``SIS ID``;
a mix of both is refused); ``orgs/users/roles`` is SDS v2.1; a
``users.csv`` carrying ``orgSourcedIds`` and ``role`` with no ``roles.csv`` is SDS v2.0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from homeroom.inbound.formats import FORMATS
from homeroom.inbound.formats.oneroster.manifest import detect_version, missing_manifest_evidence

#: A human name for each format this version reads, and for OneRoster before its version is known.
_NAMES = {name: fmt.display_name for name, fmt in FORMATS.items()} | {"oneroster": "OneRoster CSV"}


@dataclass(frozen=True)
class Detection:
    """The detected format (or ``None``) and the evidence, in words."""

    format: str | None
    evidence: str

    @property
    def display_name(self) -> str:
        """A human name for the detected format."""
        if self.format and self.format not in _NAMES and self.format.startswith("oneroster-"):
            return f"OneRoster {self.format.removeprefix('oneroster-')} CSV"  # a version Homeroom does not read
        return _NAMES.get(self.format or "", "unknown")


def detect_format(
    file_names: list[str],
    header_of: Callable[[str], list[str] | None],
    body_of: Callable[[str], str | None] | None = None,
) -> Detection:
    """Detect the format of a package from its file names; ``header_of(name)`` reads a file's header.

    ``body_of(name)`` reads the text after a file's header: OneRoster's version is in ``manifest.csv``.
    """
    lower = {n.lower(): n for n in file_names}
    found = lambda *names: [lower[n] for n in names if n in lower]  # noqa: E731
    oneroster = found("manifest.csv")
    v1 = found(
        "school.csv", "student.csv", "teacher.csv", "section.csv", "studentenrollment.csv", "teacherroster.csv",
        "user.csv", "guardianrelationship.csv",
    )
    v2 = found("orgs.csv", "users.csv", "roles.csv")
    candidates = []
    if oneroster:
        candidates.append(("oneroster", f"{', '.join(oneroster)}"))
    if v1:
        variant, why = _sds_v1_variant(v1, header_of)
        if variant is None and not (oneroster or v2):
            return Detection(None, why)
        candidates.append((variant or "sds-v1", why))
    if not oneroster and (evidence := missing_manifest_evidence(lower, header_of)):
        return Detection(None, evidence)
    if v2 and not oneroster:  # with a manifest, orgs/users/roles.csv are OneRoster's files of those names
        users = lower.get("users.csv")
        header = header_of(users) if users else None
        if "roles.csv" not in lower and header and {"orgSourcedIds", "role"} <= set(header):
            candidates.append(("sds-v2.0", f"{users} has orgSourcedIds and role columns and there is no roles.csv"))
        else:
            candidates.append(("sds-v2.1", ", ".join(v2)))
    if len(candidates) == 1 and candidates[0][0] == "oneroster":
        return Detection(*detect_version(lower, header_of, body_of))
    if len(candidates) == 1:
        return Detection(*candidates[0])
    if not candidates:
        listed = ", ".join(sorted(file_names)) or "no CSV files"
        return Detection(None, f"none of the files ({listed}) belongs to a roster format Homeroom knows")
    parts = "; ".join(f"{_NAMES[f]} ({why})" for f, why in candidates)
    return Detection(None, f"the package mixes files of several formats: {parts}")


#: Key headers that tell the SDS v1 header sets apart (``roster-csv-formats.md`` §3.3).
_V1_UK_HEADERS = {"DfE Number", "School DfE Number", "ID", "Section ID"}
_V1_US_HEADERS = {"SIS ID", "School SIS ID", "Section SIS ID"}
_V1_KEYED_FILES = {"school.csv", "section.csv", "student.csv", "teacher.csv", "studentenrollment.csv", "teacherroster.csv"}


def _sds_v1_variant(files: list[str], header_of: Callable[[str], list[str] | None]) -> tuple[str | None, str]:
    """``sds-v1`` or ``sds-v1-uk`` from the key headers of the six classic files (``None`` when they mix)."""
    uk, us = [], []
    for name in files:
        if name.lower() in _V1_KEYED_FILES:  # the guardian files name their columns alike in both sets
            header = set(header_of(name) or [])
            uk += [name] if header & _V1_UK_HEADERS else []
            us += [name] if header & _V1_US_HEADERS else []
    if uk and us:
        return None, (
            f"the SDS v1 files mix UK headers ({', '.join(uk)}: DfE Number, ID) "
            f"and US headers ({', '.join(us)}: SIS ID)"
        )
    if uk:
        return "sds-v1-uk", f"{', '.join(files)}, with UK headers (DfE Number, ID)"
    return "sds-v1", ", ".join(files)
