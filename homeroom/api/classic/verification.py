"""Classic SDS (v1) verification messages, aggregated from the findings.

Classic School Data Sync answers "verify the uploaded files" with one message per file, column
and kind of problem, in fixed English templates (``roster-csv-formats.md`` §3.4), shaped as Graph's
``educationFileSynchronizationVerificationMessage`` (``graph-industrydata-api.md`` §2.11): ``type``
(``Error`` / ``Warning``), ``fileName`` (lower case, ``studentenrollment.csv``) and ``description``.
The classic API returns these messages verbatim.

Only findings that fit a classic template are aggregated: required values missing, values of an
invalid format, duplicate ids or usernames (always a ``Warning`` in classic SDS, although the
later record is dropped), and references not found. Package refusals are answered before
verification, and findings classic SDS did not have are left out: ``ReferenceDropped`` (a
consequence of another finding, already counted), ``NonIsoDate`` (classic accepted M/D/YYYY),
duplicate association rows and broken lines (no classic template names them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from homeroom.validate.engine import ValidationResult

_INVALID_FORMAT = (
    "InvalidEnumValue", "InvalidUsername", "InvalidEmail", "InvalidPhone", "InvalidDate",
    "InvalidBoolean", "InvalidYear", "InvalidDateRange",
)
#: (kind, rules, template); the kind orders the messages of one file.
_TEMPLATES = (
    (0, ("RequiredValueMissing",), "{n} row(s) have missing data for the field - {field}"),
    (1, _INVALID_FORMAT, "{n} row(s) have an invalid format for the field - {field}"),
    (2, ("DuplicateSourcedId", "DuplicateUsername"), "{n} duplicates found in column {field} which requires values to be Unique."),
    (3, ("ReferenceNotFound",), "{n} row(s) have referenced data not found in source. Field - {field}"),
)
_DUPLICATES = 2


def verification_messages(result: "ValidationResult") -> list[dict[str, str]]:
    """The classic verification messages of a validated package: errors first, then by file, kind and field."""
    kind_of = {rule: kind for kind, rules, _ in _TEMPLATES for rule in rules}
    template_of = {kind: template for kind, _, template in _TEMPLATES}
    rows = (
        result.findings.filter(pl.col("rule").is_in(list(kind_of)) & pl.col("field").is_not_null() & pl.col("line").is_not_null())
        .with_columns(
            pl.col("rule").replace_strict(kind_of, return_dtype=pl.Int8).alias("kind"),
            pl.col("file").str.to_lowercase().alias("fileName"),
        )
        .with_columns(
            pl.when(pl.col("kind") == _DUPLICATES).then(pl.lit("Warning"))
            .when(pl.col("level") == "warning").then(pl.lit("Warning"))
            .otherwise(pl.lit("Error"))
            .alias("type")
        )
        # One row may be counted once per message even when several of its records failed alike
        # (a Student.csv row is a user and a role: both miss the same SIS ID).
        .group_by("type", "fileName", "kind", "field")
        .agg(pl.struct("file", "line").n_unique().alias("n"))
        .sort(pl.col("type") != "Error", "fileName", "kind", "field")
    )
    return [
        {"type": r["type"], "fileName": r["fileName"], "description": template_of[r["kind"]].format(n=r["n"], field=r["field"])}
        for r in rows.iter_rows(named=True)
    ]
