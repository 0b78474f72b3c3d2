"""Package checks: each stops the run with a catastrophic finding and an exact message."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import polars as pl
import pytest

from homeroom.errors import PackageError
from homeroom.settings import Settings
from homeroom.validate import validate_package
from tests.conftest import MS_V1, MS_V20, MS_V21, finding_tuples


def stops(result) -> list[tuple[str, str, str]]:
    """(rule, file, message) of the catastrophic findings."""
    assert result.stopped and result.exit_code == 2
    assert result.tables == {}, "a stopped run must not hand records to the next stage"
    return sorted(result.findings.filter(pl.col("level") == "catastrophic").select("rule", "file", "message").rows())


def test_missing_required_file_stops_the_run(sample):
    sample.remove("roles.csv")
    assert stops(validate_package(sample.root)) == [
        ("RequiredFileNotFound", "roles.csv", "Unable to find roles.csv in package. roles.csv is required in every SDS v2.1 CSV package.")
    ]


def test_classes_without_enrollments_stops_the_run(sample):
    sample.remove("enrollments.csv")
    assert stops(validate_package(sample.root)) == [
        (
            "RequiredFileNotFound",
            "enrollments.csv",
            "Unable to find enrollments.csv in package. classes.csv and enrollments.csv must be supplied together, and classes.csv is present.",
        )
    ]


def test_file_names_are_case_sensitive(sample):
    sample.path("userFlags.csv").rename(sample.path("userflags.csv"))
    assert stops(validate_package(sample.root)) == [
        ("FileNameCaseMismatch", "userFlags.csv", "Found userflags.csv but SDS file names are case-sensitive: rename it to userFlags.csv.")
    ]


def test_missing_header_is_named_with_a_hint_about_case(sample):
    sample.replace("users.csv", "sourcedId,username,", "sourcedId,Username,")
    sample.replace("orgs.csv", "sourcedId,name,type,", "sourcedId,name,")
    result = validate_package(sample.root)
    assert stops(result) == [
        ("HeaderNotPresent", "orgs.csv", "Unable to find type in orgs.csv. Correct the extract so that the header reads exactly as expected, then upload it again."),
        ("HeaderNotPresent", "users.csv", "Unable to find username in users.csv. Found 'Username': header names are case-sensitive; rename it to 'username'."),
    ]


def test_duplicate_header_stops_the_run(sample):
    sample.replace("enrollments.csv", "classSourcedId,userSourcedId,role", "classSourcedId,userSourcedId,role,role")
    assert stops(validate_package(sample.root)) == [
        ("DuplicateColumnsInHeader", "enrollments.csv", "Found two or more role in enrollments.csv (columns 3, 4).")
    ]


def test_empty_file_has_no_header(sample):
    sample.write("userFlags.csv", b"")
    assert stops(validate_package(sample.root)) == [
        ("HeaderNotPresent", "userFlags.csv", "Unable to find the header row in userFlags.csv. (the file is empty or its first line is blank).")
    ]


def test_latin1_file_is_refused_with_the_line_of_the_first_bad_byte(sample):
    sample.append("users.csv", "114009,jose@classrmtest31.org,Jos\xe9,Ni\xf1o,,,,,")
    data = sample.path("users.csv").read_text("utf-8").encode("latin-1")
    sample.write("users.csv", data)
    result = validate_package(sample.root)
    assert stops(result) == [
        ("InvalidEncoding", "users.csv", "users.csv is not valid UTF-8: invalid byte 0xe9 on line 10. Save the file as UTF-8 (with or without BOM).")
    ]
    assert result.findings["line"].to_list() == [10]


def test_a_bom_is_accepted(sample):
    sample.write("orgs.csv", b"\xef\xbb\xbf" + sample.path("orgs.csv").read_bytes())
    result = validate_package(sample.root)
    assert result.findings.height == 0 and result.files["orgs.csv"].valid == 4


def test_sds_v20_package_is_recognised_read_and_named_superseded():
    result = validate_package(MS_V20)
    assert result.format == "sds-v2.0" and not result.stopped and result.exit_code == 0
    assert result.findings.select("rule", "level", "file").rows() == [("SupersededFormat", "warning", "users.csv")]
    assert result.findings["message"][0].startswith("SDS v2.0 is superseded by SDS v2.1: ")


def test_sds_v1_package_is_recognised_and_read():
    result = validate_package(MS_V1, options={"student_domain": "students.contoso.edu", "teacher_domain": "contoso.edu"})
    assert result.format == "sds-v1" and not result.stopped and result.exit_code == 0
    assert result.files["Student.csv"].valid == 22


def test_mixed_formats_are_ambiguous(sample):
    (sample.root / "School.csv").write_text("SIS ID,Name\n1,A\n")
    [(rule, _, message)] = stops(validate_package(sample.root))
    assert rule == "UnknownFormat"
    assert "the package mixes files of several formats: SDS v1 (classic) CSV (School.csv); SDS v2.1 CSV (orgs.csv, users.csv, roles.csv)" in message


def test_unknown_files_and_columns_are_warnings_and_ignored(sample):
    (sample.root / "notes.csv").write_text("a,b\n1,2\n")
    lines = sample.path("orgs.csv").read_bytes().decode().split("\r\n")
    lines = [lines[0] + ",district_code"] + [line + ",X17" for line in lines[1:] if line] + [""]
    sample.write("orgs.csv", "\r\n".join(lines))
    result = validate_package(sample.root)
    assert finding_tuples(result.findings) == [
        ("UnknownColumn", "warning", "orgs.csv", 1, None, "district_code", None),
        ("UnknownFile", "warning", "notes.csv", None, None, None, None),
    ]
    assert result.exit_code == 0


def test_missing_optional_files_are_warnings(sample):
    sample.remove("userFlags.csv")
    result = validate_package(sample.root)
    assert result.findings.select("rule", "level", "file", "message").rows() == [
        ("OptionalFileNotFound", "warning", "userFlags.csv", "userFlags.csv was not found; no user flags are kept.")
    ]
    assert "userFlags" not in result.tables


def test_missing_path_raises_a_package_error(tmp_path):
    with pytest.raises(PackageError, match="does not exist"):
        validate_package(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(PackageError, match="neither a folder nor a zip archive"):
        validate_package(tmp_path / "file.txt")


# --- zip archives -------------------------------------------------------------------------------------


def zip_of(path: Path, entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def sample_entries() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(MS_V21.glob("*.csv"))}


def test_zip_package_validates_like_the_folder(tmp_path):
    archive = zip_of(tmp_path / "roster.zip", sample_entries())
    result = validate_package(archive)
    assert result.findings.height == 0 and result.files["users.csv"].valid == 8


def test_folder_with_zip_and_loose_files_is_one_package(tmp_path):
    entries = sample_entries()
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "users.csv").write_bytes(entries.pop("users.csv"))
    zip_of(root / "rest.zip", entries)
    result = validate_package(root)
    assert result.findings.height == 0 and result.files["enrollments.csv"].valid == 6


@pytest.mark.parametrize(
    "entry, why",
    [
        ("../users.csv", "a path outside the archive's top level"),
        ("/etc/users.csv", "a path outside the archive's top level"),
        ("sub/users.csv", "a path outside the archive's top level"),
        ("payload.exe", "not a .csv file"),
        ("folder/", "a folder"),
    ],
)
def test_unsupported_archive_entries_stop_the_run(tmp_path, entry, why):
    archive = zip_of(tmp_path / "roster.zip", {**sample_entries(), entry: b"x"})
    assert stops(validate_package(archive)) == [
        ("InvalidFileFormat", "roster.zip", f"Archive validation failed. Unsupported entry {entry!r} ({why}) found in archive roster.zip.")
    ]


def test_file_inside_and_outside_an_archive_stops_the_run(sample):
    zip_of(sample.root / "users.zip", {"users.csv": sample.path("users.csv").read_bytes()})
    assert stops(validate_package(sample.root)) == [
        ("DuplicateFileFound", "users.csv", "Archive validation failed. users.csv is supplied more than once: users.csv, users.zip:users.csv.")
    ]


def test_zip_bomb_is_refused_by_ratio(tmp_path):
    entries = sample_entries()
    entries["demographics.csv"] = b"userSourcedId,sex\n" + b"1" * (30 * 1024 * 1024)
    archive = zip_of(tmp_path / "bomb.zip", entries)
    [(rule, file, message)] = stops(validate_package(archive))
    assert (rule, file) == ("ArchiveTooLarge", "bomb.zip")
    assert message == "Archive validation failed. bomb.zip: demographics.csv declares an expansion of more than 200 times."


def test_zip_that_lies_about_its_size_is_refused(tmp_path):
    """A forged header claims a small size; reading stops there and the entry is refused as corrupt."""
    entries = sample_entries()
    entries["relationships.csv"] = b"userSourcedId,relationshipUserSourcedId,relationshipRole\n" + b"1" * (8 * 1024 * 1024)
    archive = zip_of(tmp_path / "liar.zip", entries)
    raw = bytearray(archive.read_bytes())
    real = (8 * 1024 * 1024 + 57).to_bytes(4, "little")
    fake = (1000).to_bytes(4, "little")
    assert raw.count(real) == 2  # local header and central directory
    archive.write_bytes(bytes(raw).replace(real, fake))
    [(rule, file, message)] = stops(validate_package(archive))
    assert (rule, file) == ("InvalidFileFormat", "relationships.csv")
    assert message == (
        "Archive validation failed. Unsupported entry 'relationships.csv' (corrupt: Bad CRC-32 for file "
        "'relationships.csv') found in archive liar.zip."
    )


def test_total_size_limit_applies_to_declared_sizes(tmp_path):
    archive = zip_of(tmp_path / "big.zip", sample_entries())
    [(rule, _, message)] = stops(validate_package(archive, settings=Settings(zip_max_total_bytes=100)))
    assert rule == "ArchiveTooLarge"
    assert message.startswith("Archive validation failed. big.zip: its files declare ")


def test_archiving_tool_debris_is_ignored(tmp_path):
    entries = {**sample_entries(), "__MACOSX/._users.csv": b"\x00\x05", ".DS_Store": b"\x00"}
    result = validate_package(zip_of(tmp_path / "mac.zip", entries))
    assert result.findings.height == 0


def test_corrupt_zip_is_a_finding_not_a_traceback(tmp_path):
    bad = tmp_path / "pkg"
    bad.mkdir()
    (bad / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    [(rule, _, message)] = stops(validate_package(bad))
    assert rule == "InvalidFileFormat" and "broken.zip" in message


def test_a_file_linked_from_outside_the_package_is_refused_and_nothing_is_read(sample, tmp_path):
    """A symbolic link out of the package (here orgs.csv to a CSV elsewhere on the server) is never followed."""
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_bytes((sample.root / "orgs.csv").read_bytes())
    (sample.root / "orgs.csv").unlink()
    (sample.root / "orgs.csv").symlink_to(elsewhere)
    (sample.root / "passwd.zip").symlink_to("/etc/passwd")
    assert stops(validate_package(sample.root)) == [
        ("LinkOutsidePackage", "orgs.csv", "orgs.csv is a symbolic link that leads outside the package (in the package folder); "
         "Homeroom reads only files inside the package. Copy the file into the package instead."),
        ("LinkOutsidePackage", "passwd.zip", "passwd.zip is a symbolic link that leads outside the package (in the package "
         "folder); Homeroom reads only files inside the package. Copy the file into the package instead."),
    ]


def test_a_link_to_a_file_inside_the_package_is_read(sample):
    (sample.root / "originals").mkdir()
    (sample.root / "orgs.csv").rename(sample.root / "originals" / "orgs.csv")
    (sample.root / "orgs.csv").symlink_to(sample.root / "originals" / "orgs.csv")
    result = validate_package(sample.root)
    assert not result.stopped and result.tables["orgs"].num_rows == 4


def test_a_link_entry_in_an_archive_is_refused(tmp_path):
    path = tmp_path / "linked.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(MS_V21.glob("*.csv")):
            zf.write(f, f.name)
        link = zipfile.ZipInfo("orgs2.csv")
        link.external_attr = (0o120777 << 16)  # S_IFLNK: extracting it would create a link to its content's path
        zf.writestr(link, "/etc/passwd")
    assert ("LinkOutsidePackage", "linked.zip:orgs2.csv",
            "linked.zip:orgs2.csv is a symbolic link that leads outside the package (a link entry in linked.zip); Homeroom "
            "reads only files inside the package. Copy the file into the package instead.") in stops(validate_package(path))


def test_a_run_of_a_package_with_an_outside_link_writes_nothing(sample, tmp_path):
    from homeroom.runs import Runner

    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_bytes((sample.root / "orgs.csv").read_bytes())
    (sample.root / "orgs.csv").unlink()
    (sample.root / "orgs.csv").symlink_to(elsewhere)
    runner = Runner("t", settings=Settings(data_dir=tmp_path / "data"))
    outcome = runner.run(sample.root, flow_name="sis", year="2026")
    assert (outcome.run.status, outcome.run.blocking_error["code"]) == ("failed", "PackageRefused")
    assert runner.lake.tables() == []


def test_a_header_of_a_million_commas_is_one_finding_not_a_million(sample):
    """A 1 MB users.csv of commas gave 1,000,001 UnknownColumn warnings; it is one refusal now."""
    sample.write("users.csv", "," * 1_000_000 + "\n")
    result = validate_package(sample.root)
    assert result.findings.height == 1
    assert stops(result) == [("TooManyColumns", "users.csv", "users.csv has 1,000,001 columns in its header; no roster file has "
                              "more than 256. Check that it is the right file and that its delimiter is a comma.")]
