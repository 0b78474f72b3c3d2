"""An outbound flow set's thresholds in the dashboard: the plan holds viewed and changed as percentages and numbers,
checked with a message naming the field, with the API's permissions, CSRF and tenant isolation."""

from __future__ import annotations

import json
import re

import pytest
from webtools import READER, csrf_of

from homeroom.api.resources import OUTBOUND_FLOW_SETS
from homeroom.outbound.config import parse_options
from homeroom.store.models import OutboundFlowSet


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input id="([\w-]+)" name="[\w-]+" inputmode="\w+" size="6" value="([^"]*)"', html))


def _options(dash, set_id: str) -> dict:
    with dash.app.state.sessions() as db:
        return dict(db.get(OutboundFlowSet, set_id).options or {})


@pytest.fixture
def flow_set(dash) -> str:
    dash.user("contoso", "admin")
    dash.user("contoso", "reader", READER)
    with dash.app.state.sessions.begin() as db:
        row = OUTBOUND_FLOW_SETS.create(db=db, tenant_id="contoso", raw=json.dumps({"displayName": "All schools"}).encode())
        db.get(OutboundFlowSet, row.id).options = {"renames": "automatic", "baseDn": "DC=district,DC=example"}
        return row.id


def test_a_flow_set_shows_its_thresholds_with_the_defaults(flow_set, dash):
    http = dash.signed_in("contoso", "admin")
    assert f'href="/admin/flow-sets/{flow_set}">All schools</a>' in http.get("/admin/flows").text
    page = http.get(f"/admin/flow-sets/{flow_set}")
    assert page.status_code == 200
    assert _fields(page.text) == {"creates-share": "10", "creates-absolute": "", "disables-share": "10", "disables-absolute": "",
                                  "memberRemovals-share": "10", "memberRemovals-absolute": "", "perOrgDisables": "25",
                                  "directoryShrink": "5"}
    assert '<option value="automatic" selected>' in page.text


def test_thresholds_are_saved_as_the_planner_reads_them_and_other_options_are_kept(flow_set, dash):
    http = dash.signed_in("contoso", "admin")
    page = http.get(f"/admin/flow-sets/{flow_set}")
    form = {**_fields(page.text), "csrf_token": csrf_of(page.text), "creates-share": "", "creates-absolute": "1,000",
            "disables-share": "2.5%", "memberRemovals-absolute": "40", "perOrgDisables": "", "renames": "never"}
    answer = http.post(f"/admin/flow-sets/{flow_set}", data=form)
    assert answer.status_code == 303 and answer.headers["location"] == f"/admin/flow-sets/{flow_set}?saved=1"
    stored = _options(dash, flow_set)
    assert stored == {"baseDn": "DC=district,DC=example", "renames": "never", "thresholds": {
        "creates": {"share": None, "absolute": 1000}, "disables": {"share": 0.025, "absolute": None},
        "memberRemovals": {"share": 0.1, "absolute": 40}, "directoryShrink": 0.05}}
    thresholds = parse_options(stored, "test").thresholds
    assert (thresholds.creates.absolute, thresholds.per_org_disables) == (1000, 0.25)
    again = http.get(answer.headers["location"])
    assert "Saved." in again.text and _fields(again.text)["creates-absolute"] == "1000"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("disables-share", "120", "The threshold for accounts disabled must be a percentage from 0 to 100, not 120."),
    ("creates-absolute", "-3", "The absolute limit of accounts created must be a whole number from 0, not '-3'."),
    ("directoryShrink", "five", "The threshold for accounts missing from a snapshot must be a percentage from 0 to 100, not 'five'."),
    ("renames", "sometimes", ("the options of flow set 'All schools' are not valid: renames: Input should be "
                              "'automatic', 'approval' or 'never'")),
])
def test_a_bad_threshold_is_refused_naming_it(flow_set, dash, field, value, message):
    http = dash.signed_in("contoso", "admin")
    page = http.get(f"/admin/flow-sets/{flow_set}")
    answer = http.post(f"/admin/flow-sets/{flow_set}", data={**_fields(page.text), "csrf_token": csrf_of(page.text), field: value})
    assert answer.status_code == 400
    assert re.search(r'id="form-error">([^<]*)<', answer.text).group(1).replace("&#39;", "'") == message
    assert _options(dash, flow_set) == {"renames": "automatic", "baseDn": "DC=district,DC=example"}


def test_a_reader_cannot_change_a_flow_set_and_another_tenant_cannot_see_it(flow_set, dash):
    reader = dash.signed_in("contoso", "reader")
    page = reader.get(f"/admin/flow-sets/{flow_set}")
    assert page.status_code == 200 and "Changing a flow set needs IndustryData-OutboundFlow.ReadWrite.All." in page.text
    answer = reader.post(f"/admin/flow-sets/{flow_set}", data={"csrf_token": csrf_of(page.text), "creates-absolute": "1"})
    assert answer.status_code == 403 and "You cannot change an outbound flow set" in _text(answer.text)
    admin = dash.signed_in("contoso", "admin")
    assert admin.post(f"/admin/flow-sets/{flow_set}", data={"creates-absolute": "1"}).status_code == 403, "no CSRF token"
    dash.user("fabrikam", "other")
    other = dash.signed_in("fabrikam", "other")
    missing = other.get(f"/admin/flow-sets/{flow_set}")
    assert missing.status_code == 404 and f"There is no outbound flow set {flow_set} in tenant fabrikam." in _text(missing.text)
    token = csrf_of(other.get("/admin/").text)
    assert other.post(f"/admin/flow-sets/{flow_set}", data={"csrf_token": token, "creates-absolute": "1"}).status_code == 404
    assert _options(dash, flow_set) == {"renames": "automatic", "baseDn": "DC=district,DC=example"}
