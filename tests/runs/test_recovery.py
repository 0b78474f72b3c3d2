"""Recovery: what a stopped process left running is recognised as dead, and a starting server recovers it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from fastapi.testclient import TestClient

from homeroom.api import create_app
from homeroom.runs import Runner
from homeroom.runs.recovery import owner_alive, owner_id
from homeroom.settings import Settings
from homeroom.store.models import Run, RunActivity
from tests.runs.test_runs import package


def test_an_exited_process_that_was_not_reaped_is_not_alive():
    """A killed server whose parent has not reaped it still answers signal 0; it is dead all the same."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        for _ in range(200):
            with open(f"/proc/{child.pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[-1].split()[0] == "Z":
                    break
            subprocess.run(["sleep", "0.01"])
        assert not owner_alive(f"{socket.gethostname()}:{child.pid}")
    finally:
        child.wait()
    assert owner_alive(owner_id())


def test_a_starting_server_recovers_the_runs_a_killed_one_left_running(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    runner = Runner("contoso", settings=settings)
    first = runner.run(package(tmp_path), flow_name="sis", year="2026").run
    gone = f"{socket.gethostname()}:{2**22 + 1}"  # above Linux's largest pid: a process that cannot exist
    with runner.sessions.begin() as db:  # as a server killed during a run would have left it
        run = Run(tenant_id="contoso", display_name="Run", status="running", owner=gone, trigger="onDemand",
                  lake_versions={t: runner.lake.version(t) for t in runner.lake.tables()})
        db.add(run)
        db.flush()
        db.add(RunActivity(tenant_id="contoso", run_id=run.id, flow_id=db.get(Run, first.id).activities[0].flow_id,
                           display_name="sis", status="running"))
        run_id = run.id
    app = create_app(settings)
    with TestClient(app):  # the lifespan: what `homeroom serve` does when it starts
        with app.state.sessions() as db:
            recovered = db.get(Run, run_id)
            assert (recovered.status, recovered.blocking_error["code"]) == ("failed", "RunInterrupted")
            assert [a.status for a in recovered.activities] == ["failed"]
            assert db.get(Run, first.id).status == "completed", "finished runs are left alone"


def test_a_process_id_given_to_another_process_does_not_pass_for_the_owner():
    """The owner names this start of the process: the same pid with another start time is not it."""
    mine = owner_id()
    host, pid, start = mine.split(":")
    assert (host, int(pid)) == (socket.gethostname(), os.getpid()) and start.count("-") == 1
    boot, ticks = start.split("-")
    assert owner_alive(mine)
    assert not owner_alive(f"{host}:{pid}:{boot}-{int(ticks) + 1}"), "a later start of the same pid"
    assert not owner_alive(f"{host}:{pid}:00000000-{ticks}"), "the same pid before a reboot"
    assert owner_alive(f"{host}:{pid}"), "an owner written by an older version is checked by pid alone"
    assert owner_alive(f"another-host:{pid}:{start}"), "another host's process cannot be checked from here"
