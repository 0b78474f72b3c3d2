"""A directory made to disagree with a generated district, with the outcome each person must get.

Every target's tests load the same planted accounts into their directory (a real server or a fake) and
then check that matching gives exactly the planted counts. The helper knows nothing of Homeroom's matching
code: it decides each person's outcome from how it built their accounts.

The matching settings it plants (``SETTINGS``) are, for both role groups, first ``username`` against
``userPrincipalName`` (staff with the domain rewritten to ``staff.example.org``, where their accounts live),
then ``sourcedId`` against ``employeeId``. Per role group it plants:

- ``exact``: the account's login is the username (staff: in the staff domain), employeeId the sourcedId;
- ``case``: the login differs from the username only in case -> matched by the first rule;
- ``renamed``: the login was renamed, employeeId is still the sourcedId -> matched by the second rule;
- ``missing``: no account -> unmatched;
- ``ambiguous``: two accounts with the person's sourcedId as employeeId, neither login the username
  (two accounts for one person) -> ambiguous;
- ``conflicting``: pairs of people A, B and one account whose login is A's username and whose employeeId is
  B's sourcedId (one account for two people) -> both conflicting;
- ``hand-made``: accounts nobody in the district owns (``hand-<n>@example.edu``) -> no person's outcome.

Accounts are dicts of the account shape of ``homeroom.targets.base`` without ``account_id`` (the directory
assigns it): ``user_name`` and ``user_principal_name`` both hold the login; a target's loader writes it into
its own login attribute (SCIM ``userName``, Entra ``userPrincipalName``, Google ``primaryEmail``, AD
``userPrincipalName``/``sAMAccountName``, ...).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest

STAFF_DOMAIN = "staff.example.org"

#: The source system's userMatchingSettings as stored (homeroom.api.resources.SourceSystems._settings).
SETTINGS = [
    {"priorityOrder": 0, "sourceIdentifier": {"code": "username"}, "matchTarget": {"code": "userPrincipalName"},
     "roleGroupId": "students"},
    {"priorityOrder": 1, "sourceIdentifier": {"code": "sourcedId"}, "matchTarget": {"code": "employeeId"},
     "roleGroupId": "students"},
    {"priorityOrder": 0, "sourceIdentifier": {"code": "username"}, "matchTarget": {"code": "userPrincipalName"},
     "roleGroupId": "staff", "rewriteDomain": STAFF_DOMAIN},
    {"priorityOrder": 1, "sourceIdentifier": {"code": "sourcedId"}, "matchTarget": {"code": "employeeId"},
     "roleGroupId": "staff"},
]

#: How many people of each role group get each disagreement (conflicting: pairs of people).
DEFAULT_PLAN = {"case": 3, "renamed": 3, "missing": 3, "ambiguous": 2, "conflicting": 2}
HAND_MADE = 4


@dataclass
class PlantedDirectory:
    """The accounts to load into a directory and what matching must find."""

    accounts: list[dict] = field(default_factory=list)
    #: personSourcedId -> (roleGroup, outcome, matchedBy or None, the login of the matched account or None)
    people: dict[str, tuple[str, str, str | None, str | None]] = field(default_factory=dict)
    hand_made: int = 0

    def counts(self) -> dict[tuple[str, str], int]:
        """(roleGroup, outcome) -> number of people."""
        return dict(Counter((group, outcome) for group, outcome, _, _ in self.people.values()))

    def outcomes(self) -> dict[str, str]:
        """personSourcedId -> outcome."""
        return {person: outcome for person, (_, outcome, _, _) in self.people.items()}


def _account(login: str, employee_id: str | None, given: str, family: str) -> dict:
    return {
        "user_name": login, "user_principal_name": login, "mail": login, "employee_id": employee_id,
        "external_id": None, "given_name": given, "family_name": family, "display_name": f"{given} {family}",
        "enabled": True, "distinguished_name": None, "anchor": None, "extra": None,
    }


def _swap_case(login: str) -> str:
    local, _, domain = login.partition("@")
    return f"{local.upper()}@{domain.upper()}" if local.upper() != local else f"{local.title()}@{domain.upper()}"


def plant_directory(users: pl.DataFrame, roles: pl.DataFrame, plan: dict[str, int] | None = None,
                    hand_made: int = HAND_MADE) -> PlantedDirectory:
    """Accounts for the students and staff of ``users``/``roles`` (the district's users.csv and roles.csv).

    The first people of each role group (in sourcedId order) get the disagreements of ``plan``, in its order;
    everyone else with a role gets one exact account.
    """
    plan = {**DEFAULT_PLAN, **(plan or {})}
    roled = set(roles.get_column("userSourcedId").to_list())
    people = users.filter(pl.col("sourcedId").is_in(list(roled))).sort("sourcedId")
    out = PlantedDirectory(hand_made=hand_made)
    for group, prefix in (("students", "stu-"), ("staff", "stf-")):
        members = people.filter(pl.col("sourcedId").str.starts_with(prefix)).select(
            "sourcedId", "username", "givenName", "familyName").rows()
        needed = sum(plan.values()) + plan["conflicting"]
        if len(members) < needed + 1:
            raise ValueError(f"{group}: {len(members)} people, the plan needs at least {needed + 1}")
        at = 0

        def take(n: int) -> list[tuple]:
            nonlocal at
            chosen, at = members[at:at + n], at + n
            return chosen

        def login(username: str) -> str:
            local = username.partition("@")[0]
            return f"{local}@{STAFF_DOMAIN}" if group == "staff" else username

        for sid, username, given, family in take(plan["case"]):
            out.accounts.append(_account(_swap_case(login(username)), sid, given, family))
            out.people[sid] = (group, "matched", "username->userPrincipalName", _swap_case(login(username)))
        for sid, username, given, family in take(plan["renamed"]):
            renamed = "renamed-" + login(username)
            out.accounts.append(_account(renamed, sid, given, family))
            out.people[sid] = (group, "matched", "sourcedId->employeeId", renamed)
        for sid, _username, _given, _family in take(plan["missing"]):
            out.people[sid] = (group, "unmatched", None, None)
        for sid, username, given, family in take(plan["ambiguous"]):
            out.accounts.append(_account("dup1-" + login(username), sid, given, family))
            out.accounts.append(_account("dup2-" + login(username), sid, given, family))
            out.people[sid] = (group, "ambiguous", None, None)
        for _ in range(plan["conflicting"]):
            (a_sid, a_username, given, family), (b_sid, _b, _g, _f) = take(2)
            out.accounts.append(_account(login(a_username), b_sid, given, family))
            out.people[a_sid] = (group, "conflicting", None, None)
            out.people[b_sid] = (group, "conflicting", None, None)
        for sid, username, given, family in members[at:]:
            out.accounts.append(_account(login(username), sid, given, family))
            out.people[sid] = (group, "matched", "username->userPrincipalName", login(username))
    for n in range(1, hand_made + 1):
        out.accounts.append(_account(f"hand-{n}@example.edu", None, "Hand", f"Made{n}"))
    return out


def plant_from_package(package: Path, plan: dict[str, int] | None = None, hand_made: int = HAND_MADE) -> PlantedDirectory:
    """``plant_directory`` for a generated SDS v2.1 package folder (its users.csv and roles.csv)."""
    users = pl.read_csv(package / "users.csv", infer_schema=False)
    roles = pl.read_csv(package / "roles.csv", infer_schema=False)
    return plant_directory(users, roles, plan, hand_made)


def snapshot_and_match(target, package: Path, work: Path, settings: list[dict] | None = None):
    """Snapshot ``target`` into a fresh lake under ``work`` and match the package's people against it; returns
    (snapshot result, match result, lake). Every target's planted test ends with
    ``assert match.counts() == expected_counts(planted)``."""
    from homeroom.lake import Lake
    from homeroom.match.links import match_source
    from homeroom.match.snapshot import snapshot_target

    lake = Lake(str(work / "lake"), "planted")
    snap = snapshot_target(lake, target, work_dir=work / "snapshots", page_size=50)
    users = pl.read_csv(package / "users.csv", infer_schema=False)
    roles = pl.read_csv(package / "roles.csv", infer_schema=False)
    match = match_source(lake, target=target.name, source_system_id="sis", year="2026", settings=settings or SETTINGS,
                         users=users, roles=roles)
    return snap, match, lake


def expected_counts(planted: PlantedDirectory) -> dict[str, dict[str, int]]:
    """The planted counts in the shape of ``MatchResult.counts()``: {roleGroup: {outcome: n}}, every outcome present."""
    out: dict[str, dict[str, int]] = {}
    for (group, outcome), n in planted.counts().items():
        out.setdefault(group, {o: 0 for o in ("ambiguous", "conflicting", "unmatched", "matched")})[outcome] = n
    return dict(sorted(out.items()))


def assert_runs_match_and_statistics_equal_the_report(package: Path, planted: PlantedDirectory, data_dir: Path, *,
                                                     tenant: str, name: str, kind: str, settings: dict, secrets: dict,
                                                     matching: list[dict] | None = None, load=None) -> None:
    """Two Homeroom runs of ``package``: the first without a directory says so; then the directory target ``name``
    (``kind``, ``settings``, ``secrets``; ``load()``, if given, plants ``planted``'s accounts in it) is configured for
    the source system with the ``matching`` settings (default SETTINGS), and the second run's statistics, findings,
    getStatistics and the match report (JSON and CSV, permissions, tenants) all give exactly the planted counts."""
    import csv
    import io
    import json

    from sqlalchemy import select

    from homeroom.runs import Runner
    from homeroom.settings import Settings
    from homeroom.store.models import SourceSystem
    from homeroom.targets import service
    from tests.api.apitools import BASE, Api

    app_settings = Settings(data_dir=data_dir)
    runner = Runner(tenant, settings=app_settings)
    first = runner.run(package, flow_name="SIS", year="2026")
    stats = first.activity.statistics
    assert (stats["matchedPeopleByRole"], stats["unmatchedPeopleByRole"]) == ([], [])
    assert stats["@homeroom.matching"] == {"status": "noDirectory", "message": (
        "No directory target is configured for this flow's source system; people were not matched "
        "(homeroom targets add ... --source).")}

    if load is not None:
        load()
    with runner.sessions.begin() as db:
        source = db.scalars(select(SourceSystem).where(SourceSystem.tenant_id == tenant)).one()
        source.user_matching_settings = matching or SETTINGS
        service.add_target(db=db, tenant_id=tenant, name=name, kind=kind, settings=settings, secrets=secrets,
                           source_systems=[source.display_name])
    second = runner.run(package, flow_name="SIS", year="2026")
    stats = second.activity.statistics
    matching_stats = stats["@homeroom.matching"]
    assert (matching_stats["status"], matching_stats["targets"], matching_stats["counts"]) == (
        "matched", [name], expected_counts(planted))

    # By role: each person counts once under each role they hold (the district's staff hold one role code each).
    roles = pl.read_csv(package / "roles.csv", infer_schema=False).select("userSourcedId", "role").unique()
    outcomes = pl.DataFrame({"userSourcedId": list(planted.outcomes()), "outcome": list(planted.outcomes().values())})
    joined = roles.join(outcomes, on="userSourcedId")
    expected_matched = dict(joined.filter(pl.col("outcome") == "matched").group_by("role").len().rows())
    expected_unmatched = dict(joined.filter(pl.col("outcome") != "matched").group_by("role").len().rows())
    assert {r["role"]: r["count"] for r in stats["matchedPeopleByRole"]} == expected_matched
    assert {r["role"]: r["count"] for r in stats["unmatchedPeopleByRole"]} == expected_unmatched
    summaries = {f.rule: f.count for f in second.activity.findings if f.file == f"directory:{name}"}
    assert summaries == {"PersonMatched": 320, "PersonUnmatched": 6, "PersonMatchAmbiguous": 4, "PersonMatchConflicting": 8}

    api = Api(app_settings)
    reader = api.client(tenant, ["IndustryData-Run.Read.All"])
    totals = reader.get(f"{BASE}/runs/{second.run.id}/getStatistics").json()["inboundTotals"]
    report = reader.get(f"{BASE}/directoryTargets/{name}/matchReport")
    assert report.status_code == 200
    assert report.headers["content-disposition"] == f'attachment; filename="match-report-{name}.json"'
    body = report.json()
    total = next(c for c in body["counts"] if c["roleGroup"] == "total")
    assert sum(r["count"] for r in totals["matchedPeopleByRole"] if r["role"] == "student") == next(
        c["matched"] for c in body["counts"] if c["roleGroup"] == "students")
    assert total["matched"] == len({p["personSourcedId"] for p in body["people"] if p["outcome"] == "matched"}) == 320
    assert [p["outcome"] for p in body["people"]][:8] == ["ambiguous"] * 4 + ["conflicting"] * 4
    people_by_role = joined.filter(pl.col("outcome") == "matched").group_by("role").len()
    assert sorted((r["role"], r["count"]) for r in totals["matchedPeopleByRole"]) == sorted(people_by_role.rows())

    as_csv = reader.get(f"{BASE}/directoryTargets/{name}/matchReport", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8" and len(rows) == len(planted.people)
    assert [r["outcome"] for r in rows[:8]] == ["ambiguous"] * 4 + ["conflicting"] * 4

    no_permission = api.client(tenant, ["IndustryData-DataConnector.Read.All"])
    assert no_permission.get(f"{BASE}/directoryTargets/{name}/matchReport").status_code == 403
    listed = no_permission.get(f"{BASE}/directoryTargets").json()["value"]
    assert [(t["name"], t["kind"], t["secretsSet"]) for t in listed] == [(name, kind, sorted(secrets))]
    assert not any(secret in json.dumps(listed) for secret in secrets.values())
    other_tenant = api.client("other", ["IndustryData-Run.Read.All"])
    assert other_tenant.get(f"{BASE}/directoryTargets/{name}/matchReport").status_code == 404


@pytest.fixture(scope="session")
def planted_district(tmp_path_factory) -> tuple[Path, PlantedDirectory]:
    """A generated district of 300 students (seed 11) and its planted directory (import it into a test module)."""
    from homeroom.synthetic import generate_district

    package = tmp_path_factory.mktemp("planted-district")
    generate_district(package, 300, seed=11)
    return package, plant_from_package(package)
