"""Rules of OneRoster CSV: the manifest, column order, and the columns no other format has.

Those columns are ``status`` and ``dateLastModified`` (bulk and delta files) and ``userIds``.
"""

from homeroom.findings.rules import Rule, register

register(
    __name__,
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
)
