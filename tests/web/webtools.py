"""Dashboard test tools: an app on a temporary data folder, users, runs of planted packages, signed-in clients."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from fastapi.testclient import TestClient

from homeroom.api import create_app
from homeroom.auth.permissions import PERMISSIONS
from homeroom.auth.registrations import create_user
from homeroom.runs import Runner
from homeroom.settings import Settings
from homeroom.store.models import Run
from tests.conftest import MS_V21

PASSWORD = "correct horse battery staple"
#: What a reader holds: everything that reads, nothing that writes or starts.
READER = sorted(p for p in PERMISSIONS if p.endswith(".Read.All") or p == "IndustryData.ReadBasic.All")
#: Planted in users.csv of the sample: 120 users whose phone is not E.164 (lines 10-129, InvalidPhone warnings) and
#: 7 without a username (lines 130-136, RequiredValueMissing errors).
PLANTED_WARNINGS, PLANTED_ERRORS = 120, 7
FIRST_PLANTED_LINE = 10
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def planted_package(root: Path) -> Path:
    """Microsoft's v2.1 sample with the planted findings above."""
    shutil.copytree(MS_V21, root)
    with open(root / "users.csv", "ab") as fh:
        for i in range(PLANTED_WARNINGS):
            fh.write(f"2{i:05d},u{i}@classrmtest31.org,Ann,Lee{i},,,u{i}@classrmtest31.org,12345,\r\n".encode())
        for i in range(PLANTED_ERRORS):
            fh.write(f"3{i:05d},,Bo,Kay{i},,,,,\r\n".encode())
    return root


def sample_package(root: Path) -> Path:
    shutil.copytree(MS_V21, root)
    return root


def shrunk_package(root: Path) -> Path:
    """The sample without the guardian 114005 and their relationship: a run of it after the sample is held (1 of 8
    users, 1 of 3 relationships deactivated, above the 10% threshold)."""
    shutil.copytree(MS_V21, root)
    for name, line in (("users.csv", "114005,bobsmithee@outlook.com,Bob,Smithee,P@ssword123,,bobsmithee@outlook.com,"
                                     "+10273841983,+10273841983\r\n"), ("relationships.csv", "114004,114005,guardian\r\n")):
        text = (root / name).read_bytes().decode()
        assert line in text
        (root / name).write_bytes(text.replace(line, "").encode())
    return root


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Dashboard:
    """The app under test and helpers to populate it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.app = create_app(settings)

    def user(self, tenant: str, username: str, permissions: list[str] | None = None) -> str:
        with self.app.state.sessions() as db:
            create_user(db=db, tenant_id=tenant, username=username, password=PASSWORD,
                        permissions=sorted(PERMISSIONS) if permissions is None else permissions)
            db.commit()
        return username

    def runner(self, tenant: str) -> Runner:
        return Runner(tenant, self.settings, self.app.state.sessions)

    def run(self, tenant: str, package: Path, flow: str = "sis") -> str:
        return self.runner(tenant).run(package, flow_name=flow, year="2026").run.id

    def client(self, https: bool = False) -> TestClient:
        return TestClient(self.app, base_url="https://testserver" if https else "http://testserver", follow_redirects=False)

    def signed_in(self, tenant: str, username: str, https: bool = False) -> TestClient:
        http = self.client(https)
        page = http.get("/admin/sign-in")
        response = http.post("/admin/sign-in", data={"csrf_token": csrf_of(page.text), "tenant": tenant, "username": username,
                                                      "password": PASSWORD, "next": "/admin/"})
        assert response.status_code == 303, response.text
        return http

    def run_status(self, run_id: str) -> str:
        with self.app.state.sessions() as db:
            return db.get(Run, run_id).status

    def wait_for_run(self, run_id: str, *, not_status: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while (status := self.run_status(run_id)) == not_status and time.monotonic() < deadline:
            time.sleep(0.05)
        return status


# --- provisioning plans -----------------------------------------------------------------------------------------------
#: The flow set of the plan tests: users (created when unmatched) and class groups (teachers own, students are members).
PLAN_FLOWS = [{"@odata.type": "#microsoft.graph.industryData.userProvisioningFlow", "createUnmatchedUsers": True},
              {"@odata.type": "#microsoft.graph.industryData.classGroupProvisioningFlow", "configuration": {"enrollmentMappings": {
                  "ownerEnrollmentMappings": [{"code": "teacher"}], "memberEnrollmentMappings": [{"code": "student"}]}}}]
#: What the first plan of the v2.1 sample into an empty SCIM directory holds: 6 people with a role group (2 guardians
#: are not provisioned), 2 class groups, 5 student memberships; held, since it creates more than 3 accounts.
FIRST_PLAN = {("create_user", "UserUnmatchedCreate"): 6, ("create_group", "ClassGroupCreate"): 2,
              ("add_member", "ClassMemberAdded"): 5}
FIRST_PLAN_REASON = "6 accounts would be created, more than the limit of 3."


def provision_into_scim(dash: Dashboard, tenant: str, scim_base: str, token: str) -> None:
    """The tenant's SCIM target (``scim``, matching people to accounts by the externalId Homeroom writes) and the flow
    set ``All schools`` whose plans are held above 3 creates."""
    import json

    from sqlalchemy import select

    from homeroom.api.resources import OUTBOUND_FLOW_SETS, PROVISIONING_FLOWS
    from homeroom.store.models import OutboundFlowSet, SourceSystem
    from homeroom.targets import service

    with dash.app.state.sessions.begin() as db:
        source = db.scalars(select(SourceSystem).where(SourceSystem.tenant_id == tenant)).one()
        source.user_matching_settings = [{"priorityOrder": 0, "sourceIdentifier": {"code": "sourcedId"},
                                          "matchTarget": {"code": "externalId"}, "roleGroupId": g} for g in ("students", "staff")]
        service.add_target(db=db, tenant_id=tenant, name="scim", kind="scim", settings={"base_url": scim_base},
                           secrets={"bearer_token": token}, source_systems=[source.display_name])
        row = OUTBOUND_FLOW_SETS.create(db=db, tenant_id=tenant, raw=json.dumps({"displayName": "All schools"}).encode())
        for flow in PLAN_FLOWS:
            PROVISIONING_FLOWS.create(db=db, tenant_id=tenant, raw=json.dumps(flow).encode(), parent=row)
        db.get(OutboundFlowSet, row.id).options = {"thresholds": {"creates": {"share": None, "absolute": 3}}}


def make_plan(dash: Dashboard, tenant: str, package: Path) -> str:
    """A run of ``package`` (it snapshots the SCIM target and matches) and its plan into the target; the run id."""
    from homeroom.outbound.service import Provisioner

    run_id = dash.run(tenant, package)
    Provisioner(tenant, dash.settings, dash.app.state.sessions).plan(run_id, "All schools", target="scim", target_kind="scim")
    return run_id
