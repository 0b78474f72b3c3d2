"""Synthetic SDS v2.1 districts for tests, demos and benchmarks, with defects whose findings are known.

``generate_district`` writes the ten SDS v2.1 CSV files and ``expected-findings.json``:
``district`` builds the clean district, ``defects`` plants defective records and lines,
``csv_lines`` renders and writes the files, ``sds_package`` ties them together.
"""

from homeroom.synthetic.sds_package import EXPECTED_FINDINGS_FILE, generate_district

__all__ = ["EXPECTED_FINDINGS_FILE", "generate_district"]
