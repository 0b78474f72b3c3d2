"""Churn: the next snapshot of a district is valid and differs by exactly the planned share."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeroom.errors import ConfigurationError
from homeroom.synthetic import generate_district
from homeroom.synthetic.churn import churn_package
from homeroom.validate import validate_package


def test_churn_writes_a_valid_next_snapshot(tmp_path: Path):
    generate_district(tmp_path / "a", 1_000, seed=3)
    summary = churn_package(tmp_path / "a", tmp_path / "b", 0.02, seed=5)
    assert summary == {"left": 20, "arrived": 20, "renamed": 20}
    before, after = validate_package(tmp_path / "a"), validate_package(tmp_path / "b")
    assert after.findings.height == 0
    assert after.files["users.csv"].valid == before.files["users.csv"].valid
    assert after.files["demographics.csv"].valid == before.files["demographics.csv"].valid
    churn_package(tmp_path / "a", tmp_path / "c", 0.02, seed=5)
    assert (tmp_path / "b" / "users.csv").read_bytes() == (tmp_path / "c" / "users.csv").read_bytes()


def test_churn_refuses_a_package_with_broken_lines(tmp_path: Path):
    generate_district(tmp_path / "a", 200, seed=3, defect_rate=0.05)
    with pytest.raises(ConfigurationError, match="broken lines"):
        churn_package(tmp_path / "a", tmp_path / "b", 0.01)
