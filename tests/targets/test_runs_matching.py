"""A flow's run snapshots its directory and matches after validation; getStatistics equals the match report, and a
run without a directory says so. The directory is the real scim2-server loaded with the planted accounts (the AD and
LDAP targets' runs: tests/targets/test_match_ldap_targets.py)."""

from __future__ import annotations

from planted import assert_runs_match_and_statistics_equal_the_report, planted_district  # noqa: F401 - fixture
from scimserver import TOKEN, load_accounts, scim_server  # noqa: F401 - fixture


def test_runs_match_their_directory_and_statistics_equal_the_match_report(scim_server, planted_district, tmp_path):
    package, planted = planted_district
    assert_runs_match_and_statistics_equal_the_report(
        package, planted, tmp_path / "data", tenant="district-m", name="scim", kind="scim",
        settings={"base_url": scim_server}, secrets={"bearer_token": TOKEN},
        load=lambda: load_accounts(scim_server, planted.accounts))
