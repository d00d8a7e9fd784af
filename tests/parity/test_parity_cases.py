"""compat against torch on every parity case: values, gradients, reprs, grad_fn graphs, leaf
and requires_grad flags, `.grad` being None, warnings and errors (class and message).

Live torch when importable; the checked-in recording otherwise (see `record.py`).
"""

from __future__ import annotations

import pytest
from _parity_harness import compare, reference, run_case
from _parity_registry import ALL_CASES, KNOWN_DIVERGENCES

import compat


def _params():
    for c in ALL_CASES:
        marks = ()
        if c.name in KNOWN_DIVERGENCES:
            marks = (pytest.mark.xfail(strict=True, reason=KNOWN_DIVERGENCES[c.name]),)
        yield pytest.param(c, id=c.name, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_compat_matches_torch(case, torch_ref):
    expected = reference(case, torch_ref)
    actual = run_case(case, compat)
    diffs = compare(actual, expected, case.rtol32)
    assert not diffs, f"{case.name}: compat differs from torch:\n" + "\n".join(diffs)
