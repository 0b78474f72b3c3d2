"""The match report page's data: people matched, unmatched and ambiguous by role group, the cases to fix first.

Where it plugs in: matching (issue 11) writes the lake table ``match_links`` of the tenant, one row per person and
target with at least the columns ``target``, ``roleGroup`` and ``outcome`` (``matched``, ``unmatched``,
``ambiguous``; any other value is counted under its own name), and, when it has them, ``personSourcedId``,
``accountId`` and ``reason``. Until that table exists in the tenant's lake the page says "not configured yet".
Everything is read lazily from the Delta table and aggregated there (a count per target, role group and outcome, and
one page of cases), never the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from homeroom.lake.tables import Lake

#: The lake table matching writes.
MATCH_TABLE = "match_links"
#: Outcomes that need someone to act, listed first.
TO_FIX = ("ambiguous", "unmatched")
#: Columns shown for each case, when the table has them.
CASE_COLUMNS = ("target", "roleGroup", "outcome", "personSourcedId", "accountId", "reason")


@dataclass(frozen=True)
class MatchReport:
    """Counts by target, role group and outcome, and a page of the cases to fix."""

    counts: list[dict]  #: {target, roleGroup, outcome, count}, by target and role group
    cases: list[dict]  #: the first cases to fix (ambiguous, then unmatched)
    cases_total: int
    columns: list[str]


def match_report(lake: Lake, *, offset: int = 0, limit: int = 50) -> MatchReport | None:
    """The tenant's match report, or None while matching has written no ``match_links`` table."""
    links = lake.scan(MATCH_TABLE)
    if links is None:
        return None
    counts = (links.group_by("target", "roleGroup", "outcome").agg(pl.len().alias("count"))
              .sort("target", "roleGroup", "outcome").collect())
    present = links.collect_schema().names()
    columns = [c for c in CASE_COLUMNS if c in present]
    fix = links.filter(pl.col("outcome").is_in(TO_FIX))
    total = int(fix.select(pl.len()).collect().item())
    rank = pl.col("outcome").replace_strict({o: i for i, o in enumerate(TO_FIX)}, return_dtype=pl.Int8)
    cases = fix.sort(rank, *[c for c in ("target", "roleGroup") if c in present]).select(columns).slice(offset, limit).collect()
    return MatchReport(counts.to_dicts(), cases.to_dicts(), total, columns)
