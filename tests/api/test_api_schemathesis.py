"""A bounded schemathesis run: requests generated from the served OpenAPI document never get a 5xx."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from apitools import BASE, Api, make_file_connector, make_source, make_year  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

from homeroom.settings import Settings  # noqa: E402


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    """An app with some data, and a token with every permission."""
    api = Api(Settings(data_dir=tmp_path_factory.mktemp("fuzz") / "data", api_throttle_calls=1_000_000))
    admin = api.client("contoso")
    source = make_source(admin)
    connector = make_file_connector(admin, source["id"])
    year = make_year(admin)
    admin.post(f"{BASE}/inboundFlows", json={
        "@odata.type": "#microsoft.graph.industryData.inboundFileFlow", "dataConnector@odata.bind": f"dataConnectors/{connector['id']}",
        "year@odata.bind": f"years/{year['id']}", "dataDomain": "educationRostering", "displayName": "Flow",
        "effectiveDateTime": "2025-01-01T00:00:00Z"})
    return api, admin


def test_no_operation_answers_a_server_error(fuzzed):
    api, admin = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 45
    failures: list[str] = []
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call(headers=admin.headers)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} {case.body!r} -> {response.status_code}")

        run()
    assert failures == []
    assert len(statuses) > 200 and {200, 400, 404} <= set(statuses)
