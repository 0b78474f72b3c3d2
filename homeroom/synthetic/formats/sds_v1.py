"""SDS v1 classic CSV (US and UK headers): the district as School, Section, Student, Teacher,
StudentEnrollment, TeacherRoster, User and Guardianrelationship files, and their defect kinds.

The files follow the reader's column map (``homeroom.inbound.formats.sds_v1``, docs/formats.md):
every documented column is written, in the documented order, and the headers are the reader's
header set (``US`` or ``UK``). What SDS v1 cannot carry of the district:

- the district org (School.csv lists schools only) and the schools' parent;
- sessions are terms named by sections: a class in both semesters names the school year as its
  term, so it has one session instead of two, and every session's type reads back as ``term``;
- courses' grades and school year; users' ``sms``, staff phones; guardians' usernames (a contact's
  username is their Email);
- staff roles (every Teacher.csv row is a ``teacher``; the role is written as ``Title``), second
  schools of staff, and roles' ``isPrimary``, session and dates;
- demographics' birthplace and ethnicity; program flags other than ``ell`` (``ELL Status``).
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from homeroom.inbound.formats.sds_v1 import SDS_V1, SDS_V1_UK
from homeroom.inbound.formats.sds_v1.files import UK, US
from homeroom.synthetic.defects import (
    DefectKind,
    DefectKinds,
    ExpectedFinding,
    Plant,
    Planter,
    broken_lines,
    copies,
    fresh,
    missing,
)
from homeroom.synthetic.district import SCHOOL_ID_PREFIX, STAFF_ID_PREFIX, STUDENT_ID_PREFIX, District, constant
from homeroom.synthetic.formats.base import PackageFormat, file_table, text_column
from homeroom.synthetic.vocabulary import STUDENT_GRADES

#: Gender values as SDS v1 samples write them; other RefSex codes are written as they are.
_GENDER = {"male": "M", "female": "F"}


def _number(ids: pa.Array, prefix: str) -> pa.Array:
    """``sch-12`` -> ``12``: the number of a generated id (a school, student or teacher number)."""
    return pc.replace_substring(ids, prefix, "")


def clean_files(district: District, uk: bool = False) -> dict[str, pa.Table]:
    """The eight SDS v1 files of the district, with US headers (or UK ones)."""
    h, reader = (UK, SDS_V1_UK) if uk else (US, SDS_V1)
    cols = lambda name: list(dict.fromkeys(header for header, _ in reader.file(name).columns))  # noqa: E731
    t = district.tables
    students, staff = district.students, district.staff
    users = pl.from_arrow(t["users.csv"])
    roles = pl.from_arrow(t["roles.csv"])
    assert isinstance(users, pl.DataFrame) and isinstance(roles, pl.DataFrame)
    student_users, staff_users, guardian_users = users.slice(0, students), users.slice(students, staff), users.slice(students + staff)
    student_roles, staff_roles = roles.slice(0, students), roles.slice(students, staff)  # staff: primary roles

    orgs = pl.from_arrow(t["orgs.csv"]).filter(pl.col("type") == "school")
    grade_rank = {code: i for i, code in enumerate(STUDENT_GRADES)}
    span = (
        student_roles.group_by("orgSourcedId")
        .agg(pl.col("grade").replace_strict(grade_rank, return_dtype=pl.Int32).min().alias("low"),
             pl.col("grade").replace_strict(grade_rank, return_dtype=pl.Int32).max().alias("high"))
        .with_columns(pl.col(c).replace_strict(dict(enumerate(STUDENT_GRADES)), return_dtype=pl.String) for c in ("low", "high"))
    )
    principals = (
        staff_roles.filter(pl.col("role") == "principal")
        .join(staff_users, left_on="userSourcedId", right_on="sourcedId", how="left")
        .select("orgSourcedId", pl.col("userSourcedId").alias("principal"),
                pl.concat_str("givenName", "familyName", separator=" ").alias("principalName"),
                pl.col("email").alias("principalEmail"))
        .unique("orgSourcedId", keep="first", maintain_order=True)
    )
    schools = orgs.join(span, left_on="sourcedId", right_on="orgSourcedId", how="left", maintain_order="left").join(
        principals, left_on="sourcedId", right_on="orgSourcedId", how="left", maintain_order="left"
    )
    school_ids = text_column(schools["sourcedId"])
    school = file_table(cols("School.csv"), schools.height, {
        h.school_id: school_ids, "Name": schools["name"], "School Number": _number(school_ids, SCHOOL_ID_PREFIX),
        "Grade Low": schools["low"], "Grade High": schools["high"], "Principal SIS ID": schools["principal"],
        "Principal Name": schools["principalName"], "Principal Secondary Email": schools["principalEmail"],
    })

    # A class in both semesters names the school year as its one term (a v1 section has one term).
    sessions = pl.from_arrow(t["academicSessions.csv"])
    assert isinstance(sessions, pl.DataFrame)
    year_id = sessions["sourcedId"][0]
    classes = pl.from_arrow(t["classes.csv"]).with_columns(
        pl.when(pl.col("sessionSourcedIds").str.contains(",", literal=True)).then(pl.lit(year_id))
        .otherwise(pl.col("sessionSourcedIds")).alias("term")
    )
    classes = classes.join(
        sessions.select(pl.col("sourcedId").alias("term"), pl.col("title").alias("termName"), "startDate", "endDate"),
        on="term", how="left", maintain_order="left",
    ).join(
        pl.from_arrow(t["courses.csv"]).select(
            pl.col("sourcedId").alias("courseSourcedId"), pl.col("title").alias("courseTitle"),
            pl.col("code").alias("courseCode"), "subject",
        ),
        on="courseSourcedId", how="left", maintain_order="left",
    )
    section = file_table(cols("Section.csv"), classes.height, {
        h.id: classes["sourcedId"], h.school_ref: classes["orgSourcedId"], "Section Name": classes["title"],
        "Section Number": classes["code"], "Term SIS ID": classes["term"], "Term Name": classes["termName"],
        "Term StartDate": classes["startDate"], "Term EndDate": classes["endDate"],
        "Course SIS ID": classes["courseSourcedId"], "Course Name": classes["courseTitle"],
        "Course Number": classes["courseCode"], "Course Subject": classes["subject"],
        "Status": constant("Active", classes.height),
    })

    demographics = pl.from_arrow(t["demographics.csv"])  # one row per student, in the students' order
    ell = pl.from_arrow(t["userFlags.csv"]).filter(pl.col("flag") == "ell").get_column("userSourcedId")
    student_ids = text_column(student_users["sourcedId"])
    student = file_table(cols("Student.csv"), students, {
        h.id: student_ids, h.school_ref: student_roles["orgSourcedId"],
        "First Name": student_users["givenName"], "Last Name": student_users["familyName"],
        "Username": student_users["username"], "Secondary Email": student_users["email"],
        "Student Number": _number(student_ids, STUDENT_ID_PREFIX), "Grade": student_roles["grade"],
        "Status": constant("Active", students), "Birthdate": demographics["birthDate"],
        "Gender": demographics["sex"].replace(_GENDER), "FederalRace": demographics["raceCodes"],
        "ELL Status": student_users["sourcedId"].is_in(ell.implode()).replace_strict({True: "Yes", False: "No"}),
    })
    staff_ids = text_column(staff_users["sourcedId"])
    teacher = file_table(cols("Teacher.csv"), staff, {
        h.id: staff_ids, h.school_ref: staff_roles["orgSourcedId"],
        "First Name": staff_users["givenName"], "Last Name": staff_users["familyName"],
        "Username": staff_users["username"], "Teacher Number": _number(staff_ids, STAFF_ID_PREFIX),
        "Status": constant("Active", staff), "Secondary Email": staff_users["email"], "Title": staff_roles["role"],
    })

    enrollments = t["enrollments.csv"]
    rosters = {}
    for file, role in (("StudentEnrollment.csv", "student"), ("TeacherRoster.csv", "teacher")):
        rows = enrollments.filter(pc.equal(enrollments.column("role"), role))
        rosters[file] = file_table(cols(file), rows.num_rows, {
            h.section_ref: rows.column("classSourcedId"), h.id: rows.column("userSourcedId"),
        })

    guardians = guardian_users.height
    user = file_table(cols("User.csv"), guardians, {
        "Email": guardian_users["email"], "First Name": guardian_users["givenName"],
        "Last Name": guardian_users["familyName"], "Phone": guardian_users["phone"],
        "SIS ID": guardian_users["sourcedId"],
    })
    relationships = t["relationships.csv"]  # one row per guardian, in the guardians' order
    relationship = file_table(cols("Guardianrelationship.csv"), relationships.num_rows, {
        "SIS ID": relationships.column("userSourcedId"), "Email": guardian_users["email"],
        "Role": pc.utf8_capitalize(relationships.column("relationshipRole")),
    })
    return {
        "School.csv": school, "Section.csv": section, "Student.csv": student, "Teacher.csv": teacher,
        "StudentEnrollment.csv": rosters["StudentEnrollment.csv"], "TeacherRoster.csv": rosters["TeacherRoster.csv"],
        "User.csv": user, "Guardianrelationship.csv": relationship,
    }


# --- defects ------------------------------------------------------------------------------------------

_TERM_COLUMNS = ("Term SIS ID", "Term Name", "Term StartDate", "Term EndDate")
_COURSE_COLUMNS = ("Course SIS ID", "Course Name", "Course Number", "Course Description", "Course Subject")
#: A defect section names no term and no course, so that it cannot define or contradict one.
_NO_TERM = {c: "" for c in _TERM_COLUMNS}
_NO_COURSE = {c: "" for c in _COURSE_COLUMNS}


def _user_copies(tag: str, *, keep_id: bool = False, at_end: bool = False, id_column: str, **overrides) -> Plant:
    """Copies of clean Student.csv or Teacher.csv rows with fresh usernames and emails (and ids unless ``keep_id``)."""
    fresh_contact = {"Username": fresh(tag, "@example.edu"), "Secondary Email": fresh(tag, "@example.com")}
    return copies(None if keep_id else tag, id_column=id_column, at_end=at_end, **{**fresh_contact, **overrides})


def _contact_copies(tag: str, *, keep_id: bool = False, at_end: bool = False, **overrides) -> Plant:
    """Copies of clean User.csv rows (guardians) with fresh emails (and SIS IDs unless ``keep_id``)."""
    return copies(None if keep_id else tag, id_column="SIS ID", at_end=at_end, **{"Email": fresh(tag, "@example.com"), **overrides})


def _teacher_with_a_students_id(h) -> Plant:
    """A Teacher.csv row whose id is a student's: one id space, so the teacher is a duplicate."""

    def plant(planter: Planter, finding: ExpectedFinding, n: int) -> None:
        student_ids = planter.clean("Student.csv").column(h.id).take(pa.array(planter.rows("Student.csv", n))).combine_chunks()
        planter.insert(finding, planter.copies(
            finding.file, planter.rows(finding.file, n), **{h.id: lambda _: student_ids},
            Username=fresh("tch-studentid", "@example.edu"), **{"Secondary Email": fresh("tch-studentid", "@example.com")},
        ))

    return plant


def _enrollment_in_dropped_section(h) -> Plant:
    """An enrollment in a new section dropped for a blank Section Name (that section is a Section.csv finding too)."""

    def plant(planter: Planter, finding: ExpectedFinding, n: int) -> None:
        sections = planter.copies(
            "Section.csv", planter.rows("Section.csv", n), **{h.id: fresh("sec-dropped"), "Section Name": "", **_NO_TERM, **_NO_COURSE}
        )
        planter.insert(ExpectedFinding("Section.csv", "RequiredValueMissing", "error", "Section Name"), sections)
        dropped = sections.column(h.id).combine_chunks()
        planter.insert(finding, planter.copies(finding.file, planter.rows(finding.file, n), **{h.section_ref: lambda _: dropped}))

    return plant


def _relationship_to_dropped_contact(planter: Planter, finding: ExpectedFinding, n: int) -> None:
    """A relationship to a new contact dropped for a blank First Name (that contact is a User.csv finding too)."""
    contacts = planter.copies(
        "User.csv", planter.rows("User.csv", n), **{"SIS ID": fresh("gdn-dropped"), "Email": fresh("gdn-dropped", "@example.com")},
        **{"First Name": ""},
    )
    planter.insert(ExpectedFinding("User.csv", "RequiredValueMissing", "error", "First Name"), contacts)
    emails = contacts.column("Email").combine_chunks()
    planter.insert(finding, planter.copies(finding.file, planter.rows(finding.file, n), Email=lambda _: emails))


def _guardian_as_own_student(planter: Planter, finding: ExpectedFinding, n: int) -> None:
    """A contact listed as their own student: the SIS ID column holds the contact's id."""
    rows = planter.rows("User.csv", n)
    contacts = planter.clean("User.csv").take(pa.array(rows, pa.int64()))
    planter.insert(finding, pa.table({
        "SIS ID": contacts.column("SIS ID").combine_chunks(), "Email": contacts.column("Email").combine_chunks(),
        "Role": constant("Parent", n),
    }))


def defect_kinds(uk: bool = False) -> DefectKinds:
    """The defect kinds of SDS v1 files, named by the header set's headers."""
    h = UK if uk else US
    student = dict(id_column=h.id)
    return {
        "School.csv": (
            DefectKind("RequiredValueMissing", "error", "Name", copies("sch-noname", id_column=h.school_id, Name="")),
            DefectKind("DuplicateSourcedId", "error", h.school_id, copies(at_end=True)),
            DefectKind("LineFieldCount", "error", None, broken_lines("long", "sch-long", id_column=h.school_id)),
        ),
        "Section.csv": (
            DefectKind("RequiredValueMissing", "error", "Section Name",
                       copies("sec-noname", id_column=h.id, **{"Section Name": ""}, **_NO_TERM, **_NO_COURSE)),
            DefectKind("ReferenceNotFound", "error", h.school_ref,
                       copies("sec-noschool", id_column=h.id, **{h.school_ref: missing("sch")}, **_NO_TERM, **_NO_COURSE)),
            DefectKind("DuplicateSourcedId", "error", h.id, copies(at_end=True)),
            # A new course without a name is dropped; the section that names it stays, without its course.
            DefectKind("RequiredValueMissing", "error", "Course Name", copies(
                "sec-crsnoname", id_column=h.id, **_NO_TERM, **{"Course SIS ID": fresh("crs-noname"), "Course Name": ""},
            ), keeps_record=True),
            DefectKind("InvalidEnumValue", "warning", "Course Subject", copies(
                "sec-crssubject", id_column=h.id, **_NO_TERM, **{"Course SIS ID": fresh("crs-badsubject"), "Course Subject": "Math"},
            )),
            # Appended: the first section naming a course defines it, so a later one may only contradict it.
            DefectKind("ConflictingValue", "warning", "Course Name", copies(
                "sec-crsconflict", id_column=h.id, at_end=True, **_NO_TERM, **{"Course Name": "Another Course Name"},
            )),
            DefectKind("RequiredValueMissing", "error", "Term EndDate", copies(
                "sec-termnoend", id_column=h.id, **_NO_COURSE, **{"Term SIS ID": fresh("term-noend"), "Term EndDate": ""},
            ), keeps_record=True),
            DefectKind("InvalidDate", "error", "Term StartDate", copies(
                "sec-termbaddate", id_column=h.id, **_NO_COURSE,
                **{"Term SIS ID": fresh("term-baddate"), "Term StartDate": "2025-13-45"},
            ), keeps_record=True),
            DefectKind("InvalidDateRange", "error", "Term EndDate", copies(
                "sec-termbackwards", id_column=h.id, **_NO_COURSE, **{
                    "Term SIS ID": fresh("term-backwards"),
                    "Term StartDate": lambda c: c.column("Term EndDate"), "Term EndDate": lambda c: c.column("Term StartDate"),
                },
            ), keeps_record=True),
            DefectKind("ConflictingValue", "warning", "Term Name", copies(
                "sec-termconflict", id_column=h.id, at_end=True, **_NO_COURSE, **{"Term Name": "Another Term Name"},
            )),
            DefectKind("LineFieldCount", "error", None, broken_lines("long", "sec-long", id_column=h.id)),
        ),
        "Student.csv": (
            DefectKind("RequiredValueMissing", "error", "Username", _user_copies("stu-nousername", Username="", **student)),
            DefectKind("InvalidUsername", "error", "Username",
                       _user_copies("stu-badusername", Username=fresh("jdoe", "@invalid"), **student)),
            DefectKind("DuplicateSourcedId", "error", h.id, _user_copies("stu-dupid", keep_id=True, at_end=True, **student)),
            DefectKind("DuplicateUsername", "error", "Username",
                       _user_copies("stu-dupname", at_end=True, Username=lambda c: pc.utf8_upper(c.column("Username")), **student)),
            DefectKind("InvalidEmail", "warning", "Secondary Email",
                       _user_copies("stu-bademail", **{"Secondary Email": "not-an-email@"}, **student)),
            # The student is valid; the role in a school that does not exist is dropped.
            DefectKind("ReferenceNotFound", "error", h.school_ref,
                       _user_copies("stu-noschool", **{h.school_ref: missing("sch")}, **student), keeps_record=True),
            DefectKind("InvalidEnumValue", "warning", "Grade", _user_copies("stu-badgrade", Grade="grade13x", **student)),
            DefectKind("InvalidEnumValue", "warning", "Gender", _user_copies("stu-badgender", Gender="bogusSex", **student)),
            DefectKind("InvalidDate", "warning", "Birthdate", _user_copies("stu-baddate", Birthdate="2010-13-45", **student)),
            DefectKind("InvalidEnumValue", "warning", "FederalRace", _user_copies("stu-badrace", FederalRace="martian", **student)),
            DefectKind("InvalidBoolean", "warning", "ELL Status", _user_copies("stu-badell", **{"ELL Status": "maybe"}, **student)),
            DefectKind("LineUnterminatedQuote", "error", None, broken_lines("open-quote", "stu-openquote", id_column=h.id)),
            DefectKind("LineBreakInValue", "error", None,
                       broken_lines("line-break", "stu-linebreak", id_column=h.id, **{"First Name": "Mary\nAnn"})),
            DefectKind("LineFieldCount", "error", None, broken_lines("long", "stu-long", id_column=h.id)),
        ),
        "Teacher.csv": (
            DefectKind("RequiredValueMissing", "error", "Username", _user_copies("tch-nousername", Username="", **student)),
            DefectKind("InvalidUsername", "error", "Username",
                       _user_copies("tch-badusername", Username=fresh("jdoe", "@invalid"), **student)),
            DefectKind("DuplicateSourcedId", "error", h.id, _teacher_with_a_students_id(h)),
            DefectKind("DuplicateUsername", "error", "Username",
                       _user_copies("tch-dupname", at_end=True, Username=lambda c: pc.utf8_upper(c.column("Username")), **student)),
            DefectKind("InvalidEmail", "warning", "Secondary Email",
                       _user_copies("tch-bademail", **{"Secondary Email": "not-an-email@"}, **student)),
            DefectKind("ReferenceNotFound", "error", h.school_ref,
                       _user_copies("tch-noschool", **{h.school_ref: missing("sch")}, **student), keeps_record=True),
            DefectKind("LineFieldCount", "error", None, broken_lines("long", "tch-long", id_column=h.id)),
        ),
        "StudentEnrollment.csv": (
            DefectKind("ReferenceNotFound", "error", h.section_ref, copies(**{h.section_ref: missing("sec")})),
            DefectKind("ReferenceNotFound", "error", h.id, copies(**{h.id: missing("stu")})),
            DefectKind("DuplicateRecord", "warning", None, copies(at_end=True)),
            DefectKind("RequiredValueMissing", "error", h.id, copies(**{h.id: ""})),
            DefectKind("ReferenceDropped", "error", h.section_ref, _enrollment_in_dropped_section(h)),
            DefectKind("LineFieldCount", "error", None, broken_lines("long", "enr-long", id_column=h.id)),
        ),
        "TeacherRoster.csv": (
            DefectKind("ReferenceNotFound", "error", h.section_ref, copies(**{h.section_ref: missing("sec")})),
            DefectKind("ReferenceNotFound", "error", h.id, copies(**{h.id: missing("stf")})),
            DefectKind("DuplicateRecord", "warning", None, copies(at_end=True)),
            DefectKind("LineFieldCount", "error", None, broken_lines("long", "ros-long", id_column=h.id)),
        ),
        "User.csv": (
            DefectKind("RequiredValueMissing", "error", "First Name", _contact_copies("gdn-nofirstname", **{"First Name": ""})),
            DefectKind("RequiredValueMissing", "error", "Email", _contact_copies("gdn-noemail", Email="")),
            DefectKind("InvalidUsername", "error", "Email", _contact_copies("gdn-bademail", Email="not-an-email")),
            DefectKind("InvalidPhone", "warning", "Phone", _contact_copies("gdn-badphone", Phone="555-0100")),
            DefectKind("DuplicateSourcedId", "error", "SIS ID", _contact_copies("gdn-dupid", keep_id=True, at_end=True)),
            DefectKind("DuplicateUsername", "error", "Email",
                       _contact_copies("gdn-dupemail", at_end=True, Email=lambda c: pc.utf8_upper(c.column("Email")))),
            DefectKind("LineFieldCount", "error", None, broken_lines("long", "gdn-long", id_column="SIS ID")),
        ),
        "Guardianrelationship.csv": (
            DefectKind("ReferenceNotFound", "error", "Email", copies(Email=fresh("missing-gdn", "@example.com"))),
            DefectKind("ReferenceNotFound", "error", "SIS ID", copies(**{"SIS ID": missing("stu")})),
            DefectKind("InvalidEnumValue", "error", "Role", copies(Role="bogusRole")),
            DefectKind("ReferenceDropped", "error", "Email", _relationship_to_dropped_contact),
            DefectKind("SelfRelationship", "error", "Email", _guardian_as_own_student),
            DefectKind("DuplicateRecord", "warning", None, copies(at_end=True)),
            DefectKind("LineFieldCount", "error", None, broken_lines("long", "rel-long", id_column="SIS ID")),
        ),
    }


_NOTES = (
    "Not in SDS v1, so not planted: org types and parents, session types and school years, course "
    "grades and school years, roles' session, `isPrimary` and dates, `sms`, birthplaces, ethnicity, "
    "program flags other than `ell`, and `ContactMissingData` (User.csv requires a contact's names and "
    "Email, so such a contact is dropped there). Specific to SDS v1: terms and courses defined by the "
    "first section that names them (`ConflictingValue`), errors on the role a Student.csv or Teacher.csv "
    "row makes (the user stays), a teacher with a student's id (one id space), a contact listed as their "
    "own student."
)

SDS_V1_US = PackageFormat("sds-v1", clean_files, defect_kinds(), notes=_NOTES)
SDS_V1_UK_HEADERS = PackageFormat("sds-v1-uk", lambda district: clean_files(district, uk=True), defect_kinds(uk=True), notes=_NOTES)
