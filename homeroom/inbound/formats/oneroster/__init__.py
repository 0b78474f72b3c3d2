"""OneRoster 1.1 and 1.2 CSV (1EdTech "CSV Tables" 1.1 and "CSV Binding" 1.2), bulk and delta.

A package is a set of CSV files with a ``manifest.csv`` that gives the version and, for each file,
whether it holds all the data (``bulk``), only changes (``delta``), or is not there (``absent``).
The rostering files fill the canonical model (``sources.py``); the gradebook, resource and user
profile files are recognised and not read. Modules:

- ``manifest.py``: reading the manifest, and the version for format detection;
- ``files.py``: every file and column, in the specification's order, and where it lands;
- ``checks.py``: the package checks (manifest against files, column order);
- ``sources.py``: the files as canonical source rows (status, lists, roles, relationships, demographics);
- ``values.py``: column expressions for OneRoster's value types;
- ``rules.py``: the rule codes of the checks above that no other format has.

A package whose manifest lists any file as ``delta`` is read as a delta batch (``Batch.mode``). A run of it
updates the lake's rows of the records it has (``homeroom.lake.changes``), given the format's ``delta_owners`` so
that a user's roles and relationships, which a delta users.csv row restates in full, replace the earlier ones.
Source: ``roster-csv-formats.md`` §4-§6.
"""

import dataclasses

from homeroom.inbound.formats.base import CsvFormat
from homeroom.inbound.formats.oneroster import rules  # noqa: F401  (registers the format's rule codes)
from homeroom.inbound.formats.oneroster.checks import EXTENSION_PREFIX, check_package, package_mode
from homeroom.inbound.formats.oneroster.sources import oneroster_sources
from homeroom.inbound.formats.oneroster.files import FILES_V11, FILES_V12
from homeroom.model.delta import Owner

_NOTES = (
    "Header names are case-sensitive. Every column of a file's table should be present, in the order "
    "below (`ColumnNotPresent`, `ColumnOrder`: warnings); `metadata.*` extension columns may follow and are "
    "kept as one JSON object, `metadata`.",
    "Each data file is listed in `manifest.csv` as `bulk`, `delta` or `absent`; a file listed as bulk or "
    "delta must be present and a file listed as absent must not be (`ManifestFileMismatch`). In a bulk file "
    "`status` and `dateLastModified` are blank; in a delta file they are required.",
    "Quoted values may contain line breaks (RFC 4180).",
)

ONEROSTER_V11 = CsvFormat(
    name="oneroster-1.1",
    display_name="OneRoster 1.1 CSV",
    file_format_code="oneRosterCsv",  # Graph has no RefFileFormat code for OneRoster CSV (only for SDS)
    files=FILES_V11,
    case_sensitive_names=False,
    allow_line_breaks=True,
    notes=_NOTES,
    to_sources=oneroster_sources,
    check_package=check_package,
    mode_of=package_mode,
    # A users.csv row lists all of a user's orgs (its roles) and agents (its relationships); an enrollments.csv
    # row is its own record, whose natural key may change (so the row under its earlier key becomes inactive).
    delta_owners={
        "roles": Owner("userSourcedId", "users"),
        "relationships": Owner("listedBy", "users"),
        "enrollments": Owner("oneRosterSourcedId"),
    },
    extension_prefix=EXTENSION_PREFIX,
    column_rule="Columns are matched by header name; unknown columns other than `metadata.*` are ignored with a warning.",
)
# 1.2 has roles.csv: a role row is its own record, like an enrollment.
ONEROSTER_V12 = dataclasses.replace(ONEROSTER_V11, name="oneroster-1.2", display_name="OneRoster 1.2 CSV", files=FILES_V12,
                                    delta_owners={**ONEROSTER_V11.delta_owners, "roles": Owner("oneRosterSourcedId")})

__all__ = ["ONEROSTER_V11", "ONEROSTER_V12"]
