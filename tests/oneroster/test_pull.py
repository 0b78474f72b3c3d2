"""A pull from a OneRoster API, against a real HTTP server: the same canonical tables as the CSV package it serves,
both versions, both kinds of sign-in, paging, retries and what is refused."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import CLIENT_ID, FAST, SECRET
from source_server import Fault, OneRosterSource, from_package, serve

from homeroom.errors import IncompletePull, PermanentError
from homeroom.inbound.oneroster_api import (
    OAUTH1, OAUTH2, ConnectorConfig, OneRosterClient, OneRosterCredential, PullState, api_root, check_connection, pull,
)
from homeroom.settings import Settings
from homeroom.validate import check, validate_package

SETTINGS = Settings(**FAST)


def credential(address: str, version: str, **extra) -> OneRosterCredential:
    if version == "1.1":
        return OneRosterCredential(OAUTH1, CLIENT_ID, SECRET, **extra)
    return OneRosterCredential(OAUTH2, CLIENT_ID, SECRET, token_url=f"{address}/token", **extra)


def config(address: str, version: str, **extra) -> ConnectorConfig:
    cred = extra.pop("credential", None) or credential(address, version)
    return ConnectorConfig(address, version, cred, demographics=extra.pop("demographics", True),
                           contacts=extra.pop("contacts", True), **extra)


def client(address: str, version: str, sleeps: list | None = None, **extra) -> OneRosterClient:
    options = {"timeout": 2.0, "retries": 2, "backoff": 0.5, "max_wait": 3.0, "page_size": 100, "concurrency": 3, **extra}
    return OneRosterClient(api_root(address, version), credential(address, version), sleep=(sleeps if sleeps is not None else []).append, **options)


def tables(result) -> dict[str, pl.DataFrame]:
    return {name: pl.from_arrow(t).sort(pl.all()) for name, t in result.tables.items()}


def test_a_pull_gives_the_canonical_tables_its_csv_package_gives(districts, version, source, address):
    pulled = pull(config(address, version), SETTINGS)
    assert pulled.records == {"orgs": 2, "academicSessions": 3, "courses": 36, "users": 132, "classes": 108, "enrollments": 532,
                              "demographics": 50}
    # one token request for OAuth 2; pages of 100: users 2, enrollments 6, every other collection 1
    assert pulled.requests == 14 and len(source.requests) == 14 + (version == "1.2")
    assert pulled.batch.mode == "bulk" and pulled.batch.format == f"oneroster-{version}"
    result = check(pulled.batch)
    assert result.findings.height == 0
    expected = tables(validate_package(districts[version]))
    got = tables(result)
    if version == "1.2":  # a 1.2 user's roles carry no sourcedId of their own in JSON, as roles.csv rows do
        expected["roles"] = expected["roles"].with_columns(pl.lit(None, pl.String).alias("oneRosterSourcedId")).sort(pl.all())
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name].equals(expected[name]), name
    # SDS's query: every page of a full pull asks for active records, limit 100, at its offset
    pages = [r for r in source.requests if r.method == "GET"]
    assert {r.params["filter"] for r in pages} == {"status='active'"}
    assert sorted(int(r.params["offset"]) for r in pages if r.path.endswith("/enrollments")) == [0, 100, 200, 300, 400, 500]
    assert {r.auth for r in pages} == {"oauth1" if version == "1.1" else "bearer"}


def test_the_first_pull_is_full_and_records_its_high_water_mark(source, address, version):
    source.put("users", {**source.records("users")[0], "dateLastModified": "2026-02-01T10:00:00.000Z"})
    pulled = pull(config(address, version), SETTINGS)
    assert pulled.state == PullState(address, version, "2026-02-01T10:00:00.000Z", pulled.state.last_full_pull)
    assert pulled.state.last_full_pull.endswith("Z")


@pytest.mark.parametrize("method", ["HMAC-SHA256", "HMAC-SHA1"])
def test_oauth1_signatures_are_verified_by_the_server(districts, method):
    """oauthlib's SignatureOnlyEndpoint checks every request; a server taking only the other method refuses it."""
    for accepted, works in ((method,), True), (tuple({"HMAC-SHA256", "HMAC-SHA1"} - {method}), False):
        source = OneRosterSource("1.1", client_id=CLIENT_ID, client_secret=SECRET, signature_methods=accepted)
        source.load(from_package(districts["1.1"], "1.1"))
        with serve(source) as address:
            cred = OneRosterCredential(OAUTH1, CLIENT_ID, SECRET, signature_method=method)
            if works:
                assert pull(config(address, "1.1", credential=cred), SETTINGS).records["users"] == 132
                assert all(r.status == 200 for r in source.requests)
            else:
                with pytest.raises(IncompletePull) as refused:
                    pull(config(address, "1.1", credential=cred), SETTINGS)
                assert refused.value.message == (
                    f"GET /orgs at offset 0 failed: HTTP 401 from the OneRoster API {address}/ims/oneroster/v1p1/orgs"
                    "?limit=100&offset=0&filter=status%3D%27active%27: Unauthorized (unauthorisedrequest).")
                assert len(source.requests) == 1, "a refused signature is not retried"


@pytest.mark.parametrize("version", ["1.1"], indirect=True)
def test_a_wrong_oauth1_secret_is_refused_and_a_replayed_signature_too(source, address):
    with pytest.raises(IncompletePull, match=r"^GET /orgs at offset 0 failed: HTTP 401 from the OneRoster API "):
        pull(config(address, "1.1", credential=OneRosterCredential(OAUTH1, CLIENT_ID, "not-the-secret")), SETTINGS)
    import httpx
    from oauthlib import oauth1
    url = f"{address}/ims/oneroster/v1p1/orgs?limit=1"
    header = oauth1.Client(CLIENT_ID, client_secret=SECRET, signature_method=oauth1.SIGNATURE_HMAC_SHA256).sign(url)[1]
    assert httpx.get(url, headers=header).status_code == 200
    assert httpx.get(url, headers=header).status_code == 401, "the same nonce twice"


@pytest.mark.parametrize("version", ["1.2"], indirect=True)
def test_an_oauth2_token_is_kept_for_the_pull_and_renewed_once_when_it_expires(source, address):
    source.faults.append(Fault("expire_token", "enrollments", 300))
    pulled = pull(config(address, "1.2"), SETTINGS)
    assert pulled.records["enrollments"] == 532
    tokens = [r for r in source.requests if r.path == "/token"]
    assert len(tokens) == 2, "one token for the pull, one more after the 401"
    # the page at 300 was refused, and so were pages fetched at the same time with the same token; each was asked again
    refused = {(r.path, r.params["offset"]) for r in source.requests if r.status == 401}
    assert ("/ims/oneroster/rostering/v1p2/enrollments", "300") in refused
    assert {path for path, _ in refused} == {"/ims/oneroster/rostering/v1p2/enrollments"}
    assert len([r for r in source.requests if r.method == "GET"]) == 14 + len(refused)


@pytest.mark.parametrize("version", ["1.2"], indirect=True)
def test_a_token_that_keeps_being_refused_fails_the_pull(source, address):
    source.faults.append(Fault("expire_token", "users", 0, times=None))
    with pytest.raises(IncompletePull) as failed:
        pull(config(address, "1.2"), SETTINGS)
    assert failed.value.collection == "users" and failed.value.offset == 0
    assert failed.value.message.startswith("GET /users at offset 0 failed: HTTP 401 from the OneRoster API ")


@pytest.mark.parametrize("client_auth", ["basic", "body"])
def test_oauth2_scopes_and_client_authentication(districts, client_auth):
    core = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"
    demographics = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly"
    source = OneRosterSource("1.2", client_id=CLIENT_ID, client_secret=SECRET, scopes=(core, demographics))
    source.load(from_package(districts["1.2"], "1.2"))
    with serve(source) as address:
        cred = OneRosterCredential(OAUTH2, CLIENT_ID, SECRET, token_url=f"{address}/token", scope=f"{core} {demographics}",
                                   client_auth=client_auth)
        assert pull(config(address, "1.2", credential=cred), SETTINGS).records["demographics"] == 50
        token = next(r for r in source.requests if r.path == "/token")
        assert token.params["scope"] == f"{core} {demographics}"
        assert token.auth == ("basic" if client_auth == "basic" else "none")
        assert ("client_id" in token.params) is (client_auth == "body")
        narrow = OneRosterCredential(OAUTH2, CLIENT_ID, SECRET, token_url=f"{address}/token", scope=core, client_auth=client_auth)
        with pytest.raises(IncompletePull) as refused:
            pull(config(address, "1.2", credential=narrow), SETTINGS)
        assert refused.value.message == (f"GET /orgs at offset 0 failed: HTTP 400 from the token endpoint {address}/token: "
                                         f"invalid_scope (Ask for {core} {demographics}.).")


def test_a_provider_that_caps_the_page_size_is_paged_at_its_size(districts, version):
    source = OneRosterSource(version, client_id=CLIENT_ID, client_secret=SECRET, max_limit=40)
    source.load(from_package(districts[version], version))
    with serve(source) as address:
        pulled = pull(config(address, version), SETTINGS)
    assert pulled.records["enrollments"] == 532
    offsets = [int(r.params["offset"]) for r in source.requests if r.path.endswith("/enrollments")]
    assert sorted(offsets) == list(range(0, 532, 40))


def test_without_x_total_count_a_collection_is_read_until_an_empty_page(districts, version):
    source = OneRosterSource(version, client_id=CLIENT_ID, client_secret=SECRET, total_header=False)
    source.load(from_package(districts[version], version))
    with serve(source) as address:
        pulled = pull(config(address, version), SETTINGS)
    assert pulled.records["enrollments"] == 532
    offsets = [int(r.params["offset"]) for r in source.requests if r.path.endswith("/enrollments")]
    assert offsets == [0, 100, 200, 300, 400, 500, 532]


def test_demographics_and_contacts_are_read_only_when_enabled(districts, version, source, address):
    pulled = pull(config(address, version, demographics=False, contacts=False), SETTINGS)
    assert "demographics" not in pulled.records
    assert not any(r.path.endswith("/demographics") for r in source.requests)
    result = check(pulled.batch)
    assert result.findings.height == 0
    users = pl.from_arrow(result.tables["users"])
    assert users.height == 132 - 76 and not users["sourcedId"].str.starts_with("gdn-").any(), "the 76 guardians are left out"
    assert "demographics" not in result.tables and result.tables["relationships"].num_rows == 0


# --- retries ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["1.1"], indirect=True)
def test_429_is_retried_after_retry_after_and_5xx_with_doubling_backoff(source, address):
    source.faults += [Fault("status", "users", 100, times=2, value=429, retry_after="2"),
                      Fault("status", "classes", 0, times=2, value=503)]
    sleeps: list[float] = []
    with client(address, "1.1", sleeps) as c:
        pulled = pull(config(address, "1.1"), SETTINGS, client=c)
    assert pulled.records["users"] == 132 and pulled.records["classes"] == 108
    assert sorted(sleeps) == [0.5, 1.0, 2.0, 2.0], "Retry-After 2 twice; 0.5 then 1.0 s of backoff"
    assert pulled.requests == 14 + 4


@pytest.mark.parametrize("version", ["1.1"], indirect=True)
def test_a_retry_after_longer_than_the_longest_wait_is_cut_to_it(source, address):
    source.faults.append(Fault("status", "orgs", 0, times=1, value=429, retry_after="3600"))
    sleeps: list[float] = []
    with client(address, "1.1", sleeps) as c:
        pull(config(address, "1.1"), SETTINGS, client=c)
    assert sleeps == [3.0]


@pytest.mark.parametrize("version", ["1.1"], indirect=True)
def test_retries_are_bounded(source, address):
    source.faults.append(Fault("status", "enrollments", 200, times=None, value=500))
    sleeps: list[float] = []
    with client(address, "1.1", sleeps) as c, pytest.raises(IncompletePull) as failed:
        pull(config(address, "1.1"), SETTINGS, client=c)
    assert sleeps.count(0.5) == 1 and sleeps.count(1.0) == 1
    assert failed.value.message == (
        f"GET /enrollments at offset 200 failed: HTTP 500 from the OneRoster API {address}/ims/oneroster/v1p1/enrollments"
        "?limit=100&offset=200&filter=status%3D%27active%27: Injected failure. (internal_server_error) (after 2 retries).")
    assert (failed.value.collection, failed.value.offset) == ("enrollments", 200)


# --- the API root and validate -------------------------------------------------------------------------------------
def test_the_api_root_of_a_base_url():
    assert api_root("https://sis.example/ims/oneroster/v1p1/", "1.1") == "https://sis.example/ims/oneroster/v1p1"
    assert api_root("https://sis.example", "1.1") == "https://sis.example/ims/oneroster/v1p1"
    assert api_root("https://sis.example/", "1.2") == "https://sis.example/ims/oneroster/rostering/v1p2"
    assert api_root("https://sis.example/ims/oneroster", "1.2") == "https://sis.example/ims/oneroster/rostering/v1p2"
    assert api_root("https://sis.example/api/oneroster/v1p2", "1.2") == "https://sis.example/api/oneroster/v1p2"
    with pytest.raises(PermanentError, match=r"^apiVersion '2.0' is not a OneRoster version Homeroom reads; use 1.1 or 1.2.$"):
        api_root("https://sis.example", "2.0")


def test_check_connection_reads_one_org_of_the_version(version, source, address):
    said = check_connection(address, credential(address, version), timeout=2, version=version)
    root = f"{address}/ims/oneroster/{'v1p1' if version == '1.1' else 'rostering/v1p2'}"
    how = "OAuth 1.0a (HMAC-SHA256)" if version == "1.1" else f"an OAuth 2 token from {address}/token"
    assert said == f"Signed in with {how} and read {root}/orgs?limit=1."
    assert [r.params for r in source.requests if r.method == "GET"] == [{"limit": "1"}]
