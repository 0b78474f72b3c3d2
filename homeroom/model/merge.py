"""Merge a delta (changes since an earlier exchange, as OneRoster delta files send them) into the
validated canonical tables of that exchange.

``apply_delta(previous, delta)`` is pure: it takes and returns ``{entity name: Arrow table}``.

- An entity that is not in ``delta`` keeps its previous rows, untouched.
- A delta row replaces the previous row with the same key (``sourcedId``, or the entity's natural
  key such as class + user + role), or is added: an upsert.
- A delta row whose ``status`` is ``tobedeleted`` removes the previous row with its key and is not
  itself kept. Rows are removed, not marked: the lake keeps the history (``isActive``), this is
  the current state.
- Some rows are restated as a set by the record that owns them (an ``Owner``): a OneRoster 1.1
  users.csv row lists all of a user's orgs, so a delta row of that user replaces all of the
  user's previous roles, including those whose key it no longer gives.

Previous rows come first, in their order, then the delta's kept rows in theirs. Columns that only
one side has are filled with null. ``dateLastModified`` is not compared: the delta is applied as
sent. References are not re-checked: a record removed here may leave rows of other entities
pointing at it (a deleted user's enrollments stay until the delta deletes them too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from homeroom.model.entities import ENTITY_BY_NAME

DELETED = "tobedeleted"


@dataclass(frozen=True)
class Owner:
    """The record that restates an entity's rows as a whole in a delta.

    ``column`` names the owner in the entity's rows. The owners in a delta are the values of that
    column in the delta's rows, and, when ``entity`` is given, the ``key`` of every delta row of
    that entity (so that a user whose new row lists no orgs loses all of its roles).
    """

    column: str
    entity: str | None = None
    key: str = "sourcedId"


def apply_delta(
    previous: Mapping[str, pa.Table],
    delta: Mapping[str, pa.Table],
    owners: Mapping[str, Owner] | None = None,
) -> dict[str, pa.Table]:
    """The tables after ``delta`` is applied to ``previous`` (see the module docstring)."""
    owners = owners or {}
    merged = dict(previous)
    for name, changes in delta.items():
        entity = ENTITY_BY_NAME[name]
        new = _frame(changes)
        deleting = (
            (pl.col("status").cast(pl.String).str.to_lowercase() == DELETED).fill_null(False)
            if "status" in new.columns else pl.lit(False)
        )
        kept_new = new.filter(~deleting)
        if name not in previous:
            merged[name] = _arrow(kept_new)
            continue
        old = _frame(previous[name])
        key = list(entity.key)
        old = old.join(new.select(key).unique(), on=key, how="anti", nulls_equal=True, maintain_order="left")
        owner = owners.get(name)
        if owner is not None and owner.column in old.columns:
            ids = [new.get_column(owner.column).cast(pl.String)] if owner.column in new.columns else []
            if owner.entity is not None and owner.entity in delta:
                restating = _frame(delta[owner.entity])
                if owner.key in restating.columns:
                    ids.append(restating.get_column(owner.key).cast(pl.String))
            if ids:
                owned = pl.concat(ids).drop_nulls().unique()
                old = old.filter(~pl.col(owner.column).cast(pl.String).is_in(owned.implode()).fill_null(False))
        merged[name] = _arrow(pl.concat([old, kept_new], how="diagonal_relaxed"))
    return merged


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _arrow(frame: pl.DataFrame) -> pa.Table:
    return frame.to_arrow(compat_level=pl.CompatLevel.newest())
