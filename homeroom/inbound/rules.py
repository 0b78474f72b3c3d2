"""Rules of the inbound stage's own checks: the package, its files' names and headers, and broken lines.

Package checks are run while a package is read (``reader.py``, ``checks.py``, ``package.py``); line
checks while a file is parsed (``csv_reader.py``). Each format adds its own in ``formats/<name>/rules.py``.
"""

from homeroom.findings.rules import Rule, register

register(
    __name__,
    # --- package checks (catastrophic: the run stops) ---------------------------------------------
    Rule("RequiredFileNotFound", ("catastrophic",), "package", "A required file is missing from the package.",
         "Unable to find {file} in {package}. {reason}", "The run stops."),
    Rule("FileNameCaseMismatch", ("catastrophic",), "package",
         "A file is named with the wrong upper/lower case; SDS file names are case-sensitive.",
         "Found {found} but SDS file names are case-sensitive: rename it to {file}.", "The run stops."),
    Rule("HeaderNotPresent", ("catastrophic",), "package", "A required column header is missing, or the file has no header.",
         "Unable to find {header} in {file}. {hint}", "The run stops."),
    Rule("TooManyColumns", ("catastrophic",), "package",
         "A header has far more columns than any file of any roster format (a file that is not a roster file).",
         "{file} has {count:,} columns in its header; no roster file has more than {limit}. Check that it is the right "
         "file and that its delimiter is a comma.", "The run stops."),
    Rule("DuplicateColumnsInHeader", ("catastrophic",), "package", "The same column header appears more than once.",
         "Found two or more {header} in {file} (columns {columns}).", "The run stops."),
    Rule("InvalidEncoding", ("catastrophic",), "package", "A file is not valid UTF-8 text.",
         "{file} is not valid UTF-8: {detail}. Save the file as UTF-8 (with or without BOM).", "The run stops."),
    Rule("InvalidFileFormat", ("catastrophic",), "package", "An archive holds something other than CSV files at its top level.",
         "Archive validation failed. Unsupported entry {entry} found in archive {archive}.", "The run stops."),
    Rule("DuplicateFileFound", ("catastrophic",), "package", "The same file is supplied twice (inside and outside an archive, or in two archives).",
         "Archive validation failed. {file} is supplied more than once: {sources}.", "The run stops."),
    Rule("LinkOutsidePackage", ("catastrophic",), "package",
         "A file of the package (or an archive entry) is a symbolic link that leads outside the package.",
         "{file} is a symbolic link that leads outside the package ({where}); Homeroom reads only files inside the "
         "package. Copy the file into the package instead.", "The run stops."),
    Rule("ArchiveTooLarge", ("catastrophic",), "package", "An archive expands beyond the configured limits (zip bomb protection).",
         "Archive validation failed. {archive}: {detail}.", "The run stops."),
    Rule("UnsupportedFormatVersion", ("catastrophic",), "package", "The package is in a format version Homeroom does not read (for example a OneRoster version other than 1.1 and 1.2).",
         "{detail}", "The run stops."),
    Rule("UnknownFormat", ("catastrophic",), "package", "The package is not a roster format Homeroom recognises.",
         "{detail}", "The run stops."),
    Rule("InternalApplicationError", ("catastrophic",), "package", "Homeroom failed unexpectedly while reading the package.",
         "There was an application error when trying to process {file}: {error}", "The run stops."),
    # --- package notes ----------------------------------------------------------------------------
    Rule("OptionalFileNotFound", ("warning",), "package", "An optional file is not in the package.",
         "{file} was not found; {consequence}", "Nothing is dropped."),
    Rule("UnknownFile", ("warning",), "package", "A file that is not part of the format is in the package.",
         "{file} is not part of the {format} format and was ignored.", "The file is ignored."),
    Rule("UnknownColumn", ("warning",), "package", "A column header that is not part of the format.",
         "{header} is not a column of {file} in the {format} format and was ignored.", "The column is ignored."),
    Rule("FileSkipped", ("info",), "package",
         "A file of the format that holds no rostering data (OneRoster gradebook, resource and user profile files) "
         "is recognised and not read.",
         "{file} holds {reason}, which Homeroom does not keep; the file was not read.", "The file is not read."),
    # --- line checks (error: the record is dropped) -----------------------------------------------
    Rule("LineFieldCount", ("error",), "line", "A line has more or fewer fields than the header.",
         "Line has {actual} fields but the header has {expected}.", "The record is dropped."),
    Rule("LineUnterminatedQuote", ("error",), "line", "A quoted value is not closed on its line.",
         "A quoted value is not closed before the end of the line.", "The record is dropped."),
    Rule("LineFieldTooLong", ("error",), "line",
         "A line cannot be read because one of its values is extremely long (tens of megabytes, no quotes involved).",
         "A value on this line is longer than {limit:,} characters; Homeroom could not read the line.", "The record is dropped."),
    Rule("LineBreakInValue", ("error",), "line", "A quoted value contains a line break, which SDS does not allow.",
         "A quoted value contains a line break (the record continues to line {last_line}).", "The record is dropped."),
)
