"""Provisioning end to end into a real directory (scim2-server from PyPI): a run matches its people against the
stored target, the plan creates every active person, class group and security group, apply writes them through the
stored target, and the next run of the same snapshot plans nothing and writes nothing (issue 12)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parents[1] / "targets"))

from provisioning import FLOWS, make_flow_set, run_package  # noqa: E402
from scimserver import TOKEN, scim_server  # noqa: E402,F401 - fixture

from homeroom.store.models import SourceSystem  # noqa: E402
from homeroom.targets import service  # noqa: E402

#: People are matched to the accounts Homeroom made by the anchor it writes (the SCIM externalId is their sourcedId).
MATCHING = [{"priorityOrder": 0, "sourceIdentifier": {"code": "sourcedId"}, "matchTarget": {"code": "externalId"},
             "roleGroupId": role} for role in ("students", "staff")]
#: The flows SCIM can hold: users, class groups and security groups (SCIM has no units).
SCIM_FLOWS = [f for f in FLOWS if "administrativeUnit" not in f["@odata.type"]]


def _counts(base: str) -> tuple[int, int]:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        return http.get("/Users", params={"count": 1}).json()["totalResults"], http.get("/Groups", params={"count": 1}).json()["totalResults"]


def test_a_district_is_provisioned_into_scim_and_a_second_apply_writes_nothing(scim_server, district, runner, provisioner):
    run_package(runner, district)  # the source system exists once the flow has run
    with runner.sessions.begin() as db:
        source = db.scalars(select(SourceSystem).where(SourceSystem.tenant_id == runner.tenant)).one()
        source.user_matching_settings = MATCHING
        service.add_target(db=db, tenant_id=runner.tenant, name="scim", kind="scim", settings={"base_url": scim_server},
                           secrets={"bearer_token": TOKEN}, source_systems=[source.display_name])
    make_flow_set(runner, flows=SCIM_FLOWS, options={"thresholds": {}})

    first = run_package(runner, district)  # snapshots the (empty) directory and matches: nobody yet
    outcome = provisioner.plan(first, "All schools", target="scim", target_kind="scim")
    ops = outcome.plan.ops
    creates = {op: ops.filter(ops["op"] == op).height for op in ("create_user", "create_group")}
    assert creates["create_user"] > 0 and creates["create_group"] > 0
    reports = provisioner.approve(first) if outcome.reasons else provisioner.apply(first)
    report = next(iter(reports.values()))
    assert (report.failed, report.errors) == (0, [])
    assert _counts(scim_server) == (creates["create_user"], creates["create_group"])

    second = run_package(runner, district)  # the same snapshot: everyone now matches the account made for them
    again = provisioner.plan(second, "All schools", target="scim", target_kind="scim")
    assert _counts(scim_server) == (creates["create_user"], creates["create_group"])
    # Nothing to do: a SCIM group keeps one name (its displayName), so the plan compares only that (issue 12).
    assert again.plan.ops.height == 0, again.plan.ops.group_by("op", "reason").len().to_dicts()
    assert again.reasons == []
