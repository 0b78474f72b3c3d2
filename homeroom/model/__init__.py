"""The canonical roster model: entity column schemas and reference data (codes, role groups)."""
