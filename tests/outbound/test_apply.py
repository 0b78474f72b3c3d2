"""The apply loop: resumable after a crash, Retry-After honoured, failures recorded and retried, passwords only in
what the writer gets."""

from __future__ import annotations

import json

import polars as pl
import pytest

from provisioning import TARGET, make_flow_set, run_package
from directory_double import DirectoryDouble

from homeroom.errors import ConfigurationError, TransientError
from homeroom.outbound.apply import apply_plan, writer_for


def _planned(district, runner, provisioner):
    run_id = run_package(runner, district)
    make_flow_set(runner)
    outcome = provisioner.plan(run_id, "All schools", target=TARGET, target_kind="entra")
    return run_id, outcome.plan.ops


def test_an_apply_killed_part_way_resumes_without_duplicates_and_converges(district, runner, provisioner):
    run_id, ops = _planned(district, runner, provisioner)
    directory = DirectoryDouble("entra")
    units_and_users = ops.filter(pl.col("objectKind").is_in(["unit", "user"]) & pl.col("memberKey").is_null()).height
    directory.crash_after = units_and_users + 116  # mid-way through the first batch of groups
    with pytest.raises(KeyboardInterrupt):
        provisioner.apply(run_id, writer=directory.apply)
    recorded = provisioner.read(run_id)
    # The batches of units and users were recorded; the 116 groups written in the batch it died in were not.
    assert recorded.filter(pl.col("status") == "done").height == units_and_users
    report = next(iter(provisioner.apply(run_id, writer=directory.apply).values()))
    assert (report.already_done, report.done, report.failed) == (units_and_users, ops.height - units_and_users, 0)
    # The 116 unrecorded ops were written again, found by anchor: no duplicate account, group or membership.
    assert len(directory.accounts) == ops.filter(pl.col("op") == "create_user").height
    assert len({a["anchor"] for a in directory.accounts.values()}) == len(directory.accounts)
    assert len(directory.groups) == ops.filter(pl.col("op").is_in(["create_group", "create_unit"])).height
    assert all(len(g["members"]) == len(set(g["members"])) for g in directory.groups.values())
    uninterrupted = DirectoryDouble("entra")
    for batch in range(0, ops.height, 500):
        uninterrupted.apply(None, ops.slice(batch, 500).to_dicts())
    assert sorted(len(g["members"]) for g in directory.groups.values()) == sorted(len(g["members"]) for g in uninterrupted.groups.values())
    assert provisioner.read(run_id)["status"].unique().to_list() == ["done"]


def test_retry_after_is_honoured_and_the_batch_retried(district, runner, provisioner):
    run_id, ops = _planned(district, runner, provisioner)
    directory = DirectoryDouble("entra")
    directory.transient = {5: 7.5, 900: 2.0}
    waits = []
    report = next(iter(provisioner.apply(run_id, writer=directory.apply, sleep=waits.append).values()))
    assert waits == [7.5, 2.0]
    assert (report.retries, report.done) == (2, ops.height)
    # Batches: the 6 units, then users from seq 7 in 200s (seq 900 is in 807-1006). What a throttled batch wrote
    # before the 429 was written again on the retry (writers are idempotent): 4 units and 93 users.
    assert len(directory.writes) == ops.height + 4 + (900 - 807)
    assert len(directory.accounts) == ops.filter(pl.col("op") == "create_user").height


def test_without_retry_after_it_backs_off_then_gives_up():
    class Throttled:
        def __call__(self, target, ops):
            raise TransientError("429 Too Many Requests")
    plan = pl.DataFrame({"seq": [1], "op": ["create_user"], "objectKind": ["user"], "objectKey": ["p1"], "attributes": ["{}"],
                         "status": [None]}, schema_overrides={"status": pl.String})
    waits = []
    with pytest.raises(TransientError):
        apply_plan(plan, Throttled(), None, record=lambda r: None, sleep=waits.append, max_retries=4)
    assert waits == [0.5, 1.0, 2.0, 4.0]


def test_failed_ops_are_recorded_and_applied_again_on_the_next_apply(district, runner, provisioner):
    run_id, ops = _planned(district, runner, provisioner)
    directory = DirectoryDouble("entra")
    adds = ops.filter(pl.col("op") == "add_member")
    first, last = adds.row(0, named=True), adds.row(-1, named=True)
    directory.failing = {first["seq"], last["seq"]}
    report = next(iter(provisioner.apply(run_id, writer=directory.apply).values()))
    assert (report.failed, report.done) == (2, ops.height - 2)
    assert report.errors == [f"op {op['seq']} (add_member {op['objectKey']}): refused op {op['seq']}" for op in (first, last)]
    with runner.sessions() as db:
        from homeroom.store.models import Run
        outbound = [a for a in db.get(Run, run_id).activities if a.kind == "outbound"]
        assert {a.status for a in outbound} == {"completed", "completedWithErrors"}
        assert sum(a.statistics["errors"] for a in outbound) == 2
    directory.failing = set()
    again = next(iter(provisioner.apply(run_id, writer=directory.apply).values()))
    assert (again.already_done, again.done) == (ops.height - 2, 2)
    assert directory.writes[-2:] == [(first["seq"], "add_member"), (last["seq"], "add_member")]


def test_the_default_password_reaches_the_writer_only(district, runner, provisioner):
    run_id, ops = _planned(district, runner, provisioner)
    seen = []

    def writer(target, batch):
        seen.extend(op for op in batch if op["op"] == "create_user")
        return [{"seq": op["seq"], "status": "done", "accountId": f"id-{op['seq']}", "error": None} for op in batch]
    provisioner.apply(run_id, writer=writer)
    by_key = {op["objectKey"]: op["attributes"] for op in seen}
    assert by_key["stu-1"]["password"] == "Stud-Pa55!" and "password_from" not in by_key["stu-1"]
    staff = next(k for k in by_key if k.startswith("stf-"))
    assert by_key[staff]["password"] == "Staff-Pa55!"
    stored = provisioner.read(run_id)
    assert not stored["attributes"].str.contains("Pa55").any()
    results = runner.lake.read("plan_results", {"runId": run_id})
    assert results.height == ops.height and "Pa55" not in results.write_csv()


def test_ids_of_created_objects_fill_later_ops(district, runner, provisioner):
    run_id, ops = _planned(district, runner, provisioner)
    seen = []

    def writer(target, batch):
        seen.extend(batch)
        return [{"seq": op["seq"], "status": "done", "accountId": f"id-{op['objectKey']}", "error": None} for op in batch]
    provisioner.apply(run_id, writer=writer)
    add = next(op for op in seen if op["op"] == "add_member" and op["memberKey"] == "stu-1")
    assert (add["accountId"], add["memberId"]) == (f"id-{add['objectKey']}", "id-stu-1")


def test_a_kind_without_a_writer_says_so():
    with pytest.raises(ConfigurationError, match="target kind 'google' has no writer yet"):
        writer_for("google")


def test_a_reset_flow_forgets_what_an_earlier_apply_left_unfinished(district, runner, provisioner):
    from sqlalchemy import select

    from homeroom.outbound.service import reset_flow
    from homeroom.store.models import ProvisioningFlow, RunActivity

    run_id, ops = _planned(district, runner, provisioner)
    directory = DirectoryDouble("entra")
    directory.crash_after = 10
    with pytest.raises(KeyboardInterrupt):
        provisioner.apply(run_id, writer=directory.apply)
    with runner.sessions.begin() as db:
        flow = db.scalars(select(ProvisioningFlow).where(ProvisioningFlow.kind == "classGroupProvisioningFlow")).one()
        class_flow = flow.id
        reset_flow(db=db, flow=flow)
    with runner.sessions() as db:
        statuses = {a.provisioning_flow_id: a.status for a in db.scalars(select(RunActivity).where(RunActivity.run_id == run_id))
                    if a.provisioning_flow_id}
    assert statuses[class_flow] == "discarded"
    assert sorted(s for f, s in statuses.items() if f != class_flow) == ["running"] * 3
    report = next(iter(provisioner.apply(run_id, writer=directory.apply).values()))
    class_ops = ops.filter(pl.col("flowId") == class_flow).height
    assert class_ops > 0 and report.total == ops.height - class_ops, "the reset flow's operations are not resumed"
    assert provisioner.read(run_id).filter(pl.col("flowId") == class_flow)["status"].null_count() == class_ops
