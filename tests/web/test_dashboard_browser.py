"""The dashboard in Debian's Chromium, driven by Playwright (no browser download: ``executable_path``): signing in,
a run with planted findings, drilling down to a line, the log download, approving a held run and a held provisioning
plan (applied into a real scim2-server), an upload watched
through validation and its run, refusals (a reader, another tenant, a form without its CSRF token), keyboard use,
and axe-core (vendored in ``tests/web/vendor``) on every page at desktop and phone width.

Without Chromium (or Playwright) these tests are skipped with the reason; under ``CI=true`` that is a failure.
``HOMEROOM_SCREENSHOTS=<folder>`` copies the screenshots the tests take there (``docs/images`` for docs/dashboard.md).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest
from webtools import (FIRST_PLAN_REASON, PASSWORD, PLANTED_ERRORS, PLANTED_WARNINGS, READER, Dashboard, make_plan,
                      planted_package, provision_into_scim, sample_package, shrunk_package)

from homeroom.api.resources import OUTBOUND_FLOW_SETS
from homeroom.settings import Settings
from homeroom.targets import service as target_service
from homeroom.store.models import InboundFlow
from homeroom.store.service import ensure_file_flow
from tests.api.apitools import live_server
from tests.conftest import MS_V21
from tests.targets.scimserver import TOKEN

CHROMIUM = Path(os.environ.get("HOMEROOM_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
_SERIOUS = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(' | '))"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (CI requires it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed")
    with sync_playwright() as playwright:
        # Playwright gives every launch an empty, temporary --user-data-dir of its own.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def site(tmp_path):
    """The app served over HTTP on a free port, tenant contoso with a run with planted findings and a held run."""
    dash = Dashboard(Settings(data_dir=tmp_path / "data"))
    dash.user("contoso", "admin")
    dash.user("contoso", "reader", READER)
    dash.planted = dash.run("contoso", planted_package(tmp_path / "planted"))
    dash.held = dash.run("contoso", sample_package(tmp_path / "sample"))  # deactivates 120 of 128 users: held
    assert dash.run_status(dash.held) == "held"
    with dash.app.state.sessions.begin() as db:  # a directory target and a flow set, for their pages
        dash.target = target_service.add_target(db=db, tenant_id="contoso", name="scim-prod", kind="scim",
                                                settings={"base_url": "https://scim.example.org/v2"},
                                                secrets={"bearer_token": "never shown"}).id
        dash.flow_set = OUTBOUND_FLOW_SETS.create(db=db, tenant_id="contoso", raw=b'{"displayName": "All schools"}').id
    with live_server(dash) as port:
        dash.url = f"http://127.0.0.1:{port}"
        yield dash


@pytest.fixture
def shots(tmp_path):
    """Where screenshots go; copied to ``HOMEROOM_SCREENSHOTS`` when set."""
    folder = tmp_path / "shots"
    folder.mkdir()
    yield folder
    target = os.environ.get("HOMEROOM_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for png in folder.glob("*.png"):
            shutil.copy(png, Path(target) / png.name)


def _page(chromium, site, username: str = "admin", viewport=DESKTOP, tenant: str = "contoso"):
    context = chromium.new_context(viewport=viewport, bypass_csp=True, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{site.url}/admin/")
    page.get_by_label("Tenant").fill(tenant)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/admin/")
    return page


def _shot(page, shots: Path, name: str) -> None:
    path = shots / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


def test_sign_in_then_a_run_with_planted_findings_its_lines_and_the_log(chromium, site, shots):
    page = _page(chromium, site)
    assert page.get_by_role("heading", level=1).inner_text() == "Overview of contoso"
    _shot(page, shots, "overview")
    page.goto(f"{site.url}/admin/runs/{site.planted}")
    assert page.locator("#count-error").inner_text() == f"{PLANTED_ERRORS} errors"
    assert page.locator("#count-warning").inner_text() == f"{PLANTED_WARNINGS} warnings"
    assert page.locator("#total-errors").inner_text() == "7" and page.locator("#total-warnings").inner_text() == "120"
    _shot(page, shots, "run")

    page.get_by_role("link", name="See the lines of InvalidPhone in users.csv").click()
    assert page.locator("#findings-count").inner_text().startswith("120 findings in all")
    first_line = page.locator("#findings-list tbody tr").first.locator("td.num a")
    assert first_line.inner_text().startswith("10")
    _shot(page, shots, "findings")
    page.get_by_role("link", name="Next page").click()  # htmx swaps the table and pushes the URL
    page.wait_for_url("**page=2**")
    assert page.locator("#findings-list caption").inner_text() == "Findings 51 to 100 of the 120 listed"
    page.get_by_role("link", name="60 (see line 60 of users.csv)").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Line 60 of users.csv"
    assert page.locator("#source-line tr", has_text="phone").locator("td").inner_text() == "12345"
    assert page.locator("#source-line tr", has_text="sourcedId").locator("td").inner_text() == "200050"
    _shot(page, shots, "line")

    page.goto(f"{site.url}/admin/runs/{site.planted}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the log (CSV)").click()
    saved = Path(download.value.path())
    assert download.value.suggested_filename == f"run-{site.planted}-findings.csv"
    assert len(saved.read_text("utf-8-sig").splitlines()) == 1 + PLANTED_ERRORS + PLANTED_WARNINGS
    page.context.close()


def test_approve_a_held_run_and_see_the_lake_change(chromium, site, shots):
    before = site.runner("contoso").lake.read("users")
    assert before.filter(pl.col("isActive")).height == 128
    page = _page(chromium, site)
    page.get_by_role("link", name="Held runs").click()
    assert "120 of 128 active users (93.8%) would be deactivated" in page.inner_text("main")
    _shot(page, shots, "held")
    page.get_by_role("button", name="Approve and write the changes").click()
    page.wait_for_url(f"**/admin/runs/{site.held}?approval=*")
    page.locator("#run-status .status", has_text="completed").wait_for(timeout=60_000)  # polled, then reloaded
    assert "Approve and write the changes" not in page.inner_text("main")
    after = site.runner("contoso").lake.read("users")
    assert after.filter(pl.col("isActive")).height == 8 and after.height == 128
    page.context.close()


def test_approve_a_held_plan_and_see_it_applied(chromium, site, shots, tmp_path, scim_server):
    site.user("northwind", "admin")
    site.run("northwind", sample_package(tmp_path / "northwind"))
    provision_into_scim(site, "northwind", scim_server, TOKEN)
    run_id = make_plan(site, "northwind", MS_V21)
    page = _page(chromium, site, tenant="northwind")
    page.get_by_role("link", name="Plans").click()
    assert page.locator("#plans-list tbody tr").count() == 1
    _check("plans", page)
    _shot(page, shots, "plans")
    page.locator("#plans-list a").first.click()
    page.wait_for_url(f"**/admin/plans/{run_id}")
    assert FIRST_PLAN_REASON in page.locator("#plan-reasons").inner_text()
    assert page.locator("#plan-status .status").first.inner_text() == "held for approval"
    assert page.locator("#plan-operations tbody tr").count() == 13
    assert page.locator("#plan-operations tbody tr", has_text="not applied").count() == 13
    _check("a held plan", page)
    _shot(page, shots, "plan")
    page.get_by_role("link", name="Membership adds (5)").click()
    assert page.locator("#plan-operations tbody tr").count() == 5
    page.get_by_role("button", name="Approve and apply the plan").click()
    page.wait_for_url(f"**/admin/plans/{run_id}?approval=*")
    page.locator("#approval-result").wait_for(timeout=60_000)  # polled until applied, then reloaded
    assert page.locator("#plan-status .status").first.inner_text() == "applied"
    assert page.locator("#approval-result").inner_text() == "The plan was approved and applied: 13 operations done, 0 failed."
    assert page.locator("#plan-operations tbody tr", has_text="done").count() == 13
    assert page.get_by_role("button", name="Approve and apply the plan").count() == 0
    flows = page.locator("#plan-flows tbody tr")
    assert [flows.nth(i).locator("td").nth(2).inner_text() for i in range(flows.count())] == ["6", "7"], "done per flow"
    _check("an applied plan", page)
    page.context.close()


def test_a_reader_is_refused_a_plan_approval(chromium, site, tmp_path, scim_server):
    site.user("northwind", "reader", READER)
    site.run("northwind", sample_package(tmp_path / "northwind"))
    provision_into_scim(site, "northwind", scim_server, TOKEN)
    run_id = make_plan(site, "northwind", MS_V21)
    page = _page(chromium, site, "reader", tenant="northwind")
    page.goto(f"{site.url}/admin/plans/{run_id}")
    assert page.get_by_role("button", name="Approve and apply the plan").count() == 0
    page.evaluate("""([url, token]) => { const f = document.createElement('form'); f.method = 'post'; f.action = url;
        const i = document.createElement('input'); i.type = 'hidden'; i.name = 'csrf_token'; i.value = token; f.append(i);
        document.body.append(f); f.submit(); }""",
                  [f"/admin/plans/{run_id}/approve", page.locator("input[name=csrf_token]").first.get_attribute("value")])
    page.wait_for_url(f"**/admin/plans/{run_id}/approve")
    assert page.get_by_role("heading", level=1).inner_text() == "Not allowed (403)"
    assert "You cannot approve a provisioning plan" in page.get_by_role("alert").inner_text()
    assert site.run_status(run_id) == "held"
    page.context.close()


def test_upload_a_package_and_watch_it_validate_and_run(chromium, site, shots, tmp_path):
    site.user("northwind", "admin")
    with site.app.state.sessions.begin() as db:
        flow_id = ensure_file_flow(db=db, tenant_id="northwind", display_name="sis", source_name="SIS", year_code="2026",
                                   file_format=None).id
    page = _page(chromium, site, tenant="northwind")
    page.goto(f"{site.url}/admin/flows/{flow_id}")
    page.get_by_role("link", name="Upload files to this flow").click()
    page.get_by_label("CSV files").set_input_files(sorted(str(p) for p in sample_package(tmp_path / "up").glob("*.csv")))
    _shot(page, shots, "upload")
    page.get_by_role("button", name="Upload and validate").click()
    page.locator("#validated-files").wait_for(timeout=60_000)
    assert page.locator("#operation-status .status").inner_text() == "succeeded"
    _check("validation", page)
    _shot(page, shots, "validation")
    page.get_by_role("button", name="Start a run now").click()
    page.locator("#run-status .status", has_text="completed").wait_for(timeout=60_000)
    _check("a run started from the browser", page)
    assert site.runner("northwind").lake.read("users").height == 8
    page.context.close()


def test_a_reader_is_refused_an_approval(chromium, site):
    page = _page(chromium, site, "reader")
    page.goto(f"{site.url}/admin/held")
    assert page.get_by_role("button", name="Approve and write the changes").count() == 0
    # The reader posts the approval anyway, with a valid token of their own session: the server refuses it.
    page.evaluate("""([url, token]) => { const f = document.createElement('form'); f.method = 'post'; f.action = url;
        const i = document.createElement('input'); i.type = 'hidden'; i.name = 'csrf_token'; i.value = token; f.append(i);
        document.body.append(f); f.submit(); }""",
                  [f"/admin/runs/{site.held}/approve", page.locator("input[name=csrf_token]").first.get_attribute("value")])
    page.wait_for_url(f"**/admin/runs/{site.held}/approve")
    assert page.get_by_role("heading", level=1).inner_text() == "Not allowed (403)"
    assert "You cannot approve a held run" in page.get_by_role("alert").inner_text()
    assert site.run_status(site.held) == "held"
    page.context.close()


def test_another_tenants_run_is_not_found(chromium, site):
    site.user("fabrikam", "other")
    page = _page(chromium, site, "other", tenant="fabrikam")
    response = page.goto(f"{site.url}/admin/runs/{site.planted}")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Not found (404)"
    page.context.close()


def test_a_form_posted_without_its_csrf_token_is_refused(chromium, site):
    page = _page(chromium, site)
    page.goto(f"{site.url}/admin/held")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(i => i.remove())")
    page.get_by_role("button", name="Approve and write the changes").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Not allowed (403)"
    assert "security token is missing" in page.get_by_role("alert").inner_text()
    assert site.run_status(site.held) == "held"
    page.context.close()


def test_the_keyboard_reaches_the_skip_link_then_the_content(chromium, site):
    page = _page(chromium, site)
    page.goto(f"{site.url}/admin/runs/{site.planted}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    page.context.close()


def _pages(site) -> dict[str, str]:
    with site.app.state.sessions() as db:
        flow = db.query(InboundFlow).filter(InboundFlow.tenant_id == "contoso").one()
        flow_id, connector_id = flow.id, flow.connector_id
    return {"overview": "/admin/", "runs": "/admin/runs", "run": f"/admin/runs/{site.planted}",
            "held-run": f"/admin/runs/{site.held}", "findings": f"/admin/runs/{site.planted}/findings?rule=InvalidPhone",
            "line": f"/admin/runs/{site.planted}/line?activity=A&file=users.csv&line=2", "trends": "/admin/trends",
            "held": "/admin/held", "matching": "/admin/matching", "plans": "/admin/plans", "flows": "/admin/flows",
            "flow": f"/admin/flows/{flow_id}", "connector": f"/admin/connectors/{connector_id}",
            "upload": f"/admin/flows/{flow_id}/upload", "targets": "/admin/targets", "target": f"/admin/targets/{site.target}",
            "flow-set": f"/admin/flow-sets/{site.flow_set}", "not-found": "/admin/runs/nope"}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "phone"])
def test_every_page_has_no_serious_accessibility_violations_and_fits_the_window(chromium, site, shots, viewport):
    page = _page(chromium, site, viewport=viewport)
    with site.app.state.sessions() as db:
        from homeroom.store.models import Run

        activity = db.get(Run, site.planted).activities[0].id
    sign_in = chromium.new_context(viewport=viewport, bypass_csp=True).new_page()
    sign_in.goto(f"{site.url}/admin/sign-in")
    checked = {"sign-in": sign_in}
    for name, path in _pages(site).items():
        page.goto(site.url + path.replace("activity=A", f"activity={activity}"))
        if name == "trends":
            page.locator("#chart-errors canvas").wait_for()
        checked[name] = page
        _check(name, page)
        if viewport is DESKTOP and name in ("trends", "flow", "matching", "targets", "target", "flow-set"):
            _shot(page, shots, name)
    _check("sign-in", sign_in)
    if viewport is DESKTOP:
        _shot(sign_in, shots, "sign-in")
    else:
        page.goto(f"{site.url}/admin/runs/{site.planted}")
        _shot(page, shots, "run-phone")
    sign_in.context.close()
    page.context.close()


def _check(name: str, page) -> None:
    page.add_script_tag(path=str(AXE))
    assert page.evaluate(_SERIOUS) == [], f"{name}: serious or critical accessibility violations"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"
