"""Directory targets in the dashboard: their settings viewed and changed through the kind's own model, secrets
replaced but never shown, the API's permissions, CSRF and tenant isolation."""

from __future__ import annotations

import re

import pytest
from webtools import READER, csrf_of

from homeroom.store.models import DirectoryTarget
from homeroom.targets import service

SECRET = "s3cret-bearer-token-never-shown"
#: What ``homeroom targets add`` stores for the SCIM target of these tests: its URL and the model's defaults.
STORED = {"base_url": "https://scim.example.org/v2", "group_kind": "security", "verify_tls": True, "timeout_seconds": 30.0}


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _stored(dash, target_id: str) -> tuple[dict, dict]:
    with dash.app.state.sessions() as db:
        row = db.get(DirectoryTarget, target_id)
        return dict(row.settings), dict(row.secrets)


def _form(page_html: str, **changes) -> dict:
    """The target form as the page filled it (text fields and selects, checked boxes), with ``changes``."""
    data = {"csrf_token": csrf_of(page_html)}
    data |= dict(re.findall(r'<input id="(setting-[\w]+)" name="[^"]+" value="([^"]*)"', page_html))
    for name, body in re.findall(r'<select id="(setting-\w+)" name="[^"]+"[^>]*>(.*?)</select>', page_html, re.DOTALL):
        data[name] = re.search(r'<option value="([^"]*)" selected>', body).group(1)
    data |= {name: "on" for name in re.findall(r'<input type="checkbox" id="(setting-\w+)" name="[^"]+" value="on" checked', page_html)}
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


@pytest.fixture
def target(dash) -> str:
    dash.user("contoso", "admin")
    dash.user("contoso", "reader", READER)
    with dash.app.state.sessions.begin() as db:
        row = service.add_target(db=db, tenant_id="contoso", name="scim-prod", kind="scim",
                                 settings={"base_url": "https://scim.example.org/v2"}, secrets={"bearer_token": SECRET})
        return row.id


def test_targets_are_listed_with_which_secrets_are_set_never_their_values(target, dash):
    http = dash.signed_in("contoso", "admin")
    listing = http.get("/admin/targets")
    assert listing.status_code == 200
    assert "scim-prod SCIM 2.0 service ( scim ) bearer_token: set 0" in _text(listing.text)
    page = http.get(f"/admin/targets/{target}")
    assert SECRET not in listing.text and SECRET not in page.text
    assert re.search(r'<input type="password" id="secret-bearer_token" name="secret-bearer_token" autocomplete="new-password"', page.text)
    assert "Replace bearer_token (set)" in _text(page.text)
    assert _form(page.text) == {"csrf_token": csrf_of(page.text), "setting-base_url": "https://scim.example.org/v2",
                                "setting-group_kind": "security", "setting-verify_tls": "on", "setting-timeout_seconds": "30.0"}


def test_settings_are_changed_and_a_blank_secret_keeps_the_stored_one(target, dash):
    http = dash.signed_in("contoso", "admin")
    page = http.get(f"/admin/targets/{target}")
    answer = http.post(f"/admin/targets/{target}", data=_form(page.text, **{
        "setting-base_url": "https://scim2.example.org/v2/", "setting-group_kind": "class", "setting-verify_tls": None,
        "setting-timeout_seconds": "12.5", "secret-bearer_token": ""}))
    assert answer.status_code == 303 and answer.headers["location"] == f"/admin/targets/{target}?saved=1"
    assert _stored(dash, target) == ({"base_url": "https://scim2.example.org/v2", "group_kind": "class", "verify_tls": False,
                                      "timeout_seconds": 12.5}, {"bearer_token": SECRET})
    saved = http.get(answer.headers["location"])
    assert "Saved." in saved.text and 'value="https://scim2.example.org/v2"' in saved.text and SECRET not in saved.text


def test_a_secret_is_replaced_without_being_shown(target, dash):
    http = dash.signed_in("contoso", "admin")
    page = http.get(f"/admin/targets/{target}")
    answer = http.post(f"/admin/targets/{target}", data=_form(page.text, **{"secret-bearer_token": "new-token-123"}))
    assert answer.status_code == 303
    assert _stored(dash, target)[1] == {"bearer_token": "new-token-123"}
    assert "new-token-123" not in http.get(f"/admin/targets/{target}").text


def test_a_bad_setting_is_refused_naming_the_field_and_nothing_is_stored(target, dash):
    http = dash.signed_in("contoso", "admin")
    page = http.get(f"/admin/targets/{target}")
    answer = http.post(f"/admin/targets/{target}", data=_form(page.text, **{
        "setting-base_url": "ftp://scim.example.org", "setting-timeout_seconds": "0", "secret-bearer_token": "typed-token"}))
    assert answer.status_code == 400
    assert re.search(r'id="form-error">([^<]*)<', answer.text).group(1) == (
        "scim target settings are not valid: base_url: Value error, must start with https:// (or http:// for a test "
        "server); timeout_seconds: Input should be greater than 0")
    assert 'value="ftp://scim.example.org"' in answer.text, "the form comes back as it was typed"
    assert "typed-token" not in answer.text and SECRET not in answer.text, "secrets are never sent back"
    assert _stored(dash, target) == (STORED, {"bearer_token": SECRET})
    missing = http.post(f"/admin/targets/{target}", data=_form(page.text, **{"setting-base_url": ""}))
    assert missing.status_code == 400 and "base_url: Field required" in missing.text


def test_an_ldap_targets_list_setting_is_edited_as_comma_separated_text(dash):
    dash.user("contoso", "admin")
    with dash.app.state.sessions.begin() as db:
        target = service.add_target(db=db, tenant_id="contoso", name="ldap", kind="ldap", secrets={},
                                    settings={"host": "ldap.example.org", "base_dn": "dc=example,dc=org",
                                              "bind_dn": "cn=homeroom,dc=example,dc=org"}).id
    http = dash.signed_in("contoso", "admin")
    page = http.get(f"/admin/targets/{target}")
    assert "Replace password (not set)" in _text(page.text)
    assert 'id="setting-security" name="setting-security"' in page.text and '<option value="ldaps" selected>' in page.text
    answer = http.post(f"/admin/targets/{target}", data=_form(page.text, **{
        "setting-extra_attributes": "departmentNumber, title,,", "setting-security": "starttls", "secret-password": "pw"}))
    assert answer.status_code == 303
    settings, secrets = _stored(dash, target)
    assert settings["extra_attributes"] == ["departmentNumber", "title"] and settings["security"] == "starttls"
    assert secrets == {"password": "pw"}
    assert 'value="departmentNumber, title"' in http.get(f"/admin/targets/{target}").text


def test_a_reader_sees_a_target_but_cannot_change_it(target, dash):
    reader = dash.signed_in("contoso", "reader")
    page = reader.get(f"/admin/targets/{target}")
    assert page.status_code == 200 and "Changing a target needs IndustryData-OutboundFlow.ReadWrite.All." in page.text
    assert 'name="setting-base_url" value="https://scim.example.org/v2" disabled' in page.text
    answer = reader.post(f"/admin/targets/{target}", data=_form(page.text, **{"secret-bearer_token": "stolen"}))
    assert answer.status_code == 403
    assert "You cannot change a directory target: it needs one of IndustryData-OutboundFlow.ReadWrite.All" in _text(answer.text)
    assert _stored(dash, target) == (STORED, {"bearer_token": SECRET})


def test_a_target_form_needs_its_csrf_token_and_another_tenants_target_is_not_found(target, dash):
    http = dash.signed_in("contoso", "admin")
    page = http.get(f"/admin/targets/{target}")
    assert http.post(f"/admin/targets/{target}", data=_form(page.text, csrf_token=None, **{"secret-bearer_token": "x"})).status_code == 403
    dash.user("fabrikam", "other")
    other = dash.signed_in("fabrikam", "other")
    answer = other.get(f"/admin/targets/{target}")
    assert answer.status_code == 404 and f"There is no directory target {target} in tenant fabrikam." in _text(answer.text)
    assert other.post(f"/admin/targets/{target}", data={"csrf_token": csrf_of(other.get("/admin/").text),
                                                       "secret-bearer_token": "x"}).status_code == 404
    assert "This tenant has no directory target yet" in other.get("/admin/targets").text
    assert _stored(dash, target)[1] == {"bearer_token": SECRET}
