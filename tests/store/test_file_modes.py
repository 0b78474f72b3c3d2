"""What Homeroom creates in its data folder is its owner's only: the folder, the store and its journal, the keys."""

from __future__ import annotations

import os
import stat

from homeroom.runs import Runner
from homeroom.settings import Settings
from tests.runs.test_runs import package


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_data_folder_and_the_sqlite_store_are_owner_only_whatever_the_umask(tmp_path):
    old = os.umask(0o022)  # the usual umask, under which they were 0755 and 0644
    try:
        data = tmp_path / "data"
        Runner("t", settings=Settings(data_dir=data)).run(package(tmp_path), flow_name="sis", year="2026")
    finally:
        os.umask(old)
    assert _mode(data) == 0o700
    assert _mode(data / "homeroom.db") == 0o600
    for journal in ("homeroom.db-wal", "homeroom.db-shm"):
        if (data / journal).exists():
            assert _mode(data / journal) == 0o600, journal


def test_an_existing_data_folder_keeps_the_mode_its_owner_chose(tmp_path):
    data = tmp_path / "shared"
    data.mkdir(mode=0o750)
    os.chmod(data, 0o750)
    Runner("t", settings=Settings(data_dir=data))
    assert _mode(data) == 0o750 and _mode(data / "homeroom.db") == 0o600
