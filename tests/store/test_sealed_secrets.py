"""Secrets at rest (issue 18 item 10): the store's write-only columns are encrypted with a key kept apart, sealed
on startup when written before, rotated without losing a value, and refused with a clear message by a wrong key."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from homeroom.errors import ConfigurationError
from homeroom.settings import Settings
from homeroom.store.database import open_database
from homeroom.store.models import DataConnector, SourceSystem, Tenant
from homeroom.store.sealed import ENVELOPE, key_path, rotate_key
from tests.pgtools import database_settings

SECRET = "P@ssword-of-the-SIS-123"


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path):
    yield from database_settings(request.param, tmp_path)


def _add_connector(sessions) -> str:
    with sessions() as db:
        db.add(Tenant(id="t", display_name="t"))
        db.flush()
        db.add(SourceSystem(id="s", tenant_id="t", display_name="SIS"))
        db.flush()
        row = DataConnector(tenant_id="t", kind="oneRosterApiDataConnector", display_name="c", source_system_id="s",
                            settings={"clientId": "id"}, secrets={"clientSecret": SECRET})
        db.add(row)
        db.commit()
        return row.id


def _raw(sessions, connector_id: str) -> str:
    with sessions() as db:
        return str(db.execute(text("select secrets from data_connectors where id = :i"), {"i": connector_id}).scalar_one())


def test_a_stored_secret_is_encrypted_in_the_database_and_read_back_through_the_store(settings):
    sessions = open_database(settings)
    connector_id = _add_connector(sessions)
    raw = _raw(sessions, connector_id)
    assert SECRET not in raw and ENVELOPE in raw
    with sessions() as db:
        assert db.get(DataConnector, connector_id).secrets == {"clientSecret": SECRET}
    assert stat.S_IMODE(os.stat(key_path(settings)).st_mode) == 0o600


def test_a_secret_written_in_clear_before_sealing_is_sealed_when_the_store_opens(settings):
    sessions = open_database(settings)
    connector_id = _add_connector(sessions)
    with sessions() as db:  # as an older Homeroom left it
        db.execute(text("update data_connectors set secrets = :s where id = :i"),
                   {"s": '{"clientSecret": "%s"}' % SECRET, "i": connector_id})
        db.commit()
    assert SECRET in _raw(sessions, connector_id)
    sessions = open_database(settings)
    assert SECRET not in _raw(sessions, connector_id)
    with sessions() as db:
        assert db.get(DataConnector, connector_id).secrets == {"clientSecret": SECRET}


def test_rotating_the_key_reencrypts_every_value_and_drops_the_old_key(settings):
    sessions = open_database(settings)
    connector_id = _add_connector(sessions)
    before, old_key = _raw(sessions, connector_id), key_path(settings).read_text()
    assert rotate_key(settings, sessions.kw["bind"]) == 1
    new_key = key_path(settings).read_text()
    assert new_key != old_key and len(new_key.split()) == 1
    assert _raw(sessions, connector_id) != before
    with open_database(settings)() as db:
        assert db.get(DataConnector, connector_id).secrets == {"clientSecret": SECRET}


def test_a_store_opened_with_another_key_file_says_which_file_to_restore(settings, tmp_path):
    sessions = open_database(settings)
    connector_id = _add_connector(sessions)
    other = Settings(data_dir=settings.data_dir, database_url=settings.database_url, secrets_key_file=tmp_path / "other.key")
    with pytest.raises(ConfigurationError) as caught, open_database(other)() as db:
        db.get(DataConnector, connector_id)
    assert str(caught.value) == (
        f"a stored secret cannot be decrypted with the keys in {tmp_path / 'other.key'}: the key file is not the one "
        "this database was sealed with (restore it, or set HOMEROOM_SECRETS_KEY_FILE to it)")


def test_a_key_file_that_is_not_a_key_is_a_clear_configuration_error(tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    with pytest.raises(ConfigurationError, match=r"holds a line that is not a Fernet key"):
        open_database(Settings(data_dir=tmp_path / "data", secrets_key_file=bad))
