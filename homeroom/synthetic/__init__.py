"""Synthetic districts for tests, demos and benchmarks, in every roster format, with defects whose findings are known.

``generate_district`` writes one district as a package of one format and ``expected-findings.json``:
``district`` builds the clean district (as SDS v2.1-shaped tables), ``formats`` lays it out as each
format's files and holds each format's defect kinds, ``defects`` plants defective records and lines,
``csv_lines`` renders and writes the files, ``package`` ties them together.
"""

from homeroom.synthetic.package import EXPECTED_FINDINGS_FILE, generate_district

__all__ = ["EXPECTED_FINDINGS_FILE", "generate_district"]
