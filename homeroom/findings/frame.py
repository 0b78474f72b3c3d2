"""Findings as data: one Polars frame with a fixed schema, built column-wise.

Each finding has a rule code, a level, the file, the line in the source file (the header is line 1;
null for file-level findings), the record id, the field (the header as the file spells it), the
offending value (never for secret fields) and a message.
"""

from __future__ import annotations

import string

import polars as pl

from homeroom.findings.rules import Level, rule

FINDINGS_SCHEMA = pl.Schema(
    {
        "rule": pl.String,
        "level": pl.String,
        "file": pl.String,
        "line": pl.Int64,
        "recordId": pl.String,
        "field": pl.String,
        "value": pl.String,
        "message": pl.String,
    }
)
#: Longest value kept in a finding, in its value and in its message; longer values are cut (a message shows the
#: cut with "…"): a finding is not a copy of the data.
MAX_VALUE_CHARS = 200


def message_expr(template: str, row_values: dict[str, pl.Expr], static: dict[str, object]) -> pl.Expr:
    """A per-row message: placeholders in ``row_values`` come from columns, the rest are filled once."""
    parts: list[pl.Expr] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append(pl.lit(literal))
        if name is None:
            continue
        if name in row_values:
            parts.append(row_values[name].cast(pl.String).fill_null(""))
        else:
            parts.append(pl.lit(str(static[name])))
    return pl.concat_str(parts) if parts else pl.lit("")


class Findings:
    """Collects findings from many checks; ``frame()`` returns them all."""

    def __init__(self) -> None:
        self._frames: list[pl.DataFrame] = []
        self._scalars: list[dict] = []

    def add(
        self,
        code: str,
        level: Level,
        file: str,
        *,
        line: int | None = None,
        record_id: str | None = None,
        field: str | None = None,
        value: str | None = None,
        **values: object,
    ) -> None:
        """Add one finding; ``values`` fill the rule's message template."""
        shown = None if value is None else str(value)
        if shown is not None and len(shown) > MAX_VALUE_CHARS:
            shown = shown[:MAX_VALUE_CHARS] + "…"
        message = rule(code).message(value=shown, field=field, file=file, **values)
        self._scalars.append(
            {
                "rule": code,
                "level": level,
                "file": file,
                "line": line,
                "recordId": record_id,
                "field": field,
                "value": None if value is None else str(value)[:MAX_VALUE_CHARS],
                "message": message,
            }
        )

    def add_rows(
        self,
        code: str,
        level: Level,
        file: str | pl.Expr,
        field: str | pl.Expr | None,
        rows: pl.DataFrame,
        *,
        row_values: dict[str, pl.Expr] | None = None,
        **static: object,
    ) -> int:
        """Add one finding per row of ``rows`` (columns ``__line``, ``__id`` and ``__value``); returns the count.

        ``file`` and ``field`` are constants, or expressions over ``rows`` when they vary per row.
        """
        if rows.height == 0:
            return 0
        value = pl.col("__value").cast(pl.String)
        shown = pl.when(value.str.len_chars() > MAX_VALUE_CHARS).then(value.str.slice(0, MAX_VALUE_CHARS) + "…").otherwise(value)
        per_row = {"value": shown, **(row_values or {})}
        file_expr = file if isinstance(file, pl.Expr) else pl.lit(file, pl.String)
        field_expr = field if isinstance(field, pl.Expr) else pl.lit(field, pl.String)
        if isinstance(field, pl.Expr):
            per_row["field"] = field
        if isinstance(file, pl.Expr):
            per_row["file"] = file
        frame = rows.select(
            pl.lit(code).alias("rule"),
            pl.lit(level).alias("level"),
            file_expr.alias("file"),
            pl.col("__line").cast(pl.Int64).alias("line"),
            pl.col("__id").cast(pl.String).alias("recordId"),
            field_expr.alias("field"),
            pl.col("__value").cast(pl.String).str.slice(0, MAX_VALUE_CHARS).alias("value"),
            message_expr(rule(code).template, per_row, {"field": field, "file": file, **static}).alias("message"),
        )
        self._frames.append(frame)
        return rows.height

    def has_catastrophic(self) -> bool:
        """Whether any package check stopped the run."""
        return any(s["level"] == "catastrophic" for s in self._scalars)

    def frame(self) -> pl.DataFrame:
        """All findings, in a stable order: file-level first, then by file and line."""
        frames = [pl.DataFrame(self._scalars, schema=FINDINGS_SCHEMA)] + self._frames
        return pl.concat(frames, how="vertical")
