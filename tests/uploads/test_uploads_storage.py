"""The upload store, on a local folder and on S3 (moto's server on loopback): blobs, blocks, limits, names, copying a container out."""

from __future__ import annotations

import base64
import threading
import uuid

import boto3
import pyarrow.fs as pafs
import pytest

from homeroom.settings import Settings
from homeroom.uploads import BlobError, BlobStore, open_blob_store
from tests.lake.test_object_storage import s3_endpoint  # noqa: F401  (the moto server fixture)

LIMITS = {"upload_max_blob_bytes": 1000, "upload_max_container_bytes": 2500, "upload_max_blobs": 3}
S3_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> BlobStore:
    if request.param == "local":
        return open_blob_store(Settings(data_dir=tmp_path / "data", **LIMITS))
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"uploads-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, **S3_CREDENTIALS).create_bucket(Bucket=bucket)
    options = {"endpoint_override": endpoint.removeprefix("http://"), "scheme": "http", "access_key": "test",
               "secret_key": "test", "region": "us-east-1"}
    return open_blob_store(Settings(data_dir=tmp_path / "data", upload_store_uri=f"s3://{bucket}/sessions",
                                    upload_storage_options=options, **LIMITS))


@pytest.fixture
def box(store) -> str:
    store.create_container("box-1")
    return "box-1"


def refused(call, *args) -> tuple[int, str]:
    with pytest.raises(BlobError) as caught:
        call(*args)
    return caught.value.status, caught.value.code


def block_id(n: int) -> str:
    return base64.b64encode(f"block-{n:04d}".encode()).decode()


def read(store: BlobStore, container: str, name: str, start: int = 0, length: int | None = None) -> bytes:
    return b"".join(store.open_blob(container, name).chunks(start, length))


def test_a_blob_is_listed_read_and_deleted(store, box):
    first = store.put_blob(box, "users.csv", [b"a,b\r\n", b"1,2\r\n"])
    second = store.put_blob(box, "users.csv", iter([b"a,b\r\n3,4\r\n5,6\r\n"]))
    store.put_blob(box, "Orgs.CSV", [])
    assert [(b.name, b.size) for b in store.list_blobs(box)] == [("Orgs.CSV", 0), ("users.csv", 15)]
    assert (first.size, second.size) == (10, 15) and second.last_modified.tzinfo is not None
    assert read(store, box, "users.csv") == b"a,b\r\n3,4\r\n5,6\r\n"
    assert read(store, box, "users.csv", 5, 3) == b"3,4"
    store.delete_blob(box, "users.csv")
    assert [b.name for b in store.list_blobs(box)] == ["Orgs.CSV"]
    assert refused(store.delete_blob, box, "users.csv") == (404, "BlobNotFound")
    assert refused(store.open_blob, box, "users.csv") == (404, "BlobNotFound")


def test_blocks_are_assembled_in_list_order_and_the_others_discarded(store, box):
    for n, data in enumerate([b"one,", b"two,", b"three\n", b"unused"]):
        store.put_block(box, "roles.csv", block_id(n), data)
    store.put_block(box, "roles.csv", block_id(1), [b"TWO", b","])  # a block staged again replaces the first one
    assert store.list_blobs(box) == []  # nothing is committed yet
    properties = store.put_block_list(box, "roles.csv", [block_id(2), block_id(0), block_id(1)])
    assert read(store, box, "roles.csv") == b"three\none,TWO," and properties.size == 14
    assert refused(store.put_block_list, box, "roles.csv", [block_id(3)]) == (400, "InvalidBlockList")


def test_an_unknown_or_malformed_block_id_is_refused(store, box):
    store.put_block(box, "roles.csv", block_id(0), b"x")
    assert refused(store.put_block_list, box, "roles.csv", [block_id(0), block_id(9)]) == (400, "InvalidBlockList")
    assert refused(store.put_block, box, "roles.csv", "not base64!", b"x") == (400, "InvalidQueryParameterValue")
    assert refused(store.put_block, box, "roles.csv", base64.b64encode(bytes(65)).decode(), b"x") == (400, "InvalidQueryParameterValue")
    assert store.list_blobs(box) == []


def test_a_blob_over_the_limit_is_refused_while_streaming_and_leaves_nothing(store, box):
    chunks = (b"x" * 100 for _ in range(50))
    assert refused(store.put_blob, box, "users.csv", chunks) == (413, "RequestBodyTooLarge")
    assert next(chunks, None) is not None  # refused at the limit, not after reading everything
    assert refused(store.put_block, box, "users.csv", block_id(0), b"x" * 1001) == (413, "RequestBodyTooLarge")
    for n in range(2):
        store.put_block(box, "users.csv", block_id(n), b"x" * 600)
    assert refused(store.put_block_list, box, "users.csv", [block_id(0), block_id(1)]) == (413, "RequestBodyTooLarge")
    assert store.list_blobs(box) == []
    assert store.fs.get_file_info(pafs.FileSelector(f"{store.root}/box-1/.tmp", allow_not_found=True)) == []


def test_the_container_limits_count_every_file_and_staged_block(store, box):
    store.put_blob(box, "a.csv", [b"x" * 1000])
    store.put_block(box, "b.csv", block_id(0), b"x" * 1000)
    assert refused(store.put_blob, box, "c.csv", [b"x" * 501]) == (409, "ContainerQuotaExceeded")
    store.put_blob(box, "a.csv", [b"x" * 900])  # replacing a blob frees its old size
    store.put_blob(box, "c.csv", [b"x" * 600])
    assert refused(store.put_blob, box, "d.csv", [b"x"]) == (409, "BlobCountExceedsLimit")
    store.put_blob(box, "c.csv", [b"y"])  # an existing name is not a new blob
    assert [(b.name, b.size) for b in store.list_blobs(box)] == [("a.csv", 900), ("c.csv", 1)]


@pytest.mark.parametrize("name", ["../x.csv", "a/b.csv", "..\\x.csv", "..", ".hidden.csv", "", "x.txt", "x.csv.zip",
                                  "tab\t.csv", "nul\x00.csv", "rtl\u202e.csv", "a" * 252 + ".csv", "é" * 126 + ".csv"])
def test_only_plain_csv_file_names_are_accepted(store, box, name):
    assert refused(store.put_blob, box, name, [b"x"]) == (400, "InvalidResourceName")
    assert refused(store.put_block, box, name, block_id(0), b"x") == (400, "InvalidResourceName")
    assert store.list_blobs(box) == []


def test_long_and_mixed_case_csv_names_are_kept_as_given(store, box):
    for name in ["a" * 251 + ".csv", "Users.CSV", "users (1).csv"]:
        store.put_blob(box, name, [name.encode()])
    assert [b.name for b in store.list_blobs(box)] == ["Users.CSV", "a" * 251 + ".csv", "users (1).csv"]
    assert read(store, box, "Users.CSV") == b"Users.CSV"


def test_a_container_that_does_not_exist_is_container_not_found(store):
    assert not store.container_exists("box-9")
    assert refused(store.put_blob, "box-9", "users.csv", [b"x"]) == (404, "ContainerNotFound")
    assert refused(store.list_blobs, "box-9") == (404, "ContainerNotFound")
    assert refused(store.open_blob, "box-9", "users.csv") == (404, "ContainerNotFound")
    assert refused(store.create_container, "../box") == (400, "InvalidResourceName")
    store.create_container("box-9")
    store.delete_container("box-9")
    store.delete_container("box-9")
    assert refused(store.list_blobs, "box-9") == (404, "ContainerNotFound")


def test_copy_out_hands_over_the_committed_blobs_and_leaves_the_container(store, box, tmp_path):
    store.put_blob(box, "users.csv", [b"u\n"])
    store.put_blob(box, "orgs.csv", [b"o\n"])
    store.put_block(box, "roles.csv", block_id(0), b"staged only")
    inode = (tmp_path / "data" / "uploads" / "box-1" / "users.csv").stat().st_ino if store.local else None
    dest = store.copy_out(box, tmp_path / "work" / "package")
    assert sorted(p.name for p in dest.iterdir()) == ["orgs.csv", "users.csv"]
    assert (dest / "users.csv").read_bytes() == b"u\n"
    if store.local:
        assert (dest / "users.csv").stat().st_ino == inode  # linked, not copied
    assert store.containers() == ["box-1"] and sorted(b.name for b in store.list_blobs(box)) == ["orgs.csv", "users.csv"]
    store.put_blob(box, "users.csv", [b"changed\n"])
    assert (dest / "users.csv").read_bytes() == b"u\n", "a later upload does not change what was copied"
    assert refused(store.copy_out, "box-9", tmp_path / "again") == (404, "ContainerNotFound")


def test_concurrent_writers_of_one_blob_leave_one_complete_version(store, box):
    versions = [bytes([65 + n]) * 900 for n in range(6)]
    errors: list[Exception] = []

    def write(data: bytes) -> None:
        try:
            store.put_blob(box, "users.csv", (data[i:i + 100] for i in range(0, len(data), 100)))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert read(store, box, "users.csv") in versions
