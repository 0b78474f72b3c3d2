"""Property-based tests: whatever a OneRoster package holds, validation returns findings, never a traceback."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from homeroom.validate import validate_package
from tests.inbound.oneroster_packages import ONEROSTER

FILES = [(fixture, p.name) for fixture in ("bulk-1.2", "delta-1.1") for p in sorted((ONEROSTER / fixture).glob("*.csv"))]


def _validate_with(fixture: str, name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pkg"
        shutil.copytree(ONEROSTER / fixture, root)
        (root / name).write_bytes(data)
        result = validate_package(root)
    assert result.exit_code in (0, 1, 2)
    assert set(result.findings["level"].unique()) <= {"catastrophic", "error", "warning", "info"}
    assert result.findings["rule"].null_count() == 0 and result.findings["message"].null_count() == 0


quiet = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Pieces of CSV text: single characters and whole OneRoster values, so that rows are sometimes valid.
pieces = st.sampled_from(list('ab,"\r\n {}:-T.Z1é山\ufeff') + ["active", "tobedeleted", "inactive", "true", "2025-01-01", "{a:b}"])


@quiet
@given(file=st.sampled_from(FILES), body=st.lists(pieces, max_size=120))
def test_malformed_rows_after_a_valid_header_never_raise(file, body):
    fixture, name = file
    header = (ONEROSTER / fixture / name).read_bytes().splitlines()[0]
    _validate_with(fixture, name, header + b"\n" + "".join(body).encode("utf-8"))


manifest_lines = st.sampled_from(
    ["manifest.version,1.0", "oneroster.version,1.1", "oneroster.version,1.2", "oneroster.version,x", "file.users,bulk",
     "file.users,delta", "file.users,absent", "file.users,", "file.orgs,delta", "file.results,bulk", ",bulk", "file.,bulk",
     "file.users", '"file.users,bulk'],
)


@quiet
@given(fixture=st.sampled_from(["bulk-1.1", "bulk-1.2", "delta-1.1"]), lines=st.lists(manifest_lines, max_size=8))
def test_any_manifest_never_raises(fixture, lines):
    _validate_with(fixture, "manifest.csv", ("propertyName,value\n" + "\n".join(lines)).encode("utf-8"))
