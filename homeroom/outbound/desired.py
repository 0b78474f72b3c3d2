"""Desired state: what a flow set says the directory should hold, from the lake's active records of one year.

Only active, validated records of the year's partition are used (the lake holds validated records only), within
the flow set's organizations (its ``filter``: org sourcedIds; no filter: every org). The frames, one row per object
or membership, in the account/group shape of :mod:`homeroom.targets.base` plus Homeroom's keys:

- ``users``: every active person with a role in scope whose role is in a role group (``staff`` wins over
  ``students``, as SDS picks a person's rule); guardians and other contacts are not provisioned;
- ``leavers``: people of the source known to the lake (any status) who are active nowhere in the year now, each with
  the org of their last role: their accounts are disabled, never deleted;
- ``groups``: class groups (active classes, and ended ones marked ``ended``), units (per org and per org x role
  group) and security groups (per role group and per org x role group), as the flows ask;
- ``memberships``: (groupKey, memberKey, relation) with relation ``member`` or ``owner``.

Keys (also the anchors written to the directory): a person's sourcedId; a class's sourcedId; an org's sourcedId
(unit per org); ``unit:<org>:rolegroup:<rg>`` (unit per org x role group); ``rolegroup:<rg>`` and
``org:<org>:rolegroup:<rg>`` (security groups).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from homeroom.lake.tables import Lake, roster_partition
from homeroom.outbound import naming
from homeroom.outbound.config import ROLE_GROUP_OF_ROLE, ROLE_GROUPS, FlowSetConfig, Templates

#: The roster tables a desired state reads.
ROSTER_TABLES = ("orgs", "users", "roles", "classes", "enrollments", "courses", "academicSessions")
#: The login-name template and length limit per target kind where the default differs (``user_name``).
USER_NAME_DEFAULTS = {"active-directory": ("{usernameLocal}", naming.SAM_MAX), "ldap": ("{usernameLocal}", None)}
USER_ATTRIBUTES = ("user_name", "user_principal_name", "mail", "given_name", "family_name", "display_name")
GROUP_ATTRIBUTES = ("name", "display_name")


@dataclass
class Desired:
    """The desired state of one flow set (see the module docstring for each frame)."""

    users: pl.DataFrame
    leavers: pl.DataFrame
    groups: pl.DataFrame
    memberships: pl.DataFrame
    #: (orgSourcedId, objectKey): every person in scope at each org, for the per-org safety check.
    people_by_org: pl.DataFrame


def read_roster(lake: Lake, source_system_id: str, year: str) -> dict[str, pl.DataFrame]:
    """The roster tables of one source system's year, as the lake holds them (missing tables are empty)."""
    partition = roster_partition(source_system_id, year)
    tables = {}
    for name in ROSTER_TABLES:
        frame = lake.read(name, partition)
        tables[name] = frame if frame is not None else pl.DataFrame()
    return tables


def _active(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    if frame.height == 0 or "isActive" not in frame.columns:
        return pl.DataFrame({c: [] for c in columns}, schema={c: pl.String for c in columns})
    present = [c for c in columns if c in frame.columns]
    return frame.filter(pl.col("isActive")).select(present).with_columns(
        pl.lit(None, pl.String).alias(c) for c in columns if c not in present)


def _in_scope(orgs: tuple[str, ...] | None, column: str = "orgSourcedId") -> pl.Expr:
    return pl.lit(True) if orgs is None else pl.col(column).is_in(list(orgs))


_ROLE_GROUP_NAMES = pl.DataFrame({"roleGroup": list(ROLE_GROUPS), "roleGroupName": [g.display_name for g in ROLE_GROUPS.values()]})


def _role_group(role: pl.Expr) -> pl.Expr:
    return role.str.to_lowercase().replace_strict(ROLE_GROUP_OF_ROLE, default=None, return_dtype=pl.String)


def desired_state(tables: Mapping[str, pl.DataFrame], config: FlowSetConfig, *, target_kind: str, year: str) -> Desired:
    """The desired state of ``config`` from the roster ``tables`` of one year (see :func:`read_roster`)."""
    options = config.options
    templates = options.templates
    orgs = _active(tables["orgs"], ["sourcedId", "name"]).rename({"sourcedId": "orgSourcedId", "name": "orgName"})
    orgs = orgs.filter(_in_scope(config.orgs))
    roles = _active(tables["roles"], ["userSourcedId", "orgSourcedId", "role", "grade", "isPrimary"]).join(
        orgs, on="orgSourcedId", how="semi").with_columns(_role_group(pl.col("role")).alias("roleGroup"))
    roles = roles.filter(pl.col("roleGroup").is_not_null())
    people = _active(tables["users"], ["sourcedId", "username", "givenName", "familyName", "email"])
    roles = roles.join(people.select(pl.col("sourcedId").alias("userSourcedId")), on="userSourcedId", how="semi")

    # A person's role group: staff if any role in scope is a staff role, else students. Their org: the org of their
    # primary role of that group, else the first by sourcedId.
    per_person = roles.group_by("userSourcedId").agg((pl.col("roleGroup") == "staff").any().alias("__staff"))
    person_group = per_person.select("userSourcedId", pl.when("__staff").then(pl.lit("staff")).otherwise(pl.lit("students")).alias("roleGroup"))
    primary = roles.join(person_group, on=["userSourcedId", "roleGroup"], how="semi").sort(
        ["userSourcedId", pl.col("isPrimary").cast(pl.Boolean).fill_null(False), "orgSourcedId"],
        descending=[False, True, False]).unique("userSourcedId", keep="first", maintain_order=True)
    users = (
        people.rename({"sourcedId": "objectKey"})
        .join(primary.select(pl.col("userSourcedId").alias("objectKey"), "roleGroup", "orgSourcedId", "grade"), on="objectKey")
        .join(orgs, on="orgSourcedId", how="left").join(_role_group_names(), on="roleGroup", how="left")
        .with_columns(
            pl.col("objectKey").alias("sourcedId"),
            pl.col("username").str.extract(r"^([^@]*)", 1).alias("usernameLocal"),
            pl.col("username").str.extract(r"@(.*)$", 1).alias("usernameDomain"),
            pl.lit(options.base_dn, pl.String).alias("baseDn"),
        )
    )
    user_name_template, user_name_max = USER_NAME_DEFAULTS.get(target_kind, ("{username}", None))
    user_name = naming.render(templates.user_name or user_name_template, "user", name="userName")
    if target_kind == "active-directory":
        user_name = naming.sam_account_name(user_name, naming.SAM_MAX)
    users = users.with_columns(
        user_name.alias("user_name"),
        naming.render(templates.user_principal_name, "user", name="userPrincipalName").alias("user_principal_name"),
        naming.render(templates.mail, "user", name="mail").alias("mail"),
        pl.col("givenName").alias("given_name"), pl.col("familyName").alias("family_name"),
        naming.render(templates.display_name, "user", name="displayName").str.slice(0, naming.DISPLAY_NAME_MAX).alias("display_name"),
        pl.lit(True).alias("enabled"),
    )
    users = _user_extras(users, config)
    users = users.with_columns(pl.lit(user_name_max, pl.Int64).alias("__user_name_max"))

    leavers = _leavers(tables, config)

    member_roles = roles.join(users.select(pl.col("objectKey").alias("userSourcedId")), on="userSourcedId", how="semi")
    groups, memberships = [], []
    if config.classes is not None:
        g, m = _class_groups(tables, config, orgs, users, templates, year)
        groups.append(g)
        memberships.append(m)
    if config.units is not None:
        g, m = _units(config, orgs, member_roles, templates)
        groups.append(g)
        memberships.append(m)
    if config.groups is not None:
        g, m = _security_groups(config, orgs, member_roles, users, templates)
        groups.append(g)
        memberships.append(m)
    group_schema = {"objectKey": pl.String, "groupKind": pl.String, "name": pl.String, "display_name": pl.String,
                    "unique_name": pl.String, "distinguished_name": pl.String, "extra": pl.String, "ended": pl.Boolean,
                    "displayNameOnCreateOnly": pl.Boolean}
    membership_schema = {"groupKey": pl.String, "groupKind": pl.String, "memberKey": pl.String, "relation": pl.String}
    groups = [g.select(list(group_schema)) for g in groups if g.width]
    memberships = [m.select(list(membership_schema)) for m in memberships if m.width]
    groups_frame = pl.concat(groups) if groups else pl.DataFrame(schema=group_schema)
    memberships_frame = pl.concat(memberships).unique(maintain_order=True) if memberships else pl.DataFrame(schema=membership_schema)
    people_by_org = member_roles.select("orgSourcedId", pl.col("userSourcedId").alias("objectKey")).unique()
    return Desired(users, leavers, groups_frame, memberships_frame, people_by_org)


def _leavers(tables: Mapping[str, pl.DataFrame], config: FlowSetConfig) -> pl.DataFrame:
    """People known to the source who are active nowhere in the year: inactive, or without an active role anywhere."""
    everyone, roles = tables["users"], tables["roles"]
    if everyone.height == 0 or "isActive" not in everyone.columns:
        return pl.DataFrame(schema={"objectKey": pl.String, "orgSourcedId": pl.String})
    if roles.height == 0:
        roles = pl.DataFrame(schema={"userSourcedId": pl.String, "orgSourcedId": pl.String, "role": pl.String, "isActive": pl.Boolean,
                                     "lastSeenDateTime": pl.Datetime("us", "UTC")})
    with_role = roles.filter(pl.col("isActive")).select(pl.col("userSourcedId").alias("objectKey"))
    still = everyone.filter(pl.col("isActive")).select(pl.col("sourcedId").alias("objectKey")).join(with_role, on="objectKey", how="semi")
    # Only people who were ever provisioned (a role of a role group, any status): a guardian is never disabled.
    provisioned = roles.filter(_role_group(pl.col("role")).is_not_null()).select(pl.col("userSourcedId").alias("objectKey")).unique()
    gone = provisioned.join(everyone.select(pl.col("sourcedId").alias("objectKey")), on="objectKey", how="semi").join(
        still, on="objectKey", how="anti")
    last_org = roles.sort("lastSeenDateTime").group_by("userSourcedId").agg(pl.col("orgSourcedId").last()).rename(
        {"userSourcedId": "objectKey"})
    leavers = gone.join(last_org, on="objectKey", how="left")
    # A flow set disables only people who were last at one of its orgs.
    return leavers if config.orgs is None else leavers.filter(_in_scope(config.orgs))


def _role_group_names() -> pl.DataFrame:
    return _ROLE_GROUP_NAMES


def _user_extras(users: pl.DataFrame, config: FlowSetConfig) -> pl.DataFrame:
    """Managed additional attributes (grade, user number, age group) and creation options (licences, password)."""
    flow = config.users
    extras = []
    attributes = flow.additional_attributes if flow else ()
    extras.append((pl.col("grade") if "userGradeLevel" in attributes else pl.lit(None, pl.String)).alias("grade"))
    extras.append((pl.col("objectKey") if "userNumber" in attributes else pl.lit(None, pl.String)).alias("user_number"))
    age = flow.student_age_group if flow else None
    extras.append(pl.when(pl.col("roleGroup") == "students").then(pl.lit(age, pl.String)).otherwise(None).alias("age_group"))
    creation = flow.creation if flow else {}
    skus = {g: list(c.license_skus) for g, c in creation.items()}
    secrets = {g: c.password_secret for g, c in creation.items() if c.password_secret}
    extras.append(pl.col("roleGroup").replace_strict(secrets, default=None, return_dtype=pl.String).alias("password_from"))
    lookup = pl.DataFrame({"roleGroup": list(skus), "license_skus": list(skus.values())},
                          schema={"roleGroup": pl.String, "license_skus": pl.List(pl.String)})
    return users.with_columns(extras).join(lookup, on="roleGroup", how="left", maintain_order="left")


def place_users(users: pl.DataFrame, templates: Templates) -> pl.DataFrame:
    """The users' DNs (after their names are final): none without a base DN."""
    return users.with_columns(
        pl.col("user_name").alias("userName")).with_columns(
        naming.render(templates.user_dn, "user", dn=True, name="userDn").alias("distinguished_name")).drop("userName")


def _class_groups(tables, config: FlowSetConfig, orgs: pl.DataFrame, users: pl.DataFrame, templates: Templates, year: str):
    flow = config.classes
    classes = tables["classes"]
    if classes.height == 0:
        return pl.DataFrame(), pl.DataFrame(schema={"groupKey": pl.String, "groupKind": pl.String, "memberKey": pl.String, "relation": pl.String})
    classes = classes.join(orgs.select("orgSourcedId"), on="orgSourcedId", how="semi").with_columns(
        (~pl.col("isActive")).alias("ended"))
    courses = _active(tables["courses"], ["sourcedId", "title", "code", "subjects", "grades"]).rename(
        {"sourcedId": "courseSourcedId", "title": "courseTitle", "code": "courseCode", "subjects": "courseSubjects", "grades": "courseGrades"})
    sessions = _active(tables["academicSessions"], ["sourcedId", "title"]).rename({"sourcedId": "__session", "title": "sessionTitle"})
    classes = classes.with_columns(pl.col("sessionSourcedIds").list.first().alias("__session") if "sessionSourcedIds" in classes.columns
                                   else pl.lit(None, pl.String).alias("__session"))
    classes = (classes.join(courses, on="courseSourcedId", how="left").join(sessions, on="__session", how="left")
               .join(orgs, on="orgSourcedId", how="left"))
    classes = classes.with_columns(pl.lit(config.options.base_dn, pl.String).alias("baseDn"), pl.lit(year).alias("endYear"))
    classes = classes.with_columns(naming.nickname(naming.render(templates.class_name, "class", name="className")).alias("name"))
    display = naming.render(templates.class_display_name, "class", name="classDisplayName")
    expired = pl.concat_str([naming.render(templates.expired_prefix, "class", name="expiredPrefix"), display])
    keep_name = config.options.class_end == "keep"
    classes = classes.with_columns(
        pl.when(pl.col("ended") & pl.lit(not keep_name)).then(expired).otherwise(display).str.slice(0, naming.DISPLAY_NAME_MAX).alias("display_name"),
        naming.render(templates.class_unique_name, "class", name="classUniqueName").alias("unique_name"),
        naming.render(templates.class_dn, "class", dn=True, name="classDn").alias("distinguished_name"),
    )
    extra_fields = {"courseTitle": "courseTitle", "courseCode": "courseCode", "courseExternalId": "courseSourcedId",
                    "academicSessionTitle": "sessionTitle", "academicSessionExternalId": "__session", "classCode": "code"}
    extras = [pl.col(extra_fields[a]).alias(a) for a in flow.additional_attributes if a in extra_fields]
    if "courseSubject" in flow.additional_attributes:
        extras.append(pl.col("courseSubjects").list.join(",").alias("courseSubject"))
    if "courseGradeLevel" in flow.additional_attributes:
        extras.append(pl.col("courseGrades").list.join(",").alias("courseGradeLevel"))
    extras.append(pl.lit(flow.create_team).alias("createTeam"))
    classes = classes.with_columns(pl.struct(extras).struct.json_encode().alias("extra"))
    groups = classes.select(
        pl.col("sourcedId").alias("objectKey"), pl.lit("class").alias("groupKind"), "name", "display_name", "unique_name",
        "distinguished_name", "extra", "ended", pl.lit(flow.display_name_on_create_only).alias("displayNameOnCreateOnly"))
    # Members of ended classes are kept (students keep their work): only active classes' enrollments are managed.
    enrollments = _active(tables["enrollments"], ["classSourcedId", "userSourcedId", "role"]).join(
        groups.filter(~pl.col("ended")).select(pl.col("objectKey").alias("classSourcedId")), on="classSourcedId", how="semi").join(
        users.select(pl.col("objectKey").alias("userSourcedId")), on="userSourcedId", how="semi").with_columns(
        pl.col("role").str.to_lowercase())
    owners = enrollments.filter(pl.col("role").is_in(list(flow.owner_roles))).select(
        "classSourcedId", "userSourcedId", pl.lit("owner").alias("relation"))
    members = enrollments.filter(pl.col("role").is_in(list(flow.member_roles))).select(
        "classSourcedId", "userSourcedId", pl.lit("member").alias("relation"))
    memberships = pl.concat([owners, members]).select(
        pl.col("classSourcedId").alias("groupKey"), pl.lit("class").alias("groupKind"), pl.col("userSourcedId").alias("memberKey"), "relation")
    return groups, memberships


def _group_frame(frame: pl.DataFrame, kind: str, templates: Templates, display: str, name: str, dn: str, template_kind: str,
                 key: pl.Expr) -> pl.DataFrame:
    named = frame.with_columns(naming.nickname(naming.render(getattr(templates, name), template_kind, name=name)).alias("name"))
    return named.with_columns(
        key.alias("objectKey"), pl.lit(kind).alias("groupKind"),
        naming.render(getattr(templates, display), template_kind, name=display).str.slice(0, naming.DISPLAY_NAME_MAX).alias("display_name"),
        pl.lit(None, pl.String).alias("unique_name"),
        naming.render(getattr(templates, dn), template_kind, dn=True, name=dn).alias("distinguished_name"),
        pl.lit(None, pl.String).alias("extra"), pl.lit(False).alias("ended"), pl.lit(False).alias("displayNameOnCreateOnly"))


def _org_role_groups(orgs: pl.DataFrame, member_roles: pl.DataFrame, base_dn: str | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(org, role group) pairs with at least one person, and who is in each."""
    people = member_roles.select("orgSourcedId", "roleGroup", pl.col("userSourcedId").alias("memberKey")).unique()
    pairs = (people.select("orgSourcedId", "roleGroup").unique().join(orgs, on="orgSourcedId").join(_ROLE_GROUP_NAMES, on="roleGroup")
             .with_columns(pl.lit(base_dn, pl.String).alias("baseDn")).sort("orgSourcedId", "roleGroup"))
    return pairs, people


def _units(config: FlowSetConfig, orgs: pl.DataFrame, member_roles: pl.DataFrame, templates: Templates):
    flow, base_dn = config.units, config.options.base_dn
    groups, memberships = [], []
    if flow.per_org:
        per_org = orgs.join(member_roles.select("orgSourcedId").unique(), on="orgSourcedId", how="semi").with_columns(
            pl.lit(None, pl.String).alias("roleGroup"), pl.lit(None, pl.String).alias("roleGroupName"),
            pl.lit(base_dn, pl.String).alias("baseDn")).sort("orgSourcedId")
        groups.append(_group_frame(per_org, "unit", templates, "unit_display_name", "unit_name", "unit_dn", "unit", pl.col("orgSourcedId")))
        memberships.append(member_roles.select(pl.col("orgSourcedId").alias("groupKey"), pl.lit("unit").alias("groupKind"),
                                               pl.col("userSourcedId").alias("memberKey"), pl.lit("member").alias("relation")))
    if flow.per_org_role_group:
        _add_org_role_groups(groups, memberships, orgs, member_roles, templates, base_dn, "unit", "unit:", "role_unit")
    return _concat(groups), _concat(memberships)


def _security_groups(config: FlowSetConfig, orgs: pl.DataFrame, member_roles: pl.DataFrame, users: pl.DataFrame, templates: Templates):
    flow, base_dn = config.groups, config.options.base_dn
    groups, memberships = [], []
    if flow.per_role_group:
        present = users.select("roleGroup").unique().join(_ROLE_GROUP_NAMES, on="roleGroup").with_columns(
            pl.lit(None, pl.String).alias("orgSourcedId"), pl.lit(None, pl.String).alias("orgName"),
            pl.lit(base_dn, pl.String).alias("baseDn")).sort("roleGroup")
        key = pl.concat_str([pl.lit("rolegroup:"), pl.col("roleGroup")])
        groups.append(_group_frame(present, "security", templates, "group_display_name", "group_name", "group_dn", "security", key))
        memberships.append(users.select(key.alias("groupKey"), pl.lit("security").alias("groupKind"),
                                        pl.col("objectKey").alias("memberKey"), pl.lit("member").alias("relation")))
    if flow.per_org_role_group:
        _add_org_role_groups(groups, memberships, orgs, member_roles, templates, base_dn, "security", "org:", "org_group")
    return _concat(groups), _concat(memberships)


def _add_org_role_groups(groups: list, memberships: list, orgs: pl.DataFrame, member_roles: pl.DataFrame, templates: Templates,
                         base_dn: str | None, kind: str, prefix: str, template: str) -> None:
    """A group (or unit) per org x role group with people, keyed ``<prefix><org>:rolegroup:<rg>``, and its members."""
    pairs, people = _org_role_groups(orgs, member_roles, base_dn)
    key = pl.concat_str([pl.lit(prefix), pl.col("orgSourcedId"), pl.lit(":rolegroup:"), pl.col("roleGroup")])
    groups.append(_group_frame(pairs, kind, templates, f"{template}_display_name", f"{template}_name", f"{template}_dn", kind, key))
    memberships.append(people.select(key.alias("groupKey"), pl.lit(kind).alias("groupKind"), "memberKey", pl.lit("member").alias("relation")))


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
