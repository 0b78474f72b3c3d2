"""Progress by stage for people at a terminal: the stage under way with a spinner and its time, and each finished
stage kept as a line with the time it took. Nothing at all on a pipe, in a file or with ``--json``: scripts read
the command's report, never its progress.

A command's engine reports stages as short texts through a ``progress`` callback (``"validating"``, ``"writing
the lake"``, ``"matching people against district-ad"``); :func:`stages` turns them into the display. A text whose
first word is the current stage's (``"applied 500 of 2,000 operations"``, then ``"applied 1,000 of 2,000
operations"``) updates that stage's line: counts within a stage, not a new stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from homeroom.cli.render import err

Report = Callable[[str], None]


def wanted(json_output: bool = False) -> bool:
    """Whether to show progress: standard error is a terminal and the command does not print JSON."""
    return err.is_terminal and not json_output


@contextmanager
def stages(enabled: bool) -> Iterator[Report | None]:
    """A ``progress`` callback for an engine (``None`` when not ``enabled``, so the engine does no work for it)."""
    if not enabled:
        yield None
        return
    display = Progress(SpinnerColumn(finished_text="[green]done[/]"), TextColumn("{task.description}"),
                       TimeElapsedColumn(), console=err, transient=False)
    current: list = []  # (task id, text, started)

    def finish() -> None:
        if current:
            task, text, started = current.pop()
            display.update(task, description=f"{text} [dim]({time.perf_counter() - started:.1f} s)[/]", total=1, completed=1)

    def report(text: str) -> None:
        text = text.rstrip(". ")
        if current and current[0][1].split(" ", 1)[0] == text.split(" ", 1)[0]:
            # the same stage going on ("applied 500 of 2,000 operations", then "applied 1,000 of ..."): one line
            task, _old, started = current[0]
            current[0] = (task, text, started)
            display.update(task, description=text)
            return
        finish()
        current.append((display.add_task(text, total=None), text, time.perf_counter()))

    with display:
        try:
            yield report
        finally:
            finish()
