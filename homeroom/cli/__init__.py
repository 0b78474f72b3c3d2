"""The ``homeroom`` command line: validate packages, generate synthetic districts, list rules."""

from __future__ import annotations

import typer

from homeroom.cli import apps, catalog, flows, generate, lake, runs, serve, upload, validate

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
app.command()(serve.serve)
app.command()(upload.upload)

app.add_typer(runs.runs_app, name="runs")
app.add_typer(lake.lake_app, name="lake")
app.add_typer(apps.apps_app, name="apps")
app.add_typer(flows.flows_app, name="flows")
app.add_typer(apps.users_app, name="users")


def main() -> None:
    """Entry point for ``python -m homeroom``."""
    app()
