"""What a delta restates: the rows an owning record sends as a whole.

A delta (changes since an earlier exchange, as OneRoster delta files send them) replaces or adds
the rows it has, matched by key, and keeps the rest. Some rows are restated as a set by the record
that owns them: a OneRoster 1.1 users.csv row lists all of a user's orgs, so a delta row of that
user replaces all of the user's previous roles, including those whose key it no longer gives. The
lake applies this (``homeroom.lake.changes.diff_table``); each format says which of its entities
have an ``Owner``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Owner:
    """The record that restates an entity's rows as a whole in a delta.

    The owners a delta restates are the values of ``column`` in the entity's delta rows and, when
    ``entity`` is given, the ``key`` of every delta row of that entity.
    """

    column: str
    """The column of the entity's rows that names their owner (``userSourcedId`` of a role)."""
    entity: str | None = None
    """The owning entity (``users``): its delta rows restate their rows even when they list none any more."""
    key: str = "sourcedId"
    """The owning entity's column that the owner column refers to."""
