"""Secret files in the data folder (signing keys): created once, readable by their owner only."""

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
