"""Writable copies of Microsoft's SDS v1 samples (tests/fixtures/microsoft/), with empty guardian files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, SamplePackage

MICROSOFT = FIXTURES / "microsoft"
GUARDIAN_HEADERS = {"User.csv": "Email,First Name,Last Name,Phone,SIS ID", "Guardianrelationship.csv": "SIS ID,Email,Role"}


class V1Package(SamplePackage):
    """A writable copy of a Microsoft v1 sample (by default the minimal one) with empty guardian files.

    The minimal set has no optional columns and the empty guardian pair is complete, so the
    clean package has no finding at all and every planted defect shows alone.
    """

    def __init__(self, root: Path, source: str = "sds-v1-min-required-attributes", guardians: bool = True):
        self.root = root
        shutil.copytree(MICROSOFT / source, root)
        if guardians:
            for name, header in GUARDIAN_HEADERS.items():
                self.write(name, header + "\r\n")


@pytest.fixture
def v1(tmp_path: Path) -> V1Package:
    return V1Package(tmp_path / "package")
