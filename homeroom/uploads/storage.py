"""Upload containers and their blobs, in a local folder or an object store, with Azure's block-blob model.

Both stores are one ``BlobStore`` over a ``pyarrow.fs`` file system: ``LocalFileSystem`` on
``<data_dir>/uploads`` by default, or the file system of ``HOMEROOM_UPLOAD_STORE_URI`` (``s3://bucket/prefix``,
``gs://…``). One folder (prefix) per container:

    {container}/.container                 marker: the container exists
    {container}/{name}.csv                 committed blobs
    {container}/.blocks/{name}/{hex id}    staged (uncommitted) blocks of a blob
    {container}/.tmp/{uuid}                bytes being received, moved into place once complete

Data is streamed to ``.tmp`` and moved into place only when complete, so a reader never sees a torn blob and,
of two writers of one blob, the last to finish wins. Limits are counted on the bytes received, and checked again
under a per-container lock when a blob or block is committed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import shutil
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Generic, NamedTuple, TypeVar

import pyarrow.fs as pafs

from homeroom.errors import ConfigurationError
from homeroom.settings import Settings
from homeroom.uploads.errors import BlobError

MAX_BLOCK_ID_BYTES = 64  # Azure's limits on block ids and block counts
MAX_COMMITTED_BLOCKS = 50_000
MAX_UNCOMMITTED_BLOCKS = 100_000
CHUNK_BYTES = 1024 * 1024

_MARKER = ".container"
_CONTAINER_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")
_OBJECT_FILESYSTEMS = {"s3": pafs.S3FileSystem, "gs": pafs.GcsFileSystem, "gcs": pafs.GcsFileSystem}
_T = TypeVar("_T")


class BlobProperties(NamedTuple):
    """A committed blob as a listing shows it."""

    name: str
    size: int
    last_modified: datetime
    etag: str
    """Azure-style entity tag, unquoted (``0x…``); it changes whenever the blob is written."""


@dataclass(frozen=True)
class UploadLimits:
    """What one upload container may hold."""

    max_blob_bytes: int = 8 * 1024**3
    """Largest blob (and largest block)."""
    max_container_bytes: int = 32 * 1024**3
    """Largest total of committed blobs and staged blocks in one container."""
    max_blobs: int = 64
    """Largest number of distinct blob names (committed or with staged blocks) in one container."""


def check_container_name(container: str) -> None:
    """Refuse a container name Azure would refuse (3-63 lowercase letters, digits and single hyphens)."""
    if not _CONTAINER_NAME.match(container or ""):
        raise BlobError(400, "InvalidResourceName", f"The specified resource name contains invalid characters: container {container!r}.")


def check_blob_name(name: str) -> None:
    """Refuse anything but a plain ``.csv`` file name: no separators, no leading dot, no control characters, UTF-8
    text in normal form C (so that two spellings of one name are not two files)."""
    problem = None
    if not name:
        problem = "is empty"
    elif "/" in name or "\\" in name:
        problem = "contains a path separator"
    elif name.startswith("."):
        problem = "starts with a dot"
    elif any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in name):
        problem = "contains a control or formatting character"
    elif "\ufffd" in name:  # what bytes that are not UTF-8 become when the URL is decoded
        problem = "is not UTF-8 text"
    elif unicodedata.normalize("NFC", name) != name:
        problem = "is not in Unicode normal form C (another spelling of the same name)"
    elif len(name.encode("utf-8")) > 255:
        problem = "is longer than 255 bytes"
    elif not name.lower().endswith(".csv"):
        problem = "is not a .csv file name"
    if problem:
        raise BlobError(400, "InvalidResourceName",
                        f"The specified resource name contains invalid characters: blob name {name!r} {problem}. "
                        "Upload each CSV file under its plain file name.")


def block_key(block_id: str) -> str:
    """The file name a staged block is kept under (hex of the decoded id), or 400 for an id that is not base64 of 1-64 bytes."""
    try:
        raw = base64.b64decode(block_id, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not raw or len(raw) > MAX_BLOCK_ID_BYTES:
        raise BlobError(400, "InvalidQueryParameterValue",
                        f"Value for one of the query parameters specified in the request URI is invalid: blockid {block_id!r}.")
    return raw.hex()


@dataclass
class _Inventory:
    """What a container holds, from one listing."""

    blobs: dict[str, BlobProperties] = field(default_factory=dict)
    blocks: dict[str, dict[str, int]] = field(default_factory=dict)
    """blob name -> {block key: size} of its staged blocks."""

    def names(self) -> set[str]:
        return set(self.blobs) | set(self.blocks)

    def total_bytes(self) -> int:
        return sum(b.size for b in self.blobs.values()) + sum(sum(s.values()) for s in self.blocks.values())


class BlobUpload(Generic[_T]):
    """One blob or block being received: written to a temporary object, counted as it grows, then committed or aborted."""

    def __init__(self, fs: pafs.FileSystem, temp: str, *, max_bytes: int, room: int, content_md5: bytes | None,
                 finish: Callable[[str, int], _T]):
        self._fs = fs
        self._temp = temp
        self._max_bytes = max_bytes
        self._room = room
        self._md5 = hashlib.md5(usedforsecurity=False) if content_md5 is not None else None
        self._expected_md5 = content_md5
        self._finish = finish
        self._stream = fs.open_output_stream(temp)
        self.size = 0
        self.done = False

    def write(self, data: bytes) -> None:
        """Append bytes; 413 ``RequestBodyTooLarge`` past the blob limit, 409 ``ContainerQuotaExceeded`` past the container's."""
        self.size += len(data)
        if self.size > self._max_bytes:
            self.abort()
            raise BlobError(413, "RequestBodyTooLarge",
                            f"The request body is too large and exceeds the maximum permissible limit of {self._max_bytes} bytes.")
        if self.size > self._room:
            self.abort()
            raise BlobError(409, "ContainerQuotaExceeded", "The upload would exceed the container's size limit.")
        if self._md5 is not None:
            self._md5.update(data)
        self._stream.write(data)

    def commit(self) -> _T:
        """Close the temporary object and move it into place; returns the blob's properties (None for a block)."""
        self._stream.close()
        if self._md5 is not None and self._md5.digest() != self._expected_md5:
            self.abort()
            raise BlobError(400, "Md5Mismatch",
                            "The MD5 value specified in the request did not match with the MD5 value calculated by the server.")
        try:
            result = self._finish(self._temp, self.size)
        except BaseException:
            self.abort()
            raise
        self.done = True
        return result

    def abort(self) -> None:
        """Discard what was received."""
        self.done = True
        try:
            self._stream.close()
        except OSError:
            pass
        try:
            self._fs.delete_file(self._temp)
        except OSError:
            pass  # already moved away with its container, or never written

    def __enter__(self) -> BlobUpload[_T]:
        return self

    def __exit__(self, *exc) -> None:
        if not self.done:
            self.abort()


class BlobReader:
    """An open blob: its properties when opened, and its bytes streamed in chunks."""

    def __init__(self, properties: BlobProperties, file: pafs.NativeFile):
        self.properties = properties
        self._file = file

    def chunks(self, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The bytes from ``start`` (``length`` of them, or to the end), then the file is closed."""
        try:
            self._file.seek(start)
            remaining = self.properties.size - start if length is None else length
            while remaining > 0:
                data = self._file.read(min(CHUNK_BYTES, remaining))
                if not data:
                    break
                remaining -= len(data)
                yield data
        finally:
            self.close()

    def close(self) -> None:
        self._file.close()


class BlobStore:
    """Upload containers on a ``pyarrow.fs`` file system rooted at ``root`` (a local folder or a bucket prefix)."""

    def __init__(self, fs: pafs.FileSystem, root: str, limits: UploadLimits | None = None):
        self.fs = fs
        self.root = root.rstrip("/")
        self.limits = limits or UploadLimits()
        self.local = isinstance(fs, pafs.LocalFileSystem)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        if self.local:
            fs.create_dir(self.root, recursive=True)

    # -- containers ---------------------------------------------------------------------------------------------

    def create_container(self, container: str) -> None:
        """Create an empty container (nothing happens if it exists)."""
        check_container_name(container)
        if self.local:
            for folder in (".tmp", ".blocks"):
                self.fs.create_dir(self._path(container, folder), recursive=True)
        with self.fs.open_output_stream(self._path(container, _MARKER)):
            pass

    def container_exists(self, container: str) -> bool:
        """Whether the container exists."""
        check_container_name(container)
        return self.fs.get_file_info(self._path(container, _MARKER)).type == pafs.FileType.File

    def container_properties(self, container: str) -> BlobProperties:
        """When the container was created, as properties named after it (size 0); 404 ``ContainerNotFound``."""
        check_container_name(container)
        info = self.fs.get_file_info(self._path(container, _MARKER))
        if info.type != pafs.FileType.File:
            raise self._container_not_found(container)
        return self._properties(container, info)

    def containers(self) -> list[str]:
        """The ids of every container, sorted (for sweeping expired ones)."""
        infos = self.fs.get_file_info(pafs.FileSelector(self.root, allow_not_found=True))
        names = sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory and _CONTAINER_NAME.match(i.base_name))
        return [n for n in names if self.container_exists(n)]

    def delete_container(self, container: str) -> None:
        """Delete a container and everything in it (nothing happens if it does not exist)."""
        check_container_name(container)
        with self._lock(container):
            self._close(container)
            self._delete_tree(self._path(container))
        self._forget_lock(container)

    def copy_out(self, container: str, dest: Path) -> Path:
        """Copy the container's committed blobs into the local folder ``dest``, leaving the container as it is (so
        that a validation interrupted before it is recorded loses nothing). A local store hard-links (no bytes
        are copied; a later upload of the same name writes a new file), an object store downloads."""
        check_container_name(container)
        with self._lock(container):
            inventory = self._inventory(container)
            dest.mkdir(parents=True, exist_ok=True)
            for name in inventory.blobs:
                source = self._path(container, name)
                if self.local:
                    try:
                        os.link(source, dest / name)
                    except OSError:  # another file system, or links refused: copy
                        shutil.copyfile(source, dest / name)
                else:
                    pafs.copy_files(source, str(dest / name), source_filesystem=self.fs,
                                    destination_filesystem=pafs.LocalFileSystem())
        return dest

    # -- blobs ----------------------------------------------------------------------------------------------------

    def begin_blob(self, container: str, name: str, *, content_md5: bytes | None = None) -> BlobUpload[BlobProperties]:
        """Start receiving a whole blob (Put Blob); write the bytes to the returned upload, then commit it."""
        check_blob_name(name)
        inventory = self._inventory(container)
        self._check_new_name(inventory, name)
        replaced = self._blob_bytes(inventory, name)

        def finish(temp: str, size: int) -> BlobProperties:
            return self._commit_blob(container, name, temp, size)

        return self._begin(container, room=self.limits.max_container_bytes - (inventory.total_bytes() - replaced),
                           content_md5=content_md5, finish=finish)

    def put_blob(self, container: str, name: str, chunks: Iterable[bytes]) -> BlobProperties:
        """Store a whole blob from an iterable of byte chunks, replacing any blob of that name."""
        with self.begin_blob(container, name) as upload:
            for chunk in chunks:
                upload.write(chunk)
            return upload.commit()

    def begin_block(self, container: str, name: str, block_id: str, *, content_md5: bytes | None = None) -> BlobUpload[None]:
        """Start receiving one block of a blob (Put Block); it stays uncommitted until a block list names it."""
        check_blob_name(name)
        key = block_key(block_id)
        inventory = self._inventory(container)
        self._check_new_name(inventory, name)
        replaced = inventory.blocks.get(name, {}).get(key, 0)

        def finish(temp: str, size: int) -> None:
            self._commit_block(container, name, key, temp, size)

        return self._begin(container, room=self.limits.max_container_bytes - (inventory.total_bytes() - replaced),
                           content_md5=content_md5, finish=finish)

    def put_block(self, container: str, name: str, block_id: str, data: bytes | Iterable[bytes]) -> None:
        """Stage one block of a blob."""
        with self.begin_block(container, name, block_id) as upload:
            for chunk in [data] if isinstance(data, bytes | bytearray | memoryview) else data:
                upload.write(bytes(chunk))
            upload.commit()

    def put_block_list(self, container: str, name: str, block_ids: Sequence[str]) -> BlobProperties:
        """Commit the blob made of these staged blocks, in this order; its other staged blocks are discarded.

        400 ``InvalidBlockList`` when an id names no staged block of this blob.
        """
        check_blob_name(name)
        keys = [block_key(b) for b in block_ids]
        if len(keys) > MAX_COMMITTED_BLOCKS:
            raise BlobError(400, "BlockListTooLong", f"The block list may not contain more than {MAX_COMMITTED_BLOCKS} blocks.")
        inventory = self._inventory(container)
        staged = inventory.blocks.get(name, {})
        unknown = [b for b, k in zip(block_ids, keys) if k not in staged]
        if unknown:
            raise BlobError(400, "InvalidBlockList", f"The specified block list is invalid: no staged block {unknown[0]!r} for blob {name!r}.")
        size = sum(staged[k] for k in keys)
        if size > self.limits.max_blob_bytes:
            raise BlobError(413, "RequestBodyTooLarge",
                            f"The blob would be larger than the maximum permissible limit of {self.limits.max_blob_bytes} bytes.")

        def finish(temp: str, size: int) -> BlobProperties:
            return self._commit_blob(container, name, temp, size)

        room = self.limits.max_container_bytes - (inventory.total_bytes() - self._blob_bytes(inventory, name))
        with self._begin(container, room=room, content_md5=None, finish=finish) as upload:
            for key in keys:
                with self.fs.open_input_stream(self._path(container, ".blocks", name, key)) as block:
                    while data := block.read(CHUNK_BYTES):
                        upload.write(data)
            return upload.commit()

    def list_blobs(self, container: str) -> list[BlobProperties]:
        """The committed blobs of a container, sorted by name."""
        return sorted(self._inventory(container).blobs.values())

    def blob_properties(self, container: str, name: str) -> BlobProperties:
        """One committed blob's properties; 404 ``BlobNotFound`` when there is none."""
        check_blob_name(name)
        info = self.fs.get_file_info(self._path(container, name))
        if info.type != pafs.FileType.File:
            raise self._missing(container, name)
        return self._properties(name, info)

    def open_blob(self, container: str, name: str) -> BlobReader:
        """A committed blob opened for streaming; it keeps reading the bytes it was opened on."""
        properties = self.blob_properties(container, name)
        try:
            file = self.fs.open_input_file(self._path(container, name))
        except FileNotFoundError:
            raise self._missing(container, name) from None
        return BlobReader(properties._replace(size=file.size()), file)

    def delete_blob(self, container: str, name: str) -> None:
        """Delete a committed blob and its staged blocks; 404 ``BlobNotFound`` when there is none."""
        self.blob_properties(container, name)
        with self._lock(container):
            try:
                self.fs.delete_file(self._path(container, name))
            except FileNotFoundError:
                raise self._missing(container, name) from None
            self._delete_tree(self._path(container, ".blocks", name))

    # -- internals ------------------------------------------------------------------------------------------------

    def _path(self, *parts: str) -> str:
        return "/".join((self.root, *parts))

    def _lock(self, container: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(container, threading.Lock())

    def _forget_lock(self, container: str) -> None:
        with self._locks_lock:
            self._locks.pop(container, None)

    def _close(self, container: str) -> None:
        try:
            self.fs.delete_file(self._path(container, _MARKER))
        except FileNotFoundError:
            pass

    def _delete_tree(self, path: str) -> None:
        if self.fs.get_file_info(path).type != pafs.FileType.NotFound:
            self.fs.delete_dir(path)

    def _container_not_found(self, container: str) -> BlobError:
        return BlobError(404, "ContainerNotFound", f"The specified container does not exist: {container}.")

    def _missing(self, container: str, name: str) -> BlobError:
        if not self.container_exists(container):
            return self._container_not_found(container)
        return BlobError(404, "BlobNotFound", f"The specified blob does not exist: {name}.")

    def _properties(self, name: str, info: pafs.FileInfo) -> BlobProperties:
        etag = "0x" + hashlib.blake2b(f"{info.mtime_ns}:{info.size}".encode(), digest_size=8).hexdigest().upper()
        return BlobProperties(name, int(info.size), info.mtime, etag)

    def _inventory(self, container: str) -> _Inventory:
        if not self.container_exists(container):
            raise self._container_not_found(container)
        return self._inventory_at(self._path(container))

    def _inventory_at(self, base: str) -> _Inventory:
        inventory = _Inventory()
        for info in self.fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True)):
            if info.type != pafs.FileType.File:
                continue
            parts = info.path[len(base) + 1:].split("/")
            if len(parts) == 1 and not parts[0].startswith("."):
                inventory.blobs[parts[0]] = self._properties(parts[0], info)
            elif len(parts) == 3 and parts[0] == ".blocks":
                inventory.blocks.setdefault(parts[1], {})[parts[2]] = int(info.size)
        return inventory

    def _blob_bytes(self, inventory: _Inventory, name: str) -> int:
        """What committing ``name`` frees: its current version and its staged blocks."""
        old = inventory.blobs.get(name)
        return (old.size if old else 0) + sum(inventory.blocks.get(name, {}).values())

    def _check_new_name(self, inventory: _Inventory, name: str) -> None:
        if name not in inventory.names() and len(inventory.names()) >= self.limits.max_blobs:
            raise BlobError(409, "BlobCountExceedsLimit", f"A container may hold at most {self.limits.max_blobs} blobs.")

    def _check_room(self, inventory: _Inventory, freed: int, size: int) -> None:
        if inventory.total_bytes() - freed + size > self.limits.max_container_bytes:
            raise BlobError(409, "ContainerQuotaExceeded", "The upload would exceed the container's size limit.")

    def _begin(self, container: str, *, room: int, content_md5: bytes | None, finish: Callable[[str, int], _T]) -> BlobUpload[_T]:
        return BlobUpload(self.fs, self._path(container, ".tmp", uuid.uuid4().hex), max_bytes=self.limits.max_blob_bytes,
                          room=room, content_md5=content_md5, finish=finish)

    def _commit_blob(self, container: str, name: str, temp: str, size: int) -> BlobProperties:
        with self._lock(container):
            inventory = self._inventory(container)
            self._check_new_name(inventory, name)
            self._check_room(inventory, self._blob_bytes(inventory, name), size)
            self.fs.move(temp, self._path(container, name))
            self._delete_tree(self._path(container, ".blocks", name))
        return self.blob_properties(container, name)

    def _commit_block(self, container: str, name: str, key: str, temp: str, size: int) -> None:
        with self._lock(container):
            inventory = self._inventory(container)
            staged = inventory.blocks.get(name, {})
            if key not in staged and len(staged) >= MAX_UNCOMMITTED_BLOCKS:
                raise BlobError(409, "BlockCountExceedsLimit",
                                f"The uncommitted block count cannot exceed the maximum limit of {MAX_UNCOMMITTED_BLOCKS} blocks.")
            self._check_new_name(inventory, name)
            self._check_room(inventory, staged.get(key, 0), size)
            if self.local:
                self.fs.create_dir(self._path(container, ".blocks", name), recursive=True)
            self.fs.move(temp, self._path(container, ".blocks", name, key))


def open_blob_store(settings: Settings) -> BlobStore:
    """The upload store these settings name: ``upload_store_uri`` (object storage), else ``<data_dir>/uploads``."""
    limits = UploadLimits(settings.upload_max_blob_bytes, settings.upload_max_container_bytes, settings.upload_max_blobs)
    uri = settings.upload_store_uri
    if uri is None:
        return BlobStore(pafs.LocalFileSystem(), str((settings.data_dir / "uploads").resolve()), limits)
    if not settings.upload_storage_options:
        fs, root = pafs.FileSystem.from_uri(uri)
        return BlobStore(fs, root, limits)
    scheme, _, rest = uri.partition("://")
    if scheme not in _OBJECT_FILESYSTEMS:
        raise ConfigurationError(f"HOMEROOM_UPLOAD_STORAGE_OPTIONS can be used with {', '.join(_OBJECT_FILESYSTEMS)}:// URIs, not {uri!r}")
    try:
        fs = _OBJECT_FILESYSTEMS[scheme](**settings.upload_storage_options)
    except TypeError as exc:
        raise ConfigurationError(f"HOMEROOM_UPLOAD_STORAGE_OPTIONS: {exc}") from None
    return BlobStore(fs, rest.strip("/"), limits)
