"""Findings: what every check reports, as data with stable codes, below every stage that checks.

``frame`` collects findings into one Polars frame with a fixed schema; ``rules`` is the registry
of rule codes, to which each stage and format contributes its own; ``reports`` renders findings
for people (a spreadsheet-safe CSV, JSON lines, a summary by rule and file).
"""

from homeroom.findings.frame import FINDINGS_SCHEMA, Findings
from homeroom.findings.rules import LEVELS, RULES, Level, Rule, register, rule

__all__ = ["FINDINGS_SCHEMA", "Findings", "LEVELS", "Level", "RULES", "Rule", "register", "rule"]
