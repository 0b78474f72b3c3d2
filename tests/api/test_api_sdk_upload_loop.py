"""The whole SDS CSV loop with Microsoft's own clients only (spec §1.17, Appendices D and E).

``msgraph-beta-sdk`` creates the source system, year, connector and inbound flow, validates, polls the
operation, starts a run and reads runs and statistics; ``azure-storage-blob``
(``ContainerClient.from_container_url``) uploads the files to the session URL. ``getUploadSession`` has no
request builder in the SDK, so it is one plain HTTP GET with the same token, as real clients do. The statistics
must equal those of ``homeroom run`` on the same files.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import httpx
import pytest
from apitools import Api, live_server

pytest.importorskip("msgraph_beta")
pytest.importorskip("azure.storage.blob")

from azure.storage.blob import ContainerClient  # noqa: E402
from kiota_abstractions.base_request_configuration import RequestConfiguration  # noqa: E402
from kiota_http.middleware.options import HeadersInspectionHandlerOption  # noqa: E402
from msgraph_beta.generated.models.industry_data.azure_data_lake_connector import AzureDataLakeConnector  # noqa: E402
from msgraph_beta.generated.models.industry_data.file_format_reference_value import FileFormatReferenceValue  # noqa: E402
from msgraph_beta.generated.models.industry_data.file_validate_operation import FileValidateOperation  # noqa: E402
from msgraph_beta.generated.models.industry_data.inbound_domain import InboundDomain  # noqa: E402
from msgraph_beta.generated.models.industry_data.inbound_file_flow import InboundFileFlow  # noqa: E402
from msgraph_beta.generated.models.industry_data.industry_data_run_status import IndustryDataRunStatus  # noqa: E402
from msgraph_beta.generated.models.industry_data.source_system_definition import SourceSystemDefinition  # noqa: E402
from msgraph_beta.generated.models.industry_data.year_reference_value import YearReferenceValue  # noqa: E402
from msgraph_beta.generated.models.industry_data.year_time_period_definition import YearTimePeriodDefinition  # noqa: E402
from msgraph_beta.generated.models.long_running_operation_status import LongRunningOperationStatus  # noqa: E402

from homeroom.runs import Runner  # noqa: E402
from homeroom.api.statistics import run_statistics  # noqa: E402
from homeroom.settings import Settings  # noqa: E402
from homeroom.synthetic import generate_district  # noqa: E402
from sdktools import graph_client  # noqa: E402

SAMPLE = Path(__file__).parents[1] / "fixtures" / "microsoft" / "sds-v2.1"
PERMISSIONS = ["IndustryData-SourceSystem.ReadWrite.All", "IndustryData-TimePeriod.ReadWrite.All",
               "IndustryData-DataConnector.ReadWrite.All", "IndustryData-InboundFlow.ReadWrite.All",
               "IndustryData.ReadBasic.All", "IndustryData-Run.Start", "IndustryData-Run.Read.All"]


async def _location_of(call) -> str:
    """Run an SDK action that answers 202 and return its ``Location`` header (the SDK's header inspection option)."""
    inspect = HeadersInspectionHandlerOption(inspect_response_headers=True)
    await call(RequestConfiguration(options=[inspect]))
    return next(iter(inspect.response_headers.get("location")))


async def _poll(graph, location: str):
    operation_id = location.rsplit("/", 1)[1]
    for _ in range(1200):
        op = await graph.operations.by_long_running_operation_id(operation_id).get()
        if op.status not in (LongRunningOperationStatus.NotStarted, LongRunningOperationStatus.Running):
            return op
        await asyncio.sleep(0.05)
    raise AssertionError(f"operation {operation_id} did not finish")


def _upload_cycle(graph, token: str, port: int, connector_id: str, files: list[Path], **blob_options):
    """getUploadSession (plain HTTP), upload with azure-storage-blob, validate and poll with the SDK."""
    async def cycle():
        url = (f"http://127.0.0.1:{port}/beta/external/industryData/dataConnectors/{connector_id}"
               "/microsoft.graph.industryData.azureDataLakeConnector/getUploadSession")
        async with httpx.AsyncClient() as http:
            session = (await http.get(url, headers={"Authorization": f"Bearer {token}"})).json()
        container = ContainerClient.from_container_url(session["sessionUrl"], **blob_options)
        assert container.container_name == session["containerId"]
        for path in files:
            with path.open("rb") as fh:
                await asyncio.to_thread(container.upload_blob, path.name, fh, overwrite=True,
                                        metadata={"uploadvia": "PortalUpload"})
        listed = sorted((b.name, b.size) for b in container.list_blobs())
        assert listed == sorted((p.name, p.stat().st_size) for p in files)
        validate = graph.data_connectors.by_industry_data_connector_id(connector_id).microsoft_graph_industry_data_validate
        return await _poll(graph, await _location_of(lambda config: validate.post(config)))
    return cycle()


async def _loop(graph, token: str, port: int, files: list[Path], **blob_options):
    """Configure a tenant, then one upload cycle and one run; returns the run, its activities, statistics and all runs."""
    base = f"http://127.0.0.1:{port}/beta/external/industryData"
    source = await graph.source_systems.post(SourceSystemDefinition(display_name="District SIS"))
    year = await graph.years.post(YearTimePeriodDefinition(
        display_name="2025-2026", start_date=date(2025, 8, 1), end_date=date(2026, 7, 31), year=YearReferenceValue(code="2026")))
    connector = await graph.data_connectors.post(AzureDataLakeConnector(
        display_name="CSV connector", file_format=FileFormatReferenceValue(code="schoolDataSyncV2Rev1"),
        additional_data={"sourceSystem@odata.bind": f"{base}/sourceSystems('{source.id}')"}))
    await graph.inbound_flows.post(InboundFileFlow(
        display_name="Inbound rostering flow", data_domain=InboundDomain.EducationRostering,
        effective_date_time=datetime(2025, 8, 1, tzinfo=timezone.utc),
        additional_data={"dataConnector@odata.bind": f"{base}/dataConnectors/{connector.id}",
                         "year@odata.bind": f"{base}/years/{year.id}"}))
    op = await _upload_cycle(graph, token, port, connector.id, files, **blob_options)
    assert isinstance(op, FileValidateOperation) and op.status == LongRunningOperationStatus.Succeeded
    assert op.errors == [] and sorted(op.validated_files) == sorted(p.name for p in files)
    start = graph.runs.microsoft_graph_industry_data_start
    run_op = await _poll(graph, await _location_of(lambda config: start.post(config)))
    assert run_op.status == LongRunningOperationStatus.Succeeded, run_op.status_detail
    run_id = run_op.resource_location.rsplit("/", 1)[1]
    run = await graph.runs.by_industry_data_run_id(run_id).get()
    activities = await graph.runs.by_industry_data_run_id(run_id).activities.get()
    stats = await graph.runs.by_industry_data_run_id(run_id).microsoft_graph_industry_data_get_statistics.get()
    return run, activities.value, stats, (await graph.runs.get()).value


def test_the_sds_csv_loop_with_microsofts_clients_gives_the_statistics_of_homeroom_run(tmp_path):
    district = tmp_path / "district"
    generate_district(district, students=600, seed=7, defect_rate=0.01)
    api = Api(Settings(data_dir=tmp_path / "server", api_throttle_calls=10_000))
    # Microsoft's sample in one tenant; the generated district, uploaded in blocks, in another.
    cases = [("contoso", sorted(SAMPLE.glob("*.csv")), {}),
             ("fabrikam", sorted(district.glob("*.csv")), {"max_single_put_size": 64 * 1024, "max_block_size": 32 * 1024})]
    results = []
    with live_server(api) as port:
        for tenant, files, options in cases:
            client_id, secret = api.register(tenant, PERMISSIONS)
            token = httpx.post(f"http://127.0.0.1:{port}/{tenant}/oauth2/v2.0/token", data={
                "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
                "scope": "https://graph.microsoft.com/.default"}).json()["access_token"]
            results.append(asyncio.run(_loop(graph_client(port, token).external.industry_data, token, port, files, **options)))

    # The same packages through `homeroom run`, in another data folder.
    expected = [run_statistics(Runner(tenant, Settings(data_dir=tmp_path / "cli")).run(
        package, flow_name="Inbound rostering flow", year="2026").run) for tenant, package in (("contoso", SAMPLE), ("fabrikam", district))]
    for (run, activities, stats, listed), want in zip(results, expected):
        assert [r.id for r in listed] == [run.id], "each tenant sees its own run only"
        assert run.status == {"completed": IndustryDataRunStatus.Completed,
                              "completedWithErrors": IndustryDataRunStatus.CompletedWithErrors,
                              "completedWithWarnings": IndustryDataRunStatus.CompletedWithWarnings}[want["status"]]
        assert [a.display_name for a in activities] == ["Inbound rostering flow"]
        totals = want["inboundTotals"]
        got = stats.inbound_totals
        assert (got.errors, got.warnings, got.people, got.organizations, got.groups, got.memberships) == (
            totals["errors"], totals["warnings"], totals["people"], totals["organizations"], totals["groups"], totals["memberships"])
        assert sorted((m.role, m.count) for m in got.unmatched_people_by_role) == sorted(
            (m["role"], m["count"]) for m in totals["unmatchedPeopleByRole"])
    assert expected[0]["inboundTotals"]["people"] == 8
    assert expected[1]["inboundTotals"]["errors"] > 0, "the generated district has planted defects"
    assert expected[1]["inboundTotals"]["people"] > 600
    shutil.rmtree(district)
