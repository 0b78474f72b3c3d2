"""Naming templates and the collision policy, as Polars expressions over whole columns.

A template is text with ``{placeholder}`` fields (``"{givenName} {familyName}"``). Each object kind has its own
placeholders (:data:`PLACEHOLDERS`); a template naming another one is a configuration error that lists them. A
placeholder whose value is missing makes the whole name missing, and a missing desired value is not managed
(the plan neither sets nor clears it). In a DN template, placeholder values are escaped as RDN values (RFC 4514).

Collisions (two objects wanting one name, or a name held by another account of the directory) are resolved by
one documented policy, :func:`resolve_collisions`: the object that already holds the name keeps it; the others,
in key order, get the lowest free numeric suffix (``jsmith2``), inserted before the ``@`` of a UPN or address and
keeping the name within its maximum length. Every renamed object is reported.
"""

from __future__ import annotations

import string

import polars as pl

from homeroom.errors import ConfigurationError

#: The placeholders each kind of template may use (the columns of the frame it is rendered over).
PLACEHOLDERS = {
    "user": ("sourcedId", "username", "usernameLocal", "usernameDomain", "givenName", "familyName", "email",
             "orgSourcedId", "orgName", "roleGroup", "roleGroupName", "baseDn", "userName"),
    "class": ("sourcedId", "title", "code", "orgSourcedId", "orgName", "courseTitle", "courseCode", "sessionTitle",
              "baseDn", "name", "endYear"),
    "unit": ("orgSourcedId", "orgName", "roleGroup", "roleGroupName", "baseDn"),
    "security": ("orgSourcedId", "orgName", "roleGroup", "roleGroupName", "baseDn", "name"),
}

#: Characters sAMAccountName may not contain (Microsoft's list), and its length limit.
SAM_FORBIDDEN = r'["/\\\[\]:;|=,+*?<>@\s]'
SAM_MAX = 20
#: A mail nickname (Entra mailNickname, a group's short name): letters, digits and ``._-``; at most 64.
NICKNAME_FORBIDDEN = r"[^A-Za-z0-9._-]"
NICKNAME_MAX = 64
DISPLAY_NAME_MAX = 256
_RDN_SPECIAL = r'([,+"\\<>;=#])'


def render(template: str, kind: str, *, dn: bool = False, name: str = "template") -> pl.Expr:
    """The expression that fills ``template`` from the columns named by its placeholders."""
    allowed = PLACEHOLDERS[kind]
    parts: list[pl.Expr] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigurationError(f"naming template {name} {template!r} is not valid: {exc}") from None
    for literal, fieldname, _spec, _conv in parsed:
        if literal:
            parts.append(pl.lit(literal))
        if fieldname is None:
            continue
        if fieldname not in allowed:
            raise ConfigurationError(f"naming template {name} {template!r} uses {{{fieldname}}}; a {kind} template "
                                     f"may use {', '.join('{' + p + '}' for p in allowed)}")
        value = pl.col(fieldname).cast(pl.String)
        if dn and fieldname != "baseDn":
            value = value.str.replace_all(_RDN_SPECIAL, r"\$1")
        parts.append(value)
    if not parts:
        return pl.lit(None, pl.String)
    return pl.concat_str(parts) if len(parts) > 1 else parts[0]


def sam_account_name(expr: pl.Expr, max_length: int = SAM_MAX) -> pl.Expr:
    """A login name AD accepts: forbidden characters removed, at most ``max_length`` characters."""
    return expr.str.replace_all(SAM_FORBIDDEN, "").str.slice(0, max_length)


def nickname(expr: pl.Expr, max_length: int = NICKNAME_MAX) -> pl.Expr:
    """A mail nickname: other characters removed, at most ``max_length``."""
    return expr.str.replace_all(NICKNAME_FORBIDDEN, "").str.slice(0, max_length)


def _with_suffix(value: pl.Expr, suffix: pl.Expr, max_length: int | None) -> pl.Expr:
    """``value`` with ``suffix`` before its ``@`` (or at its end), the part before shortened to fit."""
    local = value.str.extract(r"^([^@]*)", 1)
    domain = value.str.extract(r"(@.*)$", 1).fill_null("")
    if max_length is not None:
        room = (pl.lit(max_length) - domain.str.len_chars() - suffix.str.len_chars()).clip(lower_bound=1)
        local = local.str.slice(0, room)
    return pl.concat_str([local, suffix, domain])


def resolve_collisions(
    frame: pl.DataFrame, column: str, *, key: str, taken: pl.DataFrame, max_length: int | None = None, rounds: int = 8,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Give every row of ``frame`` a unique ``column`` (compared case-insensitively), per the collision policy.

    ``taken`` holds the names the directory already uses (``name``, ``owner``: the key of the object that holds it,
    null for an account no object of the plan owns). Returns the frame with resolved names and the collisions
    (``objectKey``, ``attribute``, ``wanted``, ``given``). Each round is one set of column operations; a name still
    taken after ``rounds`` rounds keeps a null value and is reported with ``given`` null.
    """
    wanted = frame.select(pl.col(key).alias("__key"), pl.col(column).alias("__wanted"))
    held = taken.select(pl.col("name").str.to_lowercase().alias("__lower"), pl.col("owner").alias("__owner"),
                        pl.lit(True).alias("__taken")).unique("__lower")
    # An object that holds its wanted name in the directory keeps it: it goes first among those wanting it.
    work = wanted.with_columns(pl.col("__wanted").str.to_lowercase().alias("__lower")).join(
        held, on="__lower", how="left").with_columns(
        (pl.col("__owner") == pl.col("__key")).fill_null(False).alias("__holds"),
        (pl.col("__taken").fill_null(False) & pl.col("__owner").ne_missing(pl.col("__key"))).alias("__foreign"),
    )
    # Most names collide with nothing: only the names wanted twice, or held by someone else, are ranked.
    shared = work.group_by("__lower").agg(pl.len().alias("__wanting")).filter(pl.col("__wanting") > 1).select("__lower")
    contested = (pl.col("__foreign") | pl.col("__lower").is_in(shared["__lower"].implode())).fill_null(False)
    clear = work.filter(~contested).with_columns(
        pl.when(pl.col("__wanted").is_null()).then(pl.lit(0, pl.UInt32)).otherwise(pl.lit(1, pl.UInt32)).alias("__n"))
    ranked = work.filter(contested).sort("__lower", "__holds", "__key", descending=[False, True, False]).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over("__lower").alias("__rank"))
    # Rank 1 keeps the name unless a foreign account holds it; later ranks (and foreign-held firsts) need a suffix.
    ranked = ranked.with_columns(
        pl.when(pl.col("__wanted").is_null()).then(pl.lit(0, pl.UInt32))
        .when(pl.col("__foreign")).then(pl.col("__rank") + 1)
        .otherwise(pl.col("__rank")).cast(pl.UInt32).alias("__n")).drop("__rank")
    work = pl.concat([clear, ranked], how="vertical_relaxed")
    fixed = work.filter(pl.col("__n") <= 1).select("__key", pl.col("__wanted").alias("__given"))
    pending = work.filter(pl.col("__n") > 1).select("__key", "__wanted", "__n")
    used = pl.concat([held.select("__lower"), fixed.select(pl.col("__given").str.to_lowercase().alias("__lower")).drop_nulls()])
    resolved = [fixed]
    for _ in range(rounds):
        if pending.height == 0:
            break
        tried = pending.with_columns(
            _with_suffix(pl.col("__wanted"), pl.col("__n").cast(pl.String), max_length).alias("__given"))
        tried = tried.with_columns(pl.col("__given").str.to_lowercase().alias("__lower"))
        # A candidate is free when nothing uses it and it is the first of this round to want it.
        free = tried.join(used, on="__lower", how="anti").filter(pl.col("__key").rank("ordinal").over("__lower") == 1)
        resolved.append(free.select("__key", "__given"))
        used = pl.concat([used, free.select("__lower")])
        pending = tried.join(free.select("__key"), on="__key", how="anti").select(
            "__key", "__wanted", (pl.col("__n") + 1).alias("__n"))
    if pending.height:
        resolved.append(pending.select("__key", pl.lit(None, pl.String).alias("__given")))
    given = pl.concat(resolved, how="vertical_relaxed")
    out = frame.join(given.rename({"__key": key}), on=key, how="left", maintain_order="left").with_columns(
        pl.col("__given").alias(column)).drop("__given")
    collisions = given.join(wanted, on="__key").filter(pl.col("__given").ne_missing(pl.col("__wanted"))).select(
        pl.col("__key").alias("objectKey"), pl.lit(column).alias("attribute"), pl.col("__wanted").alias("wanted"),
        pl.col("__given").alias("given")).sort("objectKey")
    return out, collisions
