"""Validation: basic checks that stop a run, then record checks; findings are data.

``validate_package`` is the entry point; ``homeroom.validate.rules`` lists every rule code.
"""

from homeroom.validate.engine import ValidationResult, validate_package

__all__ = ["ValidationResult", "validate_package"]
