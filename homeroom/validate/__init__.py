"""Validation: basic checks that stop a run, then record checks; findings are data.

``validate_package`` is the entry point; ``rules`` holds the record checks' rule codes, and
``homeroom.findings.rules.RULES`` lists every rule code.
"""

from homeroom.validate.engine import ValidationResult, validate_package

__all__ = ["ValidationResult", "validate_package"]
