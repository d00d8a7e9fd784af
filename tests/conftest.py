"""Suite-wide rules: on CI (env var CI set) a skipped test is a failure, so parity against torch
can never silently stop running."""

from __future__ import annotations

import os

import pytest

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI") and _skipped:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"CI: {len(_skipped)} test(s) were skipped; on CI every test must run "
                f"(first: {_skipped[0]})", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
