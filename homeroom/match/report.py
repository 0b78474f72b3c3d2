"""The match report: counts by role group and outcome, then every person, ambiguous and conflicting first.

Read from ``match_links`` (the active links of a target, optionally of one source system and year), so the CLI
(``homeroom match report``) and the API download say the same; rendered as JSON, CSV or a table.
"""

from __future__ import annotations

import io
import json

import polars as pl

from homeroom.errors import NotFoundError
from homeroom.lake.tables import Lake
from homeroom.match.tables import MATCH_LINKS, OUTCOMES

#: The columns of a report's people, in order.
PEOPLE_COLUMNS = ("target", "sourceSystemId", "year", "roleGroup", "outcome", "personSourcedId", "accountId",
                  "candidates", "matchedBy", "firstLinkedDateTime")


def report_links(lake: Lake, target: str, source_system_id: str | None = None, year: str | None = None,
                 links: pl.DataFrame | None = None) -> pl.DataFrame:
    """The active links of a report, ordered ambiguous, conflicting, unmatched, matched, then by person."""
    links = lake.read(MATCH_LINKS.name, {"target": target}) if links is None else links
    if links is None:
        raise NotFoundError(f"target {target!r} has no match links yet; a run (or `homeroom match run`) matches first")
    links = links.filter(pl.col("isActive"))
    if source_system_id is not None:
        links = links.filter(pl.col("sourceSystemId") == source_system_id)
    if year is not None:
        links = links.filter(pl.col("year") == year)
    order = pl.col("outcome").replace_strict({o: i for i, o in enumerate(OUTCOMES)}, default=len(OUTCOMES))
    return links.sort(order, "roleGroup", "personSourcedId").select(PEOPLE_COLUMNS)


def report_counts(people: pl.DataFrame) -> list[dict]:
    """[{roleGroup, matched, unmatched, ambiguous, conflicting, total}] by role group, then a ``total`` row."""
    rows = []
    groups = sorted(set(people.get_column("roleGroup").to_list()))
    counted = {(g, o): n for g, o, n in people.group_by("roleGroup", "outcome").len().rows()}
    for group in [*groups, None]:
        row = {"roleGroup": group or "total"}
        for outcome in OUTCOMES:
            row[outcome] = sum(n for (g, o), n in counted.items() if o == outcome and (group is None or g == group))
        row["total"] = sum(row[o] for o in OUTCOMES)
        rows.append(row)
    return rows


def report_json(people: pl.DataFrame) -> str:
    """The report as one JSON document: ``counts`` and ``people``."""
    listed = people.with_columns(pl.col("firstLinkedDateTime").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"))
    return json.dumps({"counts": report_counts(people), "people": listed.to_dicts()}, indent=2) + "\n"


def report_csv(people: pl.DataFrame) -> str:
    """The report's people as CSV (candidates joined with ``;``), ambiguous and conflicting first."""
    buffer = io.StringIO()
    people.with_columns(pl.col("candidates").list.join(";")).write_csv(buffer, datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ")
    return buffer.getvalue()
