"""Fixtures for outbound provisioning: a generated district, a Runner and a Provisioner on a fresh data folder,
and the writer of directory snapshots (helpers in ``provisioning.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from provisioning import STUDENTS, TENANT, Snapshots  # noqa: E402

from homeroom.outbound.service import Provisioner  # noqa: E402
from homeroom.runs import Runner  # noqa: E402
from homeroom.settings import Settings  # noqa: E402
from homeroom.synthetic import generate_district  # noqa: E402


@pytest.fixture(scope="session")
def district(tmp_path_factory) -> Path:
    """A clean generated district (the same one for every test: it is only read)."""
    path = tmp_path_factory.mktemp("district") / "package"
    generate_district(path, STUDENTS, seed=11)
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def runner(settings: Settings) -> Runner:
    return Runner(TENANT, settings=settings)


@pytest.fixture
def provisioner(runner: Runner) -> Provisioner:
    return Provisioner(TENANT, runner.settings, runner.sessions)


@pytest.fixture
def snapshots(runner: Runner) -> Snapshots:
    return Snapshots(runner.lake)
