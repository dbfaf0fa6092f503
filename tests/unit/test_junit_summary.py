"""scripts/junit_summary.py, run as scripts/test runs it: a lane that did not run fails."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cgirun import PROJECT

SUMMARY = PROJECT / "scripts" / "junit_summary.py"
PASSED = '<testcase classname="t" name="ok"/>'
FAILED = '<testcase classname="t" name="bad"><failure message="no"/></testcase>'
SKIPPED = '<testcase classname="t" name="later"><skipped message="why"/></testcase>'


def report(folder, lane: str, *cases: str) -> None:
    """A JUnit report as pytest writes it, for one lane."""
    body = "".join(cases)
    (folder / f"junit-{lane}.xml").write_text(
        f'<?xml version="1.0"?><testsuites><testsuite name="pytest">{body}</testsuite></testsuites>'
    )


def summary(folder, *lanes: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SUMMARY), str(folder), *lanes],
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_lane_passed(tmp_path):
    report(tmp_path, "unit", PASSED, PASSED, SKIPPED)
    report(tmp_path, "live-default", PASSED)
    result = summary(tmp_path, "unit", "live-default")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "unit: 2 passed, 0 failed, 1 skipped",
        "live-default: 1 passed, 0 failed, 0 skipped",
        "3 passed, 0 failed, 1 skipped",
    ]


@pytest.mark.parametrize(
    ("cases", "problem"),
    [
        (None, "no report: the lane did not run"),
        ((), "no test passed: the lane ran nothing"),
        ((SKIPPED, SKIPPED), "no test passed: the lane ran nothing"),
        ((PASSED, FAILED), "1 failed"),
    ],
    ids=["missing", "empty", "only-skips", "a-failure"],
)
def test_a_lane_that_did_not_pass_fails_the_summary(tmp_path, cases, problem):
    report(tmp_path, "unit", PASSED)
    if cases is not None:
        report(tmp_path, "live-faults", *cases)
    result = summary(tmp_path, "unit", "live-faults")
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if line.startswith("live-faults: ")]
    assert line.endswith(f"  FAILED: {problem}"), result.stdout


def test_a_cut_short_report_fails_the_summary(tmp_path):
    report(tmp_path, "unit", PASSED)
    (tmp_path / "junit-live-default.xml").write_text('<?xml version="1.0"?><testsuites><test')
    result = summary(tmp_path, "unit", "live-default")
    assert result.returncode == 1
    assert "live-default: 0 passed, 0 failed, 0 skipped  FAILED: unreadable report" in result.stdout


def test_a_report_no_lane_names_is_counted_too(tmp_path):
    report(tmp_path, "unit", PASSED)
    report(tmp_path, "extra", FAILED)
    result = summary(tmp_path, "unit")
    assert result.returncode == 1
    assert "extra: 0 passed, 1 failed, 0 skipped  FAILED: 1 failed" in result.stdout
