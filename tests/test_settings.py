"""Settings: docs/configuration.md lists every one, as ``homeroom settings --markdown`` prints them."""

from __future__ import annotations


def test_configuration_doc_lists_every_setting_as_generated():
    from pathlib import Path

    from homeroom.settings import Settings, settings_markdown

    docs = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text("utf-8")
    assert docs.endswith(settings_markdown()), "regenerate the table with: homeroom settings --markdown"
    assert all(f"`HOMEROOM_{name.upper()}`" in docs for name in Settings.model_fields)
