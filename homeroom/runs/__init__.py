"""Runs: orchestration of the stages.

``engine`` runs a package through validation into the lake (``Runner``); ``holds`` is the safety net (thresholds,
pending data, approve and discard); ``scheduler`` decides when runs happen; ``jobs`` and ``executors`` carry out
what a client asked for in the background, each with its ``operations`` record; ``readiness``, ``recovery``,
``folders``, ``housekeeping`` and ``reports`` do what their names say.
"""

from homeroom.errors import RunError
from homeroom.runs.engine import Runner

__all__ = ["RunError", "Runner"]
