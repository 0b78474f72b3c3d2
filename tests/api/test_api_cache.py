"""Read answers are reused only at the same tenant revision: any write, by any process, is seen at once."""

from __future__ import annotations

from apitools import BASE, make_source

from homeroom.api.cache import ReadCache
from homeroom.store import service
from homeroom.store.models import AppRegistration, SourceSystem, Tenant


def _revision(api, tenant: str = "contoso") -> int:
    with api.app.state.sessions() as db:
        return db.get(Tenant, tenant).revision


def test_every_write_to_a_tenants_rows_bumps_its_revision_and_only_its(api, admin):
    other = api.client("fabrikam")
    before, other_before = _revision(api), _revision(api, "fabrikam")
    source = make_source(admin)
    assert _revision(api) == before + 1
    assert admin.patch(f"{BASE}/sourceSystems/{source['id']}", json={"vendor": "Contoso"}).status_code == 204
    assert _revision(api) == before + 2
    admin.get(f"{BASE}/sourceSystems")
    assert _revision(api) == before + 2, "reads do not bump"
    assert _revision(api, "fabrikam") == other_before
    assert other.get(f"{BASE}/sourceSystems").json()["value"] == []


def test_a_repeated_read_is_served_from_the_cache_until_any_process_writes(api, admin):
    make_source(admin, "First")
    url = f"{BASE}/sourceSystems?$select=displayName"
    first = admin.get(url).json()
    cache = api.app.state.read_cache
    assert len(cache._entries) == 1
    with api.app.state.sessions.begin() as db:  # a write as another process makes it: its own session, no API call
        db.add(SourceSystem(tenant_id="contoso", display_name="Second"))
    second = admin.get(url).json()
    assert [s["displayName"] for s in first["value"]] == ["First"]
    assert sorted(s["displayName"] for s in second["value"]) == ["First", "Second"], "the write was seen at once"
    with api.app.state.sessions.begin() as db:
        service.ensure_source_system(db=db, tenant_id="contoso", display_name="Third")  # what `homeroom run` does
    assert len(admin.get(url).json()["value"]) == 3


def test_a_cached_answer_never_skips_authentication_or_permissions(api, admin):
    reader = api.client("contoso", ["IndustryData-SourceSystem.Read.All"])
    make_source(admin)
    assert reader.get(f"{BASE}/sourceSystems").status_code == 200
    with api.app.state.sessions.begin() as db:
        db.get(AppRegistration, reader.client_id).permissions = ["IndustryData-Run.Read.All"]
    assert reader.get(f"{BASE}/sourceSystems").status_code == 403, "revoked at once, cache or not"
    assert reader.get(f"{BASE}/sourceSystems", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_answers_expire_after_max_age_for_values_computed_from_the_clock():
    now = [100.0]
    cache = ReadCache(max_entries=2, max_age=5.0, clock=lambda: now[0])
    cache.put("a", 7, {"value": 1})
    assert cache.get("a", 7) == {"value": 1}
    assert cache.get("a", 8) is None, "another revision"
    now[0] = 105.5
    assert cache.get("a", 7) is None, "too old"
    cache.put("b", 7, 1)
    cache.put("c", 7, 2)
    cache.put("d", 7, 3)
    assert len(cache._entries) <= 2, "bounded"
