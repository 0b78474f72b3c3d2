"""How runs appear on Graph's wire: Graph's run and activity status enumerations, and getStatistics.

Homeroom's states that Graph's enumerations lack (``held``, ``discarded``) are shown as Graph allows, with the
reason in ``blockingError``; this is the only place that mapping is written. Graph's enumerations are evolvable:
a client that sends ``Prefer: include-unknown-enum-members`` is shown the members after ``unknownFutureValue``
(here Homeroom's ``held``) instead of ``unknownFutureValue``; ``homeroom.api.calls.call`` says, per request,
whether the client asked (``unknown_enum_members``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from homeroom.model.statuses import ActivityStatus, RunStatus
from homeroom.runs import reports
from homeroom.store.models import Run

#: Graph's enumerations of run and activity statuses, and how Homeroom's own states appear in them.
RUN_STATUSES: dict[str, str] = {
    RunStatus.running: "running", RunStatus.failed: "failed", RunStatus.completed: "completed",
    RunStatus.completedWithErrors: "completedWithErrors", RunStatus.completedWithWarnings: "completedWithWarnings",
    RunStatus.held: "unknownFutureValue", RunStatus.discarded: "failed"}
#: Homeroom's states shown as themselves to clients that send ``Prefer: include-unknown-enum-members``.
UNKNOWN_ENUM_MEMBERS: dict[str, str] = {RunStatus.held: "held"}
#: The preference (RFC 7240) that asks for them, and ``Preference-Applied`` echoes.
INCLUDE_UNKNOWN_ENUM_MEMBERS = "include-unknown-enum-members"
_including_unknown_members: ContextVar[bool] = ContextVar("including_unknown_members", default=False)
ACTIVITY_STATUSES: dict[str, str] = {**RUN_STATUSES, ActivityStatus.running: "inProgress", ActivityStatus.skipped: "skipped",
                                     ActivityStatus.discarded: "skipped"}
_HOMEROOM_STATES = {
    RunStatus.held: ("RunHeld", "The run is held for approval and has written nothing: {reasons} Approve or discard it with "
             "`homeroom runs approve|discard`."),
    RunStatus.discarded: ("RunDiscarded", "An administrator discarded this held run; nothing it would have changed was written."),
}


def prefers_unknown_enum_members(prefer_headers: list[str]) -> bool:
    """Whether the request's ``Prefer`` headers hold ``include-unknown-enum-members`` (among others, any case)."""
    return any(p.split(";")[0].split("=")[0].strip().lower() == INCLUDE_UNKNOWN_ENUM_MEMBERS
               for header in prefer_headers for p in header.split(","))


@contextmanager
def unknown_enum_members(include: bool) -> Iterator[None]:
    """Within the block, ``wire_status`` shows Homeroom's own members to a client that asked (``include``)."""
    token = _including_unknown_members.set(include)
    try:
        yield
    finally:
        _including_unknown_members.reset(token)


def wire_status(status: str, error: dict | None, statuses: dict[str, str], reasons: list | None = None) -> tuple[str, dict | None]:
    """A Homeroom status as Graph's enumeration allows, with Homeroom's own states (held, discarded) explained in
    ``blockingError`` (Graph's enumerations are evolvable: held runs show ``unknownFutureValue``, or ``held`` to a
    client that sent ``Prefer: include-unknown-enum-members``)."""
    if status in _HOMEROOM_STATES and error is None:
        code, template = _HOMEROOM_STATES[status]
        error = {"code": code, "message": template.format(reasons=" ".join(r.get("message", "") for r in reasons or []))}
    if status in UNKNOWN_ENUM_MEMBERS and _including_unknown_members.get():
        return UNKNOWN_ENUM_MEMBERS[status], error
    return statuses.get(status, "unknownFutureValue"), error


def run_statistics(run: Run) -> dict:
    """Graph's industryDataRunStatistics of a run, with Graph's status values for the run and its activities."""
    return reports.run_statistics(run, run_status=lambda s: wire_status(s, None, RUN_STATUSES)[0],
                                  activity_status=lambda s: wire_status(s, None, ACTIVITY_STATUSES)[0])
