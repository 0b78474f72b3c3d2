"""Validation: the record checks over what the inbound stage read; findings are data.

``check(batch)`` checks the records of a ``homeroom.inbound.Batch`` (errors drop a record,
warnings clear a field) and returns the validated tables; ``validate_package(path)`` reads a
package with ``homeroom.inbound.read_package`` and checks it. ``rules`` holds the record checks'
rule codes; every code is listed in ``homeroom.findings.rules.RULES``.
"""

from homeroom.validate.engine import ValidationResult, check, validate_package

__all__ = ["ValidationResult", "check", "validate_package"]
