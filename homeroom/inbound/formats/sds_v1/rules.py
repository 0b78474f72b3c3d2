"""Rules of SDS v1 classic: optional properties to sync, and the dates and derived records of its files."""

from homeroom.findings.rules import Rule, register

register(
    __name__,
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
)
