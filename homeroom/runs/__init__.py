"""Runs: validate a package, update the lake, record statistics; hold, approve and discard; recover."""

from homeroom.runs.engine import RunError, Runner

__all__ = ["RunError", "Runner"]
