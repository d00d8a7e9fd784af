"""Parity-suite fixtures: float32 matmuls at full precision, the torch reference, slow runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the _parity_* helper modules


def pytest_configure(config):
    """Keeps XLA's compiled kernels between runs (in pytest's cache directory).

    The op sweep runs hundreds of small ops over several shapes and dtypes in eager mode; XLA
    compiles each (op, shape, dtype) once, and that compile time dominates a cold run. Unless
    the user configured a cache already, or set PARITY_NO_JAX_CACHE=1.
    """
    import os

    import jax

    if os.environ.get("PARITY_NO_JAX_CACHE") == "1" or getattr(config, "cache", None) is None:
        return
    if jax.config.jax_compilation_cache_dir:
        return
    path = config.cache.mkdir("jax-compilation-cache")
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


@pytest.fixture(autouse=True, scope="session")
def _highest_matmul_precision():
    """GPU/TPU float32 matmuls default to reduced precision; torch's CPU ones do not."""
    import jax

    old = jax.config.jax_default_matmul_precision
    jax.config.update("jax_default_matmul_precision", "highest")
    yield
    jax.config.update("jax_default_matmul_precision", old)


@pytest.fixture(scope="session")
def torch_ref():
    """Real torch, or None in recorded mode; fails (never skips) when CI is set without torch."""
    from _parity_harness import TorchMissingInCI, live_torch

    try:
        return live_torch()
    except TorchMissingInCI as e:
        pytest.fail(str(e))


def pytest_collection_modifyitems(config, items):
    """`slow` parity tests run only when asked for (`-m slow`, or PARITY_SLOW=1)."""
    import os

    if "slow" in (config.getoption("-m") or "") or os.environ.get("PARITY_SLOW") == "1":
        return
    here = Path(__file__).resolve().parent
    keep, drop = [], []
    for item in items:
        in_parity = here in Path(str(item.fspath)).resolve().parents
        (drop if in_parity and item.get_closest_marker("slow") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
