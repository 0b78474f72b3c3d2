"""Rules of the record checks (``records.py``): required values, codes and formats, uniqueness, references.

Formats report some of them too, for values they read themselves (OneRoster's status and
dateLastModified, SDS v1's ELL Status).
"""

from homeroom.findings.rules import Rule, register

register(
    __name__,
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
)
