"""The round trip of issue 14, over real HTTP: a generated district ingested from CSV into tenant A, served by
Homeroom's OneRoster provider, pulled by Homeroom's OneRoster connector (an ``inboundApiFlow`` run) into tenant B.

The district is written as OneRoster CSV of the version pulled (``oneroster-1.1`` for a 1.1 pull, ``oneroster-1.2``
for 1.2), so that what the provider serves is what tenant A was given. Tenant B's lake tables must then equal
tenant A's, column for column and row for row, except:

- ``RUN_SPECIFIC`` columns, which differ between any two tenants: ``sourceSystemId`` (each tenant's own source system
  row), ``lastRunId`` (each tenant's own run), ``firstSeenDateTime``/``lastSeenDateTime``/``lastChangedDateTime``
  (when each run saw the record);
- ``BY_DESIGN`` columns, which the provider and OneRoster cannot carry back as they came (each with its reason);
- ``TRANSLATED`` values, which the provider maps onto OneRoster's vocabularies (docs/oneroster.md, "What is served").

The same provider, with its fault injection, then fails the connector page by page: every failed pull leaves
tenant B's lake as it was (the same Delta versions) and fails the run with the exact reason.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from provider_server import Fault, ingest_district, serve_provider

from homeroom.lake.tables import Lake
from homeroom.runs import Runner
from homeroom.runs.pulls import state_of
from homeroom.settings import Settings
from homeroom.store import service

ROSTER = ("orgs", "academicSessions", "courses", "users", "roles", "classes", "enrollments", "demographics", "relationships")
RUN_SPECIFIC = ("sourceSystemId", "lastRunId", "firstSeenDateTime", "lastSeenDateTime", "lastChangedDateTime")
BY_DESIGN = {
    # The provider serves every link between a student and a contact from both ends (a student's agents are its
    # contacts, a contact's agents its students), where the CSV listed it on the student only: the contacts' agents
    # and which end listed a relationship differ. The relationships themselves (users, contact, role) are compared.
    ("users", "agentSourcedIds"): "both",
    ("relationships", "listedBy"): "both",
    # A 1.2 role is an object inside its user with no sourcedId of its own (roles.csv rows have one).
    ("roles", "oneRosterSourcedId"): "1.2",
}
#: Values of tenant A -> what tenant B holds, by version: OneRoster 1.1's vocabularies are closed (a principal and
#: office staff are `administrator`, a sex other than male or female is left out); 1.2 sends a role outside its
#: vocabulary as `ext:<code>`, which B keeps as it came in oneRosterRole (its canonical role is the code again).
TRANSLATED = {
    "1.1": {("users", "role"): {"principal": "administrator", "officeStaff": "administrator"},
            ("roles", "role"): {"principal": "administrator", "officeStaff": "administrator"},
            ("roles", "oneRosterRole"): {"principal": "administrator", "officeStaff": "administrator"},
            ("demographics", "sex"): {"notSelected": None}},
    "1.2": {("roles", "oneRosterRole"): {"officeStaff": "ext:officeStaff"}},
}
STATISTICS = {"people": 158, "organizations": 2, "groups": 117, "memberships": 635}
FLOW = "Provider"
KEPT = "Nothing was written: the lake keeps the data of the last successful run."
#: Pages of 100 so that users and enrollments take several pages; two quick retries; a short timeout for `slow`.
FAST = {"oneroster_page_size": 100, "oneroster_retries": 2, "oneroster_backoff_seconds": 0.001,
        "oneroster_max_wait_seconds": 0.01, "oneroster_timeout_seconds": 0.5}


def scope(version: str) -> str:
    base = f"https://purl.imsglobal.org/spec/or/v1p{version[-1]}/scope/"
    return " ".join(base + s for s in ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly"))


def pulling_tenant(provider, tenant: str, version: str) -> Runner:
    """A tenant with an API flow reading the provider (OAuth 2 client credentials, demographics and contacts on)."""
    runner = Runner(tenant, settings=provider.settings)
    credential = {"@odata.type": "#microsoft.graph.industryData.oAuth2ClientCredential", "displayName": "Homeroom",
                  "clientId": provider.client_id, "tokenUrl": provider.token_url, "scope": scope(version)}
    with runner.sessions.begin() as db:
        service.ensure_api_flow(db=db, tenant_id=tenant, display_name=FLOW, source_name="Homeroom provider", year_code="2026",
                                base_url=provider.url, api_version=version, credential=credential,
                                client_secret=provider.client_secret, demographics=True, contacts=True)
    return runner


def canonical(lake: Lake, version: str, *, translate: bool) -> dict[str, pl.DataFrame]:
    """The roster tables without the run-specific and by-design columns, tenant A's values translated, sorted."""
    out = {}
    for name in ROSTER:
        frame = lake.read(name)
        dropped = [*RUN_SPECIFIC, *(c for (t, c), v in BY_DESIGN.items() if t == name and v in ("both", version))]
        frame = frame.drop(dropped)
        if translate:
            for (table, column), mapping in TRANSLATED[version].items():
                if table == name:
                    frame = frame.with_columns(pl.col(column).replace(mapping))
        out[name] = frame.select(sorted(frame.columns)).sort(pl.all())
    return out


def counts(statistics: dict) -> dict[str, int]:
    return {k: statistics[k]["total"] for k in STATISTICS} | {f"{k} active": statistics[k]["active"] for k in STATISTICS}


@pytest.fixture(scope="module", params=["1.1", "1.2"])
def provider(request, tmp_path_factory):
    """Tenant ``district`` holds the district from OneRoster CSV of the version, served by the provider."""
    version = request.param
    root = tmp_path_factory.mktemp(f"round-trip-{version}")
    settings = Settings(data_dir=root / "data", **FAST)
    ingest_district(settings, "district", root / "district", format_name=f"oneroster-{version}")
    with serve_provider(settings, "district") as server:
        server.version = version
        server.source = Runner("district", settings=settings)
        yield server


def test_a_district_served_by_the_provider_and_pulled_by_the_connector_is_the_same_district(provider):
    version = provider.version
    pulled = pulling_tenant(provider, "pulled", version)
    outcome = pulled.pull(FLOW)
    assert (outcome.run.status, outcome.activity.status) == ("completed", "completed"), outcome.run.blocking_error
    assert (outcome.activity.statistics["errors"], outcome.activity.statistics["warnings"]) == (0, 0)

    source = canonical(provider.source.lake, version, translate=True)
    copy = canonical(pulled.lake, version, translate=False)
    for name in ROSTER:
        assert copy[name].schema == source[name].schema, name
        assert copy[name].height == source[name].height, name
        assert copy[name].equals(source[name]), (name, source[name].join(copy[name], on=source[name].columns, how="anti").head(3))
    # the translations are what the provider did, not a no-op
    changed = sum(provider.source.lake.read(t).filter(pl.col(c).is_in(list(m))).height for (t, c), m in TRANSLATED[version].items())
    assert changed == (7 if version == "1.1" else 1)  # 1.1: 2 users, their 2 roles rows twice, 1 sex

    with provider.source.sessions() as db:
        (ingest,) = [a for r in service.list_runs(db=db, tenant_id="district") for a in r.activities]
    assert counts(outcome.activity.statistics) == counts(ingest.statistics) == {
        **STATISTICS, **{f"{k} active": v for k, v in STATISTICS.items()}}


def versions(runner: Runner) -> dict[str, int | None]:
    return {name: runner.lake.version(name) for name in (*ROSTER, "_changes")}


def full_pull_again(runner: Runner) -> None:
    """Forget the connector's high-water mark, as after a week: the next pull is full (a delta would be one page)."""
    with runner.sessions.begin() as db:
        flow = service.get_flow(db=db, tenant_id=runner.tenant, display_name=FLOW)
        flow.connector.settings = {k: v for k, v in flow.connector.settings.items() if k != "pull"}


QUERY = "limit=100&offset={offset}&filter=status%3D%27active%27"
FAULTS = {
    "short page": (Fault("short_page", "users", offset=100, drop=1),
                   "GET /users at offset 100 returned 57 records; expected 58 (X-Total-Count 158, pages of 100)."),
    "wrong total": (Fault("wrong_total", "enrollments", offset=200, total_delta=-1),
                    "GET /enrollments at offset 200 gave X-Total-Count 634, but the first page gave 635: the collection "
                    "changed while it was read."),
    "empty page": (Fault("empty_page", "enrollments", offset=300),
                   "GET /enrollments at offset 300 returned no records; expected 100 (X-Total-Count 635, pages of 100)."),
    "500 persisting": (Fault("status", "users", offset=100, status=500),
                       "GET /users at offset 100 failed: HTTP 500 from the OneRoster API {root}/users?" + QUERY.format(offset=100)
                       + ": injected fault: HTTP 500 (internal_server_error) (after 2 retries)."),
    "slow beyond the timeout": (Fault("slow", "courses", offset=0, delay=1.5),
                                "GET /courses at offset 0 failed: the OneRoster API {root}/courses?" + QUERY.format(offset=0)
                                + " did not answer within 0.5 seconds (after 2 retries)."),
}
HITS = {"short page": 1, "wrong total": 1, "empty page": 1, "500 persisting": 3, "slow beyond the timeout": 3}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_faulty_provider_fails_the_pull_and_leaves_the_last_good_data(provider, fault):
    pulled = pulling_tenant(provider, f"faults-{fault.replace(' ', '-')}", provider.version)
    assert pulled.pull(FLOW).run.status == "completed"
    before, lake = versions(pulled), canonical(pulled.lake, provider.version, translate=False)
    full_pull_again(pulled)
    provider.faults.clear()
    injected, reason = FAULTS[fault]
    provider.faults.add(Fault(**vars(injected)))  # a fresh copy: a fault counts down its hits
    try:
        outcome = pulled.pull(FLOW)
    finally:
        hits = list(provider.faults.hits)
        provider.faults.clear()
    root = provider.base_url(provider.version)
    assert (outcome.run.status, outcome.activity.status) == ("failed", "failed")
    assert outcome.run.blocking_error == {"code": "IncompletePull", "message": f"{reason.format(root=root)} {KEPT}"}
    assert len(hits) == HITS[fault] and {h[0] for h in hits} == {injected.kind}
    assert versions(pulled) == before
    after = canonical(pulled.lake, provider.version, translate=False)
    assert all(after[name].equals(lake[name]) for name in ROSTER)
    with pulled.sessions() as db:
        assert state_of(service.get_flow(db=db, tenant_id=pulled.tenant, display_name=FLOW).connector) is None


def test_a_429_then_success_completes_the_pull(provider):
    pulled = pulling_tenant(provider, "faults-429", provider.version)
    assert pulled.pull(FLOW).run.status == "completed"
    before = versions(pulled)
    full_pull_again(pulled)
    provider.faults.clear()
    provider.faults.add(Fault("status", "users", offset=100, status=429, retry_after=0, times=1))
    try:
        outcome = pulled.pull(FLOW)
    finally:
        hits = list(provider.faults.hits)
        provider.faults.clear()
    assert (outcome.run.status, outcome.activity.status) == ("completed", "completed"), outcome.run.blocking_error
    assert hits == [("status", "users", 100)]
    assert counts(outcome.activity.statistics) == {**STATISTICS, **{f"{k} active": v for k, v in STATISTICS.items()}}
    assert versions(pulled) != before, "the completed run wrote the lake"
