"""Outbound provisioning flow sets and their provisioning flows (spec §1.14)."""

from __future__ import annotations

from apitools import BASE

SETS = f"{BASE}/outboundProvisioningFlowSets"


def _set(client, name: str = "Outbound Provisioning Flow Test") -> dict:
    r = client.post(SETS, json={"@odata.type": "#microsoft.graph.industryData.outboundProvisioningFlowSet", "displayName": name,
                                "filter": {"@odata.type": "#microsoft.graph.industryData.basicFilter", "attribute": "orgExternalId",
                                           "in": ["Quarter", "Demo"]}})
    assert r.status_code == 201, r.text
    return r.json()


def test_flow_set_crud(admin):
    created = _set(admin)
    assert created["filter"] == {"@odata.type": "#microsoft.graph.industryData.basicFilter", "attribute": "orgExternalId",
                                 "in": ["Quarter", "Demo"]}
    assert created["createdDateTime"].endswith("Z")
    item = f"{SETS}/{created['id']}"
    assert admin.patch(item, json={"displayName": "Renamed", "filter": None}).status_code == 204
    got = admin.get(item).json()
    assert got["displayName"] == "Renamed" and got["filter"] is None
    assert admin.post(SETS, json={"displayName": "x", "filter": {"attribute": "orgName", "in": []}}).status_code == 400
    assert admin.delete(item).status_code == 204
    assert admin.get(item).status_code == 404


def test_user_flow_passwords_are_masked_and_role_groups_expanded(admin):
    flow_set = _set(admin)
    flows = f"{SETS}/{flow_set['id']}/provisioningFlows"
    r = admin.post(flows, json={
        "@odata.type": "#microsoft.graph.industryData.userProvisioningFlow", "createUnmatchedUsers": True,
        "managementOptions": {"additionalAttributes": ["userGradeLevel"],
                              "additionalOptions": {"markAllStudentsAsMinors": True, "allowStudentContactAssociation": False}},
        "creationOptions": {"configurations": [
            {"roleGroup@odata.bind": "https://graph.microsoft.com/beta/external/industryData/roleGroups/staff",
             "defaultPasswordSettings": {"@odata.type": "#microsoft.graph.industryData.simplePasswordSettings", "password": "Sup3rS3cret!"},
             "licenseSkus": ["Sku1"]}]}})
    assert r.status_code == 201, r.text
    flow = r.json()
    assert "Sup3rS3cret!" not in r.text
    assert r.headers["location"].endswith(f"/outboundProvisioningFlowSets/{flow_set['id']}/provisioningFlows/{flow['id']}")
    assert flow["@odata.context"].endswith(f"outboundProvisioningFlowSets('{flow_set['id']}')/provisioningFlows/$entity")
    assert flow["readinessStatus"] == "notReady" and flow["createUnmatchedUsers"] is True
    config = flow["creationOptions"]["configurations"][0]
    assert config["defaultPasswordSettings"]["password"] == "***************"
    assert config["roleGroup"]["id"] == "staff" and config["licenseSkus"] == ["Sku1"]
    assert "Sup3rS3cret!" not in admin.get(flows).text
    duplicate = admin.post(flows, json={"@odata.type": "#microsoft.graph.industryData.userProvisioningFlow"})
    assert duplicate.status_code == 409
    item = f"{flows}/{flow['id']}"
    assert admin.patch(item, json={"managementOptions": {"additionalOptions": {"studentAgeGroup": "minor"}}}).status_code == 204
    assert admin.get(item).json()["managementOptions"] == {"additionalOptions": {"studentAgeGroup": "minor"}}
    assert admin.get(f"{flows}/$count").text == "1"
    assert admin.delete(item).status_code == 204
    assert admin.get(item).status_code == 404


def test_class_group_flow_normalises_section_roles(admin):
    flow_set = _set(admin)
    r = admin.post(f"{SETS}/{flow_set['id']}/provisioningFlows", json={
        "@odata.type": "#microsoft.graph.industryData.classGroupProvisioningFlow",
        "configuration": {"@odata.type": "#microsoft.graph.industryData.classGroupConfiguration",
                          "additionalAttributes": ["courseTitle", "courseCode"],
                          "additionalOptions": {"createTeam": True, "writeDisplayNameOnCreateOnly": True},
                          "enrollmentMappings": {"ownerEnrollmentMappings": [{"code": "teacher"}, {"code": "paraProfessional"}],
                                                 "memberEnrollmentMappings": [{"code": "student"}]}}})
    assert r.status_code == 201, r.text
    configuration = r.json()["configuration"]
    assert configuration["enrollmentMappings"]["ownerEnrollmentMappings"] == [{"code": "teacher"}, {"code": "paraprofessional"}]
    assert "@odata.type" not in configuration
    bad = admin.post(f"{SETS}/{flow_set['id']}/provisioningFlows", json={
        "@odata.type": "#microsoft.graph.industryData.securityGroupProvisioningFlow", "creationOptions": {"createBasedOnRoleGroup": "yes"}})
    assert bad.status_code == 400 and "creationOptions.createBasedOnRoleGroup" in bad.json()["error"]["message"]


def test_property_names_are_matched_case_insensitively(admin):
    flow_set = _set(admin)
    r = admin.post(f"{SETS}/{flow_set['id']}/provisioningFlows", json={
        "@odata.type": "#microsoft.graph.industryData.administrativeUnitProvisioningFlow",
        "creationOptions": {"createBasedOnOrg": True, "createBasedOnOrgPlusroleGroup": False}})
    assert r.status_code == 201, r.text
    assert r.json()["creationOptions"] == {"createBasedOnOrg": True, "createBasedOnOrgPlusRoleGroup": False}


def test_flows_of_another_set_or_tenant_are_not_found(api, admin):
    first, second = _set(admin, "one"), _set(admin, "two")
    flow = admin.post(f"{SETS}/{first['id']}/provisioningFlows", json={
        "@odata.type": "#microsoft.graph.industryData.securityGroupProvisioningFlow",
        "creationOptions": {"createBasedOnRoleGroup": True}}).json()
    assert admin.get(f"{SETS}/{second['id']}/provisioningFlows/{flow['id']}").status_code == 404
    other = api.client("fabrikam")
    assert other.get(f"{SETS}/{first['id']}/provisioningFlows").status_code == 404
    reader = api.client("contoso", ["IndustryData-OutboundFlow.Read.All"])
    assert reader.get(f"{SETS}/{first['id']}/provisioningFlows").status_code == 200
    assert reader.delete(f"{SETS}/{first['id']}/provisioningFlows/{flow['id']}").status_code == 403
    # Deleting the set deletes its flows.
    assert admin.delete(f"{SETS}/{first['id']}").status_code == 204
    expanded = admin.get(f"{SETS}/{second['id']}", params={"$expand": "provisioningFlows"}).json()
    assert expanded["provisioningFlows"] == []


def test_provisioning_flows_page_with_top_and_next_links(admin):
    flow_set = _set(admin)
    flows = f"{SETS}/{flow_set['id']}/provisioningFlows"
    for kind in ("userProvisioningFlow", "securityGroupProvisioningFlow", "classGroupProvisioningFlow"):
        assert admin.post(flows, json={"@odata.type": f"#microsoft.graph.industryData.{kind}"}).status_code == 201
    first = admin.get(f"{flows}?$top=2&$count=true").json()
    assert len(first["value"]) == 2 and first["@odata.count"] == 3
    assert first["@odata.nextLink"].startswith(f"http://testserver{flows}?$top=2&$count=true&$skiptoken=")
    second = admin.get(first["@odata.nextLink"]).json()
    assert len(second["value"]) == 1 and "@odata.nextLink" not in second
    ids = [f["id"] for f in first["value"] + second["value"]]
    assert sorted(ids) == sorted(f["id"] for f in admin.get(flows).json()["value"]) and len(set(ids)) == 3


def test_a_user_configurations_role_group_inline_as_the_sdk_types_it_is_the_same_as_its_bind(admin):
    flows = f"{SETS}/{_set(admin)['id']}/provisioningFlows"
    configurations = [{"roleGroup@odata.bind": "roleGroups('staff')", "licenseSkus": ["A"]},
                      {"roleGroup": {"id": "students"}, "licenseSkus": ["B"]},
                      {"roleGroup@odata.bind": "roleGroups/students", "roleGroup": {"id": "students"}, "licenseSkus": ["C"]}]
    r = admin.post(flows, json={"@odata.type": "#microsoft.graph.industryData.userProvisioningFlow",
                                "creationOptions": {"configurations": configurations}})
    assert r.status_code == 201, r.text
    groups = [c["roleGroup"] for c in r.json()["creationOptions"]["configurations"]]
    staff, students = (admin.get(f"{BASE}/roleGroups/{g}").json() for g in ("staff", "students"))
    assert groups == [{k: g[k] for k in ("id", "displayName", "roles")} for g in (staff, students, students)]
    item = f"{flows}/{r.json()['id']}"
    conflict = admin.patch(item, json={"creationOptions": {"configurations": [
        {"roleGroup@odata.bind": "roleGroups/staff", "roleGroup": {"id": "students"}}]}})
    assert conflict.status_code == 400 and conflict.json()["error"]["message"] == (
        "Properties 'creationOptions.configurations[0].roleGroup@odata.bind' and 'creationOptions.configurations[0].roleGroup' "
        "name different role groups ('staff' and 'students'): give one of them.")
    # A flow read and written back keeps its role groups.
    read = admin.get(item).json()
    assert admin.patch(item, json={"creationOptions": read["creationOptions"]}).status_code == 204
    assert [c["roleGroup"]["id"] for c in admin.get(item).json()["creationOptions"]["configurations"]] == ["staff", "students", "students"]
