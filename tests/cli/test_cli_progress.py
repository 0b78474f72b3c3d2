"""Progress by stage: shown on a terminal (the CLI run under a pseudo-terminal), absent on a pipe and with --json."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
RUN_STAGES = ["validating", "comparing with the lake", "writing the lake"]


def _env(data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM", "CI", "GITHUB_ACTIONS")}
    # Rich treats CI environments as terminals that cannot redraw; a plain interactive terminal is what is tested
    return {**env, "HOMEROOM_DATA_DIR": str(data), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}


def _under_pty(args: list[str], env: dict, timeout: float = 300) -> tuple[int, str]:
    """Run ``python -m homeroom ARGS`` with standard output and error on a pseudo-terminal; its exit code and text."""
    main, child = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "homeroom", *args], stdin=child, stdout=child, stderr=child, env=env,
                               close_fds=True)
    os.close(child)
    chunks = []
    while True:
        ready, _, _ = select.select([main], [], [], timeout)
        if not ready:
            process.kill()
            pytest.fail(f"homeroom {' '.join(args)} wrote nothing for {timeout} s under a pseudo-terminal")
        try:
            data = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    return process.wait(timeout=timeout), ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def _stage_lines(text: str) -> list[str]:
    """The finished stages as shown ('done <stage> (1.2 s) 0:00:01'), once each: the live display redraws its lines."""
    return list(dict.fromkeys(m.group(1) for m in re.finditer(r"done (.+?) \(\d+\.\d s\)", text)))


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    from homeroom.synthetic import generate_district

    folder = tmp_path_factory.mktemp("progress-district")
    generate_district(folder, 200, seed=5)
    return folder


def test_run_shows_each_stage_on_a_terminal(package, tmp_path):
    code, text = _under_pty(["run", str(package), "--flow", "sis", "--year", "2026"], _env(tmp_path / "data"))
    assert code == 0, text
    finished = _stage_lines(text)
    assert [s for s in finished if s in RUN_STAGES] == RUN_STAGES, text
    assert "run " in text and "completed" in text  # the report itself follows the stages


def test_generate_shows_its_stages_on_a_terminal(tmp_path):
    code, text = _under_pty(["generate", "--students", "100", "--seed", "2", "--out", str(tmp_path / "d")], _env(tmp_path / "data"))
    assert code == 0, text
    finished = _stage_lines(text)
    assert finished[0] == "building a district of 100 students", text
    assert any(s.startswith("writing ") and s.endswith(" records)") for s in finished), finished
    assert "wrote " in text


def test_no_progress_on_a_pipe_or_with_json(package, tmp_path):
    env = _env(tmp_path / "data")
    piped = subprocess.run([sys.executable, "-m", "homeroom", "run", str(package), "--flow", "sis", "--year", "2026"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert piped.returncode == 0, piped.stderr
    for stage in RUN_STAGES:
        assert stage not in piped.stderr and stage not in piped.stdout
    code, text = _under_pty(["run", str(package), "--flow", "sis", "--year", "2026", "--json"], env)
    assert code == 0, text
    assert _stage_lines(text) == [] and not any(stage in text for stage in RUN_STAGES)
    assert '"status"' in text
