"""The files of OneRoster 1.1 and 1.2 CSV, their columns in the order the specification gives, and
where each column lands in the canonical model.

A column maps to a canonical field (``title``), to a field of another entity the same rows fill
(``roles.role``), or is kept as it is sent (``__keep_<name>``: carried into the validated table as
``<name>``). ``sources.py`` reads the files by these tables; the columns that need more than a
rename (lists, booleans, status) are derived there. Source: ``roster-csv-formats.md`` §4, §5, §6.
"""

from __future__ import annotations

from homeroom.inbound.formats.base import FileSpec
from homeroom.model import entities as E

K = "__keep_"
#: Columns every OneRoster data file starts with.
STATUS_COLUMNS = (("status", K + "status"), ("dateLastModified", K + "dateLastModified"))
#: Columns that the Japan Profile (and others) add to users.csv in 1.2; tolerated, not order-checked.
TOLERATED = {"users.csv": ("resourceSourcedIds",)}

_STATUS_NOTES = (
    ("status", "`active` or `tobedeleted` (`inactive` is read as `tobedeleted`, with a warning); blank in bulk, required in delta"),
    ("dateLastModified", "ISO 8601 date and time, kept as a UTC timestamp; blank in bulk, required in delta"),
)
_LIST = "comma-separated list, kept as a list of text"
_BOOL = "`true`/`false`, kept as a boolean (`InvalidBoolean` warning otherwise)"
_DATE = "date YYYY-MM-DD, kept as a date (`InvalidDate` warning otherwise)"

MANIFEST_SPEC = FileSpec(
    "manifest.csv",
    None,
    "required",
    (("propertyName", None), ("value", None)),
    required_columns=("propertyName", "value"),
    column_notes=(
        ("propertyName", "`manifest.version`, `oneroster.version`, `file.<name>`, `source.systemName`, `source.systemCode`"),
        ("value", "`1.0`; `1.1` or `1.2`; `bulk`, `delta` or `absent`; free text"),
    ),
)


def _spec(name: str, entity: E.Entity | None, columns, *, required=None, derived=(), notes=(), consequence=None) -> FileSpec:
    return FileSpec(
        name, entity, "manifest", tuple(columns), required_columns=required, derived=tuple(derived),
        column_notes=(*_STATUS_NOTES, *notes),
        missing_consequence=consequence or "its records are not part of this package",
    )


ORGS = _spec(
    "orgs.csv", E.ORGS,
    [("sourcedId", "sourcedId"), *STATUS_COLUMNS, ("name", "name"), ("type", "type"), ("identifier", K + "identifier"),
     ("parentSourcedId", "parentSourcedId")],
    required=("sourcedId", "name", "type"),
)
ACADEMIC_SESSIONS = _spec(
    "academicSessions.csv", E.ACADEMIC_SESSIONS,
    [("sourcedId", "sourcedId"), *STATUS_COLUMNS, ("title", "title"), ("type", "type"), ("startDate", "startDate"),
     ("endDate", "endDate"), ("parentSourcedId", K + "parentSourcedId"), ("schoolYear", "schoolYear")],
    required=("sourcedId", "title", "type", "startDate", "endDate", "schoolYear"),
    notes=(("parentSourcedId", "id of the parent session, not checked"),),
)
COURSES = _spec(
    "courses.csv", E.COURSES,
    [("sourcedId", "sourcedId"), *STATUS_COLUMNS, ("schoolYearSourcedId", "schoolYearSourcedId"), ("title", "title"),
     ("courseCode", "code"), ("grades", "grades"), ("orgSourcedId", "orgSourcedId"), ("subjects", "subjects"),
     ("subjectCodes", K + "subjectCodes")],
    required=("sourcedId", "title", "orgSourcedId"),
    notes=(("subjectCodes", _LIST),),
)
CLASSES = _spec(
    "classes.csv", E.CLASSES,
    [("sourcedId", "sourcedId"), *STATUS_COLUMNS, ("title", "title"), ("grades", K + "grades"),
     ("courseSourcedId", "courseSourcedId"), ("classCode", "code"), ("classType", K + "classType"),
     ("location", K + "location"), ("schoolSourcedId", "orgSourcedId"), ("termSourcedIds", "sessionSourcedIds"),
     ("subjects", K + "subjects"), ("subjectCodes", K + "subjectCodes"), ("periods", K + "periods")],
    required=("sourcedId", "title", "schoolSourcedId"),
    notes=(("grades", _LIST), ("subjects", _LIST), ("subjectCodes", _LIST), ("periods", _LIST),
           ("classType", "`homeroom` or `scheduled`, text, not checked")),
)
_USERS_HEAD = [("sourcedId", "sourcedId"), *STATUS_COLUMNS, ("enabledUser", K + "enabledUser")]
_USERS_NAMES = [("username", "username"), ("userIds", K + "userIds"), ("givenName", "givenName"),
                ("familyName", "familyName"), ("middleName", K + "middleName"), ("identifier", K + "identifier"),
                ("email", "email"), ("sms", "sms"), ("phone", "phone")]
_USERS_NOTES = (
    ("enabledUser", _BOOL),
    ("userIds", "list of `{type:identifier}`, kept as a list of `type:identifier` text (`InvalidUserIds` warning otherwise)"),
    ("agentSourcedIds", _LIST + "; each agent also becomes a relationship (see below)"),
    ("grades", _LIST + "; the first grade is the grade of the user's roles"),
    ("resourceSourcedIds", _LIST + "; sent by some 1.2 producers, accepted without an order check"),
)
_RELATIONSHIP_DERIVED = (
    ("relationships.userSourcedId", "the student: the row's `sourcedId`, or the agent when the row is a parent's, guardian's or relative's"),
    ("relationships.relationshipUserSourcedId", "the contact: each of `agentSourcedIds`, or the row's `sourcedId` when the row is a contact's"),
    ("relationships.relationshipRole", "the contact's role: `parent`, `guardian`, `relative` or `aide` as they are, any other role `other`"),
)
USERS_V11 = _spec(
    "users.csv", E.USERS,
    [*_USERS_HEAD, ("orgSourcedIds", K + "orgSourcedIds"), ("role", K + "role"), *_USERS_NAMES,
     ("agentSourcedIds", K + "agentSourcedIds"), ("grades", K + "grades"), ("password", "password"),
     ("sourcedId", "roles.userSourcedId"), ("orgSourcedIds", "roles.orgSourcedId"), ("role", "roles.role"),
     ("grades", "roles.grade")],
    required=("sourcedId", "username", "orgSourcedIds", "role"),
    derived=_RELATIONSHIP_DERIVED,
    notes=(*_USERS_NOTES, ("orgSourcedIds", _LIST + "; one roles row per org"),
           ("role", "text; the role of each roles row (`parent`, `guardian`, `relative`: no roles row, the user is a contact)")),
)
USERS_V12 = _spec(
    "users.csv", E.USERS,
    [*_USERS_HEAD, *_USERS_NAMES, ("agentSourcedIds", K + "agentSourcedIds"), ("grades", K + "grades"),
     ("password", "password"), ("userMasterIdentifier", K + "userMasterIdentifier"),
     ("preferredGivenName", K + "preferredGivenName"), ("preferredMiddleName", K + "preferredMiddleName"),
     ("preferredFamilyName", K + "preferredFamilyName"), ("primaryOrgSourcedId", K + "primaryOrgSourcedId"),
     ("pronouns", K + "pronouns"), ("resourceSourcedIds", K + "resourceSourcedIds"), ("grades", "roles.grade")],
    required=("sourcedId", "username"),
    derived=_RELATIONSHIP_DERIVED,
    notes=(*_USERS_NOTES, ("primaryOrgSourcedId", "id of the user's primary org, not checked")),
)
ROLES_V12 = _spec(
    "roles.csv", E.ROLES,
    [("sourcedId", K + "oneRosterSourcedId"), *STATUS_COLUMNS, ("userSourcedId", "userSourcedId"),
     ("roleType", None), ("role", "role"), ("beginDate", "roleStartDate"), ("endDate", "roleEndDate"),
     ("orgSourcedId", "orgSourcedId"), ("userProfileSourcedId", K + "userProfileSourcedId")],
    required=("userSourcedId", "role", "orgSourcedId"),
    derived=(("grade", "the first of the user's `grades` in users.csv"),),
    notes=(("sourcedId", "the roles row's own id"), ("userProfileSourcedId", "id of a user profile, not checked"),
           ("roleType", "`primary` or `secondary`: `isPrimary` true or false (`InvalidEnumValue` warning otherwise)")),
)
ENROLLMENTS = _spec(
    "enrollments.csv", E.ENROLLMENTS,
    [("sourcedId", K + "oneRosterSourcedId"), *STATUS_COLUMNS, ("classSourcedId", "classSourcedId"),
     ("schoolSourcedId", K + "schoolSourcedId"), ("userSourcedId", "userSourcedId"), ("role", "role"),
     ("primary", K + "primary"), ("beginDate", K + "beginDate"), ("endDate", K + "endDate")],
    required=("classSourcedId", "userSourcedId", "role"),
    notes=(("sourcedId", "the enrollment's own id"), ("schoolSourcedId", "id of the class's school, not checked"),
           ("primary", _BOOL), ("beginDate", _DATE), ("endDate", _DATE)),
)
RACE_COLUMNS = (
    "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white",
    "demographicRaceTwoOrMoreRaces",
)
DEMOGRAPHICS = _spec(
    "demographics.csv", E.DEMOGRAPHICS,
    [("sourcedId", "userSourcedId"), *STATUS_COLUMNS, ("birthDate", "birthDate"), ("sex", "sex"),
     *[(c, None) for c in RACE_COLUMNS], ("hispanicOrLatinoEthnicity", None),
     ("countryOfBirthCode", "birthCountry"), ("stateOfBirthAbbreviation", "birthState"), ("cityOfBirth", "birthCity"),
     ("publicSchoolResidenceStatus", K + "publicSchoolResidenceStatus")],
    required=("sourcedId",),
    derived=(("raceCodes", "the codes of the race columns that are `true` (each column's name is its `RefRace` code)"),
             ("ethnicityCodes", "`hispanicOrLatinoEthnicity` when that column is `true`")),
    notes=(*[(c, "`true`/`false`: `true` adds the code to `raceCodes` (`InvalidBoolean` warning otherwise)") for c in RACE_COLUMNS],
           ("hispanicOrLatinoEthnicity", "`true`/`false`: `true` sets `ethnicityCodes` (`InvalidBoolean` warning otherwise)"),
           ("publicSchoolResidenceStatus", "text, not checked")),
)


def _skipped(name: str, reason: str) -> FileSpec:
    return FileSpec(name, None, "manifest", (), skip_reason=reason)


_GRADEBOOK_V11 = (
    _skipped("categories.csv", "gradebook categories"),
    _skipped("classResources.csv", "resources assigned to classes"),
    _skipped("courseResources.csv", "resources assigned to courses"),
    _skipped("lineItems.csv", "gradebook line items"),
    _skipped("resources.csv", "learning resources"),
    _skipped("results.csv", "gradebook results"),
)
_GRADEBOOK_V12 = (
    *_GRADEBOOK_V11,
    _skipped("userResources.csv", "resources assigned to users"),
    _skipped("scoreScales.csv", "gradebook score scales"),
    _skipped("lineItemScoreScales.csv", "gradebook score scales of line items"),
    _skipped("resultScoreScales.csv", "gradebook score scales of results"),
    _skipped("lineItemLearningObjectiveIds.csv", "learning objectives of line items"),
    _skipped("resultLearningObjectiveIds.csv", "learning objectives of results"),
    _skipped("userProfiles.csv", "user profiles (credentials for applications)"),
)

#: The files of each version, in dependency order (the order the record checks need).
FILES_V11 = (MANIFEST_SPEC, ORGS, ACADEMIC_SESSIONS, COURSES, USERS_V11, CLASSES, ENROLLMENTS, DEMOGRAPHICS, *_GRADEBOOK_V11)
FILES_V12 = (MANIFEST_SPEC, ORGS, ACADEMIC_SESSIONS, COURSES, USERS_V12, ROLES_V12, CLASSES, ENROLLMENTS, DEMOGRAPHICS,
             *_GRADEBOOK_V12)


def spec_order(spec: FileSpec) -> list[str]:
    """The headers of a file in the order the specification gives them (each once)."""
    tolerated = TOLERATED.get(spec.name, ())
    seen: list[str] = []
    for header, _ in spec.columns:
        if header not in seen and header not in tolerated:
            seen.append(header)
    return seen
