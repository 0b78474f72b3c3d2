"""A run killed (SIGKILL, a real subprocess) at any point leaves lake and store consistent; the rerun
gives exactly the result of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from homeroom.lake import Lake
from homeroom.runs.engine import FAULT_VARIABLE
from homeroom.settings import Settings
from tests.runs.test_runs import edit, package

POINTS = ["after-run-created", "after-validate", "after-first-write", "after-second-write", "before-commit"]
# Ids and times differ between two databases by nature; everything else must be identical.
TIMESTAMPS = ["firstSeenDateTime", "lastSeenDateTime", "lastChangedDateTime", "lastRunId", "sourceSystemId"]


def grown_package(tmp_path: Path) -> Path:
    """The sample with a renamed user, a new school and a new user: changes that hold nothing."""
    pkg = package(tmp_path, "grown")
    edit(pkg, "users.csv", "114001,jcraig@classrmtest31.org,Jack,", "114001,jcraig@classrmtest31.org,Jackson,")
    (pkg / "orgs.csv").write_bytes((pkg / "orgs.csv").read_bytes() + b"110005,Annex,school,110004\r\n")
    (pkg / "users.csv").write_bytes((pkg / "users.csv").read_bytes() + b"114009,new@classrmtest31.org,New,User,,,,,\r\n")
    return pkg


def homeroom(settings: Settings, *args: object, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMEROOM_")}
    env["HOMEROOM_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["HOMEROOM_DATABASE_URL"] = settings.database_url
    if fault:
        env[FAULT_VARIABLE] = fault
    return subprocess.run([sys.executable, "-m", "homeroom", *map(str, args)], env=env, capture_output=True, text=True, timeout=120)


def run(settings: Settings, pkg: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    return homeroom(settings, "run", pkg, "--flow", "sis", "--year", "2026", "--tenant", "t", "--json", fault=fault)


def lake_state(data_dir: Path) -> dict[str, pl.DataFrame]:
    lake = Lake(str((data_dir / "lake").resolve()), "t")
    state = {}
    for table in lake.tables():
        frame = lake.read(table)
        if table == "_changes":
            state[table] = frame.select("entity", "recordId", "change").sort("entity", "recordId", "change")
        else:
            keys = [c for c in frame.columns if c not in TIMESTAMPS]
            state[table] = frame.select(keys).sort(keys[:5])
    return state


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[dict, dict]:
    """The lake and the second run's changes when nothing is interrupted."""
    tmp = tmp_path_factory.mktemp("reference")
    settings = Settings(data_dir=tmp / "data")
    assert run(settings, package(tmp)).returncode == 0
    second = run(settings, grown_package(tmp))
    assert second.returncode == 0, second.stderr
    return lake_state(settings.data_dir), json.loads(second.stdout)["activities"][0]["changes"]


# Every point on SQLite; on PostgreSQL the points inside the lake write, where a partial write exists.
CASES = [("sqlite", p) for p in POINTS] + [("postgresql", "after-first-write"), ("postgresql", "after-second-write")]


@pytest.mark.parametrize("backend_settings", CASES, indirect=True, ids=[f"{b}-{p}" for b, p in CASES])
def test_a_killed_run_is_rolled_back_and_the_rerun_equals_an_uninterrupted_run(backend_settings, request, tmp_path, reference):
    settings = backend_settings
    point = request.node.callspec.params["backend_settings"][1]
    expected_lake, expected_changes = reference
    assert run(settings, package(tmp_path)).returncode == 0
    grown = grown_package(tmp_path)

    killed = run(settings, grown, fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    rerun = run(settings, grown)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["activities"][0]["changes"] == expected_changes
    state = lake_state(settings.data_dir)
    assert state.keys() == expected_lake.keys()
    for table, frame in expected_lake.items():
        assert state[table].equals(frame), table

    listed = homeroom(settings, "runs", "list", "--tenant", "t")
    assert listed.returncode == 0
    assert listed.stdout.count("failed") == 1 and listed.stdout.count("completed") == 2
    shown = [line for line in listed.stdout.splitlines() if "failed" in line][0]
    run_id_prefix = shown.split("│")[1].strip().rstrip("…")
    detail = homeroom(settings, "runs", "show", run_id_prefix, "--tenant", "t", "--json")
    assert json.loads(detail.stdout)["blockingError"]["code"] == "RunInterrupted"


@pytest.mark.parametrize("fault", ["after-second-write", "before-commit"])
def test_lake_readers_never_see_a_half_written_run(settings, tmp_path, fault):
    """Killed after writing the lake but before its final commit, a run's rows are in the Delta tables; `lake query`
    reads the tables as the last finished run left them, before and after recovery alike."""
    query = ("lake", "query", "select count(*) as n from users", "--tenant", "t", "--csv")
    assert run(settings, package(tmp_path)).returncode == 0
    assert homeroom(settings, *query).stdout.splitlines() == ["n", "8"]
    killed = run(settings, grown_package(tmp_path), fault=fault)
    assert killed.returncode == -signal.SIGKILL
    assert homeroom(settings, *query).stdout.splitlines() == ["n", "8"], "not the 9 users the killed run wrote"
    assert homeroom(settings, "runs", "list", "--tenant", "t").returncode == 0  # recovers the killed run
    assert homeroom(settings, *query).stdout.splitlines() == ["n", "8"]


def _versions(settings: Settings) -> dict:
    shown = homeroom(settings, "lake", "versions", "--tenant", "t", "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_readers_read_the_versions_the_last_finished_run_published(settings, tmp_path):
    """A table that moved on without a finished run (a run that has not recorded itself running yet, or any writer
    between a reader's look at the runs and its read) stays unseen: readers read the published versions."""
    assert run(settings, package(tmp_path)).returncode == 0
    published = _versions(settings)
    assert sorted(published) == ["_changes", "academicSessions", "classes", "courses", "demographics", "enrollments",
                                 "orgs", "relationships", "roles", "userFlags", "users"]
    lake = Lake(str((settings.data_dir / "lake").resolve()), "t")
    users = lake.read("users")
    lake.replace_partition("users", {"sourceSystemId": users["sourceSystemId"][0], "year": "2026"},
                           pl.concat([users, users.head(1).with_columns(pl.lit("999999").alias("sourcedId"))]))
    assert lake.version("users") == published["users"]["version"] + 1
    assert homeroom(settings, "lake", "query", "select count(*) as n from users", "--tenant", "t", "--csv"
                    ).stdout.splitlines() == ["n", "8"]
    assert _versions(settings) == published
    # The documented way for external readers: the Delta table at the version `lake versions` names.
    entry = published["users"]
    assert pl.scan_delta(entry["uri"], version=entry["version"]).select(pl.len()).collect().item() == 8
    assert pl.scan_delta(entry["uri"]).select(pl.len()).collect().item() == 9


def test_a_killed_run_leaves_the_published_versions_of_the_run_before(settings, tmp_path):
    assert run(settings, package(tmp_path)).returncode == 0
    before = _versions(settings)
    grown = grown_package(tmp_path)
    killed = run(settings, grown, fault="before-commit")
    assert killed.returncode == -signal.SIGKILL
    lake = Lake(str((settings.data_dir / "lake").resolve()), "t")
    assert lake.version("users") > before["users"]["version"]  # the killed run's rows are in the table
    assert _versions(settings) == before
    changes = homeroom(settings, "lake", "query", "select change, count(*) as n from changes group by change",
                       "--tenant", "t", "--csv")
    assert changes.stdout.splitlines() == ["change,n", "added,44"], "the first run's change set, not the killed run's"
    rerun = run(settings, grown)
    assert rerun.returncode == 0, rerun.stderr
    after = _versions(settings)
    assert after["users"]["version"] == lake.version("users") and after != before
    assert homeroom(settings, "lake", "query", "select count(*) as n from users", "--tenant", "t", "--csv"
                    ).stdout.splitlines() == ["n", "9"]
