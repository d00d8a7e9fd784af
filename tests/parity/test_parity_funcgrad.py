"""Three-way parity: the funcgrad (pure JAX) version of a case gives torch's values and
gradients (compat's side of the same cases is checked in test_parity_cases.py)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from _parity_harness import RTOL, decode_tensor, lookup, reference
from _parity_registry import ALL_CASES

THREE_WAY = [c for c in ALL_CASES if c.fg is not None]


def test_enough_three_way_cases():
    assert len(THREE_WAY) >= 20


@pytest.mark.parametrize("case", THREE_WAY, ids=lambda c: c.name)
def test_funcgrad_matches_torch(case, torch_ref):
    ref = reference(case, torch_ref)
    inputs = {n: jnp.asarray(decode_tensor(ref[n]["tensor"])) for n in case.fg_inputs}
    got = case.fg(**inputs)
    assert got, "the funcgrad side computed nothing"
    for path, value in got.items():
        exp = lookup(ref, path)
        rtol = case.rtol32 if exp["dtype"] == "torch.float32" else RTOL[exp["dtype"]]
        actual = np.asarray(value)
        assert str(actual.dtype) == exp["dtype"].removeprefix("torch."), path
        np.testing.assert_allclose(
            actual, decode_tensor(exp), rtol=rtol, atol=rtol, err_msg=f"{case.name}: {path}"
        )
