"""The Azure Blob endpoint over real HTTP: status codes, ``x-ms-error-code`` values and XML bodies a client sees."""

from __future__ import annotations

import base64
import hashlib
import http.client
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree

import pytest
from uploadtools import MIB, assert_azure_error

PUT_HEADERS = {"x-ms-blob-type": "BlockBlob", "x-ms-version": "2023-11-03"}


def put(http, session, name: str, data: bytes, **headers):
    return http.put(session.blob(name), content=data, headers={**PUT_HEADERS, **headers})


def listed(http, session) -> list[tuple[str, int]]:
    r = http.get(session.listing())
    assert r.status_code == 200, r.text
    root = ElementTree.fromstring(r.content)
    return [(b.findtext("Name"), int(b.findtext("Properties/Content-Length"))) for b in root.iter("Blob")]


def leftovers(live, session) -> list[str]:
    """Every file under the container's folder but its marker: blobs, staged blocks and temporary files."""
    folder = live.data_dir / "uploads" / session.container
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != ".container")


def test_put_blob_answers_201_and_the_blob_reads_back(http, session):
    r = put(http, session, "users.csv", b"sourcedId,username\r\n1,a@b.c\r\n", **{"x-ms-client-request-id": "abc"})
    assert r.status_code == 201, r.text
    assert r.headers["etag"].startswith('"0x') and r.headers["last-modified"].endswith(" GMT")
    assert r.headers["x-ms-request-id"] and r.headers["x-ms-version"] == "2023-11-03"
    assert r.headers["x-ms-client-request-id"] == "abc"
    got = http.get(session.blob("users.csv"))
    assert (got.status_code, got.content, got.headers["etag"]) == (200, b"sourcedId,username\r\n1,a@b.c\r\n", r.headers["etag"])
    part = http.get(session.blob("users.csv"), headers={"x-ms-range": "bytes=2-5"})
    assert (part.status_code, part.content, part.headers["content-range"]) == (206, b"urce", "bytes 2-5/29")
    assert_azure_error(http.get(session.blob("users.csv"), headers={"Range": "bytes=29-"}), 416, "InvalidRange")
    head = http.head(session.blob("users.csv"))
    assert (head.status_code, head.headers["content-length"], head.headers["x-ms-blob-type"]) == (200, "29", "BlockBlob")
    assert listed(http, session) == [("users.csv", 29)]
    assert http.delete(session.blob("users.csv")).status_code == 202
    assert_azure_error(http.get(session.blob("users.csv")), 404, "BlobNotFound")
    assert_azure_error(http.head(session.blob("users.csv")), 404, "BlobNotFound")
    assert_azure_error(http.delete(session.blob("users.csv")), 404, "BlobNotFound")


def test_blob_names_keep_their_case_even_where_graph_paths_are_rewritten(http, session):
    for name in ["microsoft.graph.Users.csv", "Users.CSV", "users.csv"]:
        assert put(http, session, name, name.encode()).status_code == 201
    assert [n for n, _ in listed(http, session)] == ["Users.CSV", "microsoft.graph.Users.csv", "users.csv"]
    assert http.get(session.blob("microsoft.graph.Users.csv")).content == b"microsoft.graph.Users.csv"


def test_blocks_then_a_block_list_make_the_blob(http, live, session):
    ids = [base64.b64encode(f"{n:06d}".encode()).decode() for n in range(3)]
    for block, data in zip(ids, [b"a,", b"b,", b"c\n"]):
        r = http.put(session.blob("roles.csv", f"comp=block&blockid={block}"), content=data)
        assert r.status_code == 201, r.text
    body = "<?xml version='1.0' encoding='utf-8'?><BlockList>" + "".join(f"<Latest>{b}</Latest>" for b in reversed(ids)) + "</BlockList>"
    r = http.put(session.blob("roles.csv", "comp=blocklist"), content=body, headers={"Content-Type": "application/xml"})
    assert r.status_code == 201 and r.headers["etag"]
    assert http.get(session.blob("roles.csv")).content == b"c\nb,a,"
    assert leftovers(live, session) == ["roles.csv"]  # the staged blocks are gone


def test_an_unknown_block_id_is_400_invalid_block_list(http, live, session):
    block = base64.b64encode(b"000001").decode()
    http.put(session.blob("roles.csv", f"comp=block&blockid={block}"), content=b"x")
    other = base64.b64encode(b"000002").decode()
    r = http.put(session.blob("roles.csv", "comp=blocklist"), content=f"<BlockList><Latest>{other}</Latest></BlockList>")
    assert_azure_error(r, 400, "InvalidBlockList")
    assert_azure_error(http.put(session.blob("roles.csv", "comp=blocklist"), content=b"<BlockList><Latest>"), 400, "InvalidXmlDocument")
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><BlockList><Latest>&a;</Latest></BlockList>'
    assert_azure_error(http.put(session.blob("roles.csv", "comp=blocklist"), content=bomb), 400, "InvalidXmlDocument")
    assert_azure_error(http.put(session.blob("roles.csv", "comp=block"), content=b"x"), 400, "MissingRequiredQueryParameter")
    assert_azure_error(http.put(session.blob("roles.csv", "comp=block&blockid=%25%25"), content=b"x"), 400, "InvalidQueryParameterValue")
    assert listed(http, session) == []


def test_a_tampered_signature_is_403_authentication_failed(http, session):
    tampered = session.blob("users.csv").replace("sig=", "sig=x")
    assert_azure_error(http.put(tampered, content=b"x", headers=PUT_HEADERS), 403, "AuthenticationFailed")
    widened = session.blob("users.csv").replace("sp=racwdl", "sp=racwdlx")
    assert_azure_error(http.get(widened), 403, "AuthenticationFailed")
    no_sas = session.blob("users.csv").partition("?")[0]
    assert_azure_error(http.put(no_sas, content=b"x", headers={**PUT_HEADERS, "Authorization": "SharedKey a:b"}), 403, "AuthenticationFailed")


def test_a_sas_for_another_container_is_refused(http, live):
    mine, theirs = live.session(), live.session()
    swapped = f"{theirs.container_url}/users.csv?{mine.sas}"
    assert_azure_error(http.put(swapped, content=b"x", headers=PUT_HEADERS), 403, "AuthenticationFailed")
    assert_azure_error(http.get(f"{theirs.container_url}?restype=container&comp=list&{mine.sas}"), 403, "AuthenticationFailed")
    assert listed(http, theirs) == []


def test_an_expired_sas_is_refused(http, live):
    expired = live.session(expires=datetime.now(timezone.utc) - timedelta(seconds=1))
    r = http.put(expired.blob("users.csv"), content=b"x", headers=PUT_HEADERS)
    assert_azure_error(r, 403, "AuthenticationFailed")
    assert "Signature expired at " in ElementTree.fromstring(r.content).findtext("Message")


@pytest.mark.parametrize(("permissions", "method", "path"), [
    ("rl", "PUT", "blob"), ("wl", "GET", "blob"), ("rwl", "DELETE", "blob"), ("rw", "GET", "list"), ("racwdl", "PUT", "container"),
])
def test_a_missing_permission_is_403_authorization_permission_mismatch(http, live, permissions, method, path):
    s = live.session(permissions=permissions)
    url = {"blob": s.blob("users.csv"), "list": s.listing(), "container": f"{s.container_url}?restype=container&{s.sas}"}[path]
    r = http.request(method, url, content=b"x" if method == "PUT" else None, headers=PUT_HEADERS)
    assert_azure_error(r, 403, "AuthorizationPermissionMismatch")


def test_a_create_only_sas_can_upload(http, live):
    s = live.session(permissions="c")
    assert put(http, s, "users.csv", b"x").status_code == 201


def _raw_put(live, path: str) -> tuple[int, str | None]:
    """A PUT whose path is sent exactly as written (httpx would resolve ``..``)."""
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    try:
        connection.request("PUT", path, body=b"x", headers=PUT_HEADERS)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("x-ms-error-code")
    finally:
        connection.close()


@pytest.mark.parametrize("name", ["../x.csv", "a/b.csv", "%2e%2e%2fx.csv", "..%5Cx.csv", "..%2F..%2Fx.csv", "%2e%2e",
                                  ".hidden.csv", "x.txt", "users.csv.exe", "a%00.csv", "a%0A.csv", "a" * 253 + ".csv",
                                  "%ff%fe.csv", "caf%65%CC%81.csv"])  # bytes that are not UTF-8; 'café' spelled NFD
def test_unsafe_blob_names_are_400_invalid_resource_name(live, session, name):
    path = f"/homeroomuploads/{session.container}/{name}?{session.sas}"
    assert _raw_put(live, path) == (400, "InvalidResourceName")
    assert leftovers(live, session) == []
    assert list((live.data_dir / "uploads").glob("*.csv")) == [] and not (live.data_dir / "x.csv").exists()


def test_a_missing_or_other_blob_type_is_refused(http, session):
    assert_azure_error(http.put(session.blob("users.csv"), content=b"x"), 400, "MissingRequiredHeader")
    r = http.put(session.blob("users.csv"), content=b"x", headers={"x-ms-blob-type": "AppendBlob"})
    assert_azure_error(r, 400, "InvalidHeaderValue")
    assert_azure_error(http.put(session.blob("users.csv", "comp=metadata"), content=b""), 400, "UnsupportedQueryParameter")
    assert_azure_error(http.post(session.blob("users.csv"), content=b""), 405, "UnsupportedHttpVerb")
    assert_azure_error(http.get(f"{session.container_url}?{session.sas}"), 400, "InvalidUri")


def test_a_content_md5_is_checked(http, live, session):
    good = base64.b64encode(hashlib.md5(b"abc").digest()).decode()
    r = put(http, session, "users.csv", b"abc", **{"Content-MD5": good})
    assert (r.status_code, r.headers["content-md5"]) == (201, good)
    assert_azure_error(put(http, session, "orgs.csv", b"abd", **{"Content-MD5": good}), 400, "Md5Mismatch")
    assert_azure_error(put(http, session, "orgs.csv", b"abd", **{"Content-MD5": "nope"}), 400, "InvalidMd5")
    assert leftovers(live, session) == ["users.csv"]


def test_an_oversized_blob_is_413_and_leaves_nothing(http, live, session):
    assert_azure_error(put(http, session, "users.csv", b"x" * (2 * MIB + 1)), 413, "RequestBodyTooLarge")

    def unannounced():  # chunked: no Content-Length to trust, the bytes are counted
        for _ in range(5):
            yield b"y" * (MIB // 2)

    assert_azure_error(http.put(session.blob("users.csv"), content=unannounced(), headers=PUT_HEADERS), 413, "RequestBodyTooLarge")
    block = base64.b64encode(b"1").decode()
    r = http.put(session.blob("users.csv", f"comp=block&blockid={block}"), content=unannounced())
    assert_azure_error(r, 413, "RequestBodyTooLarge")
    assert leftovers(live, session) == [] and listed(http, session) == []


def test_an_interrupted_upload_leaves_nothing(live, session, monkeypatch):
    uploads = []
    begin_blob = live.store.begin_blob
    monkeypatch.setattr(live.store, "begin_blob", lambda *a, **kw: uploads.append(begin_blob(*a, **kw)) or uploads[-1])
    with socket.create_connection(("127.0.0.1", live.port)) as sock:
        head = (f"PUT /homeroomuploads/{session.container}/users.csv?{session.sas} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "x-ms-blob-type: BlockBlob\r\nContent-Length: 1900000\r\n\r\n")
        sock.sendall(head.encode() + b"x" * 1_200_000)
    deadline = time.time() + 5
    while time.time() < deadline and not (uploads and uploads[0].done):
        time.sleep(0.02)
    assert uploads[0].done and uploads[0].size >= 1024 * 1024  # it had received and written bytes
    assert leftovers(live, session) == []


def test_the_container_quota_is_409_and_leaves_nothing(http, live, session):
    for name in ("a.csv", "b.csv"):
        assert put(http, session, name, b"x" * (2 * MIB)).status_code == 201
    assert_azure_error(put(http, session, "c.csv", b"x"), 409, "ContainerQuotaExceeded")
    assert leftovers(live, session) == ["a.csv", "b.csv"]


def test_too_many_blobs_is_409(http, live, session):
    for n in range(4):
        assert put(http, session, f"f{n}.csv", b"x").status_code == 201
    assert_azure_error(put(http, session, "f4.csv", b"x"), 409, "BlobCountExceedsLimit")
    assert put(http, session, "f0.csv", b"replaced").status_code == 201
    assert len(listed(http, session)) == 4


def test_a_container_that_does_not_exist_is_404(http, live):
    never = live.session(create=False)
    assert_azure_error(put(http, never, "users.csv", b"x"), 404, "ContainerNotFound")
    assert_azure_error(http.get(never.listing()), 404, "ContainerNotFound")
    gone = live.session()
    assert put(http, gone, "users.csv", b"x").status_code == 201
    live.store.delete_container(gone.container)
    assert_azure_error(http.get(gone.blob("users.csv")), 404, "ContainerNotFound")
    assert_azure_error(put(http, gone, "users.csv", b"x"), 404, "ContainerNotFound")


def _in_threads(*calls) -> list:
    results: list = [None] * len(calls)

    def run(i, call):
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _slow_body(byte: bytes, chunks: int = 16):
    for _ in range(chunks):
        yield byte * 65536


def test_concurrent_uploads_of_different_blobs_both_succeed(http, live, session):
    statuses = _in_threads(*[lambda n=n: http.put(session.blob(f"f{n}.csv"), content=_slow_body(b"%d" % n), headers=PUT_HEADERS).status_code
                             for n in range(4)])
    assert statuses == [201] * 4
    assert listed(http, session) == [(f"f{n}.csv", MIB) for n in range(4)]
    assert all(http.get(session.blob(f"f{n}.csv")).content == b"%d" % n * MIB for n in range(4))


def test_concurrent_uploads_of_one_blob_leave_one_complete_version(http, live, session):
    statuses = _in_threads(*[lambda b=b: http.put(session.blob("users.csv"), content=_slow_body(b), headers=PUT_HEADERS).status_code
                             for b in (b"a", b"b", b"c")])
    assert statuses == [201] * 3
    assert http.get(session.blob("users.csv")).content in (b"a" * MIB, b"b" * MIB, b"c" * MIB)
    assert leftovers(live, session) == ["users.csv"]


def test_the_upload_endpoint_is_not_in_the_openapi_document(http, live):
    paths = http.get(f"{live.base_url}/openapi.json").json()["paths"]
    assert not [p for p in paths if "homeroomuploads" in p]
