"""Synchronization profiles as resources: create (the spec's body as is), provisioning, list, get, PATCH, the
collection-level PUT, DELETE, and what provisioning gives the engine (matching settings, the user flow's licences)."""

from __future__ import annotations

from classictools import PROFILES, SPEC_BODY, delegated_client, provisioned, spec_body
from sqlalchemy import func, select

from homeroom.store.models import DataConnector, EducationSyncProfile, InboundFlow, ProvisioningFlow, SourceSystem

TEACHER_OPTIONAL = ["State ID", "Teacher Number", "Status", "Middle Name", "Secondary Email", "Title", "Qualification"]
SKU = "6fd2c87f-b296-42f0-b197-1e91e994b900"


def _defaults(optional: list[str]) -> dict:
    return {"optionalPropertiesToSync": optional, "synchronizationStartDate": "0001-01-01T00:00:00Z",
            "isSyncDeferred": False, "allowDisplayNameUpdate": False}


def test_the_spec_example_body_creates_a_profile_that_goes_from_provisioning_to_provisioned(api):
    admin = delegated_client(api)
    r = admin.post(PROFILES, json=SPEC_BODY)
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"http://testserver{PROFILES}/{body['id']}"
    assert body["@odata.context"] == "http://testserver/beta/$metadata#education/synchronizationProfiles/$entity"
    assert (body["@odata.type"], body["displayName"], body["state"]) == (
        "#microsoft.graph.educationSynchronizationProfile", "Test Profile", "provisioning")
    provider = body["dataProvider"]
    assert provider["@odata.type"] == "#microsoft.graph.educationCsvDataProvider", "the foreign namespace is answered canonically"
    custom = provider["customizations"]
    assert custom["student"] == _defaults(["State ID", "Middle Name"])
    assert custom["teacher"] == _defaults(TEACHER_OPTIONAL), "Graph's defaults for an entity not given"
    assert custom["studentEnrollment"] == custom["teacherRoster"] == _defaults([])
    assert custom["school"]["optionalPropertiesToSync"][:3] == ["School Number", "School NCES_ID", "State ID"]
    assert body["identitySynchronizationConfiguration"] == {
        "@odata.type": "#microsoft.graph.educationIdentityCreationConfiguration",
        "userDomains": [{"appliesTo": "student", "name": "testschool.edu"}, {"appliesTo": "teacher", "name": "testschool.edu"}]}
    assert body["licensesToAssign"] == [
        {"@odata.type": "#microsoft.graph.educationSynchronizationLicenseAssignment", "appliesTo": "teacher", "skuIds": [SKU]},
        {"@odata.type": "#microsoft.graph.educationSynchronizationLicenseAssignment", "appliesTo": "student", "skuIds": [SKU]}]
    assert (body["expirationDate"], body["handleSpecialCharacterConstraint"]) == (None, None)
    assert provisioned(admin, body["id"])["state"] == "provisioned"
    status = admin.get(f"{PROFILES}/{body['id']}/profileStatus").json()
    assert (status["status"], status["errorCount"], status["lastSynchronizationDateTime"]) == ("paused", 0, None)
    assert status["statusMessage"] == "Not started: upload the files to the profile's uploadUrl, then call start."


def test_provisioning_gives_the_engine_matching_settings_and_a_user_flow_with_the_licences(api):
    admin = delegated_client(api)
    profile_id = admin.post(PROFILES, json=SPEC_BODY).json()["id"]
    provisioned(admin, profile_id)
    with api.app.state.sessions() as db:
        profile = db.get(EducationSyncProfile, profile_id)
        flow = db.get(InboundFlow, profile.flow_id)
        source = db.get(SourceSystem, flow.connector.source_system_id)
        # industryData's stored shape of userMatchingSettings, which identity matching reads.
        assert source.user_matching_settings == [
            {"priorityOrder": 0, "sourceIdentifier": {"code": "username"}, "matchTarget": {"code": "userPrincipalName"}, "roleGroupId": "students"},
            {"priorityOrder": 1, "sourceIdentifier": {"code": "username"}, "matchTarget": {"code": "userPrincipalName"}, "roleGroupId": "staff"}]
        assert flow.connector.file_format == "schoolDataSyncV1"
        flows = {f.kind: f.settings for f in db.scalars(select(ProvisioningFlow).where(ProvisioningFlow.flow_set_id == profile.flow_set_id))}
    assert flows["userProvisioningFlow"] == {"createUnmatchedUsers": True, "creationOptions": {"configurations": [
        {"licenseSkus": [SKU], "roleGroupId": "staff"}, {"licenseSkus": [SKU], "roleGroupId": "students"}]}}
    assert flows["classGroupProvisioningFlow"] == {"configuration": {"additionalOptions": {
        "createTeam": False, "writeDisplayNameOnCreateOnly": True}}}
    # The industryData API shows the same user flow, licences per role group, as the outbound flows read it.
    app = api.client("contoso", ["IndustryData-OutboundFlow.Read.All"])
    listed = app.get(f"/beta/external/industryData/outboundProvisioningFlowSets/{profile.flow_set_id}/provisioningFlows").json()["value"]
    user_flow = next(f for f in listed if f["@odata.type"].endswith("userProvisioningFlow"))
    assert [(c["roleGroup"]["id"], c["licenseSkus"]) for c in user_flow["creationOptions"]["configurations"]] == [
        ("staff", [SKU]), ("students", [SKU])]


def test_a_matching_configuration_matches_only_and_its_target_domain_completes_usernames(api):
    admin = delegated_client(api)
    body = spec_body(identitySynchronizationConfiguration={
        "@odata.type": "#microsoft.graph.educationIdentityMatchingConfiguration",
        "matchingOptions": [{"appliesTo": "student", "sourcePropertyName": "Username", "targetPropertyName": "userPrincipalName",
                             "targetDomain": "students.contoso.edu"},
                            {"appliesTo": "teacher", "sourcePropertyName": "SIS ID", "targetPropertyName": "employeeId"}]})
    profile_id = admin.post(PROFILES, json=body).json()["id"]
    provisioned(admin, profile_id)
    from homeroom.classic.profiles import format_options
    with api.app.state.sessions() as db:
        profile = db.get(EducationSyncProfile, profile_id)
        source = db.get(SourceSystem, db.get(InboundFlow, profile.flow_id).connector.source_system_id)
        assert source.user_matching_settings == [
            {"priorityOrder": 0, "sourceIdentifier": {"code": "username"}, "matchTarget": {"code": "userPrincipalName"}, "roleGroupId": "students"},
            {"priorityOrder": 1, "sourceIdentifier": {"code": "sisId"}, "matchTarget": {"code": "employeeId"}, "roleGroupId": "staff"}]
        user_flow = db.scalar(select(ProvisioningFlow).where(ProvisioningFlow.flow_set_id == profile.flow_set_id,
                                                             ProvisioningFlow.kind == "userProvisioningFlow"))
        assert user_flow.settings["createUnmatchedUsers"] is False, "a matching configuration creates nobody"
        options = format_options(profile)
    assert options["student_domain"] == "students.contoso.edu" and "teacher_domain" not in options


def test_list_get_count_patch_put_and_delete(api):
    admin = delegated_client(api)
    first = admin.post(PROFILES, json=SPEC_BODY).json()
    second = admin.post(PROFILES, json=spec_body(displayName="Second")).json()
    for p in (first, second):
        provisioned(admin, p["id"])
    listed = admin.get(f"{PROFILES}?$count=true&$orderby=displayName desc&$select=displayName,state").json()
    assert listed["@odata.count"] == 2
    assert [(p["displayName"], p["state"]) for p in listed["value"]] == [("Test Profile", "provisioned"), ("Second", "provisioned")]
    assert admin.get(f"{PROFILES}/$count").text == "2"
    assert admin.get(f"{PROFILES}('{first['id']}')").json()["displayName"] == "Test Profile", "keys in parentheses"

    patched = admin.patch(f"{PROFILES}/{first['id']}", json={"displayName": "Renamed", "expirationDate": "2026-06-30",
                                                            "handleSpecialCharacterConstraint": True})
    assert patched.status_code == 204, patched.text
    got = provisioned(admin, first["id"])
    assert (got["displayName"], got["expirationDate"], got["handleSpecialCharacterConstraint"]) == ("Renamed", "2026-06-30", True)
    assert got["licensesToAssign"] == first["licensesToAssign"], "PATCH changes only what it carries"

    # The documented update: PUT on the collection, the whole profile with its id; what it leaves out is unset.
    put = admin.http.put(PROFILES, headers=admin.headers, json={
        "id": first["id"], "displayName": "Replaced",
        "dataProvider": {"@odata.type": "microsoft.graph.educationcsvdataprovider"}})
    assert put.status_code == 202, put.text
    assert (put.json()["displayName"], put.json()["state"], put.json()["licensesToAssign"]) == ("Replaced", "provisioning", [])
    assert put.json()["expirationDate"] is None and put.json()["identitySynchronizationConfiguration"] is None
    assert provisioned(admin, first["id"])["dataProvider"]["customizations"]["student"]["optionalPropertiesToSync"][:2] == [
        "State ID", "Secondary Email"]

    deleted = admin.delete(f"{PROFILES}/{second['id']}")
    assert (deleted.status_code, deleted.content) == (202, b"")
    assert admin.get(f"{PROFILES}/{second['id']}").status_code == 404
    with api.app.state.sessions() as db:
        # A profile that never ran leaves nothing of the engine's behind.
        assert db.scalar(select(func.count()).select_from(SourceSystem).where(SourceSystem.display_name.contains(second["id"]))) == 0
        assert db.scalar(select(func.count()).select_from(DataConnector)) == 1
    assert [p["id"] for p in admin.get(PROFILES).json()["value"]] == [first["id"]]


def test_odata_type_spellings_the_docs_use_are_accepted(api):
    admin = delegated_client(api)
    for spelling in ("#Microsoft.Education.DataSync.educationCsvDataProvider", "microsoft.graph.educationcsvdataprovider",
                     "#microsoft.graph.educationCsvDataProvider", "educationCsvDataProvider"):
        r = admin.post(PROFILES, json=spec_body(dataProvider={"@odata.type": spelling}))
        assert (r.status_code, r.json()["dataProvider"]["@odata.type"]) == (201, "#microsoft.graph.educationCsvDataProvider"), spelling
    old = admin.post(PROFILES, json=spec_body(dataProvider={
        "@odata.type": "#microsoft.graph.educationoneRosterApiDataProvider", "connectionUrl": "https://sis.example/ims/oneroster",
        "providerName": "SIS", "schoolsIds": ["1"], "termIds": ["t1"],
        "connectionSettings": {"@odata.type": "#microsoft.graph.educationSynchronizationOAuth1ConnectionSettings",
                               "clientId": "key", "clientSecret": "s3cret"}}))
    assert old.status_code == 201, old.text
    assert old.json()["dataProvider"] == {
        "@odata.type": "#microsoft.graph.educationOneRosterApiDataProvider", "customizations": old.json()["dataProvider"]["customizations"],
        "connectionUrl": "https://sis.example/ims/oneroster", "providerName": "SIS", "schoolsIds": ["1"], "termIds": ["t1"],
        "connectionSettings": {"@odata.type": "#microsoft.graph.educationSynchronizationOAuth1ConnectionSettings", "clientId": "key"}}
    assert "s3cret" not in old.text, "secrets are write-only"
    powerschool = admin.post(PROFILES, json=spec_body(dataProvider={
        "@odata.type": "#microsoft.graph.educationPowerSchoolDataProvider", "connectionUrl": "https://ps.example",
        "clientId": "id", "clientSecret": "ps-secret", "schoolsids": ["100"], "schoolYear": "2026",
        "allowTeachersInMultipleSchools": False}))
    assert powerschool.status_code == 201, powerschool.text
    assert powerschool.json()["dataProvider"]["schoolsIds"] == ["100"], "the docs' lower-case schoolsids"
    assert "ps-secret" not in powerschool.text and "clientSecret" not in powerschool.text


def test_bodies_the_engine_cannot_honour_are_refused_with_a_message_naming_the_property(api):
    admin = delegated_client(api)
    cases = [
        (spec_body(dataProvider={"@odata.type": "#microsoft.graph.educationCsvDataProvider",
                                 "customizations": {"student": {"optionalPropertiesToSync": ["Shoe Size"]}}}),
         "Invalid value for property 'dataProvider.customizations.student.optionalPropertiesToSync': 'Shoe Size' is not an "
         "optional column of Student.csv (optional columns: State ID, Secondary Email, Student Number, Middle Name, Grade, "
         "Status, Birthdate, Graduation Year, Mailing Address, Mailing City, Mailing State, Mailing Zip, Mailing Latitude, "
         "Mailing Longitude, Mailing Country, Residence Address, Residence City, Residence State, Residence Zip, Residence "
         "Latitude, Residence Longitude, Residence Country, Gender, ELL Status, FederalRace)."),
        (spec_body(dataProvider={"@odata.type": "#microsoft.graph.educationCsvDataProvider",
                                 "customizations": {"student": {"isSyncDeferred": True}}}),
         "Property 'dataProvider.customizations.student.isSyncDeferred' can be true for studentEnrollment and teacherRoster "
         "only: deferring student would leave the rows that refer to it without it."),
        (spec_body(dataProvider={"@odata.type": "#microsoft.graph.educationCsvDataProvider", "clientId": "x"}),
         "Property 'dataProvider.clientId' does not exist on type 'microsoft.graph.educationCsvDataProvider'."),
        (spec_body(dataProvider={"customizations": {}}),
         "Property 'dataProvider.@odata.type' is required: one of #microsoft.graph.educationCsvDataProvider, "
         "#microsoft.graph.educationOneRosterApiDataProvider, #microsoft.graph.educationPowerSchoolDataProvider."),
        (spec_body(dataProvider={"@odata.type": "#microsoft.graph.educationPowerSchoolDataProvider", "connectionUrl": "https://ps"}),
         "An educationPowerSchoolDataProvider needs dataProvider.clientId, dataProvider.schoolYear, dataProvider.clientSecret, "
         "dataProvider.schoolsIds."),
        (spec_body(identitySynchronizationConfiguration={
            "@odata.type": "#microsoft.graph.educationIdentityCreationConfiguration",
            "userDomains": [{"appliesTo": "student", "name": "a.edu"}, {"appliesTo": "student", "name": "b.edu"}]}),
         "A profile has one user domain per role: 'a.edu' and 'b.edu' both apply to students."),
        (spec_body(licensesToAssign=[{"appliesTo": "parent", "skuIds": []}]),
         "Invalid value for property 'licensesToAssign[0].appliesTo': 'parent' is not a role a profile can configure; "
         "use one of student, teacher, faculty."),
        (spec_body(expirationDate="2099-01-01"), None),
        (spec_body(colour="red"), "Property 'colour' does not exist on type 'microsoft.graph.educationSynchronizationProfile' or is read-only."),
    ]
    for body, message in cases:
        r = admin.post(PROFILES, json=body)
        assert r.status_code == 400, (body, r.text)
        if message:
            assert r.json()["error"]["message"] == message
        else:
            assert r.json()["error"]["message"].startswith("Invalid value for property 'expirationDate': at most 18 months after")
    assert admin.get(f"{PROFILES}/$count").text == "0", "nothing refused was kept"
