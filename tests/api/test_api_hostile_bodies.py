"""Bodies a careless or hostile client sends: too large for the endpoint, or nested to exhaust the parser."""

from __future__ import annotations

from apitools import BASE


def test_a_token_request_larger_than_a_form_is_refused_before_it_is_read(api):
    r = api.http.post("/contoso/oauth2/v2.0/token", content=b"grant_type=client_credentials&x=" + b"a" * (1024 * 1024),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (r.status_code, r.json()["error"]["code"]) == (413, "RequestEntityTooLarge")
    assert r.json()["error"]["message"] == "The request body is larger than 65536 bytes."


def test_a_streamed_token_request_without_a_length_is_cut_at_the_limit(api):
    sent = []

    def chunks():
        for _ in range(64):  # 4 MiB offered; the server stops reading past 64 KiB
            sent.append(1)
            yield b"a" * 65536
    r = api.http.post("/contoso/oauth2/v2.0/token", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


def test_deeply_nested_json_is_a_400_not_a_server_error(admin):
    objects = b'{"displayName": "x", "vendor": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}"
    arrays = b'{"displayName": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for body in (objects, arrays):
        r = admin.post(f"{BASE}/sourceSystems", content=body, headers={"Content-Type": "application/json"})
        assert (r.status_code, r.json()["error"]["code"]) == (400, "BadRequest")
        assert r.json()["error"]["message"] == "The request body nests objects and arrays more than 64 levels deep."


def test_brackets_inside_strings_do_not_count_as_nesting(admin):
    r = admin.post(f"{BASE}/sourceSystems", json={"displayName": "[" * 50 + "{" * 50, "vendor": "v"})
    assert r.status_code == 201 and r.json()["displayName"] == "[" * 50 + "{" * 50


def test_query_options_that_would_burn_cpu_are_refused_before_any_work(admin):
    """The root's $expand repeated 5,000 times took 21.5 s of CPU with a read-only token."""
    repeated = admin.get(f"{BASE}?$expand=" + ",".join(["referenceDefinitions"] * 2))
    assert (repeated.status_code, repeated.json()["error"]["message"]) == (
        400, "Query option '$expand' names 'referenceDefinitions' more than once.")
    many = admin.get(f"{BASE}/sourceSystems?$select=" + ",".join(f"p{i}" for i in range(33)))
    assert many.json()["error"]["message"] == "Query option '$select' lists 33 items; at most 32 are accepted."
    ordered = admin.get(f"{BASE}/sourceSystems?$orderby=displayName asc,displayName desc")
    assert ordered.json()["error"]["message"] == "Query option '$orderby' names 'displayName' more than once."
    long_filter = admin.get(f"{BASE}/sourceSystems?$filter=" + "displayName eq 'x' or " * 95 + "displayName eq 'y'")
    assert long_filter.json()["error"]["message"] == "Query option '$filter' is longer than 2000 characters."
    huge = admin.get(f"{BASE}/sourceSystems?$search=" + "a" * 5000)
    assert (huge.status_code, huge.json()["error"]["message"]) == (400, "The query string is longer than 4096 characters.")
    assert admin.get(f"{BASE}/sourceSystems?$select=id,displayName&$orderby=displayName desc").status_code == 200
