from pathlib import Path

from autoloader_devstack.report import summarize

PYTEST_XML = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="2" skipped="1" tests="9" time="1.0">
</testsuite></testsuites>"""
HELM_XML = """<?xml version="1.0" encoding="utf-8"?>
<testsuite name="api" tests="2" failures="0" errors="0" skipped="0"></testsuite>"""


def test_reports_are_summed_across_files_and_formats(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.xml").write_text(PYTEST_XML)
    (tmp_path / "two.xml").write_text(HELM_XML)

    totals = summarize(tmp_path)

    assert (totals.passed, totals.failed, totals.skipped) == (7, 3, 1)
    assert totals.line() == "tests: 7 passed, 3 failed, 1 skipped"


def test_no_reports_means_nothing_passed(tmp_path: Path) -> None:
    assert summarize(tmp_path).line() == "tests: 0 passed, 0 failed, 0 skipped"
