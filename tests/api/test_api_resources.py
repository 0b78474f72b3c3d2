"""industryData resources over HTTP: CRUD status codes, bodies, Location headers, bindings and computed fields."""

from __future__ import annotations

from apitools import BASE, make_file_connector, make_source, make_year

from homeroom.store.models import Run, RunActivity


def _error(response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]["message"]


def test_root_lists_nothing_but_its_id_and_expands_collections(admin):
    r = admin.get(BASE)
    assert r.status_code == 200
    body = r.json()
    assert body["@odata.type"] == "#microsoft.graph.industryData.industryDataRoot" and body["id"] == "contoso"
    expanded = admin.get(BASE, params={"$expand": "roleGroups"}).json()
    assert [g["id"] for g in expanded["roleGroups"]] == ["staff", "students"]


def test_source_system_crud(admin):
    r = admin.post(f"{BASE}/sourceSystems", json={
        "displayName": "Rostering source",
        "userMatchingSettings": [
            {"matchTarget": {"code": "userPrincipalName"}, "priorityOrder": 0,
             "roleGroup@odata.bind": "https://graph.microsoft.com/beta/external/industryData/roleGroups/staff",
             "sourceIdentifier": {"code": "username"}},
            {"matchTarget": {"code": "userPrincipalName"}, "priorityOrder": 1,
             "roleGroup@odata.bind": "https://graph.microsoft.com/beta/external/industryData/roleGroups('students')",
             "sourceIdentifier": {"code": "username"}}]})
    assert r.status_code == 201
    created = r.json()
    assert r.headers["location"] == f"http://testserver/beta/external/industryData/sourceSystems/{created['id']}"
    assert created["@odata.context"] == "http://testserver/beta/$metadata#external/industryData/sourceSystems/$entity"
    assert created["displayName"] == "Rostering source" and created["vendor"] is None
    assert created["userMatchingSettings"] == [
        {"priorityOrder": 0, "sourceIdentifier": {"code": "username"}, "matchTarget": {"code": "userPrincipalName"}},
        {"priorityOrder": 1, "sourceIdentifier": {"code": "username"}, "matchTarget": {"code": "userPrincipalName"}}]
    item = f"{BASE}/sourceSystems/{created['id']}"
    patched = admin.patch(item, json={"vendor": "Contoso SIS"})
    assert patched.status_code == 204 and patched.content == b""
    assert admin.get(item).json()["vendor"] == "Contoso SIS"
    assert admin.delete(item).status_code == 204
    assert _error(admin.get(item), 404) == f"sourceSystemDefinition '{created['id']}' was not found."


def test_duplicate_source_system_name_is_409(admin):
    make_source(admin, "SIS")
    assert admin.post(f"{BASE}/sourceSystems", json={"displayName": "SIS"}).status_code == 409


def test_unknown_property_and_wrong_type_are_400_naming_the_property(admin):
    msg = _error(admin.post(f"{BASE}/sourceSystems", json={"displayName": "x", "colour": "red"}), 400)
    assert msg == "Property 'colour' does not exist on type 'microsoft.graph.industryData.sourceSystemDefinition' or is read-only."
    msg = _error(admin.post(f"{BASE}/sourceSystems", json={"displayName": 5}), 400)
    assert msg.startswith("Invalid value for property 'displayName'")
    msg = _error(admin.post(f"{BASE}/referenceDefinitions", json={
        "referenceType": "RefGradeLevel", "code": "X", "isDisabled": False, "sortIndex": "1"}), 400)
    assert msg.startswith("Invalid value for property 'sortIndex'")
    msg = _error(admin.post(f"{BASE}/years", json={"displayName": "x", "startDate": "2025-13-01", "endDate": "2026-07-31",
                                                    "year": {"code": "2026"}}), 400)
    assert msg.startswith("Invalid value for property 'startDate'")
    assert _error(admin.post(f"{BASE}/sourceSystems", json={"vendor": "x"}), 400) == \
        "Property 'displayName' is required to create a sourceSystemDefinition."
    assert _error(admin.post(f"{BASE}/sourceSystems", content=b"{not json", headers={"Content-Type": "application/json"}), 400) \
        .startswith("The request body is not valid JSON")
    assert _error(admin.post(f"{BASE}/sourceSystems", json=[1]), 400) == "The request body must be a JSON object."


def test_year_crud_and_validation(admin):
    r = admin.post(f"{BASE}/years", json={"displayName": "Fiscal Year 2022", "startDate": "2022-09-01", "endDate": "2023-06-15",
                                          "year": {"@odata.type": "#microsoft.graph.industryData.yearReferenceValue", "code": "2022"}})
    assert r.status_code == 201
    year = r.json()
    assert {k: year[k] for k in ("displayName", "startDate", "endDate")} == \
        {"displayName": "Fiscal Year 2022", "startDate": "2022-09-01", "endDate": "2023-06-15"}
    assert year["year"]["code"] == "2022"
    item = f"{BASE}/years/{year['id']}"
    assert admin.patch(item, json={"endDate": "2023-06-30"}).status_code == 204
    assert admin.get(item).json()["endDate"] == "2023-06-30"
    assert _error(admin.patch(item, json={"endDate": "2020-01-01"}), 400) == "Invalid value for property 'endDate': it is before 'startDate'."
    assert admin.post(f"{BASE}/years", json={"displayName": "dup", "startDate": "2022-09-01", "endDate": "2023-06-15",
                                             "year": {"code": "2022"}}).status_code == 409
    assert "four-digit" in _error(admin.post(f"{BASE}/years", json={"displayName": "bad", "startDate": "2022-09-01",
                                                                    "endDate": "2023-06-15", "year": {"code": "22"}}), 400)


def test_file_connector_crud(admin):
    source = make_source(admin)
    connector = make_file_connector(admin, source["id"])
    assert connector["@odata.type"] == "#microsoft.graph.industryData.azureDataLakeConnector"
    assert connector["fileFormat"]["code"] == "schoolDataSyncV2Rev1"
    item = f"{BASE}/dataConnectors/{connector['id']}"
    assert admin.get(f"{item}/sourceSystem").json()["id"] == source["id"]
    assert admin.patch(item, json={"fileFormat": {"code": "schoolDataSyncV1"}}).status_code == 204
    assert admin.get(item).json()["fileFormat"]["code"] == "schoolDataSyncV1"
    assert "not an enabled RefFileFormat" in _error(admin.patch(item, json={"fileFormat": {"code": "csv"}}), 400)
    assert "does not exist on type" in _error(admin.patch(item, json={"baseUrl": "https://x"}), 400)
    # A connector keeps its source system: deleting the source first is a conflict.
    assert admin.delete(f"{BASE}/sourceSystems/{source['id']}").status_code == 409
    assert admin.delete(item).status_code == 204
    assert admin.delete(f"{BASE}/sourceSystems/{source['id']}").status_code == 204


def test_connector_needs_a_concrete_type_and_a_source(admin):
    source = make_source(admin)
    assert "'@odata.type' is required" in _error(admin.post(f"{BASE}/dataConnectors", json={"displayName": "c"}), 400)
    assert "sourceSystem@odata.bind" in _error(admin.post(f"{BASE}/dataConnectors", json={
        "@odata.type": "#microsoft.graph.industryData.azureDataLakeConnector", "displayName": "c"}), 400)
    assert "Invalid @odata.type" in _error(admin.post(f"{BASE}/dataConnectors", json={
        "@odata.type": "#microsoft.graph.industryData.fileDataConnector", "displayName": "c",
        "sourceSystem@odata.bind": f"sourceSystems/{source['id']}"}), 400)


def test_oneroster_connector_credentials_are_write_only(admin):
    source = make_source(admin)
    r = admin.post(f"{BASE}/dataConnectors", json={
        "@odata.type": "#microsoft.graph.industryData.oneRosterApiDataConnector", "displayName": "Generic OAuth2 Connector",
        "sourceSystem@odata.bind": f"external/industryData/sourceSystems/{source['id']}",
        "apiFormat": "oneRoster", "baseUrl": "https://fakeProvider.net/ims/oneroster/v1p1", "apiVersion": "1.1",
        "credential": {"@odata.type": "#microsoft.graph.industryData.oAuth2ClientCredential",
                       "displayName": "One Roster API Credentials", "clientId": "530be723", "clientSecret": "thisIsASecret",
                       "tokenUrl": "https://login.example.org/token", "scope": None},
        "isDemographicsEnabled": False, "isFlagsEnabled": False, "isContactsEnabled": False})
    assert r.status_code == 201, r.text
    body = r.json()
    assert "thisIsASecret" not in r.text and "clientSecret" not in body["credential"]
    assert body["credential"] == {"@odata.type": "#microsoft.graph.industryData.oAuth2ClientCredential",
                                  "displayName": "One Roster API Credentials", "clientId": "530be723", "isValid": None,
                                  "lastValidDateTime": None, "tokenUrl": "https://login.example.org/token", "scope": None}
    item = f"{BASE}/dataConnectors/{body['id']}"
    assert "thisIsASecret" not in admin.get(item).text
    assert "thisIsASecret" not in admin.get(f"{BASE}/dataConnectors", params={"$select": "credential"}).text
    assert admin.patch(item, json={"baseUrl": "https://other.example.org/ims/oneroster/v1p2", "apiVersion": "1.2"}).status_code == 204
    assert admin.get(item).json()["apiVersion"] == "1.2"
    missing = admin.post(f"{BASE}/dataConnectors", json={
        "@odata.type": "#microsoft.graph.industryData.oneRosterApiDataConnector", "displayName": "x",
        "sourceSystem@odata.bind": f"sourceSystems/{source['id']}"})
    assert "is required to create a oneRosterApiDataConnector" in _error(missing, 400)


def test_inbound_flow_crud_with_binds_and_readiness(admin):
    source = make_source(admin)
    connector = make_file_connector(admin, source["id"])
    year = make_year(admin)
    r = admin.post(f"{BASE}/inboundFlows", json={
        "@odata.type": "#microsoft.graph.industryData.inboundFileFlow",
        "dataConnector@odata.bind": f"https://graph.microsoft.com/beta/external/industryData/dataConnectors/{connector['id']}",
        "year@odata.bind": f"https://graph.microsoft.com/beta/external/industryData/years/{year['id']}",
        "dataDomain": "educationRostering", "displayName": "Inbound rostering flow",
        "effectiveDateTime": "2023-03-12T16:40:46.924769+05:30", "expirationDateTime": "2099-03-13T16:40:46.924769+05:30"})
    assert r.status_code == 201, r.text
    flow = r.json()
    assert flow["effectiveDateTime"] == "2023-03-12T11:10:46.924769Z"
    assert flow["expirationDateTime"] == "2099-03-13T11:10:46.924769Z"
    assert flow["readinessStatus"] == "ready" and flow["@odata.type"] == "#microsoft.graph.industryData.inboundFileFlow"
    item = f"{BASE}/inboundFlows/{flow['id']}"
    assert admin.get(f"{item}/dataConnector").json()["id"] == connector["id"]
    assert admin.get(f"{item}/year").json()["id"] == year["id"]
    expanded = admin.get(item, params={"$expand": "dataConnector"}).json()
    assert expanded["dataConnector"]["displayName"] == "CSV connector"
    assert admin.patch(item, json={"@odata.type": "#microsoft.graph.industryData.inboundFileFlow",
                                   "expirationDateTime": "2024-01-01T00:00:00Z"}).status_code == 204
    assert admin.get(item).json()["readinessStatus"] == "expired"
    assert admin.delete(f"{BASE}/dataConnectors/{connector['id']}").status_code == 409
    assert admin.delete(item).status_code == 204


def test_flow_type_must_match_connector_and_a_connector_without_a_format_is_ready(admin):
    source = make_source(admin)
    year = make_year(admin)
    r = admin.post(f"{BASE}/dataConnectors", json={
        "@odata.type": "#microsoft.graph.industryData.azureDataLakeConnector", "displayName": "no format",
        "sourceSystem@odata.bind": f"sourceSystems('{source['id']}')"})
    connector = r.json()
    body = {"dataConnector@odata.bind": f"dataConnectors/{connector['id']}", "year@odata.bind": f"years/{year['id']}",
            "dataDomain": "educationRostering", "displayName": "f", "effectiveDateTime": "2025-01-01T00:00:00Z"}
    msg = _error(admin.post(f"{BASE}/inboundFlows", json={"@odata.type": "#microsoft.graph.industryData.inboundApiFlow", **body}), 400)
    assert "an inboundApiFlow needs an oneRosterApiDataConnector" in msg
    flow = admin.post(f"{BASE}/inboundFlows", json={"@odata.type": "microsoft.graph.industryData.INBOUNDFILEFLOW", **body}).json()
    assert flow["readinessStatus"] == "ready", "it takes the format its first validation detects"


def test_reference_definitions_seeded_added_disabled(admin):
    listed = admin.get(f"{BASE}/referenceDefinitions", params={"$filter": "referenceType eq 'RefIdentifierType'"}).json()["value"]
    username = next(d for d in listed if d["code"] == "username")
    assert username["createdDateTime"] == "0001-01-01T00:00:00Z" and username["isDisabled"] is False
    r = admin.post(f"{BASE}/referenceDefinitions", json={
        "@odata.type": "#microsoft.graph.industryData.referenceDefinition", "referenceType": "RefGradeLevel", "code": "TestGrade",
        "isDisabled": False, "sortIndex": 310, "displayName": "New Test Grade Level"})
    assert r.status_code == 201
    created = r.json()
    assert created["id"] == "RefGradeLevel-TestGrade" and created["source"] == "Tenant Defined"
    assert r.headers["location"].endswith("/referenceDefinitions/RefGradeLevel-TestGrade")
    assert admin.post(f"{BASE}/referenceDefinitions", json={"referenceType": "RefRole", "code": "x", "isDisabled": False,
                                                            "sortIndex": 5000}).status_code == 400
    assert admin.post(f"{BASE}/referenceDefinitions", json={"referenceType": "RefGradeLevel", "code": "TestGrade",
                                                            "isDisabled": False, "sortIndex": 301}).status_code == 409
    assert admin.patch(f"{BASE}/referenceDefinitions/RefGradeLevel-TestGrade", json={"displayName": "Renamed"}).status_code == 204
    assert admin.delete(f"{BASE}/referenceDefinitions/RefGradeLevel-TestGrade").status_code == 204
    after = admin.get(f"{BASE}/referenceDefinitions/RefGradeLevel-TestGrade").json()
    assert after["isDisabled"] is True and after["displayName"] == "Renamed"


def test_disabled_reference_is_refused_where_it_is_used(admin):
    assert admin.delete(f"{BASE}/referenceDefinitions/RefFileFormat-schoolDataSyncV1").status_code == 204
    source = make_source(admin)
    r = admin.post(f"{BASE}/dataConnectors", json={
        "@odata.type": "#microsoft.graph.industryData.azureDataLakeConnector", "displayName": "c",
        "sourceSystem@odata.bind": f"sourceSystems/{source['id']}", "fileFormat": {"code": "schoolDataSyncV1"}})
    assert "'schoolDataSyncV1' is not an enabled RefFileFormat code" in _error(r, 400)


def test_tenant_reference_data_is_what_validation_reads(api, admin):
    from homeroom.store.references import tenant_reference_data

    admin.post(f"{BASE}/referenceDefinitions", json={"referenceType": "RefOrgType", "code": "hub", "isDisabled": False, "sortIndex": 7777})
    admin.delete(f"{BASE}/referenceDefinitions/RefGradeLevel-01")
    with api.app.state.sessions() as db:
        data = tenant_reference_data(db=db, tenant_id="contoso")
    assert "hub" in data.codes("RefOrgType") and "01" not in data.codes("RefGradeLevel")


def test_role_groups_are_seeded_and_read_only(admin):
    staff = admin.get(f"{BASE}/roleGroups('staff')").json()
    assert staff["displayName"] == "Staff" and len(staff["roles"]) == 29 and staff["roles"][0] == {"code": "adjunct"}
    r = admin.post(f"{BASE}/roleGroups", json={"displayName": "x"})
    assert r.status_code == 405 and r.json()["error"]["code"] == "MethodNotAllowed"


def _seed_run(api, admin) -> tuple[str, str, str]:
    source = make_source(admin)
    connector = make_file_connector(admin, source["id"])
    year = make_year(admin)
    flow = admin.post(f"{BASE}/inboundFlows", json={
        "@odata.type": "#microsoft.graph.industryData.inboundFileFlow", "dataConnector@odata.bind": f"dataConnectors/{connector['id']}",
        "year@odata.bind": f"years/{year['id']}", "dataDomain": "educationRostering", "displayName": "Flow",
        "effectiveDateTime": "2025-01-01T00:00:00Z"}).json()
    stats = {"errors": 2, "warnings": 1, "people": {"total": 5, "active": 4, "inactive": 1},
             "groups": {"total": 1, "active": 1, "inactive": 0}, "memberships": {"total": 3, "active": 3, "inactive": 0},
             "organizations": {"total": 1, "active": 1, "inactive": 0}, "matchedPeopleByRole": [], "unmatchedPeopleByRole": []}
    with api.app.state.sessions() as db:
        run = Run(tenant_id="contoso", display_name="Run 2026-01-01 10:00 UTC", status="completedWithErrors")
        db.add(run)
        db.flush()
        activity = RunActivity(tenant_id="contoso", run_id=run.id, flow_id=flow["id"], display_name="Flow",
                               status="completedWithErrors", statistics=stats)
        db.add(activity)
        db.commit()
        return run.id, activity.id, flow["id"]


def test_a_runs_activities_page_with_top_and_next_links(api, admin):
    run_id, first_activity, flow_id = _seed_run(api, admin)
    with api.app.state.sessions() as db:
        for i in (2, 3):
            db.add(RunActivity(tenant_id="contoso", run_id=run_id, flow_id=flow_id, display_name=f"Flow {i}", status="completed"))
        db.commit()
    activities = f"{BASE}/runs/{run_id}/activities"
    first = admin.get(f"{activities}?$top=2&$orderby=displayName").json()
    assert [a["displayName"] for a in first["value"]] == ["Flow", "Flow 2"]
    assert first["@odata.nextLink"].startswith(f"http://testserver{activities}?$top=2&$orderby=displayName&$skiptoken=")
    second = admin.get(first["@odata.nextLink"]).json()
    assert [a["displayName"] for a in second["value"]] == ["Flow 3"] and "@odata.nextLink" not in second


def test_expand_star_expands_every_navigation_the_caller_may_read(api, admin):
    run_id, activity_id, flow_id = _seed_run(api, admin)
    flow = admin.get(f"{BASE}/inboundFlows/{flow_id}", params={"$expand": "*"})
    assert flow.status_code == 200, flow.text
    body = flow.json()
    assert body["dataConnector"] == {k: v for k, v in admin.get(f"{BASE}/dataConnectors/{body['dataConnector']['id']}").json().items()
                                     if k != "@odata.context"}
    assert body["year"]["year"]["code"] == "2026"
    runs = admin.get(f"{BASE}/runs", params={"$expand": "*"}).json()["value"]
    assert [a["id"] for a in runs[0]["activities"]] == [activity_id]
    assert {k: v for k, v in runs[0].items() if k != "activities"} == admin.get(f"{BASE}/runs").json()["value"][0]
    assert admin.get(f"{BASE}/runs/{run_id}/activities", params={"$expand": "*"}).json()["value"][0]["activity"]["id"] == flow_id
    assert "sourceSystem" in admin.get(f"{BASE}/dataConnectors", params={"$expand": "*"}).json()["value"][0]
    # Without the year's permission, * leaves the year out (naming it is still a 403).
    flows_only = api.client("contoso", ["IndustryData-InboundFlow.Read.All"])
    limited = flows_only.get(f"{BASE}/inboundFlows/{flow_id}", params={"$expand": "*"})
    assert limited.status_code == 200 and "year" not in limited.json() and "dataConnector" not in limited.json()
    assert flows_only.get(f"{BASE}/inboundFlows/{flow_id}", params={"$expand": "*,year"}).status_code == 403
    # A type without navigations expands nothing.
    assert set(admin.get(f"{BASE}/years", params={"$expand": "*"}).json()["value"][0]) == set(admin.get(f"{BASE}/years").json()["value"][0])


def test_select_keeps_what_expand_asked_for(api, admin):
    """OData returns the expanded navigations whatever $select lists (they used to vanish unless also selected)."""
    run_id, activity_id, flow_id = _seed_run(api, admin)
    one = admin.get(f"{BASE}/inboundFlows/{flow_id}", params={"$select": "displayName", "$expand": "year"}).json()
    assert set(one) - {"@odata.context", "@odata.type"} == {"id", "displayName", "year"}
    assert one["year"]["year"]["code"] == "2026"
    listed = admin.get(f"{BASE}/runs", params={"$select": "status", "$expand": "activities"}).json()["value"][0]
    assert [a["id"] for a in listed["activities"]] == [activity_id] and "displayName" not in listed


def test_expand_star_on_the_root_expands_each_collection_the_caller_may_read(api, admin):
    from homeroom.api.resources import COLLECTIONS

    make_source(admin)
    root = admin.get(BASE, params={"$expand": "*"})
    assert root.status_code == 200, root.text
    assert set(root.json()) == {"@odata.context", "@odata.type", "id", *COLLECTIONS}
    assert [s["displayName"] for s in root.json()["sourceSystems"]] == ["SIS"]
    assert [g["id"] for g in root.json()["roleGroups"]] == ["staff", "students"]
    sources_only = api.client("contoso", ["IndustryData-SourceSystem.Read.All"])
    assert set(sources_only.get(BASE, params={"$expand": "*"}).json()) == {"@odata.context", "@odata.type", "id", "sourceSystems"}


def test_runs_activities_and_statistics(api, admin):
    run_id, activity_id, flow_id = _seed_run(api, admin)
    runs = admin.get(f"{BASE}/runs").json()["value"]
    assert [r["id"] for r in runs] == [run_id] and runs[0]["status"] == "completedWithErrors"
    assert runs[0]["@odata.type"] == "#microsoft.graph.industryData.industryDataRun"
    activities = admin.get(f"{BASE}/runs/{run_id}/activities").json()["value"]
    assert activities == [{"@odata.type": "#microsoft.graph.industryData.inboundFlowActivity", "id": activity_id,
                           "displayName": "Flow", "status": "completedWithErrors", "blockingError": None}]
    assert admin.get(f"{BASE}/runs/{run_id}/activities/$count").text == "1"
    assert admin.get(f"{BASE}/runs/{run_id}/activities/{activity_id}/activity").json()["id"] == flow_id
    for path in (f"runs/{run_id}/getStatistics", f"runs/{run_id}/microsoft.graph.industryData.getStatistics()",
                 "runs/microsoft.graph.industryData.getStatistics()"):
        stats = admin.get(f"{BASE}/{path}")
        assert stats.status_code == 200, path
        assert stats.json()["inboundTotals"]["people"] == 4 and stats.json()["runId"] == run_id
    assert admin.get(f"{BASE}/runs", params={"$expand": "activities"}).json()["value"][0]["activities"][0]["id"] == activity_id
    assert admin.delete(f"{BASE}/inboundFlows/{flow_id}").status_code == 409
    assert admin.post(f"{BASE}/runs", json={}).status_code == 405


def test_oversized_body_is_413(admin):
    r = admin.post(f"{BASE}/sourceSystems", content=b'{"displayName": "' + b"x" * (1024 * 1024) + b'"}',
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "RequestEntityTooLarge"


def test_reference_value_bound_with_value_odata_bind(admin):
    r = admin.post(f"{BASE}/sourceSystems", json={"displayName": "Bound", "userMatchingSettings": [{
        "sourceIdentifier": {"value@odata.bind": "external/industryData/referenceDefinitions/RefIdentifierType-username"},
        "matchTarget": {"value@odata.bind": "/beta/external/industryData/referenceDefinitions('RefUserMatchTarget-userPrincipalName')"},
        "roleGroup@odata.bind": "roleGroups('students')"}]})
    assert r.status_code == 201, r.text
    assert r.json()["userMatchingSettings"] == [{"priorityOrder": 0, "sourceIdentifier": {"code": "username"},
                                                 "matchTarget": {"code": "userPrincipalName"}}]
    wrong = admin.post(f"{BASE}/sourceSystems", json={"displayName": "Wrong", "userMatchingSettings": [{
        "sourceIdentifier": {"value@odata.bind": "referenceDefinitions/RefRole-teacher"}}]})
    assert "is not a RefIdentifierType reference definition" in _error(wrong, 400)


def test_a_role_group_written_inline_as_the_sdk_types_it_is_the_same_as_its_bind(api, admin):
    """UserMatchingSetting(role_group=RoleGroup(id="staff")) serializes as "roleGroup": {"id": "staff"}."""
    from homeroom.store.models import SourceSystem

    def setting(**group) -> dict:
        return {"sourceIdentifier": {"code": "username"}, "matchTarget": {"code": "userPrincipalName"}, **group}
    forms = {"bind": setting(**{"roleGroup@odata.bind": "roleGroups('staff')"}), "inline": setting(roleGroup={"id": "staff"}),
             "both": setting(**{"roleGroup@odata.bind": "roleGroups/staff", "roleGroup": {"id": "Staff"}}),
             "echoed": setting(roleGroup={k: v for k, v in admin.get(f"{BASE}/roleGroups/staff").json().items()
                                          if k in ("id", "displayName", "roles")})}
    for name, body in forms.items():
        r = admin.post(f"{BASE}/sourceSystems", json={"displayName": name, "userMatchingSettings": [body]})
        assert r.status_code == 201, (name, r.text)
    with api.app.state.sessions() as db:
        stored = {row.display_name: row.user_matching_settings for row in db.query(SourceSystem)}
    assert stored["bind"] == [{"priorityOrder": 0, "sourceIdentifier": {"code": "username"},
                               "matchTarget": {"code": "userPrincipalName"}, "roleGroupId": "staff"}]
    assert stored["inline"] == stored["both"] == stored["echoed"] == stored["bind"]
    r = admin.post(f"{BASE}/sourceSystems", json={"displayName": "x", "userMatchingSettings": [
        setting(**{"roleGroup@odata.bind": "roleGroups/staff", "roleGroup": {"id": "students"}})]})
    assert _error(r, 400) == ("Properties 'userMatchingSettings[0].roleGroup@odata.bind' and 'userMatchingSettings[0].roleGroup' "
                              "name different role groups ('staff' and 'students'): give one of them.")
    r = admin.post(f"{BASE}/sourceSystems", json={"displayName": "x", "userMatchingSettings": [setting(roleGroup={"id": "parents"})]})
    assert _error(r, 400) == "Invalid value for property 'userMatchingSettings[0].roleGroup': no role group 'parents'."
    r = admin.post(f"{BASE}/sourceSystems", json={"displayName": "x", "userMatchingSettings": [setting(roleGroup={"name": "staff"})]})
    assert _error(r, 400) == "Invalid value for property 'userMatchingSettings.roleGroup.id': Field required."


def test_expand_needs_the_read_permission_of_what_it_expands(api, admin):
    source = make_source(admin)
    connector = make_file_connector(admin, source["id"])
    year = make_year(admin)
    flow = admin.post(f"{BASE}/inboundFlows", json={
        "@odata.type": "#microsoft.graph.industryData.inboundFileFlow", "dataConnector@odata.bind": f"dataConnectors/{connector['id']}",
        "year@odata.bind": f"years/{year['id']}", "dataDomain": "educationRostering", "displayName": "Flow",
        "effectiveDateTime": "2025-01-01T00:00:00Z"}).json()
    flows_only = api.client("contoso", ["IndustryData-InboundFlow.Read.All"])
    assert flows_only.get(f"{BASE}/inboundFlows/{flow['id']}").status_code == 200
    assert flows_only.get(f"{BASE}/inboundFlows/{flow['id']}", params={"$expand": "dataConnector"}).status_code == 403
    assert flows_only.get(f"{BASE}/inboundFlows/{flow['id']}/year").status_code == 403
    both = api.client("contoso", ["IndustryData-InboundFlow.Read.All", "IndustryData-TimePeriod.Read.All"])
    assert both.get(f"{BASE}/inboundFlows", params={"$expand": "year", "$filter": "year/code eq '2026'"}).status_code == 400
    expanded = both.get(f"{BASE}/inboundFlows", params={"$expand": "year"}).json()["value"]
    assert expanded[0]["year"]["year"]["code"] == "2026"
    assert admin.get(f"{BASE}/years", params={"$filter": "year/code eq '2026'"}).json()["value"][0]["id"] == year["id"]
