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

import numpy as np
import polars as pl
import pyarrow.compute as pc

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


def normal_key(values: pl.Series) -> pl.Series:
    """Values as matching compares them: trimmed and lowercased, empty as null.

    Arrow's kernels do it several times faster than Polars' ``to_lowercase`` (an ASCII fast path when the whole
    column is ASCII, as logins and ids nearly always are; Unicode lowercasing otherwise).
    """
    arrow = values.cast(pl.String).to_arrow()
    if pc.all(pc.string_is_ascii(arrow)).as_py() is not False:
        lowered = pc.ascii_lower(pc.ascii_trim_whitespace(arrow))
    else:
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(arrow))
    key = pl.Series(values.name, lowered, dtype=pl.String)
    return key.set(key.str.len_bytes() == 0, None) if key.len() else key


def _hashed(key: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """Two 64-bit hashes of each key: the first (null for a missing key) is what the joins compare, and a joined
    pair is kept only when the second agrees too, so two different keys pass for one with a chance of about
    2^-128 instead of 2^-64."""
    first = key.hash(seed=0).set(key.is_null(), None) if key.null_count() else key.hash(seed=0)
    return first.alias("__k"), key.hash(seed=1).to_numpy()


def _source_key(people: pl.DataFrame, rule: MatchRule) -> pl.Series:
    value = normal_key(people.get_column(rule.source_column))
    if rule.rewrite_domain:
        local = value.str.replace(r"@.*$", "")
        value = pl.select(pl.when(local.str.len_bytes() > 0).then(local + pl.lit("@" + rule.rewrite_domain))).to_series()
    return value


def _account_key(accounts: pl.DataFrame, rule: MatchRule) -> pl.Series:
    if rule.account_column is not None:
        return normal_key(accounts.get_column(rule.account_column))
    path = "$." + rule.extra_key.replace('"', "")
    return normal_key(accounts.get_column("extra").str.json_path_match(path))


def match_people(people: pl.DataFrame, accounts: pl.DataFrame, rules: list[MatchRule]) -> pl.DataFrame:
    """Each person's outcome: personSourcedId, roleGroup, outcome, accountId, candidates, matchedBy.

    ``people`` has ``personSourcedId``, ``roleGroup`` and the users columns the rules read; ``accounts`` the
    account columns (active accounts only).

    Keys are normalised once per column and joined as 64-bit hashes (checked with a second hash); everything
    after the joins (best rank, candidates, claims) works on the row numbers of people and accounts, and ids
    come back at the end.
    """
    # One long frame of (person row, rule, key) for every rule, then one join per account attribute: the
    # directory's keys are computed once per attribute however many role groups and ranks use it, and a source
    # column once however many rules read it.
    group = people.get_column("roleGroup")
    rows = pl.int_range(0, people.height, dtype=pl.UInt32, eager=True).alias("__p")
    sources: dict[tuple[str, str | None], tuple[pl.DataFrame, np.ndarray]] = {}
    directory: dict[str, tuple[pl.LazyFrame, np.ndarray]] = {}
    keyed: dict[tuple[str, tuple[str, str | None]], list[pl.LazyFrame]] = {}
    names: list[str] = []
    for rule in rules:
        if rule.source_column not in people.columns:
            continue
        target = rule.account_column or f"extra:{rule.extra_key}"
        if target not in directory:
            key, check = _hashed(_account_key(accounts, rule))
            frame = pl.DataFrame([key]).with_row_index("__a").filter(pl.col("__k").is_not_null())
            directory[target] = frame.lazy(), check
        source = (rule.source_column, rule.rewrite_domain)
        if source not in sources:
            key, check = _hashed(_source_key(people, rule))
            sources[source] = pl.DataFrame([rows, key, group.alias("__g")]), check
        names.append(rule.name)
        keyed.setdefault((target, source), []).append(
            sources[source][0].lazy().filter((pl.col("__g") == rule.role_group) & pl.col("__k").is_not_null())
            .select("__p", "__k", pl.lit(rule.rank, pl.Int32).alias("rank"), pl.lit(len(names) - 1, pl.UInt32).alias("__rule"))
        )
    plans = [pl.concat(sides).join(directory[target][0], on="__k").drop("__k") for (target, _), sides in keyed.items()]
    found = []
    for ((target, source), _), joined in zip(keyed.items(), pl.collect_all(plans), strict=True):
        same = sources[source][1][joined.get_column("__p").to_numpy()] == directory[target][1][joined.get_column("__a").to_numpy()]
        found.append(joined.filter(pl.Series(same)).select("__p", "__a", "rank", "__rule"))
    schema = {"__p": pl.UInt32, "__a": pl.UInt32, "rank": pl.Int32, "__rule": pl.UInt32}
    candidates = pl.concat(found) if found else pl.DataFrame(schema=schema)
    return _decide(people, accounts, candidates, names)


_OUTCOMES = ("unmatched", "matched", "ambiguous", "conflicting")


def _decide(people: pl.DataFrame, accounts: pl.DataFrame, candidates: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Each person's outcome from their (person row, account row, rank, rule) candidates.

    Most people have exactly one candidate row, and it decides them: rows are counted per person with
    ``bincount`` over the row numbers, and only the few people with several rows go through the best-rank and
    distinct-account logic. Claims of one account by several people are counted the same way. Everything here is
    arrays of row numbers; ids and rule names are gathered once at the end.
    """
    n = people.height
    p, a = candidates.get_column("__p").to_numpy(), candidates.get_column("__a").to_numpy()
    rank, rules = candidates.get_column("rank").to_numpy(), candidates.get_column("__rule").to_numpy()
    chosen = np.full(n, -1, dtype=np.int64)  # a person's one account at their best rank
    rule = np.zeros(n, dtype=np.int64)
    ambiguous = np.zeros(n, dtype=bool)  # several accounts at the best rank
    decided = np.zeros(n, dtype=bool)
    several = []
    # Rank by rank, best first: the people with candidates at this rank (and none better) are decided by it.
    for level in np.unique(rank):
        rows = np.flatnonzero((rank == level) & ~decided[p])
        at = p[rows]
        count = np.bincount(at, minlength=n)
        one = rows[count[at] == 1]
        chosen[p[one]], rule[p[one]] = a[one], rules[one]
        multi = rows[count[at] > 1]
        if multi.size:  # a handful: the same account found twice, or truly several accounts
            pairs = pl.DataFrame({"__p": p[multi], "__a": a[multi], "__rule": rules[multi]}).unique(["__p", "__a"])
            counted = pairs.group_by("__p").agg(pl.len().alias("__n"), pl.col("__a").min(), pl.col("__rule").min())
            single = counted.filter(pl.col("__n") == 1)
            chosen[single.get_column("__p").to_numpy()] = single.get_column("__a").to_numpy()
            rule[single.get_column("__p").to_numpy()] = single.get_column("__rule").to_numpy()
            many = counted.filter(pl.col("__n") > 1).get_column("__p")
            ambiguous[many.to_numpy()] = True
            several.append(pairs.filter(pl.col("__p").is_in(many.implode())).select("__p", "__a"))
        decided[at] = True
    several = pl.concat(several) if several else pl.DataFrame(schema={"__p": pl.UInt32, "__a": pl.UInt32})
    claimed = chosen >= 0
    claims = np.bincount(chosen[claimed], minlength=max(accounts.height, 1))
    conflicting = claimed & (claims[np.where(claimed, chosen, 0)] > 1)
    matched = claimed & ~conflicting
    code = np.select([ambiguous, conflicting, matched], [2, 3, 1], 0).astype(np.uint32)
    ids = accounts.get_column("account_id").cast(pl.String)
    # The candidates of the ambiguous (their accounts at the best rank) and of the conflicting (their one account).
    disputed = np.flatnonzero(conflicting).astype(np.uint32)
    lists = pl.concat([several, pl.DataFrame({"__p": disputed, "__a": chosen[disputed].astype(np.uint32)})])
    lists = (
        lists.with_columns(ids.gather(lists.get_column("__a")).alias("__id"))
        .group_by("__p").agg(pl.col("__id").sort().alias("candidates"))
    )
    account_row = pl.Series(np.where(matched, chosen, 0).astype(np.uint32)).set(pl.Series(~matched), None)
    rule_row = pl.Series(rule.astype(np.uint32)).set(pl.Series(~matched), None)
    result = pl.DataFrame([
        people.get_column("personSourcedId"),
        people.get_column("roleGroup"),
        pl.Series("outcome", _OUTCOMES, dtype=pl.String).gather(pl.Series(code)).alias("outcome"),
        ids.gather(account_row).alias("accountId"),
        pl.Series("matchedBy", names or [""], dtype=pl.String).gather(rule_row).alias("matchedBy"),
    ])
    if lists.height:
        candidates_col = (
            pl.DataFrame({"__p": pl.int_range(0, n, dtype=pl.UInt32, eager=True)})
            .join(lists, on="__p", how="left", maintain_order="left").get_column("candidates")
        )
    else:
        candidates_col = pl.Series("candidates", [None] * n, dtype=pl.List(pl.String))
    return result.with_columns(candidates_col.alias("candidates")).select(
        "personSourcedId", "roleGroup", "outcome", "accountId", "candidates", "matchedBy"
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
