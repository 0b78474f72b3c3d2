"""Shared test helpers: packages built from Microsoft's v2.1 sample, and findings as plain tuples."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
MS_V21 = FIXTURES / "microsoft" / "sds-v2.1"
MS_V20 = FIXTURES / "microsoft" / "sds-v2.0"
MS_V1 = FIXTURES / "microsoft" / "sds-v1-25-users"


class SamplePackage:
    """A writable copy of Microsoft's v2.1 sample with helpers to damage it."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(MS_V21, root)

    def path(self, name: str) -> Path:
        return self.root / name

    def lines(self, name: str) -> int:
        """How many physical lines the file has now (the next appended line gets this number + 1)."""
        return self.path(name).read_bytes().count(b"\n")

    def append(self, name: str, *lines: str) -> int:
        """Append CRLF lines; returns the line number of the first appended line."""
        first = self.lines(name) + 1
        with open(self.path(name), "ab") as fh:
            for line in lines:
                fh.write(line.encode("utf-8") + b"\r\n")
        return first

    def write(self, name: str, text: str | bytes) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else text
        self.path(name).write_bytes(data)

    def replace(self, name: str, old: str, new: str) -> None:
        text = self.path(name).read_text("utf-8")
        assert old in text, f"{old!r} not in {name}"
        self.write(name, text.replace(old, new, 1))

    def remove(self, name: str) -> None:
        self.path(name).unlink()


@pytest.fixture
def sample(tmp_path: Path) -> SamplePackage:
    return SamplePackage(tmp_path / "package")


def finding_tuples(findings: pl.DataFrame, *, levels: tuple[str, ...] = ("catastrophic", "error", "warning", "info")) -> list[tuple]:
    """(rule, level, file, line, recordId, field, value) of each finding, sorted."""
    rows = findings.filter(pl.col("level").is_in(levels)).select("rule", "level", "file", "line", "recordId", "field", "value").rows()
    return sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r))
