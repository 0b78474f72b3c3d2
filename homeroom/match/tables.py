"""The lake tables of directory snapshots and match links, each partitioned by target (see docs/directory.md).

- ``directory_accounts``: a target's accounts (``homeroom.targets.base.ACCOUNT_SCHEMA``) with the longitudinal
  columns of roster tables: an account missing from a later snapshot becomes inactive, never deleted.
- ``directory_groups``: its groups and units (``GROUP_SCHEMA``), the same way.
- ``match_links``: one row per (target, source system, person): the outcome of matching and, when matched, the
  account; a link that stays keeps its ``firstLinkedDateTime``; a link that ends says why (``unlinkReason``).
"""

from __future__ import annotations

import polars as pl

from homeroom.lake.tables import TableSpec, register

TARGET_PARTITION = ("target",)
DIRECTORY_ACCOUNTS = register(TableSpec("directory_accounts", ("account_id",), TARGET_PARTITION))
DIRECTORY_GROUPS = register(TableSpec("directory_groups", ("group_id",), TARGET_PARTITION))
MATCH_LINKS = register(TableSpec("match_links", ("target", "sourceSystemId", "personSourcedId"), TARGET_PARTITION))

#: The tables a snapshot or a match writes (a run records their versions, to roll them back with the rest).
DIRECTORY_TABLES = (DIRECTORY_ACCOUNTS.name, DIRECTORY_GROUPS.name, MATCH_LINKS.name)

TIMESTAMP = pl.Datetime("us", "UTC")
#: The columns of match_links, in order.
LINK_SCHEMA = pl.Schema({
    "target": pl.String,
    "sourceSystemId": pl.String,
    "year": pl.String,
    "personSourcedId": pl.String,
    "roleGroup": pl.String,
    "outcome": pl.String,
    "accountId": pl.String,
    "candidates": pl.List(pl.String),
    "matchedBy": pl.String,
    "firstLinkedDateTime": TIMESTAMP,
    "lastSeenDateTime": TIMESTAMP,
    "isActive": pl.Boolean,
    "unlinkReason": pl.String,
})

#: The outcomes of matching one person, in the order reports list them.
OUTCOMES = ("ambiguous", "conflicting", "unmatched", "matched")
