"""The OneRoster provider over real HTTP: paging, filters, sort, fields, scopes, tenants, deltas, errors, faults."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import polars as pl
import pytest
from provider_server import Fault, ingest_district, serve_provider

from homeroom.auth.permissions import ONEROSTER
from homeroom.lake.tables import Lake
from homeroom.settings import Settings
from homeroom.synthetic.churn import churn_package

V11 = "https://purl.imsglobal.org/spec/or/v1p1/scope/"
V12 = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ALL_V11 = f"{V11}roster-core.readonly {V11}roster.readonly {V11}roster-demographics.readonly"
ALL_V12 = f"{V12}roster-core.readonly {V12}roster.readonly {V12}roster-demographics.readonly"


def token(server, scope: str, client_id: str | None = None, secret: str | None = None) -> httpx.Response:
    """A client-credentials token request authenticated with HTTP Basic, as OneRoster consumers send it."""
    return httpx.post(server.token_url, data={"grant_type": "client_credentials", "scope": scope},
                      auth=(client_id or server.client_id, secret or server.client_secret))


def bearer(server, scope: str = f"{ALL_V11} {ALL_V12}") -> dict[str, str]:
    answer = token(server, scope)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def code_minor(response: httpx.Response) -> str:
    return response.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    root = tmp_path_factory.mktemp("oneroster")
    settings = Settings(data_dir=root / "data")
    ingest_district(settings, "provider", root / "district")
    with serve_provider(settings, "provider") as server:
        server.headers = bearer(server)
        server.lake = Lake.from_settings(settings, "provider")
        server.root = root
        yield server


def get(provider, path: str, version: str = "1.1", headers: dict | None = None, **params) -> httpx.Response:
    return httpx.get(provider.base_url(version) + path, params=params, headers=provider.headers if headers is None else headers)


def test_token_grants_the_requested_scopes_the_app_holds(provider):
    answer = token(provider, f"{V11}roster-core.readonly {V12}roster.readonly")
    assert answer.status_code == 200
    assert answer.json()["scope"] == f"{V11}roster-core.readonly {V12}roster.readonly"
    unknown = token(provider, f"{V11}gradebook.readonly")
    assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_scope")
    wrong = token(provider, f"{V11}roster.readonly", secret="not-the-secret")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")


def test_pages_cover_every_user_once_with_total_and_links(provider):
    users = provider.lake.read("users")
    seen: list[str] = []
    offset = 0
    while True:
        page = get(provider, "/users", limit=50, offset=offset)
        assert page.status_code == 200
        assert int(page.headers["X-Total-Count"]) == users.height
        batch = page.json()["users"]
        seen += [u["sourcedId"] for u in batch]
        links = page.headers["Link"]
        assert 'rel="first"' in links and 'rel="last"' in links
        if offset + 50 >= users.height:
            assert 'rel="next"' not in links and len(batch) == users.height - offset
            break
        assert f"offset={offset + 50}>; rel=\"next\"" in links
        offset += 50
    assert seen == sorted(users.get_column("sourcedId").to_list())
    assert get(provider, "/users", offset=users.height).json() == {"users": []}


def test_default_page_is_100_and_limit_is_capped(provider):
    assert len(get(provider, "/enrollments").json()["enrollments"]) == 100
    huge = get(provider, "/enrollments", limit=10**9)
    assert len(huge.json()["enrollments"]) == min(provider.settings.oneroster_max_limit, int(huge.headers["X-Total-Count"]))
    for bad in ({"limit": "0"}, {"limit": "x"}, {"offset": "-1"}):
        r = get(provider, "/users", **bad)
        assert (r.status_code, code_minor(r)) == (400, "invaliddata"), bad


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_filters_select_what_the_lake_holds(provider, version):
    users = provider.lake.read("users")
    family = users.get_column("familyName").mode().sort()[0]
    expected = users.filter(pl.col("familyName") == family).height

    def total(expression: str) -> int:
        r = get(provider, "/users", version, filter=expression, limit=1)
        assert r.status_code == 200, r.text
        return int(r.headers["X-Total-Count"])

    assert total(f"familyName='{family}'") == expected
    assert total(f"familyName!='{family}'") == users.height - expected
    assert total(f"familyName~'{family[1:].upper()}'") == users.filter(pl.col("familyName").str.to_lowercase().str.contains(family[1:].lower(), literal=True)).height
    assert total("sourcedId>='stu-5'") == users.filter(pl.col("sourcedId") >= "stu-5").height
    assert total("sourcedId<'stf'") == users.filter(pl.col("sourcedId") < "stf").height
    given = users.get_column("givenName")[0]
    both = users.filter((pl.col("familyName") == family) & (pl.col("givenName") == given)).height
    either = users.filter((pl.col("familyName") == family) | (pl.col("givenName") == given)).height
    assert total(f"familyName='{family}' AND givenName='{given}'") == both
    assert total(f"familyName='{family}' OR givenName='{given}'") == either
    assert total("status='active'") == users.height
    assert total("dateLastModified>'2000-01-01T00:00:00Z'") == users.height
    assert total("dateLastModified>'2999-01-01'") == 0
    schools = provider.lake.read("roles").filter(pl.col("orgSourcedId") == "sch-1").get_column("userSourcedId").n_unique()
    field = "orgs.sourcedId" if version == "1.1" else "roles.org.sourcedId"
    assert total(f"{field}='sch-1'") >= schools


@pytest.mark.parametrize("expression, message", [
    ("givenName", "expected <field><predicate>'<value>' at character 1"),
    ("givenName='a' AND", "expected <field><predicate>'<value>' at character 18"),
    ("givenName='a' and familyName='b'", "expected AND or OR (upper case) at character 15"),
    ("givenName='a' AND familyName='b' OR sourcedId='c'", "at most 2 clauses"),
    ("shoeSize='9'", "filter field 'shoeSize' is not a field of this collection"),
    ("dateLastModified>'yesterday'", "'yesterday' is not an ISO 8601 date-time"),
])
def test_bad_filters_are_400_with_the_reason(provider, expression, message):
    r = get(provider, "/users", filter=expression)
    assert (r.status_code, code_minor(r)) == (400, "invalid_filter_field")
    assert message in r.json()["imsx_description"]
    assert r.json()["imsx_codeMajor"] == "failure" and r.json()["imsx_severity"] == "error"


def test_sort_order_and_fields(provider):
    r = get(provider, "/users", sort="familyName", orderBy="desc", limit=10000, fields="sourcedId,familyName")
    users = r.json()["users"]
    assert all(set(u) <= {"sourcedId", "familyName"} for u in users)
    assert [u["familyName"] for u in users] == sorted((u["familyName"] for u in users), reverse=True)
    v12 = get(provider, "/users", "1.2", fields="sourcedId,givenName", limit=3)
    assert v12.status_code == 200 and [set(u) for u in v12.json()["users"]] == [{"sourcedId", "givenName"}] * 3
    bad = get(provider, "/users", fields="sourcedId,shoeSize")
    assert (bad.status_code, code_minor(bad)) == (400, "invalid_selection_field")
    unsortable = get(provider, "/users", sort="agents")
    assert (unsortable.status_code, code_minor(unsortable)) == (400, "invalid_selection_field")
    one = get(provider, "/users/stu-1", fields="givenName")
    assert one.json() == {"user": {"givenName": provider.lake.read("users").filter(pl.col("sourcedId") == "stu-1").item(0, "givenName")}}


def test_scopes_decide_what_a_token_reads(provider):
    core = bearer(provider, f"{V11}roster-core.readonly")
    assert get(provider, "/users", headers=core).status_code == 200
    nested = get(provider, "/classes/cls-1/students", headers=core)
    assert (nested.status_code, code_minor(nested)) == (403, "forbidden")
    demographics = get(provider, "/demographics", headers=core)
    assert (demographics.status_code, code_minor(demographics)) == (403, "forbidden")
    other_version = get(provider, "/users", "1.2", headers=core)
    assert other_version.status_code == 403
    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        r = get(provider, "/users", headers=headers)
        assert (r.status_code, code_minor(r)) == (401, "unauthorisedrequest")


def test_nested_endpoints_follow_the_lake(provider):
    enrollments = provider.lake.read("enrollments").filter(pl.col("isActive"))
    cls = enrollments.get_column("classSourcedId")[0]
    students = sorted(enrollments.filter((pl.col("classSourcedId") == cls) & (pl.col("role") == "student")).get_column("userSourcedId"))
    for path in (f"/classes/{cls}/students", f"/schools/sch-1/classes/{cls}/students"):
        r = get(provider, path, limit=1000)
        assert r.status_code == 200, r.text
        assert [u["sourcedId"] for u in r.json()["users"]] == students
    classes = provider.lake.read("classes")
    r = get(provider, "/schools/sch-1/classes", "1.2", limit=1000)
    assert int(r.headers["X-Total-Count"]) == classes.filter(pl.col("orgSourcedId") == "sch-1").height
    of_student = get(provider, f"/students/{students[0]}/classes", limit=1000).json()["classes"]
    assert sorted(c["sourcedId"] for c in of_student) == sorted(
        enrollments.filter(pl.col("userSourcedId") == students[0]).get_column("classSourcedId"))
    missing = get(provider, "/schools/no-such-school/classes")
    assert (missing.status_code, code_minor(missing)) == (404, "unknownobject")
    assert get(provider, f"/teachers/{students[0]}/classes").status_code == 404  # a student is not a teacher
    assert get(provider, "/no/such/endpoint").status_code == 404


def test_another_tenants_ids_are_not_found(provider, tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    ingest_district(settings, "provider", tmp_path / "a", students=20, seed=9)
    ingest_district(settings, "other", tmp_path / "b", students=5, seed=4)
    with serve_provider(settings, "other") as other:
        headers = bearer(other)
        users = Lake.from_settings(settings, "other").read("users")
        r = httpx.get(other.base_url() + "/users", headers=headers, params={"limit": 1000})
        assert int(r.headers["X-Total-Count"]) == users.height
        mine = set(Lake.from_settings(settings, "provider").read("users").get_column("sourcedId")) - set(users.get_column("sourcedId"))
        stranger = sorted(mine)[0]
        r = httpx.get(f"{other.base_url()}/users/{stranger}", headers=headers)
        assert (r.status_code, code_minor(r)) == (404, "unknownobject")


def test_deactivated_records_are_served_as_tobedeleted_for_deltas(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    ingest_district(settings, "delta", tmp_path / "d1", students=60)
    before = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    counts = churn_package(tmp_path / "d1", tmp_path / "d2", rate=0.1, seed=2)
    from homeroom.runs import Runner

    Runner("delta", settings=settings).run(tmp_path / "d2", flow_name="SIS", year="2026", format_name="sds-v2.1")
    lake = Lake.from_settings(settings, "delta")
    users = lake.read("users")
    gone = users.filter(~pl.col("isActive"))
    assert gone.height >= counts["left"]
    changed = users.filter(pl.col("lastChangedDateTime") > datetime.fromisoformat(before.replace("Z", "+00:00")))
    with serve_provider(settings, "delta") as server:
        headers = bearer(server)
        r = httpx.get(server.base_url() + "/users", headers=headers, params={"filter": f"dateLastModified>'{before}'", "limit": 5000})
        delta = r.json()["users"]
        assert sorted(u["sourcedId"] for u in delta) == sorted(changed.get_column("sourcedId"))
        tombstones = {u["sourcedId"]: u for u in delta if u["status"] == "tobedeleted"}
        assert sorted(tombstones) == sorted(gone.get_column("sourcedId"))
        assert all(u["dateLastModified"] > before[:19] for u in tombstones.values())
        active = httpx.get(server.base_url() + "/users", headers=headers, params={"filter": "status='active'", "limit": 5000})
        assert int(active.headers["X-Total-Count"]) == users.height - gone.height


def test_views_follow_the_lake_after_a_run_within_the_recheck_time(tmp_path):
    from homeroom.oneroster.lake_views import LakeViews
    from homeroom.runs import Runner
    from homeroom.store.database import open_database

    settings = Settings(data_dir=tmp_path / "data")
    ingest_district(settings, "t", tmp_path / "d1", students=30)
    now = [0.0]
    views = LakeViews(lambda tenant: Lake.from_settings(settings, tenant), open_database(settings), clock=lambda: now[0])
    first = views.for_tenant("t")
    users = first.views("1.1")["users"].frame
    assert users.filter(pl.col("status") == "tobedeleted").height == 0
    churn_package(tmp_path / "d1", tmp_path / "d2", rate=0.1, seed=2)
    Runner("t", settings=settings).run(tmp_path / "d2", flow_name="SIS", year="2026", format_name="sds-v2.1")
    now[0] = 0.5
    assert views.for_tenant("t") is first, "within the recheck time the versions are not looked up again"
    now[0] = 1.5
    second = views.for_tenant("t")
    assert second is not first
    gone = Lake.from_settings(settings, "t").read("users").filter(~pl.col("isActive")).get_column("sourcedId").sort()
    assert second.views("1.1")["users"].frame.filter(pl.col("status") == "tobedeleted").get_column("sourcedId").to_list() == gone.to_list()
    assert views.for_tenant("t") is second


def test_fault_injection_does_what_it_says(provider):
    users = int(get(provider, "/users", limit=1).headers["X-Total-Count"])
    provider.faults.add(Fault("short_page", collection="users", offset=10, drop=2, times=1))
    assert len(get(provider, "/users", limit=10, offset=10).json()["users"]) == 8
    assert len(get(provider, "/users", limit=10, offset=10).json()["users"]) == 10  # times=1: once only
    provider.faults.add(Fault("wrong_total", collection="users", total_delta=-1, times=1))
    assert int(get(provider, "/users", limit=10).headers["X-Total-Count"]) == users - 1
    provider.faults.add(Fault("status", collection="users", status=429, retry_after=3, times=1))
    busy = get(provider, "/users")
    assert (busy.status_code, busy.headers["Retry-After"], code_minor(busy)) == (429, "3", "server_busy")
    provider.faults.add(Fault("status", collection="classes", status=500, times=1))
    broken = get(provider, "/classes")
    assert (broken.status_code, code_minor(broken)) == (500, "internal_server_error")
    provider.faults.add(Fault("empty_page", collection="orgs", times=1))
    empty = get(provider, "/orgs")
    assert empty.json() == {"orgs": []} and int(empty.headers["X-Total-Count"]) > 0
    provider.faults.add(Fault("slow", collection="orgs", delay=0.5, times=1))
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(provider.base_url() + "/orgs", headers=provider.headers, timeout=0.1)
    assert provider.faults.hits == [("short_page", "users", 10), ("wrong_total", "users", 0), ("status", "users", 0),
                                    ("status", "classes", 0), ("empty_page", "orgs", 0), ("slow", "orgs", 0)]
    provider.faults.clear()
    with pytest.raises(ValueError, match="a fault kind is one of"):
        Fault("melt")


def test_every_scope_is_a_known_permission():
    assert {s.rsplit("/", 1)[-1] for s in ONEROSTER} == {"roster-core.readonly", "roster.readonly", "roster-demographics.readonly"}
    assert len(ONEROSTER) == 6


def test_a_client_over_its_call_budget_is_told_to_retry_later(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", oneroster_throttle_calls=3)
    ingest_district(settings, "busy", tmp_path / "d", students=5)
    with serve_provider(settings, "busy") as server:
        headers = bearer(server)
        answers = [httpx.get(server.base_url() + "/orgs", headers=headers) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert code_minor(answers[3]) == "server_busy" and int(answers[3].headers["Retry-After"]) >= 1
        assert "Too many requests: 3 calls per 60 seconds" in answers[3].json()["imsx_description"]
