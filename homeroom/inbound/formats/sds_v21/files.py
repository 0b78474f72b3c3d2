"""The ten files of SDS v2.1 and their columns; each file fills one canonical entity, column by column."""

from homeroom.inbound.formats.base import FileSpec, same_names
from homeroom.model import entities as E

FILES: tuple[FileSpec, ...] = (
    FileSpec("orgs.csv", E.ORGS, "required", same_names("sourcedId", "name", "type", "parentSourcedId")),
    FileSpec(
        "academicSessions.csv",
        E.ACADEMIC_SESSIONS,
        "optional",
        same_names("sourcedId", "title", "type", "schoolYear", "startDate", "endDate"),
        missing_consequence="references to academic sessions cannot be resolved",
    ),
    FileSpec(
        "courses.csv",
        E.COURSES,
        "optional",
        (
            *same_names("sourcedId", "orgSourcedId", "title", "code", "schoolYearSourcedId"),
            ("subject", "subjects"),
            ("grade", "grades"),
        ),
        missing_consequence="references to courses cannot be resolved",
    ),
    FileSpec(
        "users.csv",
        E.USERS,
        "required",
        same_names("sourcedId", "username", "givenName", "familyName", "password", "activeDirectoryMatchId", "email", "phone", "sms"),
    ),
    FileSpec(
        "roles.csv",
        E.ROLES,
        "required",
        same_names("userSourcedId", "orgSourcedId", "role", "sessionSourcedId", "grade", "isPrimary", "roleStartDate", "roleEndDate"),
        # Microsoft's sample writes the singular; a third-party library writes the plural.
        aliases=(("sessionSourcedIds", "sessionSourcedId"),),
    ),
    FileSpec(
        "classes.csv",
        E.CLASSES,
        "optional",
        same_names("sourcedId", "orgSourcedId", "title", "sessionSourcedIds", "courseSourcedId", "code"),
        missing_consequence="no classes are managed",
    ),
    FileSpec(
        "enrollments.csv",
        E.ENROLLMENTS,
        "optional",
        same_names("classSourcedId", "userSourcedId", "role"),
        missing_consequence="no class memberships are managed",
    ),
    FileSpec(
        "demographics.csv",
        E.DEMOGRAPHICS,
        "optional",
        same_names("userSourcedId", "sex", "birthDate", "birthCity", "birthState", "birthCountry", "ethnicityCodes", "raceCodes"),
        missing_consequence="no demographics are kept",
    ),
    FileSpec(
        "userFlags.csv",
        E.USER_FLAGS,
        "optional",
        same_names("userSourcedId", "flag"),
        missing_consequence="no user flags are kept",
    ),
    FileSpec(
        "relationships.csv",
        E.RELATIONSHIPS,
        "optional",
        same_names("userSourcedId", "relationshipUserSourcedId", "relationshipRole"),
        missing_consequence="no contacts (guardians) are linked to students",
    ),
)
