"""Microsoft's own Python SDK drives the whole classic loop against a served Homeroom (issue 13, "How we will know").

``msgraph-beta-sdk`` 1.12.0 is the last release with the classic request builders, so it runs in a second, pinned
environment (``.venv/classic-sdk``, installed by ``python3 tasks.py test`` from ``msgraph-beta-sdk-1.12.txt``): the
test serves Homeroom on a free port, signs a user in (the classic create and uploadUrl take delegated tokens only),
and runs ``sdk_loop.py`` there for Microsoft's v1 sample, a package whose warnings do not block, and one whose
errors do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from apitools import Api, live_server
from classictools import delegated_client

from homeroom.settings import Settings
from tests.conftest import MS_V1
from tests.inbound.sds_v1_packages import V1Package

ROOT = Path(__file__).resolve().parents[3]
SDK_PYTHON = ROOT / ".venv" / "classic-sdk" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
TEACHER_OPTIONAL = ["State ID", "Teacher Number", "Status", "Middle Name", "Secondary Email", "Title", "Qualification"]


@pytest.fixture
def sdk_python() -> Path:
    if not SDK_PYTHON.exists():
        message = f"{SDK_PYTHON} is missing: python3 tasks.py test installs msgraph-beta-sdk 1.12.0 there"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI requires it)")
        pytest.skip(message)
    return SDK_PYTHON


def test_msgraph_beta_sdk_1_12_drives_the_classic_loop(sdk_python, tmp_path):
    sample = tmp_path / "sample"
    shutil.copytree(MS_V1, sample)
    warned = V1Package(tmp_path / "warned")
    warned.append("Student.csv", "13031,10001,OKlein", "13032,10001,oklein")
    broken = V1Package(tmp_path / "broken")
    broken.append("Section.csv", ",10001,No Id 1", ",10001,No Id 2", ",10001,No Id 3", ",10001,No Id 4", ",10001,No Id 5")
    api = Api(Settings(data_dir=tmp_path / "server", api_throttle_calls=10_000))
    user = delegated_client(api)
    with live_server(api) as port:
        done = subprocess.run([str(sdk_python), str(Path(__file__).with_name("sdk_loop.py")), str(port), user.token,
                               str(sample), str(warned.root), str(broken.root)],
                              capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": ""})
    assert done.returncode == 0, done.stderr[-4000:]
    got_sample, got_warned, got_broken = [json.loads(line) for line in done.stdout.splitlines()]
    for got in (got_sample, got_warned, got_broken):
        assert (got["createdState"], got["state"], got["dataProviderType"], got["listed"]) == (
            "provisioning", "provisioned", "EducationCsvDataProvider", 1)
        assert got["teacherOptional"] == TEACHER_OPTIONAL
    assert got_sample["messages"] == [
        {"type": "Warning", "fileName": "section.csv", "description": "2 row(s) have an invalid format for the field - Course Subject"}]
    assert got_sample["status"] == {"status": "success", "errorCount": 0, "statusMessage": "Synchronized.", "synchronized": True}
    assert (got_sample["errorCountHeader"], got_sample["errors"]) == (0, [])

    assert got_warned["messages"] == [
        {"type": "Warning", "fileName": "student.csv", "description": "2 duplicates found in column Username which requires values to be Unique."}]
    assert got_warned["status"]["status"] == "success" and got_warned["status"]["errorCount"] == 2
    assert got_warned["errorCountHeader"] == 2
    assert sorted(got_warned["errors"], key=lambda e: e["joiningValue"]) == [{"entryType": "Student", "errorCode": "DuplicateUsername", "joiningValue": "13031"},
                                    {"entryType": "Student", "errorCode": "DuplicateUsername", "joiningValue": "13032"}]

    assert got_broken["messages"] == [
        {"type": "Error", "fileName": "section.csv", "description": "5 row(s) have missing data for the field - SIS ID"}]
    assert got_broken["status"] == {"status": "validationError", "errorCount": 0, "synchronized": False,
                                    "statusMessage": "The files were not synchronized: verification found 1 error message(s)."}
