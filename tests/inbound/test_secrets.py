"""Kept packages lose their password columns, and only them (homeroom.inbound.secrets, issue 18 item 10)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pyarrow as pa

from homeroom.inbound.secrets import blank_secret_columns, without_secrets

USERS = (b'sourcedId,username,givenName,familyName,password,email\r\n'
         b'1,a@x.org,"Ann, Jr","Multi\r\nline",S3cret!,a@x.org\r\n'
         b'2,b@x.org,Bob,Bee,"qu""oted",\r\n')
BLANKED = (b'sourcedId,username,givenName,familyName,password,email\r\n'
           b'1,a@x.org,"Ann, Jr","Multi\r\nline",,a@x.org\r\n'
           b'2,b@x.org,Bob,Bee,,\r\n')


def test_a_folder_package_keeps_every_byte_but_the_passwords(tmp_path: Path):
    (tmp_path / "users.csv").write_bytes(USERS)
    (tmp_path / "orgs.csv").write_bytes(b"sourcedId,name,type\n1,School,school\n")
    v1 = b"\xef\xbb\xbfSIS ID,School SIS ID,First Name,Last Name,Username,Password\n7,1,Cy,Dee,cy,Pa55\n"
    (tmp_path / "Student.csv").write_bytes(v1)
    assert blank_secret_columns(tmp_path, "sds-v2.1") == ["Student.csv", "users.csv"]
    assert (tmp_path / "users.csv").read_bytes() == BLANKED
    assert (tmp_path / "orgs.csv").read_bytes() == b"sourcedId,name,type\n1,School,school\n"
    assert (tmp_path / "Student.csv").read_bytes() == v1.replace(b"Pa55", b""), "the BOM and LF line ends are kept"
    assert blank_secret_columns(tmp_path, "sds-v2.1") == ["Student.csv", "users.csv"]  # idempotent
    assert (tmp_path / "users.csv").read_bytes() == BLANKED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Student.csv", "orgs.csv", "users.csv"], "no temporary file left"


def test_the_csv_members_of_a_zip_lose_their_passwords(tmp_path: Path):
    with zipfile.ZipFile(tmp_path / "district.zip", "w") as archive:
        archive.writestr("export/users.csv", USERS)
        archive.writestr("export/orgs.csv", b"sourcedId,name,type\r\n1,School,school\r\n")
    assert blank_secret_columns(tmp_path, None) == ["district.zip/export/users.csv"]
    with zipfile.ZipFile(tmp_path / "district.zip") as archive:
        assert archive.namelist() == ["export/users.csv", "export/orgs.csv"]
        assert archive.read("export/users.csv") == BLANKED
        assert archive.read("export/orgs.csv") == b"sourcedId,name,type\r\n1,School,school\r\n"


def test_a_file_that_is_not_csv_text_is_left_as_it_is(tmp_path: Path):
    (tmp_path / "users.csv").write_bytes(b"sourcedId,password\r\n1,\xff\xfe\r\n")
    assert blank_secret_columns(tmp_path, None) == []
    assert (tmp_path / "users.csv").read_bytes() == b"sourcedId,password\r\n1,\xff\xfe\r\n"


def test_validated_tables_lose_their_secret_columns():
    tables = without_secrets({"users": pa.table({"sourcedId": ["1"], "password": ["x"]}), "orgs": pa.table({"sourcedId": ["1"]})})
    assert tables["users"].column_names == ["sourcedId"] and tables["orgs"].column_names == ["sourcedId"]


def test_blanking_a_defective_district_changes_nothing_validation_sees_but_the_passwords(tmp_path: Path):
    """A regression: blanking rewrote every record through csv.writer, so the broken lines of a real upload
    (unbalanced quotes, ragged lines, line breaks in values) were re-quoted and joined, and the run that validated
    the kept package later found other errors and other people than the upload's own files held."""
    from homeroom.synthetic import generate_district
    from homeroom.validate import validate_package
    from tests.conftest import finding_tuples

    district = tmp_path / "district"
    generate_district(district, students=600, seed=7, defect_rate=0.05)
    users = district / "users.csv"
    lines = users.read_bytes().split(b"\n")
    for n, line in enumerate(lines[1:], start=1):  # a password on every plain line: quoted on every third
        fields = line.split(b",")
        if b'"' not in line and len(fields) == 9:
            fields[4] = b'"P,w""%d"' % n if n % 3 == 0 else b"Pw%d!" % n
            lines[n] = b",".join(fields)
    users.write_bytes(b"\n".join(lines))
    before = validate_package(district)
    raw = {p.name: p.read_bytes() for p in district.glob("*.csv")}
    assert blank_secret_columns(district, before.format) == ["users.csv"]
    after = validate_package(district)
    assert finding_tuples(after.findings) == finding_tuples(before.findings)
    assert before.findings.height > 50, "the district has broken lines of every kind"
    for name, table in before.tables.items():
        want = table.drop(["password"]) if "password" in table.column_names else table
        assert after.tables[name].select(want.column_names).equals(want), name
        if "password" in table.column_names:
            kept = after.tables[name]["password"]
            assert len(table) - table["password"].null_count > 500 and kept.null_count == len(kept), "every password is gone"
    for name, data in raw.items():
        kept = (district / name).read_bytes()
        if name != "users.csv":
            assert kept == data, name
        else:
            assert kept.count(b"\n") == data.count(b"\n") and kept.count(b"\r") == data.count(b"\r")
            assert len(kept) < len(data)
