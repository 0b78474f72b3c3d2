"""Conformance: Microsoft's azure-storage-blob client driven at a session URL, as a district's script would (spec Appendix E)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("azure.storage.blob")

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError  # noqa: E402
from azure.storage.blob import BlobClient, ContainerClient  # noqa: E402
from uploadtools import MIB  # noqa: E402

BLOCKS = {"max_single_put_size": MIB, "max_block_size": 256 * 1024}


def test_a_container_client_uploads_lists_downloads_and_deletes(live, session, monkeypatch):
    blocks: list[str] = []
    begin_block = live.store.begin_block
    monkeypatch.setattr(live.store, "begin_block", lambda container, name, *a, **kw: blocks.append(name) or begin_block(container, name, *a, **kw))
    client = ContainerClient.from_container_url(session.url, **BLOCKS)
    assert (client.account_name, client.container_name) == ("homeroomuploads", session.container)
    small = b"sourcedId,name,type\r\n1,Contoso High,school\r\n"
    large = os.urandom(MIB + 300_000)  # over max_single_put_size: six Put Block calls, then Put Block List
    client.upload_blob("orgs.csv", small)
    client.upload_blob("users.csv", large, metadata={"uploadvia": "PortalUpload"})
    client.upload_blob("roles.csv", b"")
    assert blocks == ["users.csv"] * 6
    assert client.exists()
    assert [(b.name, b.size, b.blob_type) for b in client.list_blobs()] == [
        ("orgs.csv", len(small), "BlockBlob"), ("roles.csv", 0, "BlockBlob"), ("users.csv", len(large), "BlockBlob")]
    assert [b.name for b in client.list_blobs(name_starts_with="o")] == ["orgs.csv"]
    assert client.download_blob("users.csv", max_concurrency=2).readall() == large
    assert client.download_blob("orgs.csv").readall() == small
    assert client.download_blob("roles.csv").readall() == b""
    assert client.get_blob_client("users.csv").get_blob_properties().size == len(large)
    client.delete_blob("orgs.csv")
    assert sorted(b.name for b in client.list_blobs()) == ["roles.csv", "users.csv"]
    assert sorted(live.store.list_blobs(session.container), key=lambda b: b.name)[1].size == len(large)


def test_a_blob_client_uploads_over_a_blob_url(session):
    blob = BlobClient.from_blob_url(session.blob("enrollments.csv"), **BLOCKS)
    blob.upload_blob(b"classSourcedId,userSourcedId,role\r\n", overwrite=True)
    blob.upload_blob(b"classSourcedId,userSourcedId,role\r\nc1,u1,student\r\n", overwrite=True)
    assert blob.exists()
    assert blob.download_blob().readall() == b"classSourcedId,userSourcedId,role\r\nc1,u1,student\r\n"
    blob.delete_blob()
    assert not blob.exists()


def test_the_client_raises_azure_errors(live):
    expired = live.session(expires=datetime.now(timezone.utc) - timedelta(minutes=1))
    with pytest.raises(ClientAuthenticationError) as caught:
        ContainerClient.from_container_url(expired.url).upload_blob("users.csv", b"x")
    assert caught.value.error_code == "AuthenticationFailed"
    with pytest.raises(ResourceNotFoundError) as caught:
        ContainerClient.from_container_url(live.session(create=False).url).upload_blob("users.csv", b"x")
    assert caught.value.error_code == "ContainerNotFound"
    with pytest.raises(HttpResponseError) as caught:
        ContainerClient.from_container_url(live.session().url).upload_blob("users.txt", b"x")
    assert (caught.value.status_code, caught.value.error_code) == (400, "InvalidResourceName")
    assert not ContainerClient.from_container_url(live.session(create=False).url).exists()
