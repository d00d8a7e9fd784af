"""Property-based parity: random programs (ops, in-place ops on non-leaves, detach, no_grad
blocks, retain_grad, repeated backward with and without retain_graph) give torch's values,
gradients and errors under compat."""

from __future__ import annotations

import os

import pytest
from _parity_fuzz import KNOWN_GAPS, HypothesisPick, build_program, run_program
from _parity_harness import Case, compare, run_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import compat

_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


def _mask_copyslices(enc):
    """Hides graphs that pass through a CopySlices node (a known divergence: compat lists the
    whole in-place node where torch lists that node's other inputs, which also shifts the
    back-reference numbers of everything after it). Values and gradients are still compared."""
    if isinstance(enc, str) and "CopySlices(" in enc:
        return "<graph through CopySlices>"
    if isinstance(enc, dict):
        return {k: _mask_copyslices(v) for k, v in enc.items()}
    if isinstance(enc, list):
        return [_mask_copyslices(v) for v in enc]
    return enc


def _strip_reprs(enc):
    """Drops printed reprs, keeping values, flags, graphs and errors. Long random chains can end
    in a cancellation (d/dx of sum(softmax) is 1e-17 here, exactly 0 in torch): equal within
    tolerance as values, different as text."""
    if isinstance(enc, dict):
        return {k: _strip_reprs(v) for k, v in enc.items() if k != "repr"}
    if isinstance(enc, list):
        return [_strip_reprs(v) for v in enc]
    return enc


def _check(data, torch_ref, max_steps, exclude=(), mask_copyslices=True, reprs=True):
    if torch_ref is None:
        pytest.skip(
            "random programs need live torch; recorded mode runs the fuzz corpus "
            "(test_parity_cases.py::...[fuzz/*]) instead"
        )
    steps = build_program(HypothesisPick(data), max_steps=max_steps, exclude=exclude)
    seed = data.draw(st.integers(0, 2**16))
    case = Case("fuzz/hypothesis", lambda T, rec: run_program(T, rec, steps), seed=seed)
    actual, expected = run_case(case, compat), run_case(case, torch_ref)
    if mask_copyslices:
        actual, expected = _mask_copyslices(actual), _mask_copyslices(expected)
    if not reprs:
        actual, expected = _strip_reprs(actual), _strip_reprs(expected)
    diffs = compare(actual, expected, 1e-4)
    assert not diffs, f"program {steps} (seed {seed}) differs:\n" + "\n".join(diffs)


@settings(max_examples=200, derandomize=True, **_SETTINGS)
@given(data=st.data())
def test_random_programs_agree(data, torch_ref):
    _check(data, torch_ref, max_steps=8, exclude=KNOWN_GAPS)


@pytest.mark.slow
@settings(max_examples=3000, derandomize=bool(os.environ.get("CI")), **_SETTINGS)
@given(data=st.data())
def test_random_programs_agree_many(data, torch_ref):
    # CopySlices inputs are masked: a documented divergence (README, "Known differences").
    # On CI the examples are derandomized, so a run is reproducible.
    _check(data, torch_ref, max_steps=16, exclude=KNOWN_GAPS, reprs=False)
