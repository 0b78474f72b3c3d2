"""OData query options, paging, and Graph's URL tolerances (spec §0.2, §0.5)."""

from __future__ import annotations

import pytest
from apitools import BASE, Api, make_source

from homeroom.settings import Settings


@pytest.fixture
def five(admin):
    for name, vendor in (("Alpha", "A"), ("Bravo", "B"), ("Charlie", None), ("alpine", "A"), ("Delta", "D")):
        r = admin.post(f"{BASE}/sourceSystems", json={"displayName": name, "vendor": vendor})
        assert r.status_code == 201
    return admin


def _names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [i["displayName"] for i in response.json()["value"]]


def test_filter_operators(five):
    get = lambda f: _names(five.get(f"{BASE}/sourceSystems", params={"$filter": f, "$orderby": "displayName"}))  # noqa: E731
    assert get("displayName eq 'Bravo'") == ["Bravo"]
    assert get("vendor ne 'A'") == ["Bravo", "Charlie", "Delta"]
    assert get("startswith(displayName,'al')") == ["Alpha", "alpine"]
    assert get("vendor eq 'A' and displayName ne 'Alpha'") == ["alpine"]
    assert get("displayName eq 'Bravo' or vendor eq 'D'") == ["Bravo", "Delta"]
    assert get("displayName in ('Bravo', 'Delta', 'Zulu')") == ["Bravo", "Delta"]
    assert get("vendor eq null") == ["Charlie"]
    assert get("not (vendor eq 'A')") == ["Bravo", "Charlie", "Delta"]


def test_bad_filter_and_unknown_property_are_400(five):
    r = five.get(f"{BASE}/sourceSystems", params={"$filter": "colour eq 'red'"})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "Invalid $filter: property 'colour' does not exist on this resource."
    assert five.get(f"{BASE}/sourceSystems", params={"$filter": "displayName eq"}).status_code == 400
    assert five.get(f"{BASE}/sourceSystems", params={"$orderby": "colour"}).status_code == 400
    assert five.get(f"{BASE}/sourceSystems", params={"$select": "colour"}).status_code == 400
    assert five.get(f"{BASE}/sourceSystems", params={"$top": "-1"}).status_code == 400
    assert five.get(f"{BASE}/sourceSystems", params={"$expand": "colour"}).status_code == 400
    assert five.get(f"{BASE}/sourceSystems", params={"$apply": "x"}).status_code == 400


def test_orderby_top_skip_count_select(five):
    r = five.get(f"{BASE}/sourceSystems", params={"$orderby": "displayName desc", "$top": "2", "$skip": "1", "$count": "true",
                                                   "$select": "displayName"})
    body = r.json()
    assert body["@odata.count"] == 5
    assert body["value"] == [{"@odata.type": "#microsoft.graph.industryData.sourceSystemDefinition", "id": body["value"][0]["id"],
                              "displayName": "Charlie"},
                             {"@odata.type": "#microsoft.graph.industryData.sourceSystemDefinition", "id": body["value"][1]["id"],
                              "displayName": "Bravo"}]
    assert body["@odata.context"] == "http://testserver/beta/$metadata#external/industryData/sourceSystems"


def test_dollar_count_segment_is_plain_text_and_honours_filter(five):
    r = five.get(f"{BASE}/sourceSystems/$count")
    assert r.status_code == 200 and r.text == "5" and r.headers["content-type"].startswith("text/plain")
    assert five.get(f"{BASE}/sourceSystems/$count", params={"$filter": "vendor eq 'A'"}).text == "2"


def _all_pages(client, url: str) -> tuple[list[dict], int]:
    """Every item of a collection, following nextLinks, and the number of pages."""
    items, pages = [], 0
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.text
        items += r.json()["value"]
        url = r.json().get("@odata.nextLink")
        pages += 1
    return items, pages


def _token(api, position: int, **options) -> str:
    from homeroom.api.odata import QueryOptions, skiptoken

    return skiptoken(position, QueryOptions(**options), api.app.state.skiptoken_key)


def test_server_driven_paging_follows_next_links(tmp_path):
    api = Api(Settings(data_dir=tmp_path / "d", api_page_size=2))
    client = api.client("contoso")
    for i in range(5):
        make_source(client, f"S{i}")
    items, pages = _all_pages(client, f"{BASE}/sourceSystems?$orderby=displayName")
    assert [i["displayName"] for i in items] == ["S0", "S1", "S2", "S3", "S4"] and pages == 3
    # $top larger than the server's page size: pages of the server's size, to the end.
    first = client.get(f"{BASE}/sourceSystems", params={"$top": "3", "$orderby": "displayName"}).json()
    assert [i["displayName"] for i in first["value"]] == ["S0", "S1"]
    assert first["@odata.nextLink"] == (f"http://testserver{BASE}/sourceSystems?$top=3&$orderby=displayName"
                                        f"&$skiptoken={_token(api, 2, orderby='displayName')}")
    items, pages = _all_pages(client, f"{BASE}/sourceSystems?$top=3&$orderby=displayName")
    assert [i["displayName"] for i in items] == ["S0", "S1", "S2", "S3", "S4"] and pages == 3


def test_top_is_the_page_size_and_next_links_follow_while_more_remain(api, admin):
    """Graph: "$top sets the page size"; 166 reference definitions in pages of 5 are 34 pages, each item once."""
    everything = admin.get(f"{BASE}/referenceDefinitions").json()
    assert len(everything["value"]) == 100 and "@odata.nextLink" in everything  # the server's page size
    r = admin.get(f"{BASE}/referenceDefinitions?$top=5&$count=true")
    body = r.json()
    assert (len(body["value"]), body["@odata.count"]) == (5, 166)
    assert body["@odata.nextLink"] == f"http://testserver{BASE}/referenceDefinitions?$top=5&$count=true&$skiptoken={_token(api, 5)}"
    second = admin.get(body["@odata.nextLink"]).json()
    assert second["@odata.count"] == 166 and len(second["value"]) == 5
    assert second["@odata.nextLink"] == f"http://testserver{BASE}/referenceDefinitions?$top=5&$count=true&$skiptoken={_token(api, 10)}"
    items, pages = _all_pages(admin, f"{BASE}/referenceDefinitions?$top=5")
    ids = [i["id"] for i in items]
    assert pages == 34 and len(ids) == 166 and len(set(ids)) == 166
    last = admin.get(f"{BASE}/referenceDefinitions", params={"$top": "5", "$skiptoken": _token(api, 165)}).json()
    assert len(last["value"]) == 1 and "@odata.nextLink" not in last
    assert admin.get(f"{BASE}/referenceDefinitions", params={"$top": "0"}).json()["value"] == []


def test_skip_skips_and_pages_continue_after_it(tmp_path):
    api = Api(Settings(data_dir=tmp_path / "d", api_page_size=2))
    client = api.client("contoso")
    for i in range(5):
        make_source(client, f"S{i}")
    body = client.get(f"{BASE}/sourceSystems", params={"$orderby": "displayName", "$skip": "1"}).json()
    assert [i["displayName"] for i in body["value"]] == ["S1", "S2"]
    assert body["@odata.nextLink"] == (f"http://testserver{BASE}/sourceSystems?$orderby=displayName"
                                       f"&$skiptoken={_token(api, 3, orderby='displayName')}")
    items, _ = _all_pages(client, f"{BASE}/sourceSystems?$orderby=displayName&$skip=1")
    assert [i["displayName"] for i in items] == ["S1", "S2", "S3", "S4"]


def test_a_skiptoken_of_another_query_or_edited_by_hand_is_a_clear_400(api, admin):
    message = ("Invalid value for query option '$skiptoken': it is not a token of this server for this query "
               "(take $skiptoken from an @odata.nextLink, unchanged, with the same $filter, $orderby and $search).")
    good = admin.get(f"{BASE}/referenceDefinitions?$top=5").json()["@odata.nextLink"]
    assert admin.get(good).status_code == 200
    token = good.rsplit("$skiptoken=", 1)[1]
    import base64

    position, signature = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(".")
    edited = base64.urlsafe_b64encode(f"50.{signature}".encode()).decode().rstrip("=")
    for bad in ("5", "garbage", "!!", edited, token[:-2]):
        r = admin.get(f"{BASE}/referenceDefinitions", params={"$top": "5", "$skiptoken": bad})
        assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["message"]) == (400, "BadRequest", message), bad
    other_query = admin.get(f"{BASE}/referenceDefinitions", params={"$top": "5", "$orderby": "code", "$skiptoken": token})
    assert other_query.status_code == 400 and other_query.json()["error"]["message"] == message
    both = admin.get(f"{BASE}/referenceDefinitions", params={"$skip": "1", "$skiptoken": token})
    assert both.status_code == 400 and both.json()["error"]["message"] == (
        "Query options '$skip' and '$skiptoken' cannot be combined: a $skiptoken already says where the page starts.")
    assert Api(Settings(data_dir=api.settings.data_dir.parent / "other")).client("contoso").get(good).status_code == 400


def test_keys_in_parentheses_and_segment_case(admin):
    source = make_source(admin)
    for path in (f"sourceSystems('{source['id']}')", f"SourceSystems/{source['id']}", f"SOURCESYSTEMS({source['id']})"):
        r = admin.get(f"{BASE}/{path}")
        assert r.status_code == 200, path
        assert r.json()["id"] == source["id"]
    assert admin.get("/BETA/External/IndustryData/roleGroups('students')").json()["displayName"] == "Students"


def test_type_cast_segment_is_accepted(admin):
    from apitools import make_file_connector

    source = make_source(admin, "Cast SIS")
    connector = make_file_connector(admin, source["id"])
    r = admin.get(f"{BASE}/dataConnectors/{connector['id']}/microsoft.graph.industryData.azureDataLakeConnector/sourceSystem")
    assert r.status_code == 200
    assert (r.json()["id"], r.json()["displayName"]) == (source["id"], "Cast SIS")


def test_odata_type_resolved_by_last_segment_case_insensitively(admin):
    source = make_source(admin)
    for i, value in enumerate(("microsoft.graph.industryData.azureDataLakeConnector", "#Microsoft.Foreign.AZUREDATALAKECONNECTOR")):
        r = admin.post(f"{BASE}/dataConnectors", json={"@odata.type": value, "displayName": f"c{i}",
                                                       "sourceSystem@odata.bind": f"sourceSystems/{source['id']}"})
        assert r.status_code == 201, value
        assert r.json()["@odata.type"] == "#microsoft.graph.industryData.azureDataLakeConnector"


def test_unknown_route_is_graph_404_and_request_ids_echo(admin):
    r = admin.get(f"{BASE}/nothingHere", headers={"client-request-id": "abc-123"})
    assert r.status_code == 404
    body = r.json()
    assert body["error"]["code"] == "ResourceNotFound"
    assert body["error"]["innerError"]["client-request-id"] == "abc-123"
    assert r.headers["client-request-id"] == "abc-123"
    ok = admin.get(f"{BASE}/roleGroups")
    assert len(ok.headers["request-id"]) == 36


def test_openapi_lists_every_route(api):
    spec = api.http.get("/openapi.json").json()
    paths = spec["paths"]
    for collection in ("sourceSystems", "years", "dataConnectors", "inboundFlows", "referenceDefinitions"):
        assert set(paths[f"{BASE}/{collection}"]) == {"get", "post"}
        assert set(paths[f"{BASE}/{collection}/{{key}}"]) == {"get", "patch", "delete"}
        assert "$count" in str(paths[f"{BASE}/{collection}/$count"]) or paths[f"{BASE}/{collection}/$count"]["get"]
        ref = paths[f"{BASE}/{collection}"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert schema["additionalProperties"] is False
    assert set(paths[f"{BASE}/roleGroups"]) == {"get"}
    assert "/{tenant}/oauth2/v2.0/token" in paths
    # Every $ref resolves inside the document.
    import re

    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', __import__("json").dumps(spec))):
        assert ref in spec["components"]["schemas"], ref
    assert paths[f"{BASE}/sourceSystems"]["get"]["security"] == [{"graphToken": []}]
    assert {p["name"] for p in paths[f"{BASE}/sourceSystems"]["get"]["parameters"]} >= {"$top", "$skip", "$filter", "$count"}


def test_deeply_nested_or_long_filter_is_400_not_500(admin):
    r = admin.get(f"{BASE}/sourceSystems", params={"$filter": "(" * 500 + "displayName eq 'x'" + ")" * 500})
    assert r.status_code == 400 and "nested deeper" in r.json()["error"]["message"]
    r = admin.get(f"{BASE}/sourceSystems", params={"$filter": "not " * 500 + "displayName eq 'x'"})
    assert r.status_code == 400
    r = admin.get(f"{BASE}/sourceSystems", params={"$filter": "displayName eq '" + "x" * 5000 + "'"})
    assert r.status_code == 400


def test_unexpected_error_is_graph_500_without_traceback(api, admin, monkeypatch):
    from fastapi.testclient import TestClient

    from homeroom.api.resources import ROLE_GROUPS

    def broken(**_kw):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ROLE_GROUPS, "list", broken)
    r = TestClient(api.app, raise_server_exceptions=False).get(f"{BASE}/roleGroups", headers=admin.headers)
    assert r.status_code == 500
    body = r.json()
    assert body["error"]["code"] == "generalException" and "secret internals" not in r.text and "Traceback" not in r.text
    assert body["error"]["innerError"]["request-id"] == r.headers["request-id"]
