"""Matching people to directory accounts, as whole-column joins: one join per rule, never a loop per person.

For each person (an active user with a role; their role group from ``role_groups``), the rules of their role
group are tried in priority order; the first rule under which any account matches decides:

- one account -> *matched*, unless that account is also the match of someone else -> *conflicting* (all of them);
- several accounts -> *ambiguous* (the candidates are listed);
- no rule matches any account -> *unmatched*.

Values are compared trimmed and lowercased; a rule's ``rewrite_domain`` replaces the domain of the source value.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from homeroom.match.settings import MatchRule
from homeroom.match.tables import LINK_SCHEMA, TIMESTAMP
from homeroom.model.reference import DEFAULT_ROLE_GROUPS

STAFF, STUDENTS = "staff", "students"
_STAFF_ROLES = next(g.roles for g in DEFAULT_ROLE_GROUPS if g.id == STAFF)
_STUDENT_ROLES = next(g.roles for g in DEFAULT_ROLE_GROUPS if g.id == STUDENTS)


def role_groups(roles: pl.DataFrame) -> pl.DataFrame:
    """personSourcedId -> roleGroup from active roles, by SDS's rule: a primary staff role makes staff; else
    primary student roles only make a student; else any staff role makes staff; else student."""
    active = roles.filter(pl.col("isActive")) if "isActive" in roles.columns else roles
    primary = pl.col("isPrimary")
    if active.schema.get("isPrimary") != pl.Boolean:
        primary = pl.col("isPrimary").cast(pl.String).str.to_lowercase() == "true"
    role = pl.col("role").cast(pl.String)
    staff, student = role.is_in(list(_STAFF_ROLES)), role.is_in(list(_STUDENT_ROLES))
    per_person = active.group_by(pl.col("userSourcedId").alias("personSourcedId")).agg(
        (staff & primary.fill_null(False)).any().alias("staff_primary"),
        staff.any().alias("has_staff"),
        student.any().alias("has_student"),
        (~student | primary.fill_null(False)).all().alias("students_all_primary"),
    )
    group = (
        pl.when(pl.col("staff_primary")).then(pl.lit(STAFF))
        .when(pl.col("has_student") & pl.col("students_all_primary")).then(pl.lit(STUDENTS))
        .when(pl.col("has_staff")).then(pl.lit(STAFF))
        .when(pl.col("has_student")).then(pl.lit(STUDENTS))
    )
    return per_person.select("personSourcedId", group.alias("roleGroup")).filter(pl.col("roleGroup").is_not_null())


def _normal(expr: pl.Expr) -> pl.Expr:
    # Empty values are dropped with the nulls before joining (``_keys``): one pass less than a when/then.
    return expr.cast(pl.String).str.strip_chars().str.to_lowercase()


_present = pl.col("__key").str.len_bytes() > 0  # false for null and empty keys


def _source_key(rule: MatchRule) -> pl.Expr:
    value = _normal(pl.col(rule.source_column))
    if rule.rewrite_domain:
        local = value.str.replace(r"@.*$", "")
        value = pl.when(local.str.len_bytes() > 0).then(local + pl.lit("@" + rule.rewrite_domain))
    return value.alias("__key")


def _account_key(rule: MatchRule) -> pl.Expr:
    if rule.account_column is not None:
        return _normal(pl.col(rule.account_column)).alias("__key")
    path = "$." + rule.extra_key.replace('"', "")
    return _normal(pl.col("extra").str.json_path_match(path)).alias("__key")


def match_people(people: pl.DataFrame, accounts: pl.DataFrame, rules: list[MatchRule]) -> pl.DataFrame:
    """Each person's outcome: personSourcedId, roleGroup, outcome, accountId, candidates, matchedBy.

    ``people`` has ``personSourcedId``, ``roleGroup`` and the users columns the rules read; ``accounts`` the
    account columns (active accounts only).

    Only the key joins compare strings: everything after them (best rank, candidates, claims) works on the row
    numbers of people and accounts, which hash several times faster than ids, and ids come back at the end.
    """
    # One long frame of (person row, rule, key) for every rule, then one join per account attribute: the
    # directory's keys are computed once per attribute however many role groups and ranks use it.
    indexed = people.lazy().with_row_index("__p")
    keyed: dict[str, list[pl.LazyFrame]] = {}
    targets: dict[str, pl.Expr] = {}
    names: list[str] = []
    for rule in rules:
        if rule.source_column not in people.columns:
            continue
        target = rule.account_column or f"extra:{rule.extra_key}"
        targets[target] = _account_key(rule)
        names.append(rule.name)
        keyed.setdefault(target, []).append(
            indexed.filter(pl.col("roleGroup") == rule.role_group)
            .select("__p", _source_key(rule), pl.lit(rule.rank, pl.Int32).alias("rank"),
                    pl.lit(len(names) - 1, pl.UInt32).alias("__rule"))
        )
    found = []
    for target, sides in keyed.items():
        directory = accounts.lazy().with_row_index("__a").select("__a", targets[target]).filter(_present)
        side = pl.concat(sides).filter(_present)
        found.append(side.join(directory, on="__key").select("__p", "__a", "rank", "__rule"))
    schema = {"__p": pl.UInt32, "__a": pl.UInt32, "rank": pl.Int32, "__rule": pl.UInt32}
    candidates = pl.concat(found) if found else pl.LazyFrame(schema=schema)
    # Each person's candidates at their best rank. Most people have exactly one: count and take it with scalar
    # aggregations, and build candidate lists only for the few with several.
    pairs = candidates.filter(pl.col("rank") == pl.col("rank").min().over("__p")).unique(["__p", "__a"])
    counted = pairs.group_by("__p").agg(pl.len().alias("__n"), pl.col("__a").min().alias("__first"),
                                        pl.col("__rule").min().alias("__rule"))
    claims = pl.len().over("__claimed")
    decided = counted.with_columns(pl.when(pl.col("__n") == 1).then(pl.col("__first")).alias("__claimed")).with_columns(
        pl.when(pl.col("__n") > 1).then(pl.lit("ambiguous"))
        .when(claims > 1).then(pl.lit("conflicting"))
        .otherwise(pl.lit("matched")).alias("outcome")
    ).collect()
    ids = accounts.get_column("account_id")
    unresolved = decided.filter(pl.col("outcome") != "matched").get_column("__p")
    lists = pairs.filter(pl.col("__p").is_in(unresolved.implode())).collect()
    lists = lists.with_columns(pl.Series("account_id", ids.gather(lists.get_column("__a")), dtype=pl.String))
    several = lists.lazy().group_by("__p").agg(pl.col("account_id").sort().alias("candidates"))
    matched = decided.filter(pl.col("outcome") == "matched")
    matched = matched.with_columns(pl.Series("accountId", ids.gather(matched.get_column("__claimed")), dtype=pl.String))
    rule_names = pl.Series("matchedBy", names, dtype=pl.String)
    matched = matched.with_columns(pl.Series("matchedBy", rule_names.gather(matched.get_column("__rule")), dtype=pl.String))
    return (
        indexed.select("__p", "personSourcedId", "roleGroup")
        .join(decided.lazy().select("__p", "outcome"), on="__p", how="left")
        .join(matched.lazy().select("__p", "accountId", "matchedBy"), on="__p", how="left")
        .join(several, on="__p", how="left")
        .sort("__p")
        .select(
            "personSourcedId", "roleGroup",
            pl.col("outcome").fill_null("unmatched"),
            "accountId",
            pl.col("candidates").cast(pl.List(pl.String)),
            "matchedBy",
        )
        .collect()
    )


def update_links(
    previous: pl.DataFrame | None,
    outcomes: pl.DataFrame,
    *,
    target: str,
    source_system_id: str,
    year: str,
    active_accounts: pl.Series,
    now: datetime,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The target's new match_links partition and the links that ended (for findings and the change set).

    Rows of other source systems or years are kept as they are. A link to the same account keeps its
    ``firstLinkedDateTime``; a person no longer in the source becomes inactive (``PersonInactive``); a link
    that ends says why: ``AccountGone`` (the account is no longer in the directory), ``NowAmbiguous``,
    ``NowConflicting``, ``NoLongerMatches`` or ``Relinked`` (now matched to another account).
    """
    stamp = pl.lit(now).cast(TIMESTAMP)
    empty = pl.DataFrame(schema=LINK_SCHEMA)
    previous = empty if previous is None or previous.height == 0 else previous.select(LINK_SCHEMA.names()).cast(dict(LINK_SCHEMA))
    mine = (pl.col("sourceSystemId") == source_system_id) & (pl.col("year") == year)
    others, old = previous.filter(~mine), previous.filter(mine)
    new = outcomes.with_columns(pl.lit(True).alias("__new"))
    old = old.select(
        "personSourcedId", pl.col("accountId").alias("__old_account"), pl.col("outcome").alias("__old_outcome"),
        "firstLinkedDateTime", pl.col("lastSeenDateTime").alias("__old_seen"), pl.col("isActive").alias("__old_active"),
        pl.col("roleGroup").alias("__old_group"), pl.col("candidates").alias("__old_candidates"),
        pl.col("matchedBy").alias("__old_by"), pl.col("unlinkReason").alias("__old_reason"),
    )
    joined = old.join(new, on="personSourcedId", how="full", coalesce=True)
    is_new = pl.col("__new").fill_null(False)
    was_linked = (pl.col("__old_outcome") == "matched") & pl.col("__old_active").fill_null(False)
    linked = is_new & (pl.col("outcome") == "matched")
    same = linked & was_linked & (pl.col("accountId") == pl.col("__old_account"))
    gone = ~pl.col("__old_account").is_in(active_accounts.implode())
    reason = (
        pl.when(~was_linked | same).then(pl.lit(None, pl.String))
        .when(~is_new).then(pl.lit("PersonInactive"))
        .when(linked).then(pl.lit("Relinked"))
        .when(gone).then(pl.lit("AccountGone"))
        .when(pl.col("outcome") == "ambiguous").then(pl.lit("NowAmbiguous"))
        .when(pl.col("outcome") == "conflicting").then(pl.lit("NowConflicting"))
        .otherwise(pl.lit("NoLongerMatches"))
    )
    joined = joined.with_columns(reason.alias("__ended"))
    state = joined.select(
        pl.lit(target).alias("target"), pl.lit(source_system_id).alias("sourceSystemId"), pl.lit(year).alias("year"),
        "personSourcedId",
        pl.when(is_new).then(pl.col("roleGroup")).otherwise(pl.col("__old_group")).alias("roleGroup"),
        pl.when(is_new).then(pl.col("outcome")).otherwise(pl.col("__old_outcome")).alias("outcome"),
        pl.when(is_new).then(pl.col("accountId")).otherwise(pl.col("__old_account")).alias("accountId"),
        pl.when(is_new).then(pl.col("candidates")).otherwise(pl.col("__old_candidates")).alias("candidates"),
        pl.when(is_new).then(pl.col("matchedBy")).otherwise(pl.col("__old_by")).alias("matchedBy"),
        pl.when(same).then(pl.col("firstLinkedDateTime")).when(linked).then(stamp)
        .when(is_new).then(pl.lit(None, TIMESTAMP)).otherwise(pl.col("firstLinkedDateTime")).alias("firstLinkedDateTime"),
        pl.when(is_new).then(stamp).otherwise(pl.col("__old_seen")).alias("lastSeenDateTime"),
        is_new.alias("isActive"),
        pl.when(pl.col("__ended").is_not_null()).then(pl.col("__ended"))
        .when(is_new).then(pl.lit(None, pl.String)).otherwise(pl.col("__old_reason")).alias("unlinkReason"),
    ).cast(dict(LINK_SCHEMA))
    ended = joined.filter(pl.col("__ended").is_not_null()).select(
        "personSourcedId", pl.col("__old_account").alias("accountId"), pl.col("__ended").alias("reason"),
        pl.when(is_new).then(pl.col("roleGroup")).otherwise(pl.col("__old_group")).alias("roleGroup"),
    )
    return pl.concat([others, state], how="vertical").sort("sourceSystemId", "year", "personSourcedId"), ended
