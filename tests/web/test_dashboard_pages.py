"""The dashboard over HTTP: sign-in and its cookies, CSRF, permissions, tenant isolation, and what each page shows."""

from __future__ import annotations

import json
import re
import time

import polars as pl
import pytest
from webtools import (FIRST_PLANTED_LINE, PLANTED_ERRORS, PLANTED_WARNINGS, READER, csrf_of, planted_package,
                      sample_package, shrunk_package)

from homeroom.auth.registrations import create_app_registration
from homeroom.store.models import InboundFlow
from homeroom.store.service import ensure_file_flow


def new_flow(dash, tenant: str) -> str:
    """A CSV flow of a tenant that has no run yet."""
    with dash.app.state.sessions.begin() as db:
        return ensure_file_flow(db=db, tenant_id=tenant, display_name="sis", source_name="SIS", year_code="2026",
                                file_format=None).id


def _text(html: str) -> str:
    """The page's text, tags removed and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- signing in ---------------------------------------------------------------------------------------------------
def test_pages_need_a_signed_in_user_and_send_them_back_after_signing_in(dash):
    dash.user("contoso", "admin@contoso.example")
    http = dash.client()
    answer = http.get("/admin/runs?page=2")
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/sign-in?next=/admin/runs?page=2"
    page = http.get("/admin/sign-in?next=/admin/runs")
    signed = http.post("/admin/sign-in", data={"csrf_token": csrf_of(page.text), "tenant": "contoso",
                                                "username": "ADMIN@contoso.example", "password": "correct horse battery staple",
                                                "next": "/admin/runs"})
    assert signed.status_code == 303 and signed.headers["location"] == "/admin/runs"
    assert http.get("/admin/runs").status_code == 200


def test_the_session_cookie_is_httponly_samesite_and_secure_over_tls(dash):
    dash.user("contoso", "admin")
    for https in (False, True):
        http = dash.client(https)
        page = http.get("/admin/sign-in")
        pre = page.headers["set-cookie"]
        assert pre.startswith("homeroom_admin_csrf=") and "HttpOnly" in pre and "SameSite=strict" in pre and "Path=/admin" in pre
        signed = http.post("/admin/sign-in", data={"csrf_token": csrf_of(page.text), "tenant": "contoso", "username": "admin",
                                                    "password": "correct horse battery staple"})
        cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith("homeroom_admin="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/admin" in cookie and "Max-Age=28800" in cookie
        assert ("Secure" in cookie) is https


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_username_with_the_token_endpoint(dash):
    dash.user("contoso", "admin")
    http = dash.client()
    token = csrf_of(http.get("/admin/sign-in").text)
    for _ in range(3):  # api_sign_in_max_failures=3
        wrong = http.post("/admin/sign-in", data={"csrf_token": token, "tenant": "contoso", "username": "admin", "password": "nope"})
        assert wrong.status_code == 401
        assert "The tenant, user name or password is incorrect." in wrong.text
        assert "homeroom_admin=" not in (wrong.headers.get("set-cookie") or "")
    locked = http.post("/admin/sign-in", data={"csrf_token": token, "tenant": "contoso", "username": "admin",
                                                "password": "correct horse battery staple"})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
    assert "Too many failed sign-ins for this user name" in locked.text
    # The password grant counts the same failures: the API's token endpoint refuses the same username too.
    with dash.app.state.sessions() as db:
        app, secret = create_app_registration(db=db, tenant_id="contoso", display_name="script", permissions=READER)
        db.commit()
    grant = http.post("/contoso/oauth2/v2.0/token", data={"grant_type": "password", "client_id": app.id, "username": "admin",
                                                          "password": "correct horse battery staple"})
    assert grant.status_code == 429 and "too many failed sign-ins for this user" in grant.text


def test_the_sign_in_form_without_its_csrf_token_is_refused(dash):
    dash.user("contoso", "admin")
    http = dash.client()
    http.get("/admin/sign-in")
    answer = http.post("/admin/sign-in", data={"tenant": "contoso", "username": "admin", "password": "correct horse battery staple"})
    assert answer.status_code == 403
    assert "its security token is missing or out of date" in answer.text
    forged = http.post("/admin/sign-in", data={"csrf_token": "guess", "tenant": "contoso", "username": "admin",
                                                "password": "correct horse battery staple"})
    assert forged.status_code == 403


def test_a_disabled_user_is_signed_out_at_once(dash):
    from homeroom.store.models import User

    dash.user("contoso", "admin")
    http = dash.signed_in("contoso", "admin")
    assert http.get("/admin/").status_code == 200
    with dash.app.state.sessions.begin() as db:
        db.query(User).filter(User.username == "admin").one().disabled = True
    assert http.get("/admin/").status_code == 303


def test_signing_out_clears_the_cookie(dash):
    dash.user("contoso", "admin")
    http = dash.signed_in("contoso", "admin")
    token = csrf_of(http.get("/admin/").text)
    out = http.post("/admin/sign-out", data={"csrf_token": token})
    assert out.status_code == 303 and 'homeroom_admin=""' in out.headers["set-cookie"]
    assert http.get("/admin/").status_code == 303


def test_pages_carry_security_headers(dash):
    answer = dash.client().get("/admin/sign-in")
    assert answer.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"


# --- a run with planted findings ------------------------------------------------------------------------------------
@pytest.fixture
def planted(dash, tmp_path):
    dash.user("contoso", "admin")
    run_id = dash.run("contoso", planted_package(tmp_path / "planted"))
    return run_id, dash.signed_in("contoso", "admin")


def test_a_run_shows_its_statistics_changes_and_exact_findings_by_rule_and_file(planted):
    run_id, http = planted
    page = http.get(f"/admin/runs/{run_id}")
    assert page.status_code == 200
    text = _text(page.text)
    assert f"{PLANTED_ERRORS} errors" in text and f"{PLANTED_WARNINGS} warnings" in text
    assert re.search(r'id="total-errors">7<', page.text) and re.search(r'id="total-warnings">120<', page.text)
    rows = re.findall(r'<tr data-rule="([^"]+)" data-file="([^"]+)">.*?<td class="num">([\d,]+)</td>', page.text, re.S)
    assert rows == [("InvalidPhone", "users.csv", "120"), ("RequiredValueMissing", "users.csv", "7")]
    assert "Status (Graph)" in page.text and "<code>completedWithErrors</code>" in page.text
    # users: 8 of the sample and the 120 with a bad phone (kept, the phone cleared); the 7 without username dropped
    assert re.search(r"<th scope=\"row\">users</th><td class=\"num\">128</td>", page.text)
    warnings_only = http.get(f"/admin/runs/{run_id}?level=warning")
    assert re.findall(r'<tr data-rule="([^"]+)"', warnings_only.text) == ["InvalidPhone"]


def test_findings_of_one_rule_page_on_the_server_and_drill_down_to_the_line(planted, dash):
    run_id, http = planted
    first = http.get(f"/admin/runs/{run_id}/findings", params={"rule": "InvalidPhone", "file": "users.csv"})
    assert "120 findings in all; the log lists 120." in _text(first.text)
    lines = [int(n) for n in re.findall(r'&amp;line=(\d+)"', first.text)]
    assert lines == list(range(FIRST_PLANTED_LINE, FIRST_PLANTED_LINE + 50))
    third = http.get(f"/admin/runs/{run_id}/findings", params={"rule": "InvalidPhone", "file": "users.csv", "page": "3"},
                     headers={"HX-Request": "true"})
    assert third.text.startswith('<div id="findings-list">'), "an htmx request gets the table alone"
    assert [int(n) for n in re.findall(r'&amp;line=(\d+)"', third.text)] == list(range(110, 130))
    assert "Findings 101 to 120 of the 120 listed" in third.text and "Next page" not in third.text

    link = re.search(r'href="(/admin/runs/[^"]+/line\?[^"]+line=10)"', first.text).group(1).replace("&amp;", "&")
    line = http.get(link)
    cells = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]*)</td></tr>', line.text))
    assert cells["sourcedId"] == "200000" and cells["phone"] == "12345" and cells["username"] == "u0@classrmtest31.org"
    assert cells["password"] == "", "the planted line has no password"
    sample_line = http.get(link.replace("line=10", "line=2"))
    cells = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]*)</td></tr>', sample_line.text))
    assert cells["password"] == "••••••" and "P@ssword123" not in sample_line.text, "passwords are never shown"


def test_the_full_log_downloads_as_csv_and_json_lines(planted):
    run_id, http = planted
    csv = http.get(f"/admin/runs/{run_id}/log.csv")
    assert csv.status_code == 200 and csv.headers["content-disposition"] == f'attachment; filename="run-{run_id}-findings.csv"'
    assert csv.content.startswith(b"\xef\xbb\xbflevel,rule,file,line,recordId,field,value,message")
    assert len(csv.content.decode("utf-8-sig").splitlines()) == 1 + PLANTED_ERRORS + PLANTED_WARNINGS
    jsonl = http.get(f"/admin/runs/{run_id}/log.jsonl")
    records = [json.loads(line) for line in jsonl.text.splitlines()]
    assert len(records) == PLANTED_ERRORS + PLANTED_WARNINGS
    assert sum(r["rule"] == "InvalidPhone" for r in records) == PLANTED_WARNINGS
    assert http.get(f"/admin/runs/{run_id}/log.xml").status_code == 404


def test_another_tenants_run_operation_and_flow_are_not_found(planted, dash, tmp_path):
    run_id, _http = planted
    dash.user("fabrikam", "other")
    other = dash.signed_in("fabrikam", "other")
    for path in (f"/admin/runs/{run_id}", f"/admin/runs/{run_id[:8]}", f"/admin/runs/{run_id}/findings",
                 f"/admin/runs/{run_id}/log.csv"):
        answer = other.get(path)
        assert answer.status_code == 404, path
        assert "There is no run" in answer.text and "in tenant fabrikam" in answer.text
    with dash.app.state.sessions() as db:
        flow_id = db.query(InboundFlow).filter(InboundFlow.tenant_id == "contoso").one().id
    assert other.get(f"/admin/flows/{flow_id}").status_code == 404
    token = csrf_of(other.get("/admin/").text)
    assert other.post(f"/admin/runs/{run_id}/approve", data={"csrf_token": token}).status_code == 404


# --- held runs --------------------------------------------------------------------------------------------------------
@pytest.fixture
def held(dash, tmp_path):
    dash.user("contoso", "admin")
    dash.user("contoso", "reader", READER)
    dash.run("contoso", sample_package(tmp_path / "first"))
    run_id = dash.run("contoso", shrunk_package(tmp_path / "shrunk"))
    assert dash.run_status(run_id) == "held"
    return run_id


def test_held_runs_show_reasons_and_the_changes_approving_would_write(held, dash):
    http = dash.signed_in("contoso", "admin")
    page = http.get("/admin/held")
    text = _text(page.text)
    assert "1 of 8 active users (12.5%) would be deactivated, more than the threshold of 10%." in text
    assert "1 of 3 active relationships (33.3%) would be deactivated" in text
    assert re.search(r'<th scope="row">users</th><td class="num">0</td><td class="num">0</td><td class="num">1</td>', page.text)
    assert "Approve and write the changes" in page.text
    overview = _text(http.get("/admin/").text)
    assert "1 held run" in overview


def test_a_reader_sees_a_held_run_but_is_refused_its_approval(held, dash):
    reader = dash.signed_in("contoso", "reader")
    page = reader.get("/admin/held")
    assert page.status_code == 200 and "1 of 8 active users" in page.text
    assert "Approve and write the changes" not in page.text
    answer = reader.post(f"/admin/runs/{held}/approve", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 403
    assert "You cannot approve a held run: it needs one of IndustryData-Run.Start" in _text(answer.text)
    assert reader.post(f"/admin/runs/{held}/discard", data={"csrf_token": csrf_of(page.text)}).status_code == 403
    assert dash.run_status(held) == "held"


def test_an_approval_without_its_csrf_token_is_refused(held, dash):
    http = dash.signed_in("contoso", "admin")
    assert http.post(f"/admin/runs/{held}/approve").status_code == 403
    assert http.post(f"/admin/runs/{held}/approve", data={"csrf_token": "x" * 32}).status_code == 403
    assert dash.run_status(held) == "held"


def test_approving_a_held_run_writes_the_lake(held, dash):
    http = dash.signed_in("contoso", "admin")
    token = csrf_of(http.get("/admin/held").text)
    answer = http.post(f"/admin/runs/{held}/approve", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["location"].startswith(f"/admin/runs/{held}?approval=")
    assert dash.wait_for_run(held, not_status="held") in ("running", "completed")
    assert dash.wait_for_run(held, not_status="running") == "completed"
    users = dash.runner("contoso").lake.read("users")
    assert users.filter(pl.col("sourcedId") == "114005")["isActive"].to_list() == [False]
    again = http.post(f"/admin/runs/{held}/approve", data={"csrf_token": token})
    assert again.status_code == 409 and "not held" in again.text


def test_discarding_a_held_run_writes_nothing(held, dash):
    http = dash.signed_in("contoso", "admin")
    token = csrf_of(http.get("/admin/held").text)
    assert http.post(f"/admin/runs/{held}/discard", data={"csrf_token": token}).status_code == 303
    assert dash.run_status(held) == "discarded"
    assert dash.runner("contoso").lake.read("users")["isActive"].all()


# --- trends -----------------------------------------------------------------------------------------------------------
def test_trends_plot_each_runs_counts(held, dash):
    http = dash.signed_in("contoso", "admin")
    page = http.get("/admin/trends")
    data = json.loads(re.search(r'<script type="application/json" id="trend-data">(.*?)</script>', page.text, re.S).group(1))
    assert len(data["runId"]) == 1 and held not in data["runId"], "a held run wrote no counts: it is left out"
    assert data["peopleActive"] == [8] and data["peopleInactive"] == [0] and data["errors"] == [0]
    token = csrf_of(page.text)
    http.post(f"/admin/runs/{held}/approve", data={"csrf_token": token})
    assert dash.wait_for_run(held, not_status="held") and dash.wait_for_run(held, not_status="running") == "completed"
    data = json.loads(re.search(r'id="trend-data">(.*?)</script>', http.get("/admin/trends").text, re.S).group(1))
    assert data["runId"][1] == held
    assert (data["peopleActive"], data["peopleInactive"], data["membershipsActive"]) == ([8, 7], [0, 1], [6, 6])
    assert '<script src="/admin/static/vendor/uPlot-1.6.32.iife.min.js"></script>' in page.text


# --- flows, connectors, thresholds ------------------------------------------------------------------------------------
def test_thresholds_are_edited_as_percentages_and_checked(planted, dash):
    _run_id, http = planted
    with dash.app.state.sessions() as db:
        flow_id = db.query(InboundFlow).one().id
    page = http.get(f"/admin/flows/{flow_id}")
    token = csrf_of(page.text)
    saved = http.post(f"/admin/flows/{flow_id}", data={"csrf_token": token, "displayName": "SIS nightly",
                                                       "threshold-default": "20", "threshold-users": "5%"})
    assert saved.status_code == 303
    with dash.app.state.sessions() as db:
        flow = db.get(InboundFlow, flow_id)
        assert (flow.display_name, flow.thresholds) == ("SIS nightly", {"default": 0.2, "users": 0.05})
    wrong = http.post(f"/admin/flows/{flow_id}", data={"csrf_token": token, "displayName": "SIS nightly", "threshold-users": "150"})
    assert wrong.status_code == 400
    assert "The threshold for users must be a percentage from 0 to 100, not 150." in wrong.text
    dash.user("contoso", "reader", READER)
    reader = dash.signed_in("contoso", "reader")
    refused = reader.post(f"/admin/flows/{flow_id}", data={"csrf_token": csrf_of(reader.get(f"/admin/flows/{flow_id}").text),
                                                           "displayName": "x"})
    assert refused.status_code == 403


def test_a_connectors_file_format_is_edited_through_the_apis_rules(planted, dash):
    _run_id, http = planted
    with dash.app.state.sessions() as db:
        connector_id = db.query(InboundFlow).one().connector_id
    token = csrf_of(http.get(f"/admin/connectors/{connector_id}").text)
    ok = http.post(f"/admin/connectors/{connector_id}", data={"csrf_token": token, "displayName": "SIS files",
                                                               "fileFormat": "schoolDataSyncV1"})
    assert ok.status_code == 303
    bad = http.post(f"/admin/connectors/{connector_id}", data={"csrf_token": token, "displayName": "SIS files",
                                                                "fileFormat": "noSuchFormat"})
    assert bad.status_code == 400 and "noSuchFormat" in bad.text


# --- uploads ----------------------------------------------------------------------------------------------------------
def test_an_upload_from_the_browser_validates_then_runs(dash, tmp_path):
    dash.user("northwind", "admin")
    flow_id = new_flow(dash, "northwind")
    http = dash.signed_in("northwind", "admin")
    token = csrf_of(http.get(f"/admin/flows/{flow_id}/upload").text)
    pkg = sample_package(tmp_path / "upload")
    files = [("files", (p.name, p.read_bytes(), "text/csv")) for p in sorted(pkg.glob("*.csv"))]
    answer = http.post(f"/admin/flows/{flow_id}/upload", data={"csrf_token": token}, files=files)
    assert answer.status_code == 303
    operation_url = answer.headers["location"].split("?")[0]
    deadline = time.monotonic() + 60
    while "(this page updates by itself)" in (page := http.get(operation_url)).text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Validated: academicSessions.csv, classes.csv" in page.text
    started = http.post("/admin/runs/start", data={"csrf_token": csrf_of(page.text)})
    assert started.status_code == 303
    new_run = started.headers["location"].rsplit("/", 1)[1]
    assert dash.wait_for_run(new_run, not_status="running") == "completed"
    assert dash.runner("northwind").lake.read("users").height == 8
    dash.user("fabrikam", "other")
    assert dash.signed_in("fabrikam", "other").get(operation_url).status_code == 404


def test_an_upload_of_files_that_fail_validation_lists_the_errors(dash, tmp_path):
    dash.user("northwind", "admin")
    flow_id = new_flow(dash, "northwind")
    http = dash.signed_in("northwind", "admin")
    token = csrf_of(http.get(f"/admin/flows/{flow_id}/upload").text)
    answer = http.post(f"/admin/flows/{flow_id}/upload", data={"csrf_token": token},
                       files=[("files", ("users.csv", b"sourcedId,username\r\n1,a\r\n", "text/csv"))])
    operation_url = answer.headers["location"].split("?")[0]
    deadline = time.monotonic() + 60
    while "(this page updates by itself)" in (page := http.get(operation_url)).text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert '<ul id="validation-errors">' in page.text and "Start a run now" not in page.text


def test_an_upload_without_files_says_what_to_do(planted, dash):
    _run_id, http = planted
    with dash.app.state.sessions() as db:
        flow_id = db.query(InboundFlow).one().id
    token = csrf_of(http.get(f"/admin/flows/{flow_id}/upload").text)
    answer = http.post(f"/admin/flows/{flow_id}/upload", data={"csrf_token": token}, files=[("files", ("", b"", "text/csv"))])
    assert answer.status_code == 400 and "Choose the CSV files to upload." in answer.text


# --- pages whose data other stages write --------------------------------------------------------------------------------
def test_matching_and_plans_say_not_configured_until_there_is_data(planted, dash):
    from deltalake import write_deltalake

    _run_id, http = planted
    assert "Matching is not configured yet" in http.get("/admin/matching").text
    assert "Provisioning is not configured yet" in http.get("/admin/plans").text
    lake = dash.runner("contoso").lake
    links = pl.DataFrame({"target": ["entra"] * 5, "roleGroup": ["students", "students", "students", "staff", "staff"],
                          "outcome": ["matched", "unmatched", "ambiguous", "matched", "matched"],
                          "personSourcedId": ["1", "2", "3", "4", "5"]})
    write_deltalake(lake.uri("match_links"), links.to_arrow())
    page = http.get("/admin/matching")
    rows = re.findall(r"<tr><td>entra</td><th scope=\"row\">(\w+)</th><td>(\w+)</td><td class=\"num\">(\d+)</td></tr>", page.text)
    assert rows == [("staff", "matched", "2"), ("students", "ambiguous", "1"), ("students", "matched", "1"),
                    ("students", "unmatched", "1")]
    cases = re.findall(r"<tr><td>entra</td><td>students</td><td>(\w+)</td><td>(\d)</td></tr>", page.text)
    assert cases == [("ambiguous", "3"), ("unmatched", "2")], "the cases to fix are listed, ambiguous first"
    assert "Provisioning is not configured yet" in http.get("/admin/plans").text, "plans live with runs (test_dashboard_plans)"
