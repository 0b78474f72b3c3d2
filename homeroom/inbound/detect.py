"""Tell roster formats apart from the package itself (file names, and headers where names agree).

Rules (``roster-csv-formats.md`` §7): ``manifest.csv`` is OneRoster; ``School/Student/Teacher``
files are SDS v1 (UK when headers say ``DfE Number``); ``orgs/users/roles`` is SDS v2.1; a
``users.csv`` carrying ``orgSourcedIds`` and ``role`` with no ``roles.csv`` is SDS v2.0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

SUPPORTED = {"sds-v2.1"}
_NAMES = {
    "sds-v2.1": "SDS v2.1 CSV",
    "sds-v2.0": "SDS v2.0 CSV (legacy)",
    "sds-v1": "SDS v1 (classic) CSV",
    "oneroster": "OneRoster CSV",
}


@dataclass(frozen=True)
class Detection:
    """The detected format (or ``None``) and the evidence, in words."""

    format: str | None
    evidence: str

    @property
    def display_name(self) -> str:
        """A human name for the detected format."""
        return _NAMES.get(self.format or "", "unknown")


def detect_format(file_names: list[str], header_of: Callable[[str], list[str] | None]) -> Detection:
    """Detect the format of a package from its file names; ``header_of(name)`` reads a file's header."""
    lower = {n.lower(): n for n in file_names}
    found = lambda *names: [lower[n] for n in names if n in lower]  # noqa: E731
    oneroster = found("manifest.csv")
    v1 = found("school.csv", "student.csv", "teacher.csv", "section.csv", "studentenrollment.csv", "teacherroster.csv")
    v2 = found("orgs.csv", "users.csv", "roles.csv")
    candidates = []
    if oneroster:
        candidates.append(("oneroster", f"{', '.join(oneroster)}"))
    if v1:
        candidates.append(("sds-v1", ", ".join(v1)))
    if v2:
        users = lower.get("users.csv")
        header = header_of(users) if users else None
        if "roles.csv" not in lower and header and {"orgSourcedIds", "role"} <= set(header):
            candidates.append(("sds-v2.0", f"{users} has orgSourcedIds and role columns and there is no roles.csv"))
        else:
            candidates.append(("sds-v2.1", ", ".join(v2)))
    if len(candidates) == 1:
        return Detection(*candidates[0])
    if not candidates:
        listed = ", ".join(sorted(file_names)) or "no CSV files"
        return Detection(None, f"none of the files ({listed}) belongs to a roster format Homeroom knows")
    parts = "; ".join(f"{_NAMES[f]} ({why})" for f, why in candidates)
    return Detection(None, f"the package mixes files of several formats: {parts}")
