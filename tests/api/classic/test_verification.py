"""Classic SDS verification messages: one per file, column and kind of problem, counted in rows."""

from __future__ import annotations

from homeroom.api.classic.verification import verification_messages
from homeroom.validate import validate_package
from tests.inbound.sds_v1_packages import v1  # noqa: F401  (the fixture)


def test_classic_messages_count_rows_per_file_and_field(v1):
    v1.append("Section.csv", ",10001,No Id 1", ",10001,No Id 2", "11004,10001,")
    v1.append("Student.csv", "13030,10001,", "13031,10001,OKlein", "13032,10001,OKLEIN", "13033,10001,BMcMillan")
    v1.append("Teacher.csv", "14003,10001,Bad Name")
    result = validate_package(v1.root, options={"student_domain": "contoso.edu", "teacher_domain": "contoso.edu"})
    assert verification_messages(result) == [
        {"type": "Error", "fileName": "section.csv", "description": "2 row(s) have missing data for the field - SIS ID"},
        {"type": "Error", "fileName": "section.csv", "description": "1 row(s) have missing data for the field - Section Name"},
        {"type": "Error", "fileName": "student.csv", "description": "1 row(s) have missing data for the field - Username"},
        {"type": "Error", "fileName": "teacher.csv", "description": "1 row(s) have an invalid format for the field - Username"},
        {"type": "Warning", "fileName": "student.csv", "description": "3 duplicates found in column Username which requires values to be Unique."},
    ]
