"""The longitudinal lake: one Delta Lake table per canonical entity and tenant.

Every row carries its source system, school year, keys and attributes, ``isActive``,
``firstSeenDateTime``, ``lastSeenDateTime`` and ``lastChangedDateTime``. A full snapshot marks what
is absent inactive (never deleted); what reappears becomes active again with its first-seen time
kept. Each run appends its change set to the ``_changes`` table.
"""

from homeroom.lake.changes import EntityChanges, apply_changes
from homeroom.lake.tables import Lake

__all__ = ["EntityChanges", "Lake", "apply_changes"]
