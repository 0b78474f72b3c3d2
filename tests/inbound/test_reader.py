"""Reading a package into a Batch: the package checks and the source rows, no record checks, and the package's mode."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from homeroom.inbound import read_package
from homeroom.validate import check, validate_package
from tests.conftest import FIXTURES
from tests.inbound.oneroster_packages import ONEROSTER, OneRosterPackage


def test_a_package_is_read_into_source_rows_whose_records_are_not_checked_yet(sample):
    sample.append("enrollments.csv", "112002,ghost,student")
    batch = read_package(sample.root)
    assert (batch.package, batch.format, batch.stopped, batch.mode) == ("package", "sds-v2.1", False, "bulk")
    assert batch.findings.frame().height == 0  # the reference to 'ghost' is a record check
    assert {s.entity.name for s in batch.sources} >= {"orgs", "users", "roles", "enrollments"}
    assert (batch.files["enrollments.csv"].records, batch.files["enrollments.csv"].valid) == (7, 0)
    assert batch.entity_files["users"] == ("users.csv",)
    result = check(batch)
    assert result.findings["rule"].to_list() == ["ReferenceNotFound"]
    assert result.files["enrollments.csv"].valid == 6


def test_validate_package_is_read_package_then_check(sample):
    sample.append("users.csv", "114009,nodomain,X,Y,,,,,")
    sample.remove("userFlags.csv")
    composed = check(read_package(sample.root))
    direct = validate_package(sample.root)
    assert_frame_equal(composed.findings, direct.findings)
    assert composed.tables.keys() == direct.tables.keys()
    assert {n: (s.records, s.valid) for n, s in composed.files.items()} == {n: (s.records, s.valid) for n, s in direct.files.items()}


def test_a_stopped_batch_has_nothing_to_check(sample):
    sample.remove("users.csv")
    batch = read_package(sample.root)
    assert batch.stopped and batch.sources == [] and batch.files == {}
    result = check(batch)
    assert result.stopped and result.tables == {} and result.exit_code == 2
    assert result.findings.filter(pl.col("level") == "catastrophic")["rule"].to_list() == ["RequiredFileNotFound"]


def test_basic_only_reads_no_records(sample):
    batch = read_package(sample.root, basic_only=True)
    assert not batch.stopped and batch.sources == [] and batch.files == {}
    assert batch.recognised == sorted(p.name for p in sample.root.iterdir())


def test_a_manifest_that_lists_a_delta_file_makes_a_delta_batch():
    assert read_package(ONEROSTER / "delta-1.1").mode == "delta"
    assert validate_package(ONEROSTER / "delta-1.1").mode == "delta"
    assert read_package(ONEROSTER / "bulk-1.1").mode == "bulk"
    assert read_package(ONEROSTER / "bulk-1.2").mode == "bulk"


def test_one_delta_file_is_enough_even_a_skipped_one(tmp_path):
    package = OneRosterPackage(tmp_path / "p", "bulk-1.1")
    package.replace("manifest.csv", "file.results,absent", "file.results,delta")
    assert read_package(package.root).mode == "delta"


def test_sds_packages_are_bulk():
    for name in ("sds-v2.1", "sds-v2.0", "sds-v1-25-users"):
        assert read_package(FIXTURES / "microsoft" / name).mode == "bulk"
