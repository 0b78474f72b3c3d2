"""The control-plane store: tenants, source systems, years, connectors, flows, runs and their statistics.

SQLAlchemy 2 models (``models``), Alembic migrations (``migrations``), the database connection
(``database``) and plain service functions (``service``). SQLite in the data folder by default;
PostgreSQL when ``HOMEROOM_DATABASE_URL`` says so.
"""
