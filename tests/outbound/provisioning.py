"""Helpers of the outbound tests: a flow set made through the API's own resource code, snapshots of a directory
double written to the lake as the directory contract says, and small readers of plans."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from directory_double import DirectoryDouble

from homeroom.api.resources import OUTBOUND_FLOW_SETS, PROVISIONING_FLOWS
from homeroom.lake.changes import diff_table
from homeroom.outbound import storage
from homeroom.runs import Runner
from homeroom.store.models import OutboundFlowSet

TENANT = "district-a"
TARGET = "entra-test"
STUDENTS = 1400  # two schools

FLOWS = [
    {"@odata.type": "#microsoft.graph.industryData.userProvisioningFlow", "createUnmatchedUsers": True,
     "managementOptions": {"additionalAttributes": ["userGradeLevel", "userNumber"], "additionalOptions": {"studentAgeGroup": "minor"}},
     "creationOptions": {"configurations": [
         {"roleGroup@odata.bind": "https://graph.microsoft.com/beta/external/industryData/roleGroups/staff",
          "defaultPasswordSettings": {"@odata.type": "#microsoft.graph.industryData.simplePasswordSettings", "password": "Staff-Pa55!"},
          "licenseSkus": ["STAFF-SKU"]},
         {"roleGroup@odata.bind": "https://graph.microsoft.com/beta/external/industryData/roleGroups/students",
          "defaultPasswordSettings": {"@odata.type": "#microsoft.graph.industryData.simplePasswordSettings", "password": "Stud-Pa55!"},
          "licenseSkus": ["STUDENT-SKU"]}]}},
    {"@odata.type": "#microsoft.graph.industryData.classGroupProvisioningFlow", "configuration": {
        "additionalAttributes": ["courseTitle", "courseCode"], "additionalOptions": {"createTeam": True, "writeDisplayNameOnCreateOnly": False},
        "enrollmentMappings": {"ownerEnrollmentMappings": [{"code": "teacher"}], "memberEnrollmentMappings": [{"code": "student"}]}}},
    {"@odata.type": "#microsoft.graph.industryData.administrativeUnitProvisioningFlow",
     "creationOptions": {"createBasedOnOrg": True, "createBasedOnOrgPlusRoleGroup": True}},
    {"@odata.type": "#microsoft.graph.industryData.securityGroupProvisioningFlow",
     "creationOptions": {"createBasedOnRoleGroup": True, "createBasedOnOrgPlusRoleGroup": True}},
]


def make_flow_set(runner: Runner, name: str = "All schools", *, flows=FLOWS, filter_orgs=None, options=None) -> str:
    """A flow set and its flows, stored through the API's resource code (as a POST would store them)."""
    with runner.sessions.begin() as db:
        body = {"displayName": name}
        if filter_orgs is not None:
            body["filter"] = {"@odata.type": "#microsoft.graph.industryData.basicFilter", "attribute": "orgExternalId", "in": filter_orgs}
        row = OUTBOUND_FLOW_SETS.create(db=db, tenant_id=TENANT, raw=json.dumps(body).encode())
        for flow in flows:
            PROVISIONING_FLOWS.create(db=db, tenant_id=TENANT, raw=json.dumps(flow).encode(), parent=row)
        stored = db.get(OutboundFlowSet, row.id)
        stored.options = options or {}
        return row.id


def set_options(runner: Runner, options: dict, name: str = "All schools") -> None:
    """Change a flow set's Homeroom options."""
    with runner.sessions.begin() as db:
        from sqlalchemy import select
        db.scalar(select(OutboundFlowSet).where(OutboundFlowSet.display_name == name)).options = options


class Snapshots:
    """Writes a directory double's state into the lake as a snapshot would (longitudinal columns per target)."""

    def __init__(self, lake):
        self.lake = lake
        self.now = datetime(2026, 9, 1, tzinfo=timezone.utc)

    def write(self, directory: DirectoryDouble, target: str = TARGET) -> None:
        self.now += timedelta(hours=12)
        actual = directory.snapshot()
        for spec, frame in ((storage.DIRECTORY_ACCOUNTS, actual.accounts), (storage.DIRECTORY_GROUPS, actual.groups)):
            previous = self.lake.read(spec.name, {"target": target})
            changes = diff_table(spec, previous.drop("target") if previous is not None else None, frame,
                                 partition={"target": target}, run_id="snapshot", now=self.now)
            self.lake.replace_partition(spec.name, {"target": target}, changes.state)


def run_package(runner: Runner, package: Path, **kwargs):
    outcome = runner.run(package, flow_name="sis", year="2026", **kwargs)
    return outcome.run.id


def ops_count(ops: pl.DataFrame) -> dict[tuple[str, str], int]:
    return {(op, reason): n for op, reason, n in ops.group_by("op", "reason").len().iter_rows()}
