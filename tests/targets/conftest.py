"""Fixtures for directory targets: a real Samba AD domain controller (``samba_dc``) and OpenLDAP (``slapd_server``).

A server that cannot start here (binaries missing, Samba's fixed ports taken) skips its tests with a one-line
reason, except under ``CI=true`` where that is a failure.

Samba's LDAP ports are fixed, so only one domain controller runs on a machine at a time (a machine-wide lock,
:data:`tests.targets.servers.SAMBA_LOCK`). To hold that lock no longer than needed, the domain is provisioned
once per session but its server runs only while tests that use it run: it stops after the last of a row of
such tests and starts again (the same domain, a few seconds) if a later test needs it. Tests that use it are
put in one xdist group, so with ``-n 2`` they run in a row on one worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.targets import servers

_DC: servers.SambaDC | None = None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI requires it)")
    pytest.skip(reason)


def _uses_samba(item: pytest.Item | None) -> bool:
    return item is not None and "samba_dc" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _uses_samba(item):
            item.add_marker(pytest.mark.xdist_group("samba-dc"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    # The session's domain was stopped after an earlier row of tests: start it again for this one.
    if _DC is not None and _uses_samba(item) and not _DC.running:
        try:
            servers.start_samba(_DC)
        except servers.ServerUnavailable as exc:
            _unavailable(f"Samba AD DC unavailable: {exc}")


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if _DC is not None and _DC.running and _uses_samba(item) and not _uses_samba(nextitem):
        servers.stop_samba(_DC)


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.SambaDC]:
    """A Samba AD DC for domain ``homeroom.test`` on 127.0.0.1:389/636 (LDAPS with :attr:`SambaDC.tls`'s CA)."""
    global _DC
    try:
        dc = servers.provision_samba(tmp_path_factory.mktemp("samba"))
        servers.start_samba(dc)
    except servers.ServerUnavailable as exc:
        _unavailable(f"Samba AD DC unavailable: {exc}")
    _DC = dc
    try:
        yield dc
    finally:
        _DC = None
        servers.stop_samba(dc)


@pytest.fixture(scope="session")
def slapd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Slapd]:
    """An OpenLDAP slapd for ``dc=district,dc=test`` on free loopback ports (LDAP and LDAPS)."""
    try:
        with servers.running_slapd(tmp_path_factory.mktemp("slapd") / "slapd") as server:
            yield server
    except servers.ServerUnavailable as exc:
        _unavailable(f"slapd unavailable: {exc}")
