"""Rules of SDS v2.0 (legacy): the package is read, and told to move to SDS v2.1."""

from homeroom.findings.rules import Rule, register

register(
    __name__,
    Rule("SupersededFormat", ("warning",), "package",
         "The package is in a superseded format version (SDS v2.0); it is read, but should move to the current version.",
         "{detail}", "Nothing is dropped."),
)
