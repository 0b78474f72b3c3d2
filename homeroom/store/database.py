"""The control-plane database: engine, sessions and migrations.

``HOMEROOM_DATABASE_URL`` selects the database (any SQLAlchemy URL; PostgreSQL with
``postgresql+psycopg://...``); by default a SQLite file in the data folder, created on first use.
Migrations (Alembic) run automatically when Homeroom opens the database.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from homeroom.secretfiles import private_empty_file, private_folder
from homeroom.settings import Settings
from homeroom.store.revisions import track_revisions
from homeroom.store.sealed import load_keyring, seal_all

MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(settings: Settings) -> str:
    """The configured URL, or the default SQLite file in the data folder."""
    if settings.database_url:
        return settings.database_url
    # The data folder holds keys, validated uploads and the store: owner-only when Homeroom creates them.
    db = private_empty_file(private_folder(settings.data_dir) / "homeroom.db")
    return f"sqlite:///{db.resolve()}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the run that writes
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config() -> Config:
    """Alembic's configuration for Homeroom's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Bring the database schema up to date."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(settings: Settings) -> sessionmaker[Session]:
    """An up-to-date database and a session factory for it."""
    url = database_url(settings)
    # The API serves calls from a pool of worker threads: keep enough connections open that concurrent calls
    # never open and close one each (a SQLite connection costs its PRAGMAs on every open).
    engine = create_engine(url, future=True, pool_size=20, max_overflow=20, pool_pre_ping=False)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    engine.dialect.homeroom_keyring = load_keyring(settings)  # the sealed columns' key (homeroom.store.sealed)
    migrate(engine)
    seal_all(engine, engine.dialect.homeroom_keyring)
    sessions = sessionmaker(engine, expire_on_commit=False)
    track_revisions(sessions)
    return sessions
