"""The app under test served by uvicorn on loopback, in a subprocess of its own, for the benches that call it over HTTP
(so that the clients do not share a GIL with the server): start it, wait until it answers, read its peak RSS.

A bench script serves itself: ``start(__file__, probe)`` runs ``<script> --serve --port PORT [extra...]`` and the
script's ``--serve`` branch builds the app and calls ``uvicorn.run`` (each bench adds what its app needs: a floor
route, settings, a cache switch).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(script: str | Path, probe: str, *extra: str, timeout: float = 60.0) -> tuple[int, subprocess.Popen]:
    """Run ``script --serve --port PORT *extra`` on a free loopback port and wait until ``GET probe`` answers (any
    status); returns the port and the process. A server that does not answer within ``timeout`` is killed."""
    import httpx

    port = free_port()
    process = subprocess.Popen([sys.executable, str(script), "--serve", "--port", str(port), *extra])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode} before it answered")
        try:
            httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=1)
            return port, process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server did not answer {probe} within {timeout:g} s")


def peak_rss_mb(pid: int) -> float:
    """A live process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
