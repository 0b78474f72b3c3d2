"""Microsoft School Data Sync v1 "classic" CSV, US and UK header sets (``RefFileFormat`` ``schoolDataSyncV1``).

Six files: ``School.csv``, ``Student.csv`` and ``Teacher.csv`` are required; ``Section.csv``,
``StudentEnrollment.csv`` and ``TeacherRoster.csv`` come all together or not at all; ``User.csv``
and ``Guardianrelationship.csv`` are the optional guardian pair. File names are matched without
regard to case; headers are case-sensitive. The UK set renames the key headers (``DfE Number``,
``ID``, ``School DfE Number``, ``Section ID``, ``Postal Code``). Source:
``shared/spec/roster-csv-formats.md`` §3.

A v1 file is not one canonical entity: a Student.csv row is a user, a student role in its school,
and demographics; a Section.csv row is a class and names its term (an academic session) and
course. Terms and courses are therefore derived, one per distinct ``Term SIS ID`` /
``Course SIS ID`` (the first section that names one defines it). Modules: ``files.py`` (the
files and both header sets), ``sources.py`` (the rows as canonical entities), ``rules.py``.

Options (``read_package(..., options={...})``, or ``validate_package``'s):

- ``student_domain`` / ``teacher_domain``: a domain added to Student.csv / Teacher.csv usernames
  that have none (``OKlein`` -> ``OKlein@school.org``); defaults: the settings
  ``HOMEROOM_V1_STUDENT_DOMAIN`` / ``HOMEROOM_V1_TEACHER_DOMAIN``. Without one, such a username
  is invalid (``InvalidUsername``, with a message that says how to configure the domain).
- ``optional_properties``: SDS's ``optionalPropertiesToSync``. A mapping from a file (``"Student.csv"``
  or Graph's entity name ``"student"``) to the optional columns to carry (``["State ID", "Middle Name"]``),
  or ``None`` for all of them. Files not named carry all optional columns. Columns left out are
  read as blank: not carried, not checked.
- ``deferred_files``: SDS's ``isSyncDeferred`` (and a future ``synchronizationStartDate``) of the membership files:
  ``["StudentEnrollment.csv"]`` or Graph's ``["studentEnrollment", "teacherRoster"]``. Their rows are read and checked
  at verification but not carried into the canonical tables: the run syncs none of those memberships yet.
"""

import dataclasses

from homeroom.inbound.formats.base import CsvFormat
from homeroom.inbound.formats.sds_v1 import rules  # noqa: F401  (registers the format's rule codes)
from homeroom.inbound.formats.sds_v1.files import UK, US, file_specs
from homeroom.inbound.formats.sds_v1.sources import sds_v1_sources

SDS_V1 = CsvFormat(
    name="sds-v1",
    display_name="SDS v1 (classic) CSV",
    file_format_code="schoolDataSyncV1",
    files=file_specs(US),
    together=(("Section.csv", "StudentEnrollment.csv", "TeacherRoster.csv"), ("User.csv", "Guardianrelationship.csv")),
    case_sensitive_names=False,
    to_sources=sds_v1_sources,
)

SDS_V1_UK = dataclasses.replace(SDS_V1, name="sds-v1-uk", display_name="SDS v1 (classic) CSV, UK headers", files=file_specs(UK))

__all__ = ["SDS_V1", "SDS_V1_UK"]
