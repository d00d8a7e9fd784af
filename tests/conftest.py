"""Suite-wide rules.

- On CI (env var CI set) a skipped test is a failure, so parity against torch can never silently
  stop running.
- JAX's 64-bit mode is process-wide. compat needs it on (torch's int64 default) and turns it on
  when imported; funcgrad leaves JAX's default (off). One pytest process runs both suites, so each
  test module is imported, and each test runs, in the mode its package's users get: off under
  tests/funcgrad, on everywhere else.
"""

from __future__ import annotations

import os
import pathlib

import jax
import pytest

_skipped: list[str] = []
_FUNCGRAD_DIR = pathlib.Path(__file__).parent / "funcgrad"


def _wants_x64(path) -> bool:
    return _FUNCGRAD_DIR not in pathlib.Path(path).parents


def pytest_collectstart(collector: pytest.Collector) -> None:
    if isinstance(collector, pytest.Module):
        jax.config.update("jax_enable_x64", _wants_x64(collector.path))


@pytest.fixture(autouse=True, scope="module")
def _jax_64bit_mode_module(request: pytest.FixtureRequest):
    # Module-scoped fixtures (computed example rows, say) must see the module's mode too.
    prev = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", _wants_x64(request.node.path))
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", prev)


@pytest.fixture(autouse=True)
def _jax_64bit_mode(request: pytest.FixtureRequest):
    prev = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", _wants_x64(request.node.path))
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", prev)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI") and _skipped:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"CI: {len(_skipped)} test(s) were skipped; on CI every test must run "
                f"(first: {_skipped[0]})",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
