"""Plans for a generated district against a constructed directory: exact counts, convergence, churn, holds."""

from __future__ import annotations

import polars as pl

from conftest import TARGET, make_flow_set, ops_count, run_package
from directory import DirectoryDouble


def test_scratch(district, runner, provisioner, snapshots):
    run_id = run_package(runner, district)
    make_flow_set(runner)
    outcome = provisioner.plan(run_id, "All schools", target=TARGET, target_kind="entra")
    print(ops_count(outcome.plan.ops), outcome.reasons, outcome.plan.counts)
    directory = DirectoryDouble("entra")
    reports = provisioner.apply(run_id, writer=directory.apply)
    print(reports)
    snapshots.write(directory)
    run2 = run_package(runner, district)
    again = provisioner.plan(run2, "All schools", target=TARGET, target_kind="entra")
    print(ops_count(again.plan.ops), again.reasons)
    assert 0
