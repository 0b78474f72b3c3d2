"""Tenant ids: one strict pattern, because a tenant id names folders of the lake, uploads and runs."""

from __future__ import annotations

import pytest

from homeroom.errors import ConfigurationError
from homeroom.runs import Runner
from homeroom.settings import Settings
from homeroom.store import service


@pytest.mark.parametrize("tenant", ["contoso", "district-a", "t", "a.b_c-1", "0f8fad5b-d9cb-469f-a165-70867728950e", "x" * 64])
def test_tenant_ids_that_are_accepted(tenant):
    assert service.is_tenant_id(tenant)


@pytest.mark.parametrize("tenant", ["", ".", "..", "../lake", "a/b", "a\\b", "-x", ".hidden", "x" * 65, "common", "Organizations", "a b"])
def test_tenant_ids_that_are_refused(tenant):
    assert not service.is_tenant_id(tenant)


def test_a_run_for_the_tenant_dot_dot_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ConfigurationError, match=r"^'\.\.' cannot name a tenant: names are 1 to 64 letters, digits"):
        Runner("..", settings=Settings(data_dir=tmp_path / "data"))
    assert not (tmp_path / "data" / "lake").exists() and not (tmp_path / "lake").exists()
