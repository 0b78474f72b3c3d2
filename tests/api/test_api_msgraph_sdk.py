"""Conformance: Microsoft's msgraph-beta-sdk, its request adapter pointed at Homeroom (spec Appendix D).

The server runs in-process under uvicorn on a free loopback port; each test drives it through the SDK's
typed request builders and models, so ids, ``@odata.type`` polymorphism and bindings round-trip as a Graph
client sees them.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import pytest
from apitools import Api, live_server

pytest.importorskip("msgraph_beta")

from kiota_abstractions.api_error import APIError  # noqa: E402
from kiota_abstractions.base_request_configuration import RequestConfiguration  # noqa: E402
from msgraph_beta import GraphServiceClient  # noqa: E402
from msgraph_beta.generated.models.industry_data.api_format import ApiFormat  # noqa: E402
from msgraph_beta.generated.models.industry_data.azure_data_lake_connector import AzureDataLakeConnector  # noqa: E402
from msgraph_beta.generated.models.industry_data.file_format_reference_value import FileFormatReferenceValue  # noqa: E402
from msgraph_beta.generated.models.industry_data.inbound_domain import InboundDomain  # noqa: E402
from msgraph_beta.generated.models.industry_data.inbound_file_flow import InboundFileFlow  # noqa: E402
from msgraph_beta.generated.models.industry_data.o_auth2_client_credential import OAuth2ClientCredential  # noqa: E402
from msgraph_beta.generated.models.industry_data.one_roster_api_data_connector import OneRosterApiDataConnector  # noqa: E402
from msgraph_beta.generated.models.industry_data.readiness_status import ReadinessStatus  # noqa: E402
from msgraph_beta.generated.models.industry_data.reference_definition import ReferenceDefinition  # noqa: E402
from msgraph_beta.generated.models.industry_data.source_system_definition import SourceSystemDefinition  # noqa: E402
from msgraph_beta.generated.models.industry_data.year_reference_value import YearReferenceValue  # noqa: E402
from msgraph_beta.generated.models.industry_data.year_time_period_definition import YearTimePeriodDefinition  # noqa: E402

from msgraph_beta.generated.models.industry_data.reference_definition_collection_response import (  # noqa: E402
    ReferenceDefinitionCollectionResponse,
)
from msgraph_core import PageIterator  # noqa: E402

from homeroom.settings import Settings  # noqa: E402
from sdktools import graph_client  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Homeroom under uvicorn on 127.0.0.1:<free port>, and its Api helper for tokens."""
    api = Api(Settings(data_dir=tmp_path_factory.mktemp("sdk") / "data", api_page_size=3, api_throttle_calls=10_000))
    with live_server(api) as port:
        yield api, port


def _client(server, tenant: str = "contoso", permissions: list[str] | None = None) -> GraphServiceClient:
    api, port = server
    return graph_client(port, api.client(tenant, permissions).token)


def _run(coro):
    return asyncio.run(coro)


def test_sdk_source_system_and_year_round_trip(server):
    async def scenario():
        graph = _client(server).external.industry_data
        created = await graph.source_systems.post(SourceSystemDefinition(display_name="SDK source", vendor="Contoso"))
        assert isinstance(created, SourceSystemDefinition) and created.id and created.vendor == "Contoso"
        got = await graph.source_systems.by_source_system_definition_id(created.id).get()
        assert got.display_name == "SDK source"
        await graph.source_systems.by_source_system_definition_id(created.id).patch(SourceSystemDefinition(vendor="Fabrikam"))
        assert (await graph.source_systems.by_source_system_definition_id(created.id).get()).vendor == "Fabrikam"
        year = await graph.years.post(YearTimePeriodDefinition(
            display_name="SDK year", start_date=date(2025, 8, 1), end_date=date(2026, 7, 31), year=YearReferenceValue(code="2026")))
        assert year.start_date == date(2025, 8, 1) and year.year.code == "2026"
        await graph.years.by_year_time_period_definition_id(year.id).delete()
        with pytest.raises(APIError) as error:
            await graph.years.by_year_time_period_definition_id(year.id).get()
        assert error.value.response_status_code == 404
        await graph.source_systems.by_source_system_definition_id(created.id).delete()
    _run(scenario())


def test_sdk_connectors_flows_polymorphism_and_binds(server):
    async def scenario():
        api, port = server
        graph = _client(server).external.industry_data
        base = f"http://127.0.0.1:{port}/beta/external/industryData"
        source = await graph.source_systems.post(SourceSystemDefinition(display_name="SDK flow source"))
        year = await graph.years.post(YearTimePeriodDefinition(
            display_name="SDK flow year", start_date=date(2026, 8, 1), end_date=date(2027, 7, 31), year=YearReferenceValue(code="2027")))
        connector = await graph.data_connectors.post(AzureDataLakeConnector(
            display_name="SDK CSV", file_format=FileFormatReferenceValue(code="schoolDataSyncV2Rev1"),
            additional_data={"sourceSystem@odata.bind": f"{base}/sourceSystems('{source.id}')"}))
        assert isinstance(connector, AzureDataLakeConnector) and connector.file_format.code == "schoolDataSyncV2Rev1"
        api_connector = await graph.data_connectors.post(OneRosterApiDataConnector(
            display_name="SDK OneRoster", api_format=ApiFormat.OneRoster, base_url="https://sis.example.org/ims/oneroster/v1p1",
            api_version="1.1", is_demographics_enabled=False, is_flags_enabled=True, is_contacts_enabled=False,
            credential=OAuth2ClientCredential(display_name="cred", client_id="abc", client_secret="s3cret",
                                              token_url="https://sis.example.org/token"),
            additional_data={"sourceSystem@odata.bind": f"{base}/sourceSystems/{source.id}"}))
        assert isinstance(api_connector, OneRosterApiDataConnector) and isinstance(api_connector.credential, OAuth2ClientCredential)
        assert api_connector.credential.client_secret is None and api_connector.is_flags_enabled is True
        listed = await graph.data_connectors.get()
        kinds = {type(c).__name__ for c in listed.value}
        assert {"AzureDataLakeConnector", "OneRosterApiDataConnector"} <= kinds
        flow = await graph.inbound_flows.post(InboundFileFlow(
            display_name="SDK flow", data_domain=InboundDomain.EducationRostering,
            effective_date_time=datetime(2026, 1, 1, tzinfo=timezone.utc),
            additional_data={"dataConnector@odata.bind": f"{base}/dataConnectors/{connector.id}",
                             "year@odata.bind": f"{base}/years/{year.id}"}))
        assert isinstance(flow, InboundFileFlow) and flow.readiness_status == ReadinessStatus.Ready
        item = graph.inbound_flows.by_inbound_flow_id(flow.id)
        assert (await item.data_connector.get()).id == connector.id
        assert (await item.year.get()).id == year.id
        assert (await graph.data_connectors.by_industry_data_connector_id(connector.id).source_system.get()).id == source.id
        await item.patch(InboundFileFlow(display_name="SDK flow renamed"))
        assert (await item.get()).display_name == "SDK flow renamed"
        await item.delete()
    _run(scenario())


def test_sdk_list_paging_count_and_query_options(server):
    async def scenario():
        graph = _client(server, "paging").external.industry_data
        for i in range(7):
            await graph.source_systems.post(SourceSystemDefinition(display_name=f"P{i}"))
        query = graph.source_systems.SourceSystemsRequestBuilderGetQueryParameters(count=True, orderby=["displayName desc"])
        page = await graph.source_systems.get(RequestConfiguration(query_parameters=query))
        assert page.odata_count == 7 and len(page.value) == 3 and page.odata_next_link
        names = [s.display_name for s in page.value]
        while page.odata_next_link:
            page = await graph.source_systems.with_url(page.odata_next_link).get()
            names += [s.display_name for s in page.value]
        assert names == [f"P{i}" for i in range(6, -1, -1)]
        assert await graph.source_systems.count.get() == 7
        filtered = await graph.source_systems.get(RequestConfiguration(query_parameters=graph.source_systems.
                                                  SourceSystemsRequestBuilderGetQueryParameters(filter="startswith(displayName,'P1')")))
        assert [s.display_name for s in filtered.value] == ["P1"]
    _run(scenario())


def test_sdk_page_iterator_gets_every_item_once_with_top(server):
    """msgraph_core's PageIterator follows @odata.nextLink: with $top (2, under the server's 3) it reads all 166
    reference definitions, then a $top above the server's page size (10) still reads them all."""
    async def scenario():
        client = _client(server, "pageiterator")
        builder = client.external.industry_data.reference_definitions
        for top in (2, 10):
            query = builder.ReferenceDefinitionsRequestBuilderGetQueryParameters(top=top, count=True, orderby=["code"])
            first = await builder.get(RequestConfiguration(query_parameters=query))
            assert first.odata_count == 166 and len(first.value) == min(top, 3) and first.odata_next_link
            seen: list[str] = []

            def keep(item) -> bool:
                seen.append(item.id)
                return True
            # The first page is a typed collection response: the iterator builds the next pages with its class.
            assert isinstance(first, ReferenceDefinitionCollectionResponse)
            await PageIterator(first, client.request_adapter).iterate(keep)
            assert len(seen) == 166 and len(set(seen)) == 166, top
    _run(scenario())


def test_sdk_reference_definitions_and_role_groups(server):
    async def scenario():
        graph = _client(server, "refs").external.industry_data
        created = await graph.reference_definitions.post(ReferenceDefinition(
            reference_type="RefOrgType", code="hub", is_disabled=False, sort_index=9100, display_name="Hub"))
        assert created.id == "RefOrgType-hub" and created.source == "Tenant Defined"
        await graph.reference_definitions.by_reference_definition_id(created.id).delete()
        assert (await graph.reference_definitions.by_reference_definition_id(created.id).get()).is_disabled is True
        staff = await graph.role_groups.by_role_group_id("staff").get()
        assert staff.display_name == "Staff" and "teacher" in [r.code for r in staff.roles]
    _run(scenario())


def test_sdk_sees_permission_refusal_and_tenant_isolation(server):
    async def scenario():
        reader = _client(server, "iso", ["IndustryData-SourceSystem.Read.All"]).external.industry_data
        with pytest.raises(APIError) as error:
            await reader.source_systems.post(SourceSystemDefinition(display_name="nope"))
        assert error.value.response_status_code == 403
        writer = _client(server, "iso").external.industry_data
        mine = await writer.source_systems.post(SourceSystemDefinition(display_name="mine"))
        stranger = _client(server, "iso-other").external.industry_data
        with pytest.raises(APIError) as error:
            await stranger.source_systems.by_source_system_definition_id(mine.id).get()
        assert error.value.response_status_code == 404
    _run(scenario())


def test_sdk_runs_activities_and_statistics(server):
    from homeroom.store.models import Run, RunActivity

    api, _ = server

    async def scenario():
        graph = _client(server, "runs").external.industry_data
        base = "http://127.0.0.1/beta/external/industryData"
        source = await graph.source_systems.post(SourceSystemDefinition(display_name="run source"))
        year = await graph.years.post(YearTimePeriodDefinition(
            display_name="run year", start_date=date(2025, 8, 1), end_date=date(2026, 7, 31), year=YearReferenceValue(code="2026")))
        connector = await graph.data_connectors.post(AzureDataLakeConnector(
            display_name="run CSV", file_format=FileFormatReferenceValue(code="schoolDataSyncV1"),
            additional_data={"sourceSystem@odata.bind": f"{base}/sourceSystems/{source.id}"}))
        flow = await graph.inbound_flows.post(InboundFileFlow(
            display_name="run flow", data_domain=InboundDomain.EducationRostering, effective_date_time=datetime(2026, 1, 1, tzinfo=timezone.utc),
            additional_data={"dataConnector@odata.bind": f"dataConnectors/{connector.id}", "year@odata.bind": f"years/{year.id}"}))
        with api.app.state.sessions() as db:
            run = Run(tenant_id="runs", display_name="Run 2026-01-02 10:00 UTC", status="completed")
            db.add(run)
            db.flush()
            db.add(RunActivity(tenant_id="runs", run_id=run.id, flow_id=flow.id, display_name="run flow", status="completed",
                               statistics={"errors": 0, "warnings": 0, "people": {"total": 3, "active": 3, "inactive": 0}}))
            db.commit()
            run_id = run.id
        runs = await graph.runs.get()
        assert [r.id for r in runs.value] == [run_id] and runs.value[0].status.value == "completed"
        activities = await graph.runs.by_industry_data_run_id(run_id).activities.get()
        assert type(activities.value[0]).__name__ == "InboundFlowActivity"
        activity_id = activities.value[0].id
        target = await graph.runs.by_industry_data_run_id(run_id).activities.by_industry_data_run_activity_id(activity_id).activity.get()
        assert target.id == flow.id
        stats = await graph.runs.by_industry_data_run_id(run_id).microsoft_graph_industry_data_get_statistics.get()
        assert stats.run_id == run_id and stats.inbound_totals.people == 3
        latest = await graph.runs.microsoft_graph_industry_data_get_statistics.get()
        assert latest.run_id == run_id
    _run(scenario())


def test_sdk_outbound_flow_sets_and_provisioning_flows(server):
    from msgraph_beta.generated.models.industry_data.basic_filter import BasicFilter
    from msgraph_beta.generated.models.industry_data.filter_options import FilterOptions
    from msgraph_beta.generated.models.industry_data.outbound_provisioning_flow_set import OutboundProvisioningFlowSet
    from msgraph_beta.generated.models.industry_data.security_group_creation_options import SecurityGroupCreationOptions
    from msgraph_beta.generated.models.industry_data.security_group_provisioning_flow import SecurityGroupProvisioningFlow

    async def scenario():
        graph = _client(server, "outbound").external.industry_data
        flow_set = await graph.outbound_provisioning_flow_sets.post(OutboundProvisioningFlowSet(
            display_name="SDK set", filter=BasicFilter(attribute=FilterOptions.OrgExternalId, in_=["S1", "S2"])))
        assert isinstance(flow_set.filter, BasicFilter) and flow_set.filter.in_ == ["S1", "S2"]
        flows = graph.outbound_provisioning_flow_sets.by_outbound_provisioning_flow_set_id(flow_set.id).provisioning_flows
        flow = await flows.post(SecurityGroupProvisioningFlow(
            creation_options=SecurityGroupCreationOptions(create_based_on_role_group=True, create_based_on_org_plus_role_group=False)))
        assert isinstance(flow, SecurityGroupProvisioningFlow) and flow.creation_options.create_based_on_role_group is True
        listed = await flows.get()
        assert [f.id for f in listed.value] == [flow.id]
        await flows.by_provisioning_flow_id(flow.id).patch(SecurityGroupProvisioningFlow(
            creation_options=SecurityGroupCreationOptions(create_based_on_role_group=False)))
        assert (await flows.by_provisioning_flow_id(flow.id).get()).creation_options.create_based_on_role_group is False
        await flows.by_provisioning_flow_id(flow.id).microsoft_graph_industry_data_reset.post()  # 202, no body
        await flows.by_provisioning_flow_id(flow.id).delete()
        await graph.outbound_provisioning_flow_sets.by_outbound_provisioning_flow_set_id(flow_set.id).delete()
    _run(scenario())
