"""``/beta/$metadata`` read by an OData v4 client library (python-odata), the service document, and the OpenAPI
document's entity schemas: each describes exactly the JSON the routes answer."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from apitools import BASE, Api, Client, make_file_connector, make_source, make_year
from odata import ODataService
from odata.property import PropertyBase

from homeroom.settings import Settings

SAMPLE = Path(__file__).parents[1] / "fixtures" / "microsoft" / "sds-v2.1"
SETS = f"{BASE}/outboundProvisioningFlowSets"


def _wait(client: Client, location: str) -> dict:
    deadline = time.time() + 60
    while (body := client.get("/beta" + location.split("/beta", 1)[1]).json())["status"] in ("notStarted", "running"):
        assert time.time() < deadline, body
        time.sleep(0.05)
    return body


def _created(response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> tuple[Api, dict[str, dict]]:
    """One JSON answer (a GET) of every concrete type, by ``@odata.type``, created through the API."""
    api = Api(Settings(data_dir=tmp_path_factory.mktemp("metadata") / "data"))
    admin = api.client("contoso")
    source, year = make_source(admin), make_year(admin)
    connector = make_file_connector(admin, source["id"])
    _created(admin.post(f"{BASE}/dataConnectors", json={
        "@odata.type": "#microsoft.graph.industryData.oneRosterApiDataConnector", "displayName": "OneRoster",
        "sourceSystem@odata.bind": f"sourceSystems/{source['id']}", "apiFormat": "oneRoster",
        "baseUrl": "https://sis.example.org/ims/oneroster/v1p1", "apiVersion": "1.1",
        "credential": {"@odata.type": "#microsoft.graph.industryData.oAuth2ClientCredential", "displayName": "c",
                       "clientId": "id", "clientSecret": "secret", "tokenUrl": "https://sis.example.org/token"},
        "isDemographicsEnabled": False, "isFlagsEnabled": False, "isContactsEnabled": False}))
    _created(admin.post(f"{BASE}/inboundFlows", json={
        "@odata.type": "#microsoft.graph.industryData.inboundFileFlow", "displayName": "Flow", "dataDomain": "educationRostering",
        "effectiveDateTime": "2020-01-01T00:00:00Z", "dataConnector@odata.bind": f"dataConnectors/{connector['id']}",
        "year@odata.bind": f"years/{year['id']}"}))
    flow_set = _created(admin.post(SETS, json={"displayName": "Set", "filter": {
        "@odata.type": "#microsoft.graph.industryData.basicFilter", "attribute": "orgExternalId", "in": ["1"]}}))
    for kind in ("userProvisioningFlow", "classGroupProvisioningFlow", "administrativeUnitProvisioningFlow",
                 "securityGroupProvisioningFlow"):
        _created(admin.post(f"{SETS}/{flow_set['id']}/provisioningFlows", json={"@odata.type": f"#microsoft.graph.industryData.{kind}"}))
    session = _created(admin.get(f"{BASE}/dataConnectors/{connector['id']}/getUploadSession"))
    for path in sorted(SAMPLE.glob("*.csv")):
        api.app.state.blob_store.put_blob(session["containerId"], path.name, [path.read_bytes()])
    _wait(admin, admin.post(f"{BASE}/dataConnectors/{connector['id']}/validate").headers["Location"])
    run_id = _wait(admin, admin.post(f"{BASE}/runs/start").headers["Location"])["resourceLocation"].rsplit("/", 1)[1]
    collections = [f"{BASE}/{name}" for name in ("sourceSystems", "years", "dataConnectors", "inboundFlows", "referenceDefinitions",
                                                 "roleGroups", "runs", "operations", "outboundProvisioningFlowSets")]
    collections += [f"{BASE}/runs/{run_id}/activities", f"{SETS}/{flow_set['id']}/provisioningFlows"]
    found: dict[str, dict] = {}
    for collection in collections:
        for item in _created(admin.get(f"{collection}?$top=20"))["value"]:
            type_name = item["@odata.type"].lstrip("#")
            if type_name not in found:  # GET each kind by its key, as a client would
                found[type_name] = _created(admin.get(f"{collection}/{item['id']}"))
    return api, found


EXPECTED_TYPES = {f"microsoft.graph.industryData.{t}" for t in (
    "sourceSystemDefinition", "yearTimePeriodDefinition", "azureDataLakeConnector", "oneRosterApiDataConnector", "inboundFileFlow",
    "referenceDefinition", "roleGroup", "industryDataRun", "inboundFlowActivity", "fileValidateOperation",
    "outboundProvisioningFlowSet", "userProvisioningFlow", "classGroupProvisioningFlow", "administrativeUnitProvisioningFlow",
    "securityGroupProvisioningFlow")} | {"microsoft.graph.longRunningOperation"}


def _properties(answer: dict) -> set[str]:
    return {k for k in answer if not k.startswith("@")}


def test_metadata_is_served_without_a_token_as_xml(answers):
    api, _ = answers
    r = api.http.get("/beta/$metadata")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(r.content)
    assert root.tag == "{http://docs.oasis-open.org/odata/ns/edmx}Edmx" and root.get("Version") == "4.0"
    assert api.http.get("/beta/$METADATA").status_code == 200


def test_an_odata_client_reads_the_metadata_and_every_entity_type_has_the_properties_of_its_json(answers):
    api, found = answers
    assert set(found) == EXPECTED_TYPES
    service = ODataService("http://testserver/beta/", session=api.http, reflect_entities=True, quiet_progress=True)
    types = service.types
    assert set(service.entities) == {"external"}
    for type_name, answer in found.items():
        entity = types[type_name]
        names = {v.name for klass in entity.__mro__ for v in vars(klass).values() if isinstance(v, PropertyBase)
                 and not getattr(v, "is_navigation", False)}
        assert names == _properties(answer), type_name


def test_metadata_declares_enums_navigations_actions_and_functions(answers):
    api, _ = answers
    root = ET.fromstring(api.http.get("/beta/$metadata").content)
    edm = {"edm": "http://docs.oasis-open.org/odata/ns/edm"}
    industry = root.find("*/edm:Schema[@Namespace='microsoft.graph.industryData']", edm)
    run_status = industry.find("edm:EnumType[@Name='industryDataRunStatus']", edm)
    assert [m.get("Name") for m in run_status] == ["running", "failed", "completed", "completedWithErrors",
                                                     "completedWithWarnings", "unknownFutureValue"]
    assert industry.find("edm:EnumType[@Name='readinessStatus']", edm) is not None
    run = industry.find("edm:EntityType[@Name='industryDataRun']", edm)
    assert run.find("edm:Property[@Name='status']", edm).get("Type") == "microsoft.graph.industryData.industryDataRunStatus"
    assert run.find("edm:Property[@Name='blockingError']", edm).get("Type") == "graph.publicError"
    assert run.find("edm:NavigationProperty[@Name='activities']", edm).attrib == {
        "Name": "activities", "Type": "Collection(microsoft.graph.industryData.industryDataRunActivity)", "ContainsTarget": "true"}
    connector = industry.find("edm:EntityType[@Name='industryDataConnector']", edm)
    assert connector.find("edm:NavigationProperty[@Name='sourceSystem']", edm).get("Type") == \
        "microsoft.graph.industryData.sourceSystemDefinition"
    operation = industry.find("edm:EntityType[@Name='validateOperation']", edm)
    assert operation.get("BaseType") == "graph.longRunningOperation"
    assert {(e.tag.split("}")[1], e.get("Name")) for e in industry if e.get("IsBound") == "true"} == {
        ("Function", "getUploadSession"), ("Action", "validate"), ("Action", "start"), ("Function", "getStatistics"),
        ("Action", "reset")}
    graph = root.find("*/edm:Schema[@Namespace='microsoft.graph']", edm)
    assert graph.get("Alias") == "graph"
    assert graph.find("edm:EntityContainer/edm:Singleton", edm).attrib == {
        "Name": "external", "Type": "microsoft.graph.externalConnectors.external"}


def test_the_service_document_lists_the_singleton_without_a_token(answers):
    api, _ = answers
    for path in ("/beta/", "/beta"):
        r = api.http.get(path)
        assert r.status_code == 200, path
        assert r.json() == {"@odata.context": "http://testserver/beta/$metadata",
                            "value": [{"name": "external", "kind": "Singleton", "url": "external"}]}


def _schema_properties(document: dict, schema: dict) -> set[str]:
    if "$ref" in schema:
        return _schema_properties(document, document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names |= _schema_properties(document, part)
    return {n for n in names if not n.startswith("@")}


def test_the_openapi_schema_of_each_entity_has_exactly_the_properties_of_its_json(answers):
    api, found = answers
    document = api.http.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    for type_name, answer in found.items():
        assert _schema_properties(document, schemas[type_name]) == _properties(answer), type_name
    one = document["paths"][f"{BASE}/dataConnectors/{{key}}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    refs = {s["$ref"].rsplit("/", 1)[1] for s in one["allOf"][0]["oneOf"]}
    assert refs == {"microsoft.graph.industryData.azureDataLakeConnector", "microsoft.graph.industryData.oneRosterApiDataConnector"}
    listed = document["paths"][f"{BASE}/runs"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["properties"]["value"]["items"] == {"$ref": "#/components/schemas/microsoft.graph.industryData.industryDataRun"}


def test_the_openapi_document_lists_microsofts_qualified_action_paths(answers):
    api, _ = answers
    paths = api.http.get("/openapi.json").json()["paths"]
    for path, method in (
        ("dataConnectors/{key}/microsoft.graph.industryData.validate", "post"),
        ("dataConnectors/{key}/microsoft.graph.industryData.azureDataLakeConnector/microsoft.graph.industryData.getUploadSession()", "get"),
        ("runs/microsoft.graph.industryData.start", "post"),
        ("runs/microsoft.graph.industryData.getStatistics()", "get"),
        ("runs/{key}/microsoft.graph.industryData.getStatistics()", "get"),
        ("outboundProvisioningFlowSets/{key}/provisioningFlows/{item}/microsoft.graph.industryData.reset", "post"),
    ):
        assert method in paths[f"{BASE}/{path}"], path
