#!/usr/bin/env python3
"""Add up the suite's JUnit XML reports, lane by lane, and fail when a lane did not run.

    junit_summary.py FOLDER LANE...

Each LANE names a report that must exist, ``FOLDER/junit-LANE.xml`` (``unit``,
``unit-python3.9``, ``live-default``, ...).  A lane whose report is missing,
unreadable, empty or without a single passed test fails the summary, as does
any failed test: a runner that quietly ran nothing (testinfra through Molecule
exits 0 and writes no report when it finds no tests) can't leave the suite
green.  Reports in FOLDER that no LANE names are counted too.  The last line is
the total, ``N passed, N failed`` (``, N skipped`` when some were).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import NamedTuple

__all__ = ["Counts", "counts", "main", "summarize"]


class Counts(NamedTuple):
    """Test cases in one report, by outcome."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def __add__(self, other: object) -> Counts:
        if not isinstance(other, Counts):
            return NotImplemented
        return Counts(*(mine + theirs for mine, theirs in zip(self, other)))

    def __str__(self) -> str:
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"


def counts(report: Path) -> Counts:
    """Passed, failed (failures and errors) and skipped test cases in one report."""
    passed = failed = skipped = 0
    for case in ET.parse(report).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return Counts(passed, failed, skipped)


def lane_problem(report: Path) -> tuple[Counts, str]:
    """A lane's counts, and why the lane fails the suite ("" when it doesn't)."""
    if not report.is_file():
        return Counts(), "no report: the lane did not run"
    try:
        found = counts(report)
    except ET.ParseError as error:
        return Counts(), f"unreadable report ({error})"
    if found.failed:
        return found, f"{found.failed} failed"
    if not found.passed:
        return found, "no test passed: the lane ran nothing"
    return found, ""


def summarize(folder: Path, lanes: list[str]) -> tuple[list[str], Counts, bool]:
    """One line per lane, the totals, and whether every lane ran and passed."""
    expected = [folder / f"junit-{lane}.xml" for lane in lanes]
    others = sorted(set(folder.glob("junit-*.xml")) - set(expected))
    lines, total, ok = [], Counts(), True
    for report in [*expected, *others]:
        found, problem = lane_problem(report)
        lane = report.stem.removeprefix("junit-")
        lines.append(f"{lane}: {found}" + (f"  FAILED: {problem}" if problem else ""))
        total += found
        ok = ok and not problem
    return lines, total, ok


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: junit_summary.py FOLDER LANE...", file=sys.stderr)
        return 2
    lines, total, ok = summarize(Path(argv[0]), argv[1:])
    print("\n".join(lines))
    print(
        f"{total.passed} passed, {total.failed} failed"
        + (f", {total.skipped} skipped" if total.skipped else "")
    )
    if not ok:
        print(
            "junit_summary: a lane is missing, ran nothing or failed (see above)", file=sys.stderr
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
