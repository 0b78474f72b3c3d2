"""Options that several commands share: the tenant, and the username domains SDS v1 packages may need."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

TenantOption = Annotated[str, typer.Option(help="The tenant (embedded default: 'default').")]
StudentDomain = Annotated[
    Optional[str], typer.Option(help="SDS v1: domain added to students' usernames that have none (e.g. students.contoso.edu).")
]
TeacherDomain = Annotated[Optional[str], typer.Option(help="SDS v1: domain added to teachers' usernames that have none.")]


def format_options(student_domain: str | None, teacher_domain: str | None) -> dict:
    """The format options (``validate_package(options=...)``) that the domain options ask for."""
    options = {}
    if student_domain:
        options["student_domain"] = student_domain
    if teacher_domain:
        options["teacher_domain"] = teacher_domain
    return options
