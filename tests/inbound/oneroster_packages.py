"""Writable copies of the hand-written OneRoster fixtures (tests/fixtures/oneroster/), with helpers to damage them."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from homeroom.validate.engine import ValidationResult

ONEROSTER = Path(__file__).parents[1] / "fixtures" / "oneroster"


class OneRosterPackage:
    """A copy of one fixture folder (``bulk-1.1``, ``bulk-1.2``, ``delta-1.1``)."""

    def __init__(self, root: Path, fixture: str):
        self.root = root
        shutil.copytree(ONEROSTER / fixture, root)

    def path(self, name: str) -> Path:
        return self.root / name

    def text(self, name: str) -> str:
        return self.path(name).read_bytes().decode("utf-8")

    def write(self, name: str, text: str) -> None:
        self.path(name).write_bytes(text.encode("utf-8"))

    def replace(self, name: str, old: str, new: str) -> None:
        text = self.text(name)
        assert old in text, f"{old!r} not in {name}"
        self.write(name, text.replace(old, new, 1))

    def remove(self, name: str) -> None:
        self.path(name).unlink()


def counts(result: ValidationResult) -> dict[str, int]:
    """Validated records per canonical entity."""
    return {name: table.num_rows for name, table in result.tables.items()}


def table(result: ValidationResult, entity: str) -> pl.DataFrame:
    frame = pl.from_arrow(result.tables[entity])
    assert isinstance(frame, pl.DataFrame)
    return frame
