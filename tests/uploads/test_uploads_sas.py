"""Upload SAS: a signature grants one container, the permissions it names, until it expires."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

import pytest

from homeroom.uploads import SasError, load_sas_key, session_url, sign, verify

KEY = bytes(range(32))
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(hours=2)


def query(container: str = "box-1", permissions: str = "racwdl", expires: datetime = LATER, key: bytes = KEY) -> dict[str, str]:
    return dict(parse_qsl(sign(container, permissions, expires, key)))


def refusal(q: dict[str, str], container: str = "box-1", needed: str = "w", now: datetime = NOW) -> tuple[int, str, str]:
    with pytest.raises(SasError) as caught:
        verify(q, container, needed, KEY, now)
    return caught.value.status, caught.value.code, caught.value.message


def test_a_signature_grants_its_container_until_it_expires():
    q = query()
    assert list(q) == ["sv", "sr", "sp", "se", "sig"]
    assert (q["sv"], q["sr"], q["sp"], q["se"]) == ("2023-11-03", "c", "racwdl", "2026-11-21T14:00:00Z")
    verify(q, "box-1", "w", KEY, NOW)
    verify(q, "box-1", "", KEY, LATER - timedelta(seconds=1))


def test_expiry_is_written_in_utc():
    q = query(expires=datetime(2026, 11, 21, 15, 30, tzinfo=timezone(timedelta(hours=1))))
    assert q["se"] == "2026-11-21T14:30:00Z"


@pytest.mark.parametrize("change", [
    {"sig": ("B" if query()["sig"][0] == "A" else "A") + query()["sig"][1:]},
    {"sig": ""},
    {"sp": "racwdl", "sig": query(permissions="r")["sig"]},
    {"se": "2099-01-01T00:00:00Z"},
    {"sr": "b"},
    {"sv": "2020-02-10"},
])
def test_a_tampered_query_is_authentication_failed(change):
    status, code, message = refusal({**query(), **change})
    assert (status, code) == (403, "AuthenticationFailed")
    assert "Signature did not match" in message


def test_a_signature_for_one_container_does_not_work_for_another():
    assert refusal(query("box-1"), container="box-2")[:2] == (403, "AuthenticationFailed")
    assert refusal(query("box-1", key=bytes(32)))[:2] == (403, "AuthenticationFailed")


def test_an_expired_signature_says_when_it_expired():
    status, code, message = refusal(query(expires=NOW - timedelta(minutes=1)))
    assert (status, code) == (403, "AuthenticationFailed")
    assert "Signature expired at 2026-11-21T11:59:00Z" in message
    assert refusal(query(), now=LATER)[2].endswith("Signature expired at 2026-11-21T14:00:00Z.")


@pytest.mark.parametrize(("permissions", "needed"), [("rl", "wc"), ("w", "r"), ("racw", "d"), ("r", "l")])
def test_a_missing_permission_is_a_permission_mismatch(permissions, needed):
    assert refusal(query(permissions=permissions), needed=needed)[:2] == (403, "AuthorizationPermissionMismatch")


def test_any_one_of_the_needed_letters_is_enough():
    verify(query(permissions="c"), "box-1", "wc", KEY, NOW)


def test_a_query_without_a_signature_is_refused():
    q = query()
    del q["sig"]
    status, code, message = refusal(q)
    assert (status, code) == (403, "AuthenticationFailed") and "lacks sig" in message
    assert refusal({})[:2] == (403, "AuthenticationFailed")


def test_unknown_permission_letters_and_naive_expiry_cannot_be_signed():
    with pytest.raises(ValueError):
        sign("box-1", "rx", LATER, KEY)
    with pytest.raises(ValueError):
        sign("box-1", "r", datetime(2030, 1, 1), KEY)


def test_the_key_is_created_once_private_and_random(tmp_path):
    key = load_sas_key(tmp_path / "data")
    assert len(key) == 32 and load_sas_key(tmp_path / "data") == key
    assert stat.S_IMODE((tmp_path / "data" / "upload-sas-key").stat().st_mode) == 0o600
    assert load_sas_key(tmp_path / "other") != key


def test_a_session_url_is_the_container_path_and_its_sas():
    url = session_url("https://homeroom.example.org/", "box-1", LATER, KEY, permissions="cw")
    base, _, sas = url.partition("?")
    assert base == "https://homeroom.example.org/homeroomuploads/box-1"
    assert sas == sign("box-1", "cw", LATER, KEY)
    assert session_url("https://h", "box-1", LATER, KEY).endswith("sp=racwdl&se=2026-11-21T14%3A00%3A00Z&sig=" + query()["sig"])


def test_the_access_log_never_shows_an_upload_signature():
    import logging

    from homeroom.api.app import RedactSignatures

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', (
        "127.0.0.1:5000", "PUT", "/homeroomuploads/c1/users.csv?sv=2023-11-03&sr=c&sp=racwdl&se=2026-11-22T14%3A00%3A00Z&sig=abc%2Bdef%3D",
        "1.1", 201), None)
    assert RedactSignatures().filter(record)
    assert record.getMessage() == ('127.0.0.1:5000 - "PUT /homeroomuploads/c1/users.csv?sv=2023-11-03&sr=c&sp=racwdl'
                                   '&se=2026-11-22T14%3A00%3A00Z&sig=REDACTED HTTP/1.1" 201')
