"""Secrets at rest: the store's write-only columns (connector client secrets, default passwords, directory
credentials) are kept encrypted with a key that lives apart from the database.

The key file (``HOMEROOM_SECRETS_KEY_FILE``, default ``<data_dir>/secrets.key``, created 0600 on first use) holds
one or more Fernet keys (AES-128-CBC with HMAC-SHA256, from ``cryptography``), one per line, newest first. Values are
encrypted with the first and decrypted with any (``MultiFernet``), so a key is rotated without downtime:
``homeroom secrets rotate`` puts a new key first, re-encrypts every sealed column with it and then drops the old
keys. Keep the key file out of database backups; a database without its key file yields no secrets.

A sealed column stores ``{"sealed": "<Fernet token>"}``: the JSON object of secrets, encrypted as one value. A row
written before sealing existed (a plain JSON object) is read as it is and sealed on startup (:func:`seal_all`).

The key reaches the column type through the engine's dialect (``open_database`` sets ``dialect.homeroom_keyring``):
one process can hold several stores with different data folders, as the tests do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import JSON, Engine, select, update
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.types import TypeDecorator

from homeroom.errors import ConfigurationError
from homeroom.secretfiles import create_private_file, private_folder
from homeroom.settings import Settings

ENVELOPE = "sealed"
KEY_FILE = "secrets.key"


class Keyring:
    """The Fernet keys of one store, newest first."""

    def __init__(self, keys: list[bytes], path: Path | None = None):
        if not keys:
            raise ConfigurationError(f"the secrets key file {path} holds no key")
        self.path = path
        self.keys = keys
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError:
            raise ConfigurationError(f"the secrets key file {path} holds a line that is not a Fernet key "
                                     "(32 url-safe base64-encoded bytes)") from None

    def seal(self, value: dict[str, Any]) -> dict[str, str]:
        return {ENVELOPE: self._fernet.encrypt(json.dumps(value, sort_keys=True).encode()).decode("ascii")}

    def unseal(self, stored: Any) -> dict[str, Any]:
        if not is_sealed(stored):
            return dict(stored or {})  # written before sealing; sealed on the next start
        try:
            return json.loads(self._fernet.decrypt(stored[ENVELOPE].encode("ascii")))
        except InvalidToken:
            raise ConfigurationError(
                f"a stored secret cannot be decrypted with the keys in {self.path}: the key file is not the one this "
                "database was sealed with (restore it, or set HOMEROOM_SECRETS_KEY_FILE to it)") from None

    def rotate(self, stored: Any) -> dict[str, str]:
        """``stored`` re-encrypted with the newest key."""
        if not is_sealed(stored):
            return self.seal(dict(stored or {}))
        return {ENVELOPE: self._fernet.rotate(stored[ENVELOPE].encode("ascii")).decode("ascii")}


def is_sealed(stored: Any) -> bool:
    return isinstance(stored, dict) and set(stored) == {ENVELOPE} and isinstance(stored[ENVELOPE], str)


def key_path(settings: Settings) -> Path:
    return settings.secrets_key_file or private_folder(settings.data_dir) / KEY_FILE


def _read_keys(path: Path) -> list[bytes]:
    return [line.strip().encode("ascii") for line in path.read_text("ascii").splitlines() if line.strip()]


def load_keyring(settings: Settings) -> Keyring:
    """The store's keys, creating the key file (one new key, mode 0600) if it does not exist."""
    path = key_path(settings)
    if not path.exists():
        create_private_file(path, Fernet.generate_key() + b"\n")
    try:
        return Keyring(_read_keys(path), path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"the secrets key file {path} cannot be read: {exc}") from None


class SealedJSON(TypeDecorator):
    """A JSON object of secrets, stored encrypted (see the module's docstring)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return _keyring(dialect).seal(dict(value))

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return _keyring(dialect).unseal(value)


def _keyring(dialect: Any) -> Keyring:
    keyring = getattr(dialect, "homeroom_keyring", None)
    if keyring is None:
        raise ConfigurationError("this database engine was not opened with Homeroom's secrets key (open_database)")
    return keyring


def _sealed_columns(engine: Engine):  # noqa: ARG001 - the tables are the models'
    from homeroom.store.models import Base

    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, SealedJSON):
                yield table, column


def _reseal(engine: Engine, keyring: Keyring, *, rotate: bool) -> int:
    """Seal every plain value (and, with ``rotate``, re-encrypt every sealed one with the newest key); the count."""
    changed = 0
    with engine.begin() as connection:
        for table, column in _sealed_columns(engine):
            # The stored JSON as it is: a lightweight table whose column is plain JSON, not the decorator.
            key_name = next(iter(table.primary_key.columns)).name
            raw = sa_table(table.name, sa_column(key_name), sa_column(column.name, JSON))
            key, value = raw.c[key_name], raw.c[column.name]
            for ident, stored in connection.execute(select(key, value)).all():
                if stored is None or (is_sealed(stored) and not rotate):
                    continue
                connection.execute(update(raw).where(key == ident).values({column.name: keyring.rotate(stored)}))
                changed += 1
    return changed


def seal_all(engine: Engine, keyring: Keyring) -> int:
    """Seal every value written before sealing existed; the number of values sealed."""
    return _reseal(engine, keyring, rotate=False)


def rotate_key(settings: Settings, engine: Engine) -> int:
    """Put a new key first in the key file, re-encrypt every sealed value with it, then drop the older keys.

    The key file is rewritten atomically at each step, so an interruption leaves a file that decrypts everything.
    """
    path = key_path(settings)
    old = load_keyring(settings)
    new_key = Fernet.generate_key()
    _write_keys(path, [new_key, *old.keys])
    keyring = Keyring([new_key, *old.keys], path)
    engine.dialect.homeroom_keyring = keyring
    changed = _reseal(engine, keyring, rotate=True)
    _write_keys(path, [new_key])
    engine.dialect.homeroom_keyring = Keyring([new_key], path)
    return changed


def _write_keys(path: Path, keys: list[bytes]) -> None:
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    create_private_file(tmp, b"".join(key + b"\n" for key in keys))
    tmp.replace(path)
