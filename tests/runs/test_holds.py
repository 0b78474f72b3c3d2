"""The safety net as a component: thresholds over change counts, missing files, pending data, and the states."""

from __future__ import annotations

import pyarrow as pa
import pytest

from homeroom.errors import RunError, RunNotHeld
from homeroom.runs import holds
from homeroom.store.models import Run, RunActivity


def test_a_share_above_its_threshold_is_a_reason_with_the_counts_and_message():
    guarded = [holds.Guarded("users", 2, 10), holds.Guarded("orgs", 1, 10), holds.Guarded("classes", 5, 0)]
    assert holds.threshold_reasons(guarded, {}, 0.1) == [{
        "code": "DeactivationThreshold", "entity": "users", "deactivated": 2, "activeBefore": 10, "threshold": 0.1,
        "message": "2 of 10 active users (20.0%) would be deactivated, more than the threshold of 10%.",
    }], "exactly 10% is allowed, and nothing active before cannot be held"


def test_a_quantity_threshold_wins_over_the_flow_default_which_wins_over_the_setting():
    guarded = [holds.Guarded("users", 3, 10), holds.Guarded("orgs", 3, 10)]
    reasons = holds.threshold_reasons(guarded, {"default": 0.5, "users": 0.2}, 0.1)
    assert [(r["entity"], r["threshold"]) for r in reasons] == [("users", 0.2)]


def test_files_of_the_last_run_that_are_missing_are_reasons_in_name_order():
    reasons = holds.missing_file_reasons(["users.csv", "userFlags.csv", "demographics.csv"], ["users.csv"])
    assert [r["file"] for r in reasons] == ["demographics.csv", "userFlags.csv"]
    assert reasons[0]["message"] == ("demographics.csv was in the flow's last completed run but is not in this package; "
                                     "approving deactivates all of its records.")


def test_thresholds_are_shares_of_known_names():
    holds.check_thresholds({"default": 0.2, "users": 1.0}, ["users"])
    for bad in ({"users": 1.5}, {"pupils": 0.2}):
        with pytest.raises(RunError, match=r"thresholds are a share from 0 to 1 for 'default' or an entity \(users\)"):
            holds.check_thresholds(bad, ["users"])


def test_pending_data_keeps_tables_and_mode_until_dropped(tmp_path):
    pending = holds.PendingData(tmp_path / "pending" / "a1")
    pending.keep({"users": pa.table({"sourcedId": ["u1", "u2"]})}, "delta")
    tables, mode = holds.PendingData(tmp_path / "pending" / "a1").load()
    assert (mode, tables["users"].column("sourcedId").to_pylist()) == ("delta", ["u1", "u2"])
    pending.drop()
    assert not (tmp_path / "pending" / "a1").exists()


def test_hold_release_and_discard_move_a_run_and_its_activities_through_their_states():
    run = Run(id="r1", status="running", held_reason=None)
    first, second = RunActivity(id="a1", display_name="SIS", status="running"), RunActivity(id="a2", display_name="HR", status="completed")
    run.activities = [first, second]
    holds.hold(run, first, [{"code": "FileMissing", "file": "users.csv"}])
    assert first.status == "held"
    assert run.held_reason == [{"code": "FileMissing", "file": "users.csv", "flow": "SIS"}], "two activities: the flow is named"
    run.status = "held"
    assert holds.held(run, "r1", "t") is run
    assert holds.release(run, "host:1") == ["a1"] and (run.status, run.owner) == ("running", "host:1")
    with pytest.raises(RunNotHeld, match="run r1 is running, not held"):
        holds.held(run, "r1", "t")
    with pytest.raises(RunError, match="no run 'r9' in tenant 't'"):
        holds.held(None, "r9", "t")
    holds.discard(run)
    assert (run.status, first.status, second.status) == ("discarded", "discarded", "discarded")
    assert run.ended is not None
