"""The longitudinal lake: a tenant's Delta Lake tables, each described by a ``TableSpec``.

There is one table per canonical entity, the change set, and any table registered later. Every
row carries its partition (for the roster: source system and school year), keys and attributes,
``isActive``, ``firstSeenDateTime``, ``lastSeenDateTime`` and ``lastChangedDateTime``. A full
snapshot marks what is absent inactive (never deleted); what reappears becomes active again with
its first-seen time kept. Each run appends its change set to the ``_changes`` table.
"""

from homeroom.lake.changes import EntityChanges, apply_changes, diff_table
from homeroom.lake.tables import Lake, TableSpec, register

__all__ = ["EntityChanges", "Lake", "TableSpec", "apply_changes", "diff_table", "register"]
