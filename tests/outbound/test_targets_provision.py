"""``homeroom targets provision``: which directory target a flow set provisions, and what the flows' readiness then
says (docs/provisioning.md, "Provisioning in a run")."""

from __future__ import annotations

import pytest
from provisioning import TENANT, make_flow_set
from sqlalchemy import select
from typer.testing import CliRunner

from homeroom.cli import app
from homeroom.outbound.readiness import not_ready_reason, readiness_status
from homeroom.runs import Runner
from homeroom.settings import Settings, get_settings
from homeroom.store.models import OutboundFlowSet, ProvisioningFlow


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("HOMEROOM_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, [str(a) for a in args])
    get_settings.cache_clear()


def _readiness(runner: Runner) -> list[tuple[str, str | None]]:
    with runner.sessions() as db:
        flows = db.scalars(select(ProvisioningFlow).order_by(ProvisioningFlow.created, ProvisioningFlow.id)).all()
        return sorted({(readiness_status(db, f), not_ready_reason(db, f)) for f in flows})


def test_a_flow_set_is_bound_to_a_target_and_its_flows_say_what_they_still_need(cli, tmp_path):
    runner = Runner(TENANT, Settings(data_dir=tmp_path / "data"))
    make_flow_set(runner)
    assert _readiness(runner) == [("notReady", "its flow set provisions no directory target yet "
                                               "(homeroom targets provision TARGET --flow-set SET)")]
    added = cli("targets", "add", "scim", "--kind", "scim", "--tenant", TENANT, "--set", "base_url=http://127.0.0.1:9/v2")
    assert added.exit_code == 0, added.output

    bound = cli("targets", "provision", "scim", "--flow-set", "All schools", "--tenant", TENANT)
    assert bound.exit_code == 0, bound.output
    assert " ".join(bound.output.split()) == "flow set All schools provisions target scim"
    assert _readiness(runner) == [("notReady", "target 'scim' matches no source system's people (homeroom targets add ... --source)")]

    missing = cli("targets", "provision", "nope", "--flow-set", "All schools", "--tenant", TENANT)
    assert missing.exit_code != 0 and "no target 'nope' in tenant 'district-a'; its targets: scim" in " ".join(missing.output.split())
    no_set = cli("targets", "provision", "scim", "--flow-set", "Elsewhere", "--tenant", TENANT)
    assert no_set.exit_code != 0 and "no outbound flow set 'Elsewhere' in tenant 'district-a'" in " ".join(no_set.output.split())

    unbound = cli("targets", "provision", "-", "--flow-set", "All schools", "--tenant", TENANT)
    assert unbound.exit_code == 0 and " ".join(unbound.output.split()) == "flow set All schools provisions no target"
    with runner.sessions() as db:
        assert db.scalars(select(OutboundFlowSet.target_id)).one() is None


def test_a_flow_set_provisioning_a_kind_without_writer_or_a_removed_target_is_not_ready(tmp_path):
    from homeroom.outbound.service import provision_target
    from homeroom.store.models import DirectoryTarget
    from homeroom.targets import service

    runner = Runner(TENANT, Settings(data_dir=tmp_path / "data"))
    make_flow_set(runner)
    with runner.sessions.begin() as db:
        service.add_target(db=db, tenant_id=TENANT, name="workspace", kind="google", settings={"admin_email": "admin@x.edu"},
                           secrets={})
        provision_target(db=db, tenant_id=TENANT, flow_set="All schools", target="workspace")
    assert _readiness(runner) == [("notReady", "target 'workspace' is a google target, and Homeroom cannot write google targets yet")]
    with runner.sessions.begin() as db:
        target = db.scalars(select(DirectoryTarget)).one()
        target_id = target.id
        db.delete(target)
    assert _readiness(runner) == [("notReady", f"the directory target its flow set provisions ({target_id}) was removed")]
