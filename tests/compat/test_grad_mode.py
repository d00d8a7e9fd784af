"""Grad modes against torch: `no_grad`, `enable_grad`, `set_grad_enabled`, `inference_mode`,
`is_grad_enabled`, as context managers and as decorators, nested, and thread-local."""

from __future__ import annotations

import threading

import pytest

from tests._torch import assert_parity, require_torch

torch = require_torch()

import compat  # noqa: E402


def _ctx_no_grad(T):
    x = T.ones(2, requires_grad=True)
    with T.no_grad():
        inside = T.is_grad_enabled()
        y = x * 2
    return inside, T.is_grad_enabled(), y, (x * 2).requires_grad


def _ctx_enable_grad(T):
    x = T.ones(2, requires_grad=True)
    with T.no_grad():
        with T.enable_grad():
            y = x * 2
            inner = T.is_grad_enabled()
        z = x * 2
    return inner, y, z


def _ctx_set_grad_enabled(T):
    x = T.ones(2, requires_grad=True)
    with T.set_grad_enabled(False):
        a = x * 2
        with T.set_grad_enabled(True):
            b = x * 2
    return a, b, T.is_grad_enabled()


def _set_grad_enabled_call(T):
    x = T.ones(2, requires_grad=True)
    T.set_grad_enabled(False)
    try:
        off = (T.is_grad_enabled(), (x * 2).requires_grad)
    finally:
        T.set_grad_enabled(True)
    return off, T.is_grad_enabled()


def _ctx_inference_mode(T):
    x = T.ones(2, requires_grad=True)
    with T.inference_mode():
        y = x * 2
        flags = (T.is_grad_enabled(), T.is_inference_mode_enabled())
    with T.inference_mode(False):
        z = x * 2
    return flags, y.requires_grad, z, T.is_inference_mode_enabled()


def _decorators(T):
    x = T.ones(2, requires_grad=True)

    @T.no_grad()
    def f(a):
        return a * 2, T.is_grad_enabled()

    @T.no_grad
    def f_bare(a):
        return a * 3, T.is_grad_enabled()

    @T.enable_grad()
    def g(a):
        return a * 2, T.is_grad_enabled()

    @T.set_grad_enabled(False)
    def h(a):
        return a * 2, T.is_grad_enabled()

    @T.inference_mode()
    def k(a):
        return a * 2, T.is_grad_enabled()

    with T.no_grad():
        inside_g = g(x)
    return f(x), f_bare(x), inside_g, h(x), k(x), T.is_grad_enabled(), f.__name__


def _decorator_keeps_outside_state(T):
    dec = T.set_grad_enabled(False)
    state_after_construct = T.is_grad_enabled()
    T.set_grad_enabled(True)

    @dec
    def f():
        return T.is_grad_enabled()

    return state_after_construct, f(), T.is_grad_enabled()


def _exception_restores(T):
    try:
        with T.no_grad():
            raise ValueError("boom")
    except ValueError:
        pass
    return T.is_grad_enabled()


def _no_grad_update_loop(T):
    w = T.tensor([1.0, -1.0], requires_grad=True)
    xs = T.tensor([[1.0, 2.0], [3.0, 4.0]])
    ys = T.tensor([1.0, 2.0])
    losses = []
    for _ in range(3):
        loss = ((xs @ w - ys) ** 2).mean()
        loss.backward()
        with T.no_grad():
            w -= 0.05 * w.grad
        w.grad.zero_()
        losses.append(loss.item())
    return losses, w, w.is_leaf


def _no_grad_factories(T):
    with T.no_grad():
        a = T.ones(2, requires_grad=True)
        b = T.tensor([1.0], requires_grad=True)
    return a, b


def _backward_inside_no_grad(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with T.no_grad():
        y.backward()
    return x.grad


def _grad_inside_no_grad_create_graph(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x**3).sum()
    with T.no_grad():
        (g,) = T.autograd.grad(y, x, create_graph=True)
    return g.detach(), g.requires_grad


CASES = {
    "ctx-no-grad": _ctx_no_grad,
    "ctx-enable-grad": _ctx_enable_grad,
    "ctx-set-grad-enabled": _ctx_set_grad_enabled,
    "set-grad-enabled-call": _set_grad_enabled_call,
    "ctx-inference-mode": _ctx_inference_mode,
    "decorators": _decorators,
    "decorator-keeps-outside-state": _decorator_keeps_outside_state,
    "exception-restores": _exception_restores,
    "no-grad-update-loop": _no_grad_update_loop,
    "no-grad-factories": _no_grad_factories,
    "backward-inside-no-grad": _backward_inside_no_grad,
    "grad-inside-no-grad-create-graph": _grad_inside_no_grad_create_graph,
    "autograd-namespace": lambda T: (
        T.autograd.no_grad is T.no_grad,
        T.autograd.enable_grad is T.enable_grad,
        T.autograd.set_grad_enabled is T.set_grad_enabled,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_grad_mode_matches_torch(name):
    assert_parity(CASES[name], torch)


@pytest.mark.parametrize("mode", ["no_grad", "inference_mode", "set_grad_enabled"])
def test_grad_mode_is_thread_local(mode):
    """A mode entered in one thread leaves another thread's mode alone, in both libraries."""

    def run(T):
        ctx = {
            "no_grad": lambda: T.no_grad(),
            "inference_mode": lambda: T.inference_mode(),
            "set_grad_enabled": lambda: T.set_grad_enabled(False),
        }[mode]
        entered, release = threading.Event(), threading.Event()
        seen = {}

        def worker():
            with ctx():
                seen["worker_inside"] = T.is_grad_enabled()
                entered.set()
                release.wait(10)
            seen["worker_after"] = T.is_grad_enabled()

        th = threading.Thread(target=worker)
        th.start()
        entered.wait(10)
        x = T.ones(2, requires_grad=True)
        seen["main"] = T.is_grad_enabled()
        seen["main_records"] = (x * 2).requires_grad
        release.set()
        th.join(10)
        return seen

    expected = run(torch)
    actual = run(compat)
    assert (
        actual
        == expected
        == {"worker_inside": False, "main": True, "main_records": True, "worker_after": True}
    )


def test_new_thread_starts_with_grad_enabled():
    results = []
    with compat.no_grad():
        th = threading.Thread(target=lambda: results.append(compat.is_grad_enabled()))
        th.start()
        th.join(10)
        assert not compat.is_grad_enabled()
    assert results == [True] and compat.is_grad_enabled()
