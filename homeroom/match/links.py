"""Match one source system's people of one year against a target's snapshot, and keep the links in the lake.

``match_source`` reads the people (active users with a role) and the target's active accounts, applies the
source system's rules (``homeroom.match.settings``), writes ``match_links`` (one commit) and returns the
outcomes, the findings (one per person, with the rule code of its outcome, and one per link that ended) and
the counts by role group and outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import polars as pl

from homeroom.errors import ConfigurationError
from homeroom.findings.frame import Findings
from homeroom.lake.tables import Lake
from homeroom.match.engine import match_people, role_groups, update_links
from homeroom.match.rules import LINK_ENDED, OUTCOME_RULES
from homeroom.match.settings import rules_from_settings
from homeroom.match.tables import DIRECTORY_ACCOUNTS, MATCH_LINKS, OUTCOMES

_LEVELS = {"matched": "info", "unmatched": "warning", "ambiguous": "warning", "conflicting": "warning"}


@dataclass
class MatchResult:
    """What matching one source system's people against one target found."""

    target: str
    source_system_id: str
    year: str
    outcomes: pl.DataFrame  # personSourcedId, roleGroup, outcome, accountId, candidates, matchedBy
    ended: pl.DataFrame  # personSourcedId, accountId, reason, roleGroup
    findings: pl.DataFrame

    def counts(self) -> dict[str, dict[str, int]]:
        """{roleGroup: {outcome: people}} with every outcome present."""
        table = self.outcomes.group_by("roleGroup", "outcome").len().rows()
        out: dict[str, dict[str, int]] = {}
        for group, outcome, n in sorted(table):
            out.setdefault(group, {o: 0 for o in OUTCOMES})[outcome] = n
        return out


def people_frame(users: pl.DataFrame, roles: pl.DataFrame) -> pl.DataFrame:
    """Active users with a role group: personSourcedId, roleGroup and every users column."""
    active = users.filter(pl.col("isActive")) if "isActive" in users.columns else users
    return role_groups(roles).join(active.rename({"sourcedId": "personSourcedId"}), on="personSourcedId", how="inner").with_columns(
        pl.col("personSourcedId").alias("sourcedId"))


def active_accounts(lake: Lake, target: str) -> pl.DataFrame:
    """The target's active accounts from its last snapshot; refused if it was never snapshotted. A directory
    snapshotted empty is a snapshot: nobody matches (its first provisioning creates every account)."""
    accounts = lake.read(DIRECTORY_ACCOUNTS.name, {"target": target})
    if accounts is None:
        raise ConfigurationError(f"target {target!r} has no snapshot yet; run `homeroom targets snapshot {target}` first")
    return accounts.filter(pl.col("isActive"))


def match_findings(outcomes: pl.DataFrame, ended: pl.DataFrame, target: str) -> pl.DataFrame:
    """One finding per person (the rule of its outcome) and per ended link, as a findings frame."""
    findings = Findings()
    file = f"directory:{target}"
    for outcome, code in OUTCOME_RULES.items():
        rows = outcomes.filter(pl.col("outcome") == outcome).select(
            pl.lit(None, pl.Int64).alias("__line"), pl.col("personSourcedId").alias("__id"),
            (pl.col("accountId") if outcome == "matched" else pl.col("candidates").list.join(", ")).alias("__value"),
            pl.col("matchedBy"),
        )
        findings.add_rows(code, _LEVELS[outcome], file, pl.col("matchedBy") if outcome == "matched" else None, rows,
                          target=target)
    rows = ended.select(pl.lit(None, pl.Int64).alias("__line"), pl.col("personSourcedId").alias("__id"),
                        pl.col("accountId").alias("__value"), "reason")
    findings.add_rows(LINK_ENDED, "info", file, None, rows, row_values={"reason": pl.col("reason")})
    return findings.frame()


def match_source(
    lake: Lake,
    *,
    target: str,
    source_system_id: str,
    year: str,
    settings: list[dict],
    users: pl.DataFrame,
    roles: pl.DataFrame,
    now: datetime | None = None,
    write: bool = True,
) -> MatchResult:
    """Match the people of ``users``/``roles`` (one source system's partition of a year) against the target's
    last snapshot and, unless ``write`` is false, replace the target's links of that source system and year."""
    now = now or datetime.now(timezone.utc)
    rules = rules_from_settings(settings, users.columns)
    accounts = active_accounts(lake, target)
    outcomes = match_people(people_frame(users, roles), accounts, rules)
    state, ended = update_links(
        lake.read(MATCH_LINKS.name, {"target": target}), outcomes, target=target, source_system_id=source_system_id,
        year=year, active_accounts=accounts.get_column("account_id"), now=now,
    )
    if write:
        lake.replace_partition(MATCH_LINKS.name, {"target": target}, state)
    return MatchResult(target, source_system_id, year, outcomes, ended, match_findings(outcomes, ended, target))
