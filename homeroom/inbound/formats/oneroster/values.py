"""Column expressions for OneRoster values: lists, booleans, dates, date-times, userIds, extensions.

Each takes a text column (trimmed, blank = null) and gives the typed value, null where the text is
not valid; ``sources.py`` reports the invalid ones. Nothing here loops over rows.
"""

from __future__ import annotations

import polars as pl

#: ISO 8601 date and time with seconds; a UTC offset (``Z``, ``+09:00``) is optional (none: UTC).
DATETIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: ``{type:identifier}`` items separated by commas (identifiers may be empty, types may not).
USER_IDS_PATTERN = r"^\{[^{}:]*[^{}:\s][^{}:]*:[^{}]*\}(\s*,\s*\{[^{}:]*[^{}:\s][^{}:]*:[^{}]*\})*$"
UTC = pl.Datetime("us", "UTC")


def text_list(v: pl.Expr) -> pl.Expr:
    """``"a, b,"`` -> ``["a", "b"]``: split on commas, items trimmed, blank items dropped; null when none."""
    items = v.str.split(",").list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != ""))
    return pl.when(items.list.len() > 0).then(items)


def boolean(v: pl.Expr) -> pl.Expr:
    """``true``/``false`` in any case; null otherwise."""
    lower = v.str.to_lowercase()
    return pl.when(lower == "true").then(True).when(lower == "false").then(False)


def date(v: pl.Expr) -> pl.Expr:
    """A ``YYYY-MM-DD`` date; null otherwise."""
    return pl.when(v.str.contains(DATE_PATTERN)).then(v.str.to_date("%Y-%m-%d", strict=False))


def date_time(v: pl.Expr) -> pl.Expr:
    """An ISO 8601 date and time as a UTC timestamp (no offset: UTC); null otherwise."""
    with_offset = v.str.to_datetime("%+", time_zone="UTC", time_unit="us", strict=False)
    naive = v.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False).dt.replace_time_zone("UTC")
    return pl.when(v.str.contains(DATETIME_PATTERN)).then(pl.coalesce(with_offset, naive)).cast(UTC)


def user_ids(v: pl.Expr) -> pl.Expr:
    """``{LDAP:12},{ LTI : 15 }`` -> ``["LDAP:12", "LTI:15"]`` (parts trimmed); null when malformed.

    Kept as text (``type:identifier``, the type is what comes before the first colon) rather than
    as structs: lists of structs of text views cannot be written to Parquet by PyArrow.
    """
    items = v.str.extract_all(r"\{[^{}]*\}").list.eval(
        pl.concat_str(
            pl.element().str.extract(r"^\{\s*([^:]*?)\s*:", 1),
            pl.lit(":"),
            pl.element().str.extract(r":\s*(.*?)\s*\}$", 1),
        )
    )
    return pl.when(v.str.contains(USER_IDS_PATTERN)).then(items)


def extensions_json(columns: dict[str, str]) -> pl.Expr:
    """One JSON object of the non-blank extension columns (``{column: key}``), null when all are blank.

    ``metadata.jp.kanaGivenName`` is keyed ``jp.kanaGivenName``, as OneRoster's JSON binding keys
    ``metadata``; values are strings, as sent.
    """
    if not columns:
        return pl.lit(None, pl.String)
    parts = [
        pl.when(pl.col(c).is_not_null()).then(
            pl.struct(pl.col(c).alias(key)).struct.json_encode().str.strip_prefix("{").str.strip_suffix("}")
        )
        for c, key in columns.items()
    ]
    joined = pl.concat_str(parts, separator=",", ignore_nulls=True)
    return pl.when(pl.any_horizontal(pl.col(c).is_not_null() for c in columns)).then(pl.lit("{") + joined + pl.lit("}"))
