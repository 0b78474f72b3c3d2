"""A snapshot killed (SIGKILL) mid-way leaves the previous snapshot in place; the rerun equals an uninterrupted one."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from fake_graph import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraph

from homeroom.faults import FAULT_VARIABLE
from homeroom.lake import Lake
from homeroom.match.snapshot import Journal, snapshot_target
from homeroom.targets import kind_of

SNAPSHOT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from homeroom.lake import Lake
    from homeroom.match.snapshot import snapshot_target
    from homeroom.targets import kind_of
    graph, authority, lake_root, work = sys.argv[1:5]
    target = kind_of("entra").connect("entra", {"tenant_id": %r, "client_id": %r, "graph_url": graph,
                                                "authority_url": authority}, {"client_secret": %r})
    snapshot_target(Lake(lake_root, "t"), target, work_dir=Path(work), page_size=2, full=True)
""") % (TENANT, CLIENT_ID, CLIENT_SECRET)


@pytest.fixture
def graph():
    fake = FakeGraph().start()
    yield fake
    fake.stop()


def _settings(graph):
    return {"tenant_id": TENANT, "client_id": CLIENT_ID, "graph_url": graph.base, "authority_url": graph.authority}


def _snapshot(graph, root, work):
    target = kind_of("entra").connect("entra", _settings(graph), {"client_secret": CLIENT_SECRET})
    return snapshot_target(Lake(str(root), "t"), target, work_dir=work, page_size=2, full=True)


def _killed(graph, root, work, point: str) -> int:
    env = {**os.environ, FAULT_VARIABLE: point}
    done = subprocess.run([sys.executable, "-c", SNAPSHOT, graph.base, graph.authority, str(root), str(work)], env=env,
                          capture_output=True, text=True, timeout=120)
    return done.returncode


def _rows(root, table: str) -> list[tuple]:
    frame = Lake(str(root), "t").read(table, {"target": "entra"})
    columns = [c for c in frame.columns if not c.endswith("DateTime") and c != "lastRunId"]
    return sorted(frame.select(columns).rows(), key=str)


@pytest.mark.parametrize("point", ["snapshot-read-accounts", "snapshot-read-groups", "snapshot-after-write-0"])
def test_a_killed_snapshot_leaves_the_previous_one_and_the_rerun_equals_an_uninterrupted_one(graph, tmp_path, point):
    users = [graph.add_user(userPrincipalName=f"u{i}@contoso.edu", employeeId=f"e{i}") for i in range(5)]
    graph.add_group("groups", members=users[:2], displayName="G1", mailNickname="g1", securityEnabled=True, mailEnabled=False)
    root, work, reference = tmp_path / "lake", tmp_path / "work", tmp_path / "reference"
    _snapshot(graph, root, work)
    _snapshot(graph, reference, tmp_path / "reference-work")
    before = {t: _rows(root, t) for t in ("directory_accounts", "directory_groups")}
    versions = {t: Lake(str(root), "t").version(t) for t in ("directory_accounts", "directory_groups", "_changes")}

    graph.delete_user(users[3])
    graph.update_user(users[0], displayName="Renamed")
    graph.add_group("groups", members=users[1:3], displayName="G2", mailNickname="g2", securityEnabled=True, mailEnabled=False)
    assert _killed(graph, root, work, point) == -9

    journal = Journal(work, "entra")
    if point == "snapshot-after-write-0":  # killed between its commits: the journal puts both tables back
        assert journal.path.exists() and Lake(str(root), "t").version("directory_accounts") == versions["directory_accounts"] + 1
        assert journal.recover(Lake(str(root), "t"))
    assert not journal.path.exists()
    assert {t: _rows(root, t) for t in before} == before

    rerun = _snapshot(graph, root, work)
    assert not [p for p in work.iterdir() if p.name.startswith("staging-")]  # the killed one's staging files are gone
    assert (rerun.accounts.deactivated, rerun.accounts.updated, rerun.groups.added) == (1, 1, 1)
    _snapshot(graph, reference, tmp_path / "reference-work")  # the same two snapshots, uninterrupted
    for table in before:
        assert _rows(root, table) == _rows(reference, table)
