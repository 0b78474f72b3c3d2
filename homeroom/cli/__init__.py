"""The ``homeroom`` command line: this module builds the app; each command group has a module of its own.

- ``validate``: check a package (exit code 0, 1 or 2 as the verdict).
- ``runs``: ``run`` a package into the lake, ``pull`` a OneRoster API flow; ``runs list``, ``show``, ``approve`` and ``discard``.
- ``plan``: a run's provisioning plan: ``plan make``, ``show``, ``export``, ``approve``, ``discard``, ``apply``.
- ``lake``: ``lake query``, SQL over the lake's Delta tables.
- ``secrets``: ``secrets rotate``, the key that encrypts stored secrets.
- ``apps``: ``apps`` and ``users``, who may call the API; ``flows``: ``flows create`` (uploads), ``flows create-api`` (OneRoster API).
- ``serve``: the Graph-compatible API; ``upload``: its CSV upload loop, as School Data Sync clients run it.
- ``targets``: ``targets add|list|check|snapshot``, the directories Homeroom reads; ``match``: ``match settings|run|report``.
- ``generate``: ``generate`` and ``churn``, synthetic districts and their next snapshots.
- ``catalog``: ``rules``, ``reference``, ``formats`` and ``settings``, each a table or (``--markdown``) its docs page.
- ``render`` and ``options``: the consoles, the error line and the options that several commands share.
"""

from __future__ import annotations

import typer

from homeroom.cli import apps, catalog, flows, generate, lake, match, plan, runs, secrets, serve, targets, upload, validate

app = typer.Typer(help="Homeroom: validate and sync school roster packages.", no_args_is_help=True, add_completion=False)
# The order here is the order of `homeroom --help`.
app.command()(validate.validate)
app.command()(generate.generate)
app.command()(generate.churn)
app.command()(catalog.rules)
app.command()(catalog.reference)
app.command()(catalog.formats)
app.command("settings")(catalog.settings_command)
app.command("run")(runs.run_command)
app.command("pull")(runs.pull_command)
app.command()(serve.serve)
app.command()(upload.upload)

app.add_typer(runs.runs_app, name="runs")
app.add_typer(plan.plan_app, name="plan")
app.add_typer(lake.lake_app, name="lake")
app.add_typer(apps.apps_app, name="apps")
app.add_typer(flows.flows_app, name="flows")
app.add_typer(apps.users_app, name="users")
app.add_typer(secrets.secrets_app, name="secrets")
app.add_typer(targets.targets_app, name="targets")
app.add_typer(match.match_app, name="match")


def main() -> None:
    """Entry point for ``python -m homeroom``."""
    app()
