#!/usr/bin/env python3
"""The two commands of the README; they need nothing but Python 3.11.

    python3 tasks.py demo   # set up, then generate a district, validate it and Microsoft's sample
    python3 tasks.py test   # set up, then run the whole test suite

Setting up means: a virtual environment in .venv with Homeroom and its pinned dependencies
(reinstalled only when pyproject.toml changes).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def run(*args: object, check: bool = True) -> int:
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.run([str(a) for a in args], cwd=ROOT, check=check).returncode


def setup(extras: str) -> None:
    """Create .venv and install Homeroom (with ``extras``) unless it is already up to date."""
    if sys.version_info < (3, 11):
        sys.exit(f"Homeroom needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"+ creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", target)
    stamp.write_text(digest)


def demo() -> int:
    """The main job on embedded defaults (SQLite and a local Delta Lake in demo-output/homeroom-data):
    run a generated district into the lake, then its next snapshot, and show the change set;
    validate a district with planted defects and Microsoft's sample; then serve the Graph-compatible
    API and push the district through it as SDS clients do (upload session, upload, validate, run)."""
    setup("")
    homeroom = BIN / "homeroom"
    out = ROOT / "demo-output"
    shutil.rmtree(out, ignore_errors=True)
    os.environ["HOMEROOM_DATA_DIR"] = str(out / "homeroom-data")
    run(homeroom, "generate", "--students", "5000", "--seed", "7", "--out", out / "district")
    run(homeroom, "run", out / "district", "--flow", "demo", "--year", "2026")
    run(homeroom, "churn", out / "district", "--out", out / "district-next", "--rate", "0.01", "--seed", "7")
    run(homeroom, "run", out / "district-next", "--flow", "demo", "--year", "2026")
    run(homeroom, "lake", "query", "select entity, change, count(*) as records from changes group by entity, change order by entity, change")
    run(homeroom, "generate", "--students", "5000", "--seed", "7", "--defect-rate", "0.002", "--out", out / "with-defects")
    # A district with planted defects has errors, so validate exits 1 here; that is the point.
    run(homeroom, "validate", out / "with-defects", "--report", out / "findings.csv", check=False)
    run(homeroom, "validate", ROOT / "tests" / "fixtures" / "microsoft" / "sds-v2.1", check=False)
    return upload_demo(homeroom, out)


def upload_demo(homeroom: Path, out: Path) -> int:
    """``homeroom serve`` on a free port, an app and a CSV flow, then ``homeroom upload --run`` of the district."""
    import json
    import socket
    import time
    import urllib.request

    permissions = ["IndustryData-DataConnector.Read.All", "IndustryData-DataConnector.Upload", "IndustryData.ReadBasic.All",
                   "IndustryData-Run.Start"]  # the least the upload loop needs
    print("+ homeroom apps create --tenant district-api ... --json", flush=True)
    created = subprocess.run([str(homeroom), "apps", "create", "--tenant", "district-api", "--json",
                              *[a for p in permissions for a in ("--permission", p)]], check=True, capture_output=True, text=True)
    registration = json.loads(created.stdout)
    run(homeroom, "flows", "create", "--tenant", "district-api", "--name", "SIS upload", "--year", "2026")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    print(f"+ {homeroom} serve --port {port} &", flush=True)
    server = subprocess.Popen([str(homeroom), "serve", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        os.environ["HOMEROOM_CLIENT_SECRET"] = registration["clientSecret"]  # never on a command line
        return run(homeroom, "upload", out / "district-next", "--server", f"http://127.0.0.1:{port}", "--tenant", "district-api",
                   "--client-id", registration["clientId"], "--connector", "SIS upload files", "--run", "--poll-seconds", "1",
                   "--findings", out / "upload-findings.csv", check=False)
    finally:
        server.terminate()
        server.wait(timeout=30)


#: The second, pinned environment that Microsoft's msgraph-beta-sdk 1.12.0 (the last with the classic
#: education.synchronization_profiles builders) runs in for tests/api/classic/test_classic_sdk_loop.py.
CLASSIC_SDK_REQUIREMENTS = ROOT / "tests" / "api" / "classic" / "msgraph-beta-sdk-1.12.txt"
CLASSIC_SDK_VENV = VENV / "classic-sdk"


def setup_classic_sdk() -> None:
    """Create .venv/classic-sdk with the pinned requirements unless it is already up to date."""
    python = CLASSIC_SDK_VENV / ("Scripts" if os.name == "nt" else "bin") / "python"
    stamp = CLASSIC_SDK_VENV / ".installed"
    digest = hashlib.sha256(CLASSIC_SDK_REQUIREMENTS.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and python.exists():
        return
    print(f"+ creating {CLASSIC_SDK_VENV}", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(CLASSIC_SDK_VENV)
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "-r", CLASSIC_SDK_REQUIREMENTS)
    stamp.write_text(digest)


def test() -> int:
    """Run every test (pytest, two workers)."""
    setup("test")
    setup_classic_sdk()
    args = sys.argv[2:]
    return run(PYTHON, "-m", "pytest", "-n", "2", *args, check=False)


if __name__ == "__main__":
    commands = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: python3 {Path(__file__).name} {{{'|'.join(commands)}}} [pytest arguments]")
    sys.exit(commands[sys.argv[1]]())
