"""The benchmark is only a fair race if every column computes the same step: check that."""

from __future__ import annotations

import importlib.util
import os
import sys

import numpy as np
import pytest

from tests._torch import require_torch

torch = require_torch()

_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks", "bench.py")


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("funcgrad_bench", _PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["funcgrad_bench"] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("funcgrad_bench", None)


def _first_array(x):
    while isinstance(x, (list, tuple)):
        x = x[0]
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    if hasattr(x, "_data"):  # a compat tensor
        x = x._data
    return np.asarray(x)


@pytest.mark.parametrize("workload", ["2xtx", "seed004", "sgd", "mlp"])
def test_every_column_computes_the_same_step(bench, workload):
    cols = {
        "2xtx": lambda: bench.w_2xtx(6),
        "seed004": bench.w_seed004,
        "sgd": bench.w_sgd,
        "mlp": lambda: bench.w_mlp(batch=8, hidden=16)[0],
    }[workload]()
    assert set(cols) == set(bench.COLS)
    results = {}
    for name, fn in cols.items():
        for _ in range(3):  # three steps: training-loop columns must agree after updates too
            out = fn()
        results[name] = _first_array(out)
    ref = results.pop("torch")
    for name, got in results.items():
        np.testing.assert_allclose(got, ref, rtol=2e-5, atol=1e-6, err_msg=name)


def test_time_columns_reports_each_column(bench):
    calls = {"a": 0, "b": 0}

    def make(k):
        def fn():
            calls[k] += 1
            return None

        return fn

    t = bench.time_columns({"a": make("a"), "b": make("b")}, repeats=2, inner=4)
    assert set(t) == {"a", "b"} and all(v >= 0 for v in t.values())
    assert calls == {"a": 3 + 2 * 4, "b": 3 + 2 * 4}
