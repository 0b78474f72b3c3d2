"""The four files of SDS v2.0: v2.1's orgs.csv and enrollments.csv, and users.csv with its memberships inline."""

from homeroom.inbound.formats.base import FileSpec, same_names
from homeroom.inbound.formats.sds_v21 import SDS_V21
from homeroom.model import entities as E

FILES: tuple[FileSpec, ...] = (
    SDS_V21.file("orgs.csv"),
    FileSpec(
        "users.csv",
        E.USERS,
        "required",
        (
            ("sourcedId", "sourcedId"), ("sourcedId", "roles.userSourcedId"), ("orgSourcedIds", "roles.orgSourcedId"),
            *same_names("givenName", "familyName", "username", "password"),
            ("role", "roles.role"), ("grade", "roles.grade"),
        ),
    ),
    FileSpec("classes.csv", E.CLASSES, "optional", same_names("sourcedId", "orgSourcedId", "title"), missing_consequence="no classes are managed"),
    SDS_V21.file("enrollments.csv"),
)
