"""Every validation rule: a stable code, its level(s), what it means, and its message template.

Codes are part of Homeroom's public contract (reports, the API, ``expected-findings.json``):
never rename one. ``docs/validation-rules.md`` is generated from this registry
(``homeroom rules --markdown``) and a test keeps the two identical.

Levels:
- ``catastrophic``: a package check failed; the run stops before any record is read.
- ``error``: the record is dropped (and records that depend on it are dropped in turn).
- ``warning``: the field is cleared (or the duplicate row ignored); the record is kept.
- ``info``: nothing is dropped; the finding only informs.

Templates use ``{placeholders}``; ``{value}`` is the offending value, filled per record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["catastrophic", "error", "warning", "info"]
LEVELS: tuple[Level, ...] = ("catastrophic", "error", "warning", "info")


@dataclass(frozen=True)
class Rule:
    """One validation rule."""

    code: str
    levels: tuple[Level, ...]
    scope: Literal["package", "line", "record"]
    summary: str
    template: str
    effect: str

    def message(self, **values: object) -> str:
        """The message with every placeholder filled."""
        return self.template.format(**values)


_RULES = [
    # --- package checks (catastrophic: the run stops) -------------------------------------------------
    Rule("RequiredFileNotFound", ("catastrophic",), "package", "A required file is missing from the package.",
         "Unable to find {file} in {package}. {reason}", "The run stops."),
    Rule("FileNameCaseMismatch", ("catastrophic",), "package",
         "A file is named with the wrong upper/lower case; SDS file names are case-sensitive.",
         "Found {found} but SDS file names are case-sensitive: rename it to {file}.", "The run stops."),
    Rule("HeaderNotPresent", ("catastrophic",), "package", "A required column header is missing, or the file has no header.",
         "Unable to find {header} in {file}. {hint}", "The run stops."),
    Rule("DuplicateColumnsInHeader", ("catastrophic",), "package", "The same column header appears more than once.",
         "Found two or more {header} in {file} (columns {columns}).", "The run stops."),
    Rule("InvalidEncoding", ("catastrophic",), "package", "A file is not valid UTF-8 text.",
         "{file} is not valid UTF-8: {detail}. Save the file as UTF-8 (with or without BOM).", "The run stops."),
    Rule("InvalidFileFormat", ("catastrophic",), "package", "An archive holds something other than CSV files at its top level.",
         "Archive validation failed. Unsupported entry {entry} found in archive {archive}.", "The run stops."),
    Rule("DuplicateFileFound", ("catastrophic",), "package", "The same file is supplied twice (inside and outside an archive, or in two archives).",
         "Archive validation failed. {file} is supplied more than once: {sources}.", "The run stops."),
    Rule("ArchiveTooLarge", ("catastrophic",), "package", "An archive expands beyond the configured limits (zip bomb protection).",
         "Archive validation failed. {archive}: {detail}.", "The run stops."),
    Rule("UnsupportedFormatVersion", ("catastrophic",), "package", "The package is in a format version Homeroom does not read (for example a OneRoster version other than 1.1 and 1.2).",
         "{detail}", "The run stops."),
    Rule("UnknownFormat", ("catastrophic",), "package", "The package is not a roster format Homeroom recognises.",
         "{detail}", "The run stops."),
    Rule("InternalApplicationError", ("catastrophic",), "package", "Homeroom failed unexpectedly while reading the package.",
         "There was an application error when trying to process {file}: {error}", "The run stops."),
    # --- package notes -----------------------------------------------------------------------------------
    Rule("OptionalFileNotFound", ("warning",), "package", "An optional file is not in the package.",
         "{file} was not found; {consequence}", "Nothing is dropped."),
    Rule("UnknownFile", ("warning",), "package", "A file that is not part of the format is in the package.",
         "{file} is not part of the {format} format and was ignored.", "The file is ignored."),
    Rule("UnknownColumn", ("warning",), "package", "A column header that is not part of the format.",
         "{header} is not a column of {file} in the {format} format and was ignored.", "The column is ignored."),
    # --- line checks (error: the record is dropped) ---------------------------------------------------------
    Rule("LineFieldCount", ("error",), "line", "A line has more or fewer fields than the header.",
         "Line has {actual} fields but the header has {expected}.", "The record is dropped."),
    Rule("LineUnterminatedQuote", ("error",), "line", "A quoted value is not closed on its line.",
         "A quoted value is not closed before the end of the line.", "The record is dropped."),
    Rule("LineBreakInValue", ("error",), "line", "A quoted value contains a line break, which SDS does not allow.",
         "A quoted value contains a line break (the record continues to line {last_line}).", "The record is dropped."),
    # --- record checks -------------------------------------------------------------------------------------------
    Rule("RequiredValueMissing", ("error",), "record", "A required value is blank.",
         "{field} is required but blank.", "The record is dropped."),
    Rule("InvalidEnumValue", ("error", "warning"), "record", "A value is not one of the enabled codes of its reference type.",
         "'{value}' is not a valid {field}: expected a {reference_type} code such as {examples}.",
         "Required field: the record is dropped. Optional field: the field is cleared."),
    Rule("InvalidUsername", ("error",), "record", "A username is not a user principal name with a domain.",
         "'{value}' is not a valid username: expected name@domain.{hint}", "The record is dropped."),
    Rule("InvalidEmail", ("warning",), "record", "An email address is not a valid RFC 5322 addr-spec.",
         "'{value}' is not a valid email address.", "The field is cleared."),
    Rule("InvalidPhone", ("warning",), "record", "A phone number cannot be normalised to E.164 (+ country code and number).",
         "'{value}' is not an E.164 phone number (for example +14255550100).", "The field is cleared."),
    Rule("InvalidDate", ("error", "warning"), "record", "A date is not an ISO 8601 calendar date (YYYY-MM-DD).",
         "'{value}' is not a date in the form YYYY-MM-DD.",
         "Required field: the record is dropped. Optional field: the field is cleared."),
    Rule("InvalidBoolean", ("warning",), "record", "A boolean is not true or false.",
         "'{value}' is not true or false.", "The field is cleared."),
    Rule("InvalidYear", ("error",), "record", "A school year is not a four-digit year.",
         "'{value}' is not a four-digit year (YYYY).", "The record is dropped."),
    Rule("InvalidDateRange", ("error",), "record", "An end date is before its start date.",
         "{field} '{value}' is before {start_field} '{start}'.", "The record is dropped."),
    Rule("DuplicateSourcedId", ("error",), "record", "A sourcedId appears more than once in its file; the first record is kept.",
         "'{value}' is already used by the record on {first_where}.", "The later record is dropped."),
    Rule("DuplicateUsername", ("error",), "record", "A username (compared without regard to case) belongs to more than one user; the first is kept.",
         "'{value}' is already the username of user {first_id} ({first_where}).", "The later record is dropped."),
    Rule("DuplicateRecord", ("warning",), "record", "An association row repeats the key of an earlier row; the first is kept.",
         "The same {key_text} already appears on {first_where}; this row was ignored.", "The later row is ignored."),
    Rule("ReferenceNotFound", ("error", "warning"), "record", "A reference points at a record that is not in the package.",
         "'{value}' was not found in {target_file}.",
         "Required reference: the record is dropped. Optional reference: the field is cleared."),
    Rule("ReferenceDropped", ("error", "warning"), "record", "A reference points at a record that was dropped because of its own errors.",
         "'{value}' refers to a record of {target_file} that was dropped because of its own errors.",
         "Required reference: the record is dropped. Optional reference: the field is cleared."),
    Rule("ContactMissingData", ("error",), "record", "A contact in a relationship lacks a given name, family name or email.",
         "Contact '{value}' must have givenName, familyName and email in users.csv (missing: {missing}).",
         "The relationship is dropped."),
    Rule("SelfRelationship", ("error",), "record", "A person is listed as their own contact.",
         "'{value}' is listed as their own contact.", "The relationship is dropped."),
    # --- legacy formats: SDS v2.0 and SDS v1 classic (homeroom/inbound/formats/sds_v20.py, sds_v1.py) ---------
    Rule("SupersededFormat", ("warning",), "package",
         "The package is in a superseded format version (SDS v2.0); it is read, but should move to the current version.",
         "{detail}", "Nothing is dropped."),
    Rule("UnknownOptionalProperty", ("warning",), "package",
         "The optional properties to sync name a column that is not an optional column of the file.",
         "'{value}' is not an optional column of {file} and was ignored (optional columns: {columns}).",
         "The name is ignored."),
    Rule("NonIsoDate", ("warning",), "record",
         "A date is written M/D/YYYY (as in Microsoft's SDS v1 samples) instead of ISO 8601; it is read as month/day/year.",
         "'{value}' is not an ISO 8601 date; it was read as month/day/year: {iso}.",
         "The value is normalised to YYYY-MM-DD; nothing is dropped."),
    Rule("ConflictingValue", ("warning",), "record",
         "Rows that repeat a derived record (an SDS v1 term or course, named again on every section) disagree on a value.",
         "{field} '{value}' differs from '{kept}' given for {key_field} '{key}' on line {kept_line}; the value of line {kept_line} is kept.",
         "The later value is ignored."),
    # --- OneRoster CSV (homeroom/inbound/formats/oneroster/): the manifest, column order, skipped files,
    # and the status, dateLastModified and userIds columns that no other format has. ---------------------
    Rule("InvalidManifest", ("catastrophic", "warning"), "package",
         "OneRoster's manifest.csv repeats a property with another value, gives a file mode other than bulk, delta "
         "or absent, or lacks or contradicts a version.",
         "{detail}", "Catastrophic: the run stops. Warning: the property is ignored or defaulted, as the message says."),
    Rule("ManifestFileMismatch", ("catastrophic", "warning"), "package",
         "OneRoster's manifest.csv and the files disagree: a file listed as bulk or delta is missing, a file listed "
         "as absent is present, or a present file is not listed.",
         "{detail}",
         "Rostering files: the run stops (a present file that is not listed is read as bulk, with a warning). "
         "Skipped files: a warning."),
    Rule("FileSkipped", ("info",), "package",
         "A file of the format that holds no rostering data (OneRoster gradebook, resource and user profile files) "
         "is recognised and not read.",
         "{file} holds {reason}, which Homeroom does not keep; the file was not read.", "The file is not read."),
    Rule("ColumnOrder", ("warning",), "package",
         "The columns are not in the order the format defines (OneRoster); they are matched by name all the same.",
         "The columns of {file} are not in the order {format} defines ({expected}); they were matched by name.",
         "Nothing is dropped."),
    Rule("ColumnNotPresent", ("warning",), "package",
         "A column the format defines is not in the file (OneRoster files carry every column of their table, even when empty).",
         "{header} is not a column of {file}; {format} files carry every column of their table, even when empty. "
         "Its values are read as blank.{hint}",
         "The column is read as blank."),
    Rule("StatusInBulkFile", ("warning",), "record",
         "A row of a OneRoster bulk file gives a status or dateLastModified; both must be blank in bulk files.",
         "{field} must be blank in a bulk file, but is '{value}'; the value was kept.", "Nothing is dropped."),
    Rule("InvalidStatus", ("error", "warning"), "record", "A OneRoster status is neither active nor tobedeleted.",
         "'{value}' is not a OneRoster status: expected active or tobedeleted.",
         "Delta file: the record is dropped. Bulk file: the status is cleared."),
    Rule("InactiveStatus", ("warning",), "record",
         "A OneRoster status reads inactive, which some producers send for tobedeleted.",
         "'{value}' is not a OneRoster status; it was read as tobedeleted.", "The status becomes tobedeleted."),
    Rule("InvalidDateTime", ("error", "warning"), "record",
         "A OneRoster dateLastModified is not an ISO 8601 date and time.",
         "'{value}' is not an ISO 8601 date and time such as 2024-08-01T12:00:00.000Z.",
         "Delta file: the record is dropped. Bulk file: the field is cleared."),
    Rule("InvalidUserIds", ("warning",), "record",
         "OneRoster userIds are not a comma-separated list of type:identifier pairs, each in curly braces.",
         "'{value}' is not a list of userIds, each a type:identifier pair in curly braces.", "The field is cleared."),
]

RULES: dict[str, Rule] = {r.code: r for r in _RULES}


def rule(code: str) -> Rule:
    """The rule with this code."""
    return RULES[code]


def rules_markdown() -> str:
    """docs/validation-rules.md, generated from the registry."""
    lines = [
        "# Validation rules",
        "",
        "Generated by `homeroom rules --markdown` from `homeroom/validate/rules.py`; do not edit by hand.",
        "",
        "Every finding carries one of these stable codes, a level, the file, the line number in the",
        "source file (the header is line 1), the record id, the field and a message.",
        "",
        "Levels: **catastrophic** stops the run before any record is used; **error** drops the record",
        "(and the records that depend on it, each with its own `ReferenceDropped` finding);",
        "**warning** clears the field or ignores a duplicate row; **info** only informs.",
        "",
    ]
    for scope, title in (("package", "Package checks"), ("line", "Line checks"), ("record", "Record checks")):
        lines += [f"## {title}", "", "| Code | Level | Meaning | Message template | Effect |", "|---|---|---|---|---|"]
        for r in _RULES:
            if r.scope == scope:
                template = r.template.replace("|", "\\|")
                lines.append(f"| `{r.code}` | {' / '.join(r.levels)} | {r.summary} | {template} | {r.effect} |")
        lines.append("")
    return "\n".join(lines)
