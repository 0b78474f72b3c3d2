"""Build a clean synthetic school district as one text table per SDS v2.1 file.

The district is decided as whole numpy columns (which school and grade each student is in, which
classes they take, who teaches each class) and then turned into text columns with pyarrow compute;
no Python loop visits a record, so 1.1M students take seconds. Ratios follow a large US district
(per 1.1M students: ~1,800 schools, ~140k staff, ~300k classes, ~9M student enrollments) and scale
linearly. Every reference resolves, every key is unique and every value is valid, so the validator
finds nothing in a clean district. The same seed always gives the same district.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from homeroom.model.reference import ReferenceData
from homeroom.synthetic import vocabulary as vocab

#: The ten SDS v2.1 files, in dependency order, with their header in the order they are written.
SDS_HEADERS: dict[str, tuple[str, ...]] = {
    "orgs.csv": ("sourcedId", "name", "type", "parentSourcedId"),
    "academicSessions.csv": ("sourcedId", "title", "type", "schoolYear", "startDate", "endDate"),
    "courses.csv": ("sourcedId", "orgSourcedId", "title", "code", "schoolYearSourcedId", "subject", "grade"),
    "users.csv": (
        "sourcedId", "username", "givenName", "familyName", "password", "activeDirectoryMatchId", "email", "phone", "sms",
    ),
    "roles.csv": (
        "userSourcedId", "orgSourcedId", "role", "sessionSourcedId", "grade", "isPrimary", "roleStartDate", "roleEndDate",
    ),
    "classes.csv": ("sourcedId", "orgSourcedId", "title", "sessionSourcedIds", "courseSourcedId", "code"),
    "enrollments.csv": ("classSourcedId", "userSourcedId", "role"),
    "demographics.csv": (
        "userSourcedId", "sex", "birthDate", "birthCity", "birthState", "birthCountry", "ethnicityCodes", "raceCodes",
    ),
    "userFlags.csv": ("userSourcedId", "flag"),
    "relationships.csv": ("userSourcedId", "relationshipUserSourcedId", "relationshipRole"),
}

STUDENTS_PER_SCHOOL = 1_100_000 / 1_800
STAFF_PER_STUDENT = 140_000 / 1_100_000
CLASSES_PER_STUDENT = 300_000 / 1_100_000
SECTIONS_PER_COURSE = 3.3
#: Distinct classes per student and how often each count occurs (mean 8.2, ~9M enrollments per 1.1M).
CLASSES_TAKEN = (7, 8, 9)
CLASSES_TAKEN_SHARES = (0.2, 0.4, 0.4)
#: A grade of a school has at least this many classes, so every student can take nine distinct ones.
MIN_CLASSES_PER_GRADE = max(CLASSES_TAKEN)
SECOND_TEACHER_SHARE = 0.2
STAFF_WITH_SECOND_SCHOOL_SHARE = 0.05
STAFF_WITH_PHONE_SHARE = 0.6
FULL_YEAR_CLASS_SHARE = 0.3
TWO_GRADE_COURSE_SHARE = 0.15  # high-school courses open to two grades ("09,10")
GUARDIANS_PER_STUDENT = (1, 2)
GUARDIANS_PER_STUDENT_SHARES = (0.5, 0.5)
GUARDIAN_WITH_PHONE_SHARE = 0.9
GUARDIAN_WITH_SMS_SHARE = 0.5
GUARDIAN_SHARES_FAMILY_NAME = 0.7
#: Staff role codes; a staff member's role is an index into this tuple. The principal is placed, not drawn.
STAFF_ROLES: tuple[str, ...] = (*vocab.STAFF_ROLE_SHARES, "principal")

DISTRICT_ID = "district-1"
DISTRICT_NAME = "Homeroom Unified School District"
#: Id prefixes of clean records; defect rows use other prefixes, so their ids are always fresh.
SCHOOL_ID_PREFIX = "sch-"
COURSE_ID_PREFIX = "crs-"
CLASS_ID_PREFIX = "cls-"
STUDENT_ID_PREFIX = "stu-"
STAFF_ID_PREFIX = "stf-"
GUARDIAN_ID_PREFIX = "gdn-"

# Each part of the district draws from its own random stream, so changing one part leaves the others alone.
(
    _SCHOOLS, _STUDENTS, _CLASSES, _STAFF, _TEACHING, _NAMES, _CONTACT, _DEMOGRAPHICS, _FLAGS, _GUARDIANS,
    _COURSES, _ROLES, _TERMS, _RELATIONSHIP_ROLES,
) = range(1, 15)


@dataclass(frozen=True)
class SchoolYear:
    """The school year's session ids and dates: the year itself and its two semesters."""

    year: int

    @property
    def year_id(self) -> str:
        """sourcedId of the schoolYear session."""
        return f"sy-{self.year}"

    @property
    def semester_ids(self) -> tuple[str, str]:
        """sourcedIds of the fall and spring semesters."""
        return f"sem1-{self.year}", f"sem2-{self.year}"

    @property
    def start(self) -> str:
        """First day of the school year (August 1 of the previous calendar year)."""
        return f"{self.year - 1}-08-01"

    @property
    def end(self) -> str:
        """Last day of the school year (June 30)."""
        return f"{self.year}-06-30"

    def sessions_table(self) -> pa.Table:
        """academicSessions.csv: the school year and its two semesters."""
        fall, spring = self.semester_ids
        return _table(
            "academicSessions.csv",
            sourcedId=[self.year_id, fall, spring],
            title=[f"{self.year - 1}-{self.year} School Year", f"Fall Semester {self.year - 1}", f"Spring Semester {self.year}"],
            type=["schoolYear", "semester", "semester"],
            schoolYear=[str(self.year)] * 3,
            startDate=[self.start, self.start, f"{self.year}-01-16"],
            endDate=[self.end, f"{self.year}-01-15", self.end],
        )


@dataclass
class District:
    """A clean district: one text table per SDS file, and where each kind of record sits in them.

    users.csv holds the students first, then the staff, then the guardians; roles.csv holds the
    students' roles (in the same order as the students), then the staff's primary roles (same order
    as the staff), then the staff's roles in a second school.
    """

    tables: dict[str, pa.Table]
    school_year: SchoolYear
    schools: int
    students: int
    staff: int
    guardians: int


def build_district(students: int, seed: int, school_year: int) -> District:
    """The clean district for this many students; the same arguments always give the same district."""
    year = SchoolYear(school_year)
    layout = _Layout.plan(students, seed)
    people = _People(layout, seed)
    courses = _courses_table(layout, year, seed)
    tables = {
        "orgs.csv": _orgs_table(layout),
        "academicSessions.csv": year.sessions_table(),
        "courses.csv": courses,
        "users.csv": _users_table(layout, people, seed),
        "roles.csv": _roles_table(layout, year, seed),
        "classes.csv": _classes_table(layout, year, courses, seed),
        "enrollments.csv": _enrollments_table(layout),
        "demographics.csv": _demographics_table(layout, year, seed),
        "userFlags.csv": _user_flags_table(layout, seed),
        "relationships.csv": _relationships_table(layout, seed),
    }
    return District(tables, year, layout.schools, layout.students, layout.staff, layout.guardians)


def random_stream(seed: int, stream: int) -> np.random.Generator:
    """The random generator of one part of the generation, derived from the seed."""
    return np.random.default_rng([seed, stream])


def numbered(prefix: str, numbers: np.ndarray, suffix: str = "") -> pa.Array:
    """``prefix + number + suffix`` for every number, as a text column."""
    digits = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, digits, suffix, "")


def constant(value: str, count: int) -> pa.Array:
    """A text column holding ``value`` ``count`` times."""
    return pa.repeat(pa.scalar(value, pa.string()), count)


def pick(values: list[str] | tuple[str, ...], indices: np.ndarray) -> pa.Array:
    """``values[i]`` for every index, as a text column."""
    return pa.array(list(values), pa.string()).take(pa.array(np.asarray(indices, dtype=np.int64)))


def _table(file: str, **columns: pa.Array | list[str]) -> pa.Table:
    header = SDS_HEADERS[file]
    assert tuple(columns) == header, f"{file}: columns {tuple(columns)} do not match {header}"
    return pa.table({name: pa.array(values, pa.string()) if isinstance(values, list) else values for name, values in columns.items()})


def _exclusive_cumsum(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


def _positions_within(counts: np.ndarray) -> np.ndarray:
    """For runs of the given lengths laid end to end, each element's position within its run."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(_exclusive_cumsum(counts), counts)


@dataclass
class _Layout:
    """Who is where, as integer columns: schools, grades, courses, classes, staff, enrollments, guardians."""

    school_band: np.ndarray  # (schools,) index into vocab.SCHOOL_BANDS
    student_school: np.ndarray  # (students,)
    student_grade: np.ndarray  # (students,) 0 = KG .. 12
    course_school: np.ndarray  # (courses,)
    course_grade: np.ndarray
    course_rank: np.ndarray  # position of the course within its school and grade
    class_course: np.ndarray  # (classes,)
    class_section: np.ndarray  # section number within the course, from 1
    staff_school: np.ndarray  # (staff,)
    staff_role: np.ndarray  # index into STAFF_ROLES
    enrollment_class: np.ndarray  # (enrollments,) sorted by class
    enrollment_user: np.ndarray  # row of the user in users.csv
    enrollment_is_teacher: np.ndarray
    guardian_student: np.ndarray  # (guardians,)

    @property
    def schools(self) -> int:
        return len(self.school_band)

    @property
    def students(self) -> int:
        return len(self.student_school)

    @property
    def staff(self) -> int:
        return len(self.staff_school)

    @property
    def guardians(self) -> int:
        return len(self.guardian_student)

    @property
    def class_school(self) -> np.ndarray:
        return self.course_school[self.class_course]

    @classmethod
    def plan(cls, students: int, seed: int) -> "_Layout":
        school_band, enrolled = _plan_schools(students, random_stream(seed, _SCHOOLS))
        student_school, student_grade = _plan_students(school_band, enrolled, random_stream(seed, _STUDENTS))
        grades = _plan_grades(student_school, student_grade)
        courses, classes, student_classes = _plan_classes(grades, random_stream(seed, _CLASSES))
        staff_school, staff_role = _plan_staff(enrolled, random_stream(seed, _STAFF))
        class_school = courses.school[classes.course]
        enrollments = _plan_enrollments(
            students, student_classes, class_school, staff_school, staff_role, random_stream(seed, _TEACHING)
        )
        rng = random_stream(seed, _GUARDIANS)
        per_student = rng.choice(GUARDIANS_PER_STUDENT, size=students, p=GUARDIANS_PER_STUDENT_SHARES)
        return cls(
            school_band, student_school, student_grade, courses.school, courses.grade, courses.rank,
            classes.course, classes.section, staff_school, staff_role, *enrollments,
            np.repeat(np.arange(students, dtype=np.int64), per_student),
        )


def _plan_schools(students: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each school's band and enrolment; every school has at least one student."""
    schools = max(1, round(students / STUDENTS_PER_SCHOOL))
    k12 = len(vocab.SCHOOL_BANDS) - 1
    if schools < 3:
        band = np.full(schools, k12, dtype=np.int64)
    else:
        band = np.concatenate([[0, 1, 2], rng.choice(3, size=schools - 3, p=vocab.SCHOOL_BAND_SHARES)]).astype(np.int64)
    relative_size = np.array([b[3] for b in vocab.SCHOOL_BANDS])[band] * rng.lognormal(0.0, 0.35, schools)
    enrolled = 1 + rng.multinomial(students - schools, relative_size / relative_size.sum())
    return band, enrolled.astype(np.int64)


def _plan_students(band: np.ndarray, enrolled: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each student's school and grade, sorted by school then grade."""
    school = np.repeat(np.arange(len(band), dtype=np.int64), enrolled)
    lowest = np.array([b[1] for b in vocab.SCHOOL_BANDS])[band][school]
    width = np.array([b[2] - b[1] + 1 for b in vocab.SCHOOL_BANDS])[band][school]
    grade = lowest + rng.integers(0, width)
    order = np.lexsort((grade, school))
    return school[order], grade[order]


@dataclass
class _Grades:
    """The (school, grade) groups that have students: students in a grade share its classes."""

    school: np.ndarray
    grade: np.ndarray
    students: np.ndarray
    student_group: np.ndarray


def _plan_grades(student_school: np.ndarray, student_grade: np.ndarray) -> _Grades:
    key = student_school * len(vocab.STUDENT_GRADES) + student_grade
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    counts = np.diff(np.concatenate([starts, [len(key)]]))
    return _Grades(student_school[starts], student_grade[starts], counts, np.repeat(np.arange(len(starts)), counts))


@dataclass
class _Courses:
    school: np.ndarray
    grade: np.ndarray
    rank: np.ndarray  # position within its school grade: picks the subject


@dataclass
class _Classes:
    course: np.ndarray
    section: np.ndarray  # section number within the course, from 1


def _plan_classes(grades: _Grades, rng: np.random.Generator) -> tuple[_Courses, _Classes, tuple[np.ndarray, np.ndarray]]:
    """Courses and classes of every school grade, and the distinct classes each student takes.

    A student takes 7-9 classes of their own grade, chosen as an arithmetic progression (random start
    and step) over the grade's classes: the classes are distinct, and class sizes come out even.
    Returns the courses, the classes, and the (student, class) pairs of the student enrollments.
    """
    classes = np.maximum(MIN_CLASSES_PER_GRADE, np.rint(grades.students * CLASSES_PER_STUDENT)).astype(np.int64)
    courses = np.maximum(1, np.rint(classes / SECTIONS_PER_COURSE)).astype(np.int64)
    group_of_course = np.repeat(np.arange(len(classes)), courses)
    group_of_class = np.repeat(np.arange(len(classes)), classes)
    class_rank = _positions_within(classes)
    class_course = _exclusive_cumsum(courses)[group_of_class] + class_rank % courses[group_of_class]
    class_section = class_rank // courses[group_of_class] + 1

    group = grades.student_group
    taken = rng.choice(CLASSES_TAKEN, size=len(group), p=CLASSES_TAKEN_SHARES).astype(np.int64)
    available = classes[group]
    start = rng.integers(0, available)
    step = rng.integers(1, available // taken + 1)
    student_of = np.repeat(np.arange(len(group), dtype=np.int64), taken)
    nth = _positions_within(taken)
    rank = (start[student_of] + nth * step[student_of]) % available[student_of]
    class_of = _exclusive_cumsum(classes)[group[student_of]] + rank
    return (
        _Courses(grades.school[group_of_course], grades.grade[group_of_course], _positions_within(courses)),
        _Classes(class_course, class_section),
        (student_of, class_of),
    )


def _plan_staff(enrolled: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Staff per school in proportion to its students: the first is a teacher, the second the principal."""
    schools = len(enrolled)
    staff = max(2, schools, round(enrolled.sum() * STAFF_PER_STUDENT))
    per_school = 1 + rng.multinomial(staff - schools, enrolled / enrolled.sum())
    school = np.repeat(np.arange(schools, dtype=np.int64), per_school)
    rank = _positions_within(per_school)
    _, shares = vocab.shares(vocab.STAFF_ROLE_SHARES)  # the first codes of STAFF_ROLES, in order
    role = rng.choice(len(shares), size=staff, p=shares)
    role[rank == 0] = STAFF_ROLES.index("teacher")
    role[rank == 1] = STAFF_ROLES.index("principal")
    return school, role.astype(np.int64)


def _plan_enrollments(
    students: int,
    student_classes: tuple[np.ndarray, np.ndarray],
    class_school: np.ndarray,
    staff_school: np.ndarray,
    staff_role: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every enrollment as (class, users.csv row, is teacher), sorted by class with the teachers first.

    Each class gets one teacher of its school, and a second one (another teacher) for some classes.
    """
    teachers = np.flatnonzero(staff_role == STAFF_ROLES.index("teacher"))  # staff are grouped by school
    per_school = np.bincount(staff_school[teachers], minlength=int(staff_school.max()) + 1)
    first_teacher = _exclusive_cumsum(per_school)
    available = per_school[class_school]
    first = rng.integers(0, available)
    lead = teachers[first_teacher[class_school] + first]
    classes = np.arange(len(class_school), dtype=np.int64)
    co_taught = (rng.random(len(class_school)) < SECOND_TEACHER_SHARE) & (available >= 2)
    other = (first + 1 + rng.integers(0, np.maximum(available - 1, 1))) % available
    second = teachers[first_teacher[class_school] + other][co_taught]
    student_of, class_of = student_classes
    enrollment_class = np.concatenate([classes, classes[co_taught], class_of])
    enrollment_user = np.concatenate([students + lead, students + second, student_of])
    is_teacher = np.zeros(len(enrollment_class), dtype=bool)
    is_teacher[: len(classes) + len(second)] = True
    order = np.argsort(enrollment_class, kind="stable")
    return enrollment_class[order], enrollment_user[order], is_teacher[order]


class _People:
    """Given and family names of every user (students, staff, guardians in users.csv order)."""

    def __init__(self, layout: _Layout, seed: int):
        rng = random_stream(seed, _NAMES)
        family, family_shares = vocab.family_name_shares()
        people = layout.students + layout.staff + layout.guardians
        self.given = pick(vocab.GIVEN_NAMES, rng.integers(0, len(vocab.GIVEN_NAMES), size=people))
        family_index = rng.choice(len(family), size=people, p=family_shares)
        guardian_rows = layout.students + layout.staff + np.arange(layout.guardians)
        shares_name = rng.random(layout.guardians) < GUARDIAN_SHARES_FAMILY_NAME
        family_index[guardian_rows[shares_name]] = family_index[layout.guardian_student[shares_name]]
        self.family = pick(family, family_index)


def _orgs_table(layout: _Layout) -> pa.Table:
    places = len(vocab.SCHOOL_PLACES)
    number = np.arange(layout.schools, dtype=np.int64)
    place = pick(vocab.SCHOOL_PLACES, number % places)
    band = pick([b[0] for b in vocab.SCHOOL_BANDS], layout.school_band)
    name = pc.binary_join_element_wise(place, band, " ")
    repeat = number // places
    name = pc.if_else(pa.array(repeat > 0), pc.binary_join_element_wise(name, numbered("", repeat + 1), " "), name)
    return _table(
        "orgs.csv",
        sourcedId=pa.concat_arrays([pa.array([DISTRICT_ID]), numbered(SCHOOL_ID_PREFIX, number + 1)]),
        name=pa.concat_arrays([pa.array([DISTRICT_NAME]), name.cast(pa.string())]),
        type=pa.concat_arrays([pa.array(["district"]), constant("school", layout.schools)]),
        parentSourcedId=pa.concat_arrays([pa.array([""]), constant(DISTRICT_ID, layout.schools)]),
    )


def _courses_table(layout: _Layout, year: SchoolYear, seed: int) -> pa.Table:
    count = len(layout.course_school)
    reference = ReferenceData.default()
    subject_names = [reference.get(f"RefAcademicSubject-{code}").display_name for code in vocab.SUBJECTS_BY_PRIORITY]
    subject = layout.course_rank % len(vocab.SUBJECTS_BY_PRIORITY)
    level = layout.course_rank // len(vocab.SUBJECTS_BY_PRIORITY)
    title = pc.binary_join_element_wise(pick(subject_names, subject), pick(vocab.GRADE_TITLES, layout.course_grade), " ")
    title = pc.if_else(pa.array(level > 0), pc.binary_join_element_wise(title, numbered("Level ", level + 1), " "), title)
    grade = pick(vocab.STUDENT_GRADES, layout.course_grade)
    # Some high-school courses are open to two grades: the course's grade and the next (or previous) one.
    rng = random_stream(seed, _COURSES)
    two_grades = (layout.course_grade >= 9) & (rng.random(count) < TWO_GRADE_COURSE_SHARE)
    neighbour = np.where(layout.course_grade == 12, 11, layout.course_grade + 1)
    low, high = np.minimum(layout.course_grade, neighbour), np.maximum(layout.course_grade, neighbour)
    pair = pc.binary_join_element_wise(pick(vocab.STUDENT_GRADES, low), pick(vocab.STUDENT_GRADES, high), ",")
    subject_code = pick(vocab.SUBJECTS_BY_PRIORITY, subject)
    return _table(
        "courses.csv",
        sourcedId=numbered(COURSE_ID_PREFIX, np.arange(1, count + 1)),
        orgSourcedId=numbered(SCHOOL_ID_PREFIX, layout.course_school + 1),
        title=title,
        code=pc.binary_join_element_wise(subject_code, grade, numbered("", layout.course_rank + 1), "-"),
        schoolYearSourcedId=constant(year.year_id, count),
        subject=subject_code,
        grade=pc.if_else(pa.array(two_grades), pair, grade),
    )


def _users_table(layout: _Layout, people: _People, seed: int) -> pa.Table:
    rng = random_stream(seed, _CONTACT)
    students, staff, guardians = layout.students, layout.staff, layout.guardians
    total = students + staff + guardians
    student_no = np.arange(1, students + 1)
    staff_no = np.arange(1, staff + 1)
    guardian_no = np.arange(1, guardians + 1)
    username = pa.concat_arrays([
        numbered("s", student_no, "@students.example.edu"),
        numbered("t", staff_no, "@example.edu"),
        numbered("g", guardian_no, "@example.edu"),
    ])
    email = pa.concat_arrays([username.slice(0, students + staff), numbered("g", guardian_no, "@families.example.org")])
    has_phone = np.concatenate([
        np.zeros(students, bool),
        rng.random(staff) < STAFF_WITH_PHONE_SHARE,
        rng.random(guardians) < GUARDIAN_WITH_PHONE_SHARE,
    ])
    has_sms = np.concatenate([np.zeros(students + staff, bool), rng.random(guardians) < GUARDIAN_WITH_SMS_SHARE]) & has_phone
    line = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 10_000, size=total)), pa.string()), 4, "0")
    phone = pc.binary_join_element_wise("+1206555", line, "")
    blank = constant("", total)
    return _table(
        "users.csv",
        sourcedId=pa.concat_arrays([
            numbered(STUDENT_ID_PREFIX, student_no), numbered(STAFF_ID_PREFIX, staff_no), numbered(GUARDIAN_ID_PREFIX, guardian_no),
        ]),
        username=username,
        givenName=people.given,
        familyName=people.family,
        password=blank,
        activeDirectoryMatchId=blank,
        email=email,
        phone=pc.if_else(pa.array(has_phone), phone, blank),
        sms=pc.if_else(pa.array(has_sms), phone, blank),
    )


def _roles_table(layout: _Layout, year: SchoolYear, seed: int) -> pa.Table:
    rng = random_stream(seed, _ROLES)
    students, staff = layout.students, layout.staff
    second = np.flatnonzero(rng.random(staff) < STAFF_WITH_SECOND_SCHOOL_SHARE) if layout.schools > 1 else np.empty(0, np.int64)
    other_school = (layout.staff_school[second] + 1 + rng.integers(0, max(layout.schools - 1, 1), size=len(second))) % layout.schools
    staff_member = np.concatenate([np.arange(staff), second])
    rows = students + len(staff_member)
    return _table(
        "roles.csv",
        userSourcedId=pa.concat_arrays([
            numbered(STUDENT_ID_PREFIX, np.arange(1, students + 1)), numbered(STAFF_ID_PREFIX, staff_member + 1),
        ]),
        orgSourcedId=numbered(
            SCHOOL_ID_PREFIX, np.concatenate([layout.student_school, layout.staff_school, other_school]) + 1
        ),
        role=pa.concat_arrays([constant("student", students), pick(STAFF_ROLES, layout.staff_role[staff_member])]),
        sessionSourcedId=constant(year.year_id, rows),
        grade=pa.concat_arrays([pick(vocab.STUDENT_GRADES, layout.student_grade), constant("", len(staff_member))]),
        isPrimary=pa.concat_arrays([constant("true", students + staff), constant("false", len(second))]),
        roleStartDate=constant(year.start, rows),
        roleEndDate=constant(year.end, rows),
    )


def _classes_table(layout: _Layout, year: SchoolYear, courses: pa.Table, seed: int) -> pa.Table:
    rng = random_stream(seed, _TERMS)
    count = len(layout.class_course)
    fall, spring = year.semester_ids
    term = rng.random(count)
    sessions = np.where(term < FULL_YEAR_CLASS_SHARE, 0, np.where(term < (1 + FULL_YEAR_CLASS_SHARE) / 2, 1, 2))
    section = numbered("", layout.class_section)
    return _table(
        "classes.csv",
        sourcedId=numbered(CLASS_ID_PREFIX, np.arange(1, count + 1)),
        orgSourcedId=numbered(SCHOOL_ID_PREFIX, layout.class_school + 1),
        title=pc.binary_join_element_wise(courses.column("title").take(pa.array(layout.class_course)), section, " - Section "),
        sessionSourcedIds=pick([f"{fall},{spring}", fall, spring], sessions),
        courseSourcedId=numbered(COURSE_ID_PREFIX, layout.class_course + 1),
        code=pc.binary_join_element_wise(courses.column("code").take(pa.array(layout.class_course)), section, "."),
    )


def _enrollments_table(layout: _Layout) -> pa.Table:
    users = pa.concat_arrays([
        numbered(STUDENT_ID_PREFIX, np.arange(1, layout.students + 1)),
        numbered(STAFF_ID_PREFIX, np.arange(1, layout.staff + 1)),
    ])
    return _table(
        "enrollments.csv",
        classSourcedId=numbered(CLASS_ID_PREFIX, layout.enrollment_class + 1),
        userSourcedId=users.take(pa.array(layout.enrollment_user)),
        role=pick(("student", "teacher"), layout.enrollment_is_teacher.astype(np.int64)),
    )


def _demographics_table(layout: _Layout, year: SchoolYear, seed: int) -> pa.Table:
    rng = random_stream(seed, _DEMOGRAPHICS)
    count = layout.students
    sexes, sex_shares = vocab.shares(vocab.SEX_SHARES)
    races, race_shares = vocab.shares(vocab.RACE_CODE_SHARES)
    # A student in grade g turned 5 + g by September 1 of the school year's first calendar year.
    birth_year = (year.year - 1) - 6 - layout.student_grade
    september_2 = ((birth_year - 1970) * 12 + 8).astype("datetime64[M]").astype("datetime64[D]") + 1
    birth_date = september_2 + rng.integers(0, 365, size=count)
    place = np.where(
        rng.random(count) < vocab.US_BIRTH_SHARE,
        rng.integers(0, vocab.US_BIRTH_PLACES, size=count),
        rng.integers(vocab.US_BIRTH_PLACES, len(vocab.BIRTH_PLACES), size=count),
    )
    hispanic = rng.random(count) < vocab.HISPANIC_SHARE
    return _table(
        "demographics.csv",
        userSourcedId=numbered(STUDENT_ID_PREFIX, np.arange(1, count + 1)),
        sex=pick(sexes, rng.choice(len(sexes), size=count, p=sex_shares)),
        birthDate=pc.cast(pa.array(birth_date, pa.date32()), pa.string()),
        birthCity=pick([p[0] for p in vocab.BIRTH_PLACES], place),
        birthState=pick([p[1] for p in vocab.BIRTH_PLACES], place),
        birthCountry=pick([p[2] for p in vocab.BIRTH_PLACES], place),
        ethnicityCodes=pick(("", "hispanicOrLatinoEthnicity"), hispanic.astype(np.int64)),
        raceCodes=pick(races, rng.choice(len(races), size=count, p=race_shares)),
    )


def _user_flags_table(layout: _Layout, seed: int) -> pa.Table:
    rng = random_stream(seed, _FLAGS)
    flagged = np.flatnonzero(rng.random(layout.students) < vocab.STUDENTS_WITH_FLAG_SHARE)
    flags, shares = vocab.shares(vocab.FLAG_SHARES)
    return _table(
        "userFlags.csv",
        userSourcedId=numbered(STUDENT_ID_PREFIX, flagged + 1),
        flag=pick(flags, rng.choice(len(flags), size=len(flagged), p=shares)),
    )


def _relationships_table(layout: _Layout, seed: int) -> pa.Table:
    rng = random_stream(seed, _RELATIONSHIP_ROLES)
    roles, shares = vocab.shares(vocab.RELATIONSHIP_ROLE_SHARES)
    return _table(
        "relationships.csv",
        userSourcedId=numbered(STUDENT_ID_PREFIX, layout.guardian_student + 1),
        relationshipUserSourcedId=numbered(GUARDIAN_ID_PREFIX, np.arange(1, layout.guardians + 1)),
        relationshipRole=pick(roles, rng.choice(len(roles), size=layout.guardians, p=shares)),
    )
