"""The files of SDS v1 classic and their columns, in the US and the UK header sets (spec §3.3).

The two sets differ only in their key headers (``KeyHeaders``); every other column is the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeroom.inbound.formats.base import FileSpec
from homeroom.model import entities as E


@dataclass(frozen=True)
class KeyHeaders:
    """The key headers that differ between the US and UK header sets (spec §3.3)."""

    school_id: str  # School.csv's key
    id: str  # the key of Section, Student and Teacher; the person in StudentEnrollment / TeacherRoster
    school_ref: str  # the school of a section, student or teacher
    section_ref: str  # the section of an enrollment or roster row
    zip: str


US = KeyHeaders("SIS ID", "SIS ID", "School SIS ID", "Section SIS ID", "Zip")
UK = KeyHeaders("DfE Number", "ID", "School DfE Number", "Section ID", "Postal Code")

# Columns of the 31-column Student.csv of the 2017/2018 samples that have no canonical field.
_STUDENT_ADDRESS = tuple(
    f"{kind} {part}"
    for kind in ("Mailing", "Residence")
    for part in ("Address", "City", "State", "Zip", "Latitude", "Longitude", "Country")
)


def file_specs(h: KeyHeaders) -> tuple[FileSpec, ...]:
    """The eight files of SDS v1 with the key headers of one header set."""
    return (
        FileSpec(
            "School.csv", E.ORGS, "required",
            (
                (h.school_id, "sourcedId"), ("Name", "name"),
                *((c, None) for c in (
                    "School Number", "School NCES_ID", "State ID", "Grade Low", "Grade High", "Principal SIS ID",
                    "Principal Name", "Principal Secondary Email", "Address", "City", "State", "Country", h.zip, "Phone", "Zone",
                )),
            ),
            required_columns=(h.school_id, "Name"),
            derived=(("type", "always `school`"),),
        ),
        FileSpec(
            "Section.csv", E.CLASSES, "optional",
            (
                (h.id, "sourcedId"), (h.school_ref, "orgSourcedId"), ("Section Name", "title"), ("Section Number", "code"),
                ("Term SIS ID", "sessionSourcedIds"), ("Term SIS ID", "academicSessions.sourcedId"),
                ("Term Name", "academicSessions.title"), ("Term StartDate", "academicSessions.startDate"),
                ("Term EndDate", "academicSessions.endDate"),
                ("Course SIS ID", "courseSourcedId"), ("Course SIS ID", "courses.sourcedId"), (h.school_ref, "courses.orgSourcedId"),
                ("Course Name", "courses.title"), ("Course Number", "courses.code"), ("Course Description", None),
                ("Course Subject", "courses.subjects"), ("Periods", None), ("Status", None),
            ),
            required_columns=(h.id, h.school_ref, "Section Name"),
            derived=(
                ("academicSessions.type", "always `term`"),
                ("academicSessions.schoolYear", "from `Term EndDate`: the ending year of its August-July school year"),
            ),
            missing_consequence="no classes are managed",
        ),
        FileSpec(
            "Student.csv", E.USERS, "required",
            (
                (h.id, "sourcedId"), (h.id, "roles.userSourcedId"), (h.id, "demographics.userSourcedId"),
                (h.id, "userFlags.userSourcedId"), (h.school_ref, "roles.orgSourcedId"),
                ("First Name", "givenName"), ("Last Name", "familyName"), ("Username", "username"), ("Password", "password"),
                ("State ID", None), ("Secondary Email", "email"), ("Student Number", None), ("Middle Name", None),
                ("Grade", "roles.grade"), ("Status", None), ("Birthdate", "demographics.birthDate"), ("Graduation Year", None),
                *((c, None) for c in _STUDENT_ADDRESS),
                ("Gender", "demographics.sex"), ("ELL Status", "userFlags.flag"), ("FederalRace", "demographics.raceCodes"),
            ),
            required_columns=(h.id, h.school_ref, "Username"),
            derived=(("roles.role", "always `student`"),),
        ),
        FileSpec(
            "Teacher.csv", E.USERS, "required",
            (
                (h.id, "sourcedId"), (h.id, "roles.userSourcedId"), (h.school_ref, "roles.orgSourcedId"),
                ("First Name", "givenName"), ("Last Name", "familyName"), ("Username", "username"), ("Password", "password"),
                ("State ID", None), ("Teacher Number", None), ("Status", None), ("Middle Name", None),
                ("Secondary Email", "email"), ("Title", None), ("Qualification", None),
            ),
            required_columns=(h.id, h.school_ref, "Username"),
            derived=(("roles.role", "always `teacher`"),),
        ),
        FileSpec(
            "StudentEnrollment.csv", E.ENROLLMENTS, "optional",
            ((h.section_ref, "classSourcedId"), (h.id, "userSourcedId")),
            derived=(("role", "always `student`"),),
            missing_consequence="no class memberships of students are managed",
        ),
        FileSpec(
            "TeacherRoster.csv", E.ENROLLMENTS, "optional",
            ((h.section_ref, "classSourcedId"), (h.id, "userSourcedId")),
            derived=(("role", "always `teacher`"),),
            missing_consequence="no class memberships of teachers are managed",
        ),
        FileSpec(
            "User.csv", E.USERS, "optional",
            (
                ("Email", "username"), ("Email", "email"), ("First Name", "givenName"), ("Last Name", "familyName"),
                ("Phone", "phone"), ("SIS ID", "sourcedId"),
            ),
            # The Phone and SIS ID headers must be there even though their values may be blank (§3.5).
            required_columns=("Email", "First Name", "Last Name", "Phone", "SIS ID"),
            missing_consequence="no contacts (guardians) are read",
        ),
        FileSpec(
            "Guardianrelationship.csv", E.RELATIONSHIPS, "optional",
            (("SIS ID", "userSourcedId"), ("Email", "relationshipUserSourcedId"), ("Role", "relationshipRole")),
            required_columns=("SIS ID", "Email", "Role"),
            missing_consequence="no contacts (guardians) are linked to students",
        ),
    )
