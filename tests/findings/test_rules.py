"""The rule registry: complete whatever was imported first, in one order, and one rule per code."""

from __future__ import annotations

import subprocess
import sys

import pytest

from homeroom.findings.rules import CONTRIBUTORS, RULES, Rule, register


def test_rules_markdown_matches_docs():
    from pathlib import Path

    from homeroom.findings.rules import rules_markdown

    docs = Path(__file__).parents[2] / "docs" / "validation-rules.md"
    assert docs.read_text("utf-8") == rules_markdown(), "regenerate with: homeroom rules --markdown > docs/validation-rules.md"


def _listed_in_a_fresh_process(*first_imports: str) -> list[str]:
    imports = "".join(f"import {name}; " for name in first_imports)
    code = f"{imports}from homeroom.findings.rules import RULES; print(' '.join(RULES))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()


def test_listing_the_registry_loads_every_contributor_in_the_same_order_whatever_was_imported_first():
    alone = _listed_in_a_fresh_process()
    assert alone == list(RULES)
    assert _listed_in_a_fresh_process("homeroom.inbound.formats.oneroster.rules", "homeroom.validate") == alone
    assert {"RequiredFileNotFound", "LineFieldCount", "RequiredValueMissing", "SupersededFormat", "NonIsoDate", "InvalidManifest"} <= set(alone)


def test_a_code_of_a_stage_not_yet_imported_is_found():
    code = "from homeroom.findings import rule; print(rule('ReferenceNotFound').scope)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "record"


def test_a_module_that_is_not_a_contributor_cannot_register():
    with pytest.raises(ValueError, match="not in homeroom.findings.rules.CONTRIBUTORS"):
        register("homeroom.somewhere", Rule("Anything", ("info",), "package", "s", "t", "e"))


def test_a_code_cannot_mean_two_rules():
    taken = RULES["UnknownFile"]
    with pytest.raises(ValueError, match="registered twice"):
        register(CONTRIBUTORS[0], Rule(taken.code, ("error",), "record", "another", "another", "another"))
