"""``homeroom --help`` starts fast: the command modules import Polars, PyArrow, FastAPI and SQLAlchemy only when a command needs them."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("polars", "pyarrow", "fastapi", "sqlalchemy")


def test_help_imports_none_of_the_heavy_libraries():
    shown = subprocess.run([sys.executable, "-X", "importtime", "-m", "homeroom", "--help"], capture_output=True, text=True, check=True)
    assert "Usage:" in shown.stdout
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in shown.stderr.splitlines() if line.startswith("import time:")}
    assert "homeroom" in imported and "typer" in imported
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))
