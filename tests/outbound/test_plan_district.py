"""Plans for a generated district against a constructed directory: exact first plan, convergence, churn, holds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

import plan_oracle as oracle
from provisioning import TARGET, make_flow_set, ops_count, run_package, set_options
from directory_double import DirectoryDouble

from homeroom.errors import RunError
from homeroom.synthetic.churn import churn_package


def _provisioned(district, runner, provisioner, snapshots, **flow_set):
    """The district planned and applied once into a fresh directory, and its snapshot written."""
    run_id = run_package(runner, district)
    make_flow_set(runner, **flow_set)
    provisioner.plan(run_id, "All schools", target=TARGET, target_kind="entra")
    directory = DirectoryDouble("entra")
    provisioner.apply(run_id, writer=directory.apply)
    snapshots.write(directory)
    return directory


def test_first_plan_creates_every_object_with_exact_counts(district, runner, provisioner):
    run_id = run_package(runner, district)
    make_flow_set(runner)
    outcome = provisioner.plan(run_id, "All schools", target=TARGET, target_kind="entra")
    ops = outcome.plan.ops
    expected_groups = oracle.groups(district)
    wanted = oracle.memberships(district)
    assert outcome.reasons == []
    assert ops_count(ops.filter(~pl.col("op").str.contains("member|owner"))) == {
        ("create_user", "UserUnmatchedCreate"): oracle.users(district).height,
        ("create_group", "ClassGroupCreate"): expected_groups["class"],
        ("create_unit", "UnitCreate"): expected_groups["unit"],
        ("create_group", "SecurityGroupCreate"): expected_groups["security"],
    }
    assert oracle.plan_memberships(ops, "add") == wanted
    assert ops.filter(pl.col("op").str.starts_with("add_")).height == len(wanted)  # no duplicates
    assert ops["seq"].to_list() == list(range(1, ops.height + 1))
    # Apply order: units, users, groups, then memberships.
    first = ops.group_by("op").agg(pl.col("seq").min()).sort("seq")["op"].to_list()
    assert first == ["create_unit", "create_user", "create_group", "add_member", "add_owner"]


def test_a_created_user_carries_the_flow_options_but_no_password(district, runner, provisioner):
    run_id = run_package(runner, district)
    make_flow_set(runner)
    ops = provisioner.plan(run_id, "All schools", target=TARGET, target_kind="entra").plan.ops
    student = json.loads(ops.filter((pl.col("op") == "create_user") & (pl.col("objectKey") == "stu-1"))["attributes"][0])
    assert student == {
        "user_name": "s1@students.example.edu", "user_principal_name": "s1@students.example.edu",
        "mail": "s1@students.example.edu", "given_name": student["given_name"], "family_name": student["family_name"],
        "display_name": f"{student['given_name']} {student['family_name']}", "enabled": True, "grade": "KG",
        "user_number": "stu-1", "age_group": "minor", "license_skus": ["STUDENT-SKU"], "password_from": "password1",
    }
    assert not ops["attributes"].str.contains("Pa55").any()
    team = json.loads(ops.filter((pl.col("op") == "create_group") & (pl.col("groupKind") == "class"))["attributes"][0])
    assert team["extra"]["createTeam"] is True and set(team["extra"]) == {"createTeam", "courseTitle", "courseCode"}


def test_planning_again_after_applying_plans_nothing(district, runner, provisioner, snapshots):
    directory = _provisioned(district, runner, provisioner, snapshots)
    writes = len(directory.writes)
    run_id = run_package(runner, district)
    outcome = provisioner.plan(run_id, "All schools", target=TARGET, target_kind="entra")
    assert outcome.plan.ops.height == 0 and outcome.reasons == []
    assert provisioner.apply(run_id, writer=directory.apply)[outcome.flow_set_id].total == 0
    assert len(directory.writes) == writes


def test_a_one_percent_churn_plans_exactly_the_planted_changes(district, runner, provisioner, snapshots, tmp_path):
    _provisioned(district, runner, provisioner, snapshots)
    churned = tmp_path / "churned"
    planted = churn_package(district, churned, 0.01, seed=4)
    run_id = run_package(runner, churned)
    outcome = provisioner.plan(run_id, "All schools", target=TARGET, target_kind="entra")
    ops = outcome.plan.ops
    before = pl.read_csv(district / "users.csv", infer_schema=False)
    after = pl.read_csv(churned / "users.csv", infer_schema=False)
    renamed = before.join(after, on="sourcedId", suffix="_new").filter(pl.col("givenName") != pl.col("givenName_new"))
    left = set(before["sourcedId"]) - set(after["sourcedId"])
    arrived = set(after["sourcedId"]) - set(before["sourcedId"])
    assert (len(left), len(arrived)) == (planted["left"], planted["arrived"]) == (14, 14)
    assert set(ops.filter(pl.col("op") == "disable_user")["objectKey"]) == left
    assert set(ops.filter(pl.col("op") == "create_user")["objectKey"]) == arrived
    updates = ops.filter(pl.col("op") == "update_user")
    assert set(updates["objectKey"]) == set(renamed["sourcedId"]) and set(updates["reason"]) == {"UserAttributeChanged"}
    assert all(set(json.loads(a)) == {"given_name", "display_name"} for a in updates["attributes"])
    old, new = oracle.memberships(district), oracle.memberships(churned)
    assert oracle.plan_memberships(ops, "add") == new - old
    assert oracle.plan_memberships(ops, "remove") == old - new
    assert ops.height == len(left) + len(arrived) + renamed.height + len(new - old) + len(old - new)
    assert outcome.reasons == []


def test_a_source_missing_a_school_holds_and_approving_applies_exactly_the_shown_plan(
        district, runner, provisioner, snapshots, tmp_path):
    directory = _provisioned(district, runner, provisioner, snapshots)
    short = tmp_path / "short"
    shutil.copytree(district, short)
    roles = pl.read_csv(short / "roles.csv", infer_schema=False)
    school = "sch-2"
    roles.filter(pl.col("orgSourcedId") != school).write_csv(short / "roles.csv")
    gone = set(roles.filter(pl.col("orgSourcedId") == school)["userSourcedId"]) - set(
        roles.filter(pl.col("orgSourcedId") != school)["userSourcedId"])
    run_id = run_package(runner, short, thresholds={"default": 1.0})  # the inbound flow lets it through
    outcome = provisioner.plan(run_id, "All schools", target=TARGET, target_kind="entra")
    codes = [r["code"] for r in outcome.reasons]
    assert "OrgDisableThreshold" in codes and "PlanThreshold" in codes
    org_reason = next(r for r in outcome.reasons if r["code"] == "OrgDisableThreshold")
    assert org_reason["entity"] == f"people of {school}" and org_reason["disabled"] == len(gone)
    with runner.sessions() as db:
        from homeroom.store.models import Run
        assert db.get(Run, run_id).status == "held"
    writes = len(directory.writes)
    with pytest.raises(RunError, match="is held"):
        provisioner.apply(run_id, writer=directory.apply)
    assert len(directory.writes) == writes  # nothing applied while held
    shown = provisioner.read(run_id)
    provisioner.approve(run_id, writer=directory.apply)
    assert directory.writes[writes:] == list(zip(shown["seq"].to_list(), shown["op"].to_list()))
    assert {a["account_id"] for a in directory.accounts.values() if not a["enabled"]} == {
        a["account_id"] for a in directory.accounts.values() if a["anchor"] in gone}
    with runner.sessions() as db:
        run = db.get(Run, run_id)
        assert run.status == "completed" and {a.status for a in run.activities} == {"completed"}


def test_discarding_a_held_plan_applies_nothing(district, runner, provisioner, snapshots, tmp_path):
    directory = _provisioned(district, runner, provisioner, snapshots)
    set_options(runner, {"thresholds": {"creates": {"absolute": 3}}})
    churned = tmp_path / "churned"
    churn_package(district, churned, 0.01, seed=4)
    run_id = run_package(runner, churned)
    outcome = provisioner.plan(run_id, "All schools", target=TARGET, target_kind="entra")
    assert [r["code"] for r in outcome.reasons] == ["PlanThreshold"]
    assert outcome.reasons[0]["message"] == "14 accounts would be created, more than the limit of 3."
    writes = len(directory.writes)
    run = provisioner.discard(run_id)
    assert run.status == "completed"
    with pytest.raises(RunError, match="not held"):
        provisioner.approve(run_id, writer=directory.apply)
    assert len(directory.writes) == writes


@pytest.mark.parametrize("thresholds, code, entity", [
    ({"disables": {"share": 0.001}}, "PlanThreshold", "enabled accounts"),
    ({"memberRemovals": {"share": 0.001}}, "PlanThreshold", "managed memberships"),
    ({"memberRemovals": {"share": None, "absolute": 10}}, "PlanThreshold", "managed memberships"),
])
def test_thresholds_hold_a_plan(district, runner, provisioner, snapshots, tmp_path, thresholds, code, entity):
    _provisioned(district, runner, provisioner, snapshots)
    set_options(runner, {"thresholds": thresholds})
    churned = tmp_path / "churned"
    churn_package(district, churned, 0.01, seed=4)
    run_id = run_package(runner, churned)
    outcome = provisioner.plan(run_id, "All schools", target=TARGET, target_kind="entra")
    assert [(r["code"], r["entity"]) for r in outcome.reasons] == [(code, entity)]


def test_a_directory_snapshot_that_came_in_short_holds(district, runner, provisioner, snapshots):
    directory = _provisioned(district, runner, provisioner, snapshots)
    for account_id in list(directory.accounts)[:200]:  # a page of the snapshot went missing
        del directory.accounts[account_id]
    snapshots.write(directory)
    run_id = run_package(runner, district)
    outcome = provisioner.plan(run_id, "All schools", target=TARGET, target_kind="entra")
    short = next(r for r in outcome.reasons if r["code"] == "DirectoryShort")
    assert short["entity"] == "directory accounts" and short["missing from the latest snapshot"] == 200
    assert outcome.plan.ops.filter(pl.col("op") == "disable_user").height == 0


def test_a_plan_is_made_only_from_a_completed_run(district, runner, provisioner, tmp_path):
    run_package(runner, district)
    make_flow_set(runner)
    empty = tmp_path / "empty"
    shutil.copytree(district, empty)
    pl.read_csv(empty / "users.csv", infer_schema=False).head(0).write_csv(empty / "users.csv")
    held = run_package(runner, empty)
    with pytest.raises(RunError, match=f"run {held} is held: a plan is made only from a completed run"):
        provisioner.plan(held, "All schools", target=TARGET, target_kind="entra")
