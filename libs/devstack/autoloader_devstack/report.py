"""Sums the JUnit XML reports Pants writes into one closing line: `N passed, N failed, N skipped`."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Totals:
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def line(self) -> str:
        return f"tests: {self.passed} passed, {self.failed} failed, {self.skipped} skipped"


def summarize(reports: Path) -> Totals:
    totals = Totals()
    for path in sorted(reports.rglob("*.xml")):
        root = ElementTree.parse(path).getroot()
        suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
        for suite in suites:
            tests = int(suite.get("tests", 0))
            failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped = int(suite.get("skipped", 0))
            totals.failed += failed
            totals.skipped += skipped
            totals.passed += tests - failed - skipped
    return totals
