"""The longitudinal diff (homeroom.lake.changes): change counts and change sets, full and delta, owners, tables.

Each test diffs small frames directly (no run, no validation), so every value can be spelled out.
"""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl
import pytest

from homeroom.lake import changes as diff
from homeroom.lake.tables import TABLES, Lake, TableSpec, register
from homeroom.model.delta import Owner
from homeroom.model.entities import ENROLLMENTS, ORGS, ROLES, USERS

T1, T2, T3 = (datetime(2026, 1, d, tzinfo=timezone.utc) for d in (1, 2, 3))
LIFECYCLE = ["isActive", "firstSeenDateTime", "lastSeenDateTime", "lastChangedDateTime", "lastRunId"]


def users(*rows: tuple) -> pl.DataFrame:
    """(sourcedId, username, givenName) rows, or (sourcedId, username, givenName, status) rows."""
    columns = ["sourcedId", "username", "givenName", "status"][: len(rows[0])]
    return pl.DataFrame(rows, schema={c: pl.String for c in columns}, orient="row")


def roles(*rows: tuple) -> pl.DataFrame:
    """(userSourcedId, orgSourcedId, role, status) rows."""
    return pl.DataFrame(rows, schema={c: pl.String for c in ["userSourcedId", "orgSourcedId", "role", "status"]}, orient="row")


def diff_users(previous, incoming, run_id: str, now: datetime, **kw) -> diff.EntityChanges:
    return diff.diff_entity(USERS, previous, incoming, source_system_id="s", year="2026", run_id=run_id, now=now, **kw)


def counts(changes: diff.EntityChanges) -> tuple[int, int, int, int]:
    return changes.added, changes.updated, changes.deactivated, changes.reactivated


def change_set(changes: diff.EntityChanges) -> list[tuple]:
    return changes.changes.sort("recordId").select("recordId", "change", "changedFields").rows()


def activity(changes: diff.EntityChanges, key: str = "sourcedId") -> list[tuple]:
    return changes.state.sort(key).select(key, "isActive").rows()


FIRST = users(("u1", "ann@x.example", "Ann"), ("u2", "bob@x.example", "Bob"), ("u3", "cy@x.example", "Cy"))


def test_a_first_snapshot_adds_every_record_with_its_lifecycle_and_partition():
    first = diff_users(None, FIRST, "r1", T1)
    assert first.counts() == {
        "added": 3, "updated": 0, "deactivated": 0, "reactivated": 0, "activeBefore": 0, "active": 3, "inactive": 0, "total": 3,
    }
    assert first.entity == "users" and first.partition == {"sourceSystemId": "s", "year": "2026"}
    assert first.state.columns == ["sourceSystemId", "year", "sourcedId", "username", "givenName", *LIFECYCLE]
    assert first.state.sort("sourcedId").row(0) == ("s", "2026", "u1", "ann@x.example", "Ann", True, T1, T1, T1, "r1")
    assert first.changes.columns == [
        "runId", "entity", "sourceSystemId", "year", "recordId", "change", "changedFields", "changedDateTime",
    ]
    assert first.changes.sort("recordId").row(0) == ("r1", "users", "s", "2026", "u1", "added", [], T1)
    assert change_set(first) == [("u1", "added", []), ("u2", "added", []), ("u3", "added", [])]


def test_a_full_snapshot_updates_adds_and_deactivates_what_is_absent():
    first = diff_users(None, FIRST, "r1", T1)
    snapshot = users(("u1", "ann@x.example", "Anne"), ("u2", "bob@x.example", "Bob"), ("u4", "dee@x.example", "Dee"))
    second = diff_users(first.state, snapshot, "r2", T2)
    assert second.counts() == {
        "added": 1, "updated": 1, "deactivated": 1, "reactivated": 0, "activeBefore": 3, "active": 3, "inactive": 1, "total": 4,
    }
    assert change_set(second) == [("u1", "updated", ["givenName"]), ("u3", "deactivated", []), ("u4", "added", [])]
    state = second.state.sort("sourcedId").select("sourcedId", "givenName", *LIFECYCLE).rows()
    assert state == [
        ("u1", "Anne", True, T1, T2, T2, "r2"),
        ("u2", "Bob", True, T1, T2, T1, "r1"),  # unchanged: only seen again
        ("u3", "Cy", False, T1, T1, T2, "r2"),  # absent: kept, inactive, with its last values
        ("u4", "Dee", True, T2, T2, T2, "r2"),
    ]


def test_a_record_that_comes_back_is_reactivated_with_its_first_seen_time_kept():
    first = diff_users(None, FIRST, "r1", T1)
    second = diff_users(first.state, FIRST.filter(pl.col("sourcedId") != "u3"), "r2", T2)
    back = users(("u1", "ann@x.example", "Ann"), ("u2", "bob@x.example", "Bob"), ("u3", "cy@x.example", "Cyrus"))
    third = diff_users(second.state, back, "r3", T3)
    assert counts(third) == (0, 0, 0, 1) and third.active_before == 2
    # A reactivated record that also changed counts once, as reactivated, and names its changed fields.
    assert change_set(third) == [("u3", "reactivated", ["givenName"])]
    assert third.state.filter(pl.col("sourcedId") == "u3").select("givenName", *LIFECYCLE).row(0) == ("Cyrus", True, T1, T3, T3, "r3")


def test_the_same_snapshot_twice_changes_nothing_but_last_seen():
    first = diff_users(None, FIRST, "r1", T1)
    again = diff_users(first.state, FIRST, "r2", T2)
    assert counts(again) == (0, 0, 0, 0) and again.changes.height == 0
    assert again.state.drop("lastSeenDateTime").equals(first.state.drop("lastSeenDateTime"))
    assert set(again.state["lastSeenDateTime"]) == {T2}


def test_a_delta_keeps_what_it_does_not_have_and_deactivates_tobedeleted_rows():
    first = diff_users(None, FIRST, "r1", T1)
    delta = users(("u1", "ann@x.example", "Anne", "active"), ("u2", "bob@x.example", "Bob", "TOBEDELETED"),
                  ("u4", "dee@x.example", "Dee", "active"), ("u9", "zed@x.example", "Zed", "tobedeleted"))
    second = diff_users(first.state, delta, "r2", T2, delta=True)
    assert second.counts() == {
        "added": 2, "updated": 1, "deactivated": 1, "reactivated": 0, "activeBefore": 3, "active": 3, "inactive": 2, "total": 5,
    }
    # A record never seen that arrives to be deleted is kept, inactive, so that its history starts there.
    assert change_set(second) == [("u1", "updated", ["givenName"]), ("u2", "deactivated", []), ("u4", "added", []), ("u9", "added", [])]
    state = second.state.sort("sourcedId").select("sourcedId", "givenName", "isActive", "lastSeenDateTime").rows()
    assert state == [
        ("u1", "Anne", True, T2), ("u2", "Bob", False, T2), ("u3", "Cy", True, T1), ("u4", "Dee", True, T2), ("u9", None, False, T2),
    ]
    assert "status" not in second.state.columns, "status is an instruction, not data"


def test_a_tobedeleted_or_inactive_status_in_a_full_snapshot_deactivates():
    first = diff_users(None, FIRST, "r1", T1)
    full = users(
        ("u1", "ann@x.example", "Ann", None), ("u2", "bob@x.example", "Bob", "inactive"), ("u3", "cy@x.example", "Cy", "tobedeleted"),
    )
    second = diff_users(first.state, full, "r2", T2)
    assert counts(second) == (0, 0, 2, 0)
    assert activity(second) == [("u1", True), ("u2", False), ("u3", False)]
    third = diff_users(second.state, FIRST, "r3", T3, delta=True)
    assert counts(third) == (0, 0, 0, 2), "a delta row without tobedeleted reactivates"


def test_a_new_attribute_column_is_added_and_reported_as_changed():
    first = diff_users(None, FIRST, "r1", T1)
    with_email = FIRST.with_columns(pl.Series("email", ["ann@x.example", None, "cy@x.example"]))
    second = diff_users(first.state, with_email, "r2", T2)
    assert second.state.columns == ["sourceSystemId", "year", "sourcedId", "username", "givenName", "email", *LIFECYCLE]
    assert counts(second) == (0, 2, 0, 0)
    # u2's email is still null: equal to the null that the older rows get for the new column.
    assert change_set(second) == [("u1", "updated", ["email"]), ("u3", "updated", ["email"])]
    assert second.state.sort("sourcedId")["email"].to_list() == ["ann@x.example", None, "cy@x.example"]


def test_natural_keys_identify_association_rows_and_name_their_records():
    previous = diff.diff_entity(
        ROLES, None, roles(("u1", "o1", "student", None), ("u2", "o1", "teacher", None)).drop("status"),
        source_system_id="s", year="2026", run_id="r1", now=T1,
    )
    delta = roles(("u1", "o1", "student", "tobedeleted"), ("u1", "o1", "aide", "active"))
    second = diff.diff_entity(ROLES, previous.state, delta, source_system_id="s", year="2026", run_id="r2", now=T2, delta=True)
    assert change_set(second) == [("u1/o1/aide", "added", []), ("u1/o1/student", "deactivated", [])]
    assert second.state.sort("userSourcedId", "role").select("userSourcedId", "role", "isActive").rows() == [
        ("u1", "aide", True), ("u1", "student", False), ("u2", "teacher", True),
    ]


# --- owners in delta mode ------------------------------------------------------------------------------------

ROLE_OWNER = Owner("userSourcedId", "users")
PREVIOUS_ROLES = roles(
    ("u1", "o1", "student", None), ("u1", "o2", "student", None), ("u2", "o1", "teacher", None), ("u3", "o1", "aide", None),
)


def roles_after(delta_roles: pl.DataFrame, *, owning: pl.DataFrame | None, owner: Owner | None = ROLE_OWNER, delta: bool = True):
    first = diff.diff_entity(ROLES, None, PREVIOUS_ROLES.drop("status"), source_system_id="s", year="2026", run_id="r1", now=T1)
    return diff.diff_entity(
        ROLES, first.state, delta_roles, source_system_id="s", year="2026", run_id="r2", now=T2,
        delta=delta, owner=owner, owning=owning,
    )


def test_an_owner_that_a_delta_restates_loses_the_rows_it_no_longer_lists():
    # u1 now belongs to o3 only; u2's new users row lists no org at all; u3 is not in the delta.
    after = roles_after(roles(("u1", "o3", "student", "active")), owning=users(("u1", "a", "A", "active"), ("u2", "b", "B", "active")))
    assert counts(after) == (1, 0, 3, 0)
    assert change_set(after) == [
        ("u1/o1/student", "deactivated", []), ("u1/o2/student", "deactivated", []), ("u1/o3/student", "added", []),
        ("u2/o1/teacher", "deactivated", []),
    ]
    assert after.state.filter(pl.col("isActive")).select("userSourcedId", "orgSourcedId").sort("userSourcedId").rows() == [
        ("u1", "o3"), ("u3", "o1"),
    ]
    # The restated rows keep their values and when they were last seen; only their activity changed.
    gone = after.state.filter(pl.col("orgSourcedId") == "o2").select(*LIFECYCLE).row(0)
    assert gone == (False, T1, T1, T2, "r2")


def test_owners_restated_by_the_rows_alone_or_without_an_owner_keep_the_rest():
    # Without the users' rows, only u1 (named by its delta role) is restated.
    alone = roles_after(roles(("u1", "o3", "student", "active")), owning=None)
    assert change_set(alone) == [
        ("u1/o1/student", "deactivated", []), ("u1/o2/student", "deactivated", []), ("u1/o3/student", "added", []),
    ]
    # Without an owner, rows are matched by key only: a delta never deactivates by absence.
    by_key = roles_after(roles(("u1", "o3", "student", "active")), owning=users(("u2", "b", "B", "active")), owner=None)
    assert change_set(by_key) == [("u1/o3/student", "added", [])]
    # In full mode an owner changes nothing: every absent row is deactivated anyway.
    full = roles_after(roles(("u1", "o3", "student", None)), owning=users(("u1", "a", "A", None)), delta=False)
    assert counts(full) == (1, 0, 4, 0)


def test_an_owner_column_of_the_rows_themselves_follows_a_record_whose_key_changed():
    schema = {"classSourcedId": pl.String, "userSourcedId": pl.String, "role": pl.String, "oneRosterSourcedId": pl.String}
    bulk = pl.DataFrame(
        [("c1", "u1", "student", "e1"), ("c2", "u2", "student", "e2"), ("c2", "u3", "student", "e3")], schema=schema, orient="row",
    )
    first = diff.diff_entity(ENROLLMENTS, None, bulk, source_system_id="s", year="2026", run_id="r1", now=T1)
    delta = pl.DataFrame([("c3", "u1", "student", "e1", "active"), ("c2", "u2", "student", "e2", "tobedeleted")],
                         schema={**schema, "status": pl.String}, orient="row")
    second = diff.diff_entity(ENROLLMENTS, first.state, delta, source_system_id="s", year="2026", run_id="r2", now=T2,
                              delta=True, owner=Owner("oneRosterSourcedId"))
    assert change_set(second) == [
        ("c1/u1/student", "deactivated", []), ("c2/u2/student", "deactivated", []), ("c3/u1/student", "added", []),
    ]
    assert second.state.filter(pl.col("isActive"))["oneRosterSourcedId"].sort().to_list() == ["e1", "e3"]


def test_an_owner_the_lake_rows_do_not_name_restates_nothing():
    # Rows written without the owner column (another format's) cannot be told apart by owner: kept.
    after = roles_after(roles(("u1", "o3", "student", "active")), owning=users(("u1", "a", "A", "active")),
                        owner=Owner("listedBy", "users"))
    assert change_set(after) == [("u1/o3/student", "added", [])]


def test_an_already_inactive_row_of_a_restated_owner_is_not_deactivated_again():
    once = roles_after(roles(("u1", "o3", "student", "active")), owning=None)
    again = diff.diff_entity(ROLES, once.state, roles(("u1", "o3", "student", "active")), source_system_id="s", year="2026",
                             run_id="r3", now=T3, delta=True, owner=ROLE_OWNER)
    assert counts(again) == (0, 0, 0, 0) and again.changes.height == 0


# --- joins and tables ----------------------------------------------------------------------------------------

def test_the_diff_falls_back_to_an_exact_join_when_key_hashes_collide(monkeypatch):
    """The lake joins on 64-bit key hashes; a (forced) collision must not merge two records."""
    monkeypatch.setattr(diff, "_key_hash", lambda key: pl.lit(7, pl.UInt64).alias("__key_hash"))
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first = pl.DataFrame({"sourcedId": ["a", "b"], "name": ["A", "B"], "type": ["school"] * 2, "parentSourcedId": [None, None]})
    result = diff.diff_entity(ORGS, None, first, source_system_id="s", year="2026", run_id="r1", now=now)
    second = pl.DataFrame({"sourcedId": ["b", "c"], "name": ["B2", "C"], "type": ["school"] * 2, "parentSourcedId": [None, None]})
    result = diff.diff_entity(ORGS, result.state, second, source_system_id="s", year="2026", run_id="r2", now=now)
    assert (result.added, result.updated, result.deactivated) == (1, 1, 1)
    assert result.state.sort("sourcedId").select("sourcedId", "name", "isActive").rows() == [
        ("a", "A", False), ("b", "B2", True), ("c", "C", True)
    ]


ACCOUNTS = TableSpec("directoryAccounts", key=("directoryId", "accountId"), partition=("tenantDirectory",))


@pytest.fixture
def known_tables(monkeypatch) -> dict[str, TableSpec]:
    """The lake's table registry, restored after the test."""
    tables = dict(TABLES)
    monkeypatch.setattr("homeroom.lake.tables.TABLES", tables)
    return tables


def test_a_table_that_is_not_a_roster_entity_is_diffed_written_and_read_by_its_partition(tmp_path, known_tables):
    register(ACCOUNTS)
    lake = Lake(str(tmp_path / "lake"), "t")
    rows = pl.DataFrame({"directoryId": ["d", "d"], "accountId": ["a1", "a2"], "upn": ["a1@x.example", "a2@x.example"]})
    first = diff.diff_table(ACCOUNTS, None, rows, partition={"tenantDirectory": "contoso"}, run_id="r1", now=T1)
    diff.apply_changes(lake, {ACCOUNTS.name: first})
    second = diff.diff_table(ACCOUNTS, lake.read(ACCOUNTS.name, {"tenantDirectory": "contoso"}), rows.head(1),
                             partition={"tenantDirectory": "contoso"}, run_id="r2", now=T2)
    assert change_set(second) == [("d/a2", "deactivated", [])]
    diff.apply_changes(lake, {ACCOUNTS.name: second})
    assert lake.tables() == ["_changes", "directoryAccounts"]
    stored = lake.read(ACCOUNTS.name, {"tenantDirectory": "contoso"})
    assert stored.columns == ["tenantDirectory", "directoryId", "accountId", "upn", *LIFECYCLE]
    assert stored.sort("accountId").select("accountId", "isActive", "lastRunId").rows() == [("a1", True, "r1"), ("a2", False, "r2")]
    assert lake.read(ACCOUNTS.name, {"tenantDirectory": "fabrikam"}).height == 0
    changes = lake.read("_changes", {"runId": "r2"})
    assert changes.select("entity", "tenantDirectory", "recordId", "change").rows() == [
        ("directoryAccounts", "contoso", "d/a2", "deactivated"),
    ]


def test_partitions_are_named_by_the_spec_and_specs_by_name(tmp_path, known_tables):
    lake = Lake(str(tmp_path / "lake"), "t")
    with pytest.raises(ValueError, match="users is partitioned by sourceSystemId, year, not by sourcedId"):
        lake.read("users", {"sourcedId": "u1"})
    with pytest.raises(ValueError, match="a partition of users has a value for each of sourceSystemId, year"):
        lake.replace_partition("users", {"year": "2026"}, pl.DataFrame())
    with pytest.raises(ValueError, match="a partition of users has a value for each of sourceSystemId, year"):
        diff.diff_table(TABLES["users"], None, FIRST, partition={"year": "2026"}, run_id="r1", now=T1)
    with pytest.raises(KeyError, match="the lake has no table 'pupils'"):
        lake.read("pupils")
    assert lake.read("users", {"year": "2026"}) is None, "a table not written yet"
    assert register(TableSpec("users", USERS.key, ("sourceSystemId", "year"))) == TABLES["users"]
    with pytest.raises(ValueError, match="the lake already has a table 'users'"):
        register(TableSpec("users", ("username",), ("year",)))
