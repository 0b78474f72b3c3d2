"""Secret files in the data folder (signing keys, the SQLite store) and the folder itself: owner-only."""

from __future__ import annotations

import os
from pathlib import Path


def create_private_file(path: Path, data: bytes) -> None:
    """Write a secret file readable by its owner only (0600), unless it exists: with O_EXCL, two processes
    starting together do not overwrite each other's secret, and the loser reads the winner's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def private_folder(path: Path) -> Path:
    """Create the folder (and its parents) readable by its owner only (0700) if it does not exist; an existing folder
    is left as its owner set it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass
        else:
            os.chmod(path, 0o700)  # mkdir's mode is masked by the umask
    return path


def private_empty_file(path: Path) -> Path:
    """Create an empty file readable by its owner only (0600) unless it exists (a database SQLite then fills; its
    journal files take the same permissions)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    return path
