"""Property-based tests: whatever bytes arrive, validation returns findings and never a traceback."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from homeroom.validate import validate_package
from tests.conftest import MS_V21

FILES = sorted(p.name for p in MS_V21.glob("*.csv"))


def _validate_with(name: str, data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pkg"
        shutil.copytree(MS_V21, root)
        (root / name).write_bytes(data)
        result = validate_package(root)
    assert result.exit_code in (0, 1, 2)
    assert set(result.findings["level"].unique()) <= {"catastrophic", "error", "warning", "info"}
    assert result.findings["rule"].null_count() == 0 and result.findings["message"].null_count() == 0
    return result


quiet = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@quiet
@given(name=st.sampled_from(FILES), data=st.binary(max_size=2000))
def test_random_bytes_never_raise(name, data):
    _validate_with(name, data)


csv_chars = st.sampled_from(list('abc,"\r\n 12@.-é山\t;') + ["\x00", "\ufeff"])


@quiet
@given(name=st.sampled_from(FILES), body=st.text(csv_chars, max_size=400))
def test_malformed_csv_text_after_a_valid_header_never_raises(name, body):
    header = (MS_V21 / name).read_bytes().split(b"\r\n")[0]
    result = _validate_with(name, header + b"\r\n" + body.encode("utf-8"))
    if result.exit_code != 2:
        # Every broken line is a located finding.
        located = result.findings.filter(result.findings["rule"].str.starts_with("Line"))
        assert located["line"].null_count() == 0


@quiet
@given(
    name=st.sampled_from(FILES),
    encoding=st.sampled_from(["latin-1", "utf-16", "cp1252"]),
    text=st.text(st.sampled_from(list("abcé,ñ\r\nü\"")), min_size=1, max_size=200),
)
def test_other_encodings_are_refused_or_read_never_raise(name, encoding, text):
    header = (MS_V21 / name).read_bytes().split(b"\r\n")[0].decode()
    _validate_with(name, (header + "\r\n" + text).encode(encoding, errors="replace"))


def test_huge_field_is_read():
    big = "x" * 2_000_000
    header = (MS_V21 / "orgs.csv").read_bytes()
    result = _validate_with("orgs.csv", header + f"110009,{big},school,\r\n".encode())
    assert result.files["orgs.csv"].valid == 5
