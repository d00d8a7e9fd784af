"""compat.compile: N compiled steps leave exactly the state N eager steps leave."""

from __future__ import annotations

import numpy as np
import pytest

import compat
from compat._ops.control import DataDependentControlFlowError


def _sgd_step(X, y, w, b, lr=0.05):
    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    with compat.no_grad():
        w.sub_(lr * w.grad)
        b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return loss


def _params():
    return compat.zeros(3, requires_grad=True), compat.zeros(1, requires_grad=True)


def _data():
    rng = np.random.default_rng(0)
    X = compat.tensor(rng.standard_normal((16, 3)).astype(np.float32))
    y = compat.tensor(rng.standard_normal(16).astype(np.float32))
    return X, y


def _state(*ts):
    return [
        (
            np.asarray(t._data),
            None if t.grad is None else np.asarray(t.grad._data),
            t.requires_grad,
            t._version,
            None if t.grad is None else t.grad._version,
        )
        for t in ts
    ]


def _assert_same_state(a, b):
    for (d1, g1, r1, v1, gv1), (d2, g2, r2, v2, gv2) in zip(a, b, strict=True):
        np.testing.assert_allclose(d1, d2, rtol=1e-6, atol=1e-7)
        assert (g1 is None) == (g2 is None)
        if g1 is not None:
            np.testing.assert_allclose(g1, g2, rtol=1e-6, atol=1e-7)
        assert (r1, v1, gv1) == (r2, v2, gv2)


def test_n_compiled_steps_equal_n_eager_steps():
    X, y = _data()
    w1, b1 = _params()
    w2, b2 = _params()
    step = compat.compile(_sgd_step)
    for _ in range(6):
        l1 = _sgd_step(X, y, w1, b1)
        l2 = step(X, y, w2, b2)
        np.testing.assert_allclose(l1.item(), l2.item(), rtol=1e-6)
    _assert_same_state(_state(w1, b1, X, y), _state(w2, b2, X, y))
    # One trace without .grad, one once .grad exists: then the program is reused.
    assert step.traces == 2


def test_grad_keeps_its_identity_and_accumulates_like_eager():
    x1 = compat.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x2 = compat.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def acc(x):
        (x * x).sum().backward()

    cacc = compat.compile(acc)
    acc(x1)
    cacc(x2)
    g1, g2 = x1.grad, x2.grad
    for _ in range(3):
        acc(x1)
        cacc(x2)
    assert x1.grad is g1 and x2.grad is g2
    _assert_same_state(_state(x1), _state(x2))
    np.testing.assert_allclose(np.asarray(x2.grad._data), [8.0, 16.0, 24.0])


def test_global_tensors_are_state_too():
    X, y = _data()
    global W_GLOBAL
    W_GLOBAL = compat.zeros(3, requires_grad=True)

    @compat.compile
    def step():
        loss = ((X @ W_GLOBAL - y) ** 2).mean()
        loss.backward()
        with compat.no_grad():
            W_GLOBAL.sub_(0.1 * W_GLOBAL.grad)
        W_GLOBAL.grad = None
        return loss

    w_eager = compat.zeros(3, requires_grad=True)
    for _ in range(3):
        step()
        loss = ((X @ w_eager - y) ** 2).mean()
        loss.backward()
        with compat.no_grad():
            w_eager.sub_(0.1 * w_eager.grad)
        w_eager.grad = None
    np.testing.assert_allclose(np.asarray(W_GLOBAL._data), np.asarray(w_eager._data), rtol=1e-6)
    assert W_GLOBAL.grad is None


def test_python_value_change_retraces_never_stale():
    x = compat.tensor([1.0, 2.0])

    @compat.compile
    def f(x, scale, mode):
        return x * scale if mode == "mul" else x + scale

    assert f(x, 2.0, "mul").tolist() == [2.0, 4.0]
    assert f(x, 3.0, "mul").tolist() == [3.0, 6.0]
    assert f(x, 3.0, "add").tolist() == [4.0, 5.0]
    assert f.traces == 3


def test_global_python_flag_change_retraces():
    global FLAG
    FLAG = True
    x = compat.tensor([1.0, 2.0])

    @compat.compile
    def f(x):
        return x * 2 if FLAG else x * 3

    assert f(x).tolist() == [2.0, 4.0]
    FLAG = False
    assert f(x).tolist() == [3.0, 6.0]


def test_shape_change_retraces():
    @compat.compile
    def f(x):
        return (x * x).sum()

    assert f(compat.ones(3)).item() == 3.0
    assert f(compat.ones(5)).item() == 5.0


@pytest.mark.parametrize("body", ["if", "while", "item"])
def test_data_dependent_control_flow_raises_clear_error(body):
    def f(a):
        b = a * 2
        if body == "if":
            if b.sum() > 0:
                return b
            return -b
        if body == "while":
            while b.norm() < 1000:
                b = b * 2
            return b
        return b.item()

    a = compat.tensor(0.5, requires_grad=True)
    with pytest.raises(DataDependentControlFlowError, match="funcgrad.while_loop"):
        compat.compile(f)(a)
    # Nothing was lost: the tensor is intact and usable eagerly.
    assert a.item() == 0.5 and a.grad is None and a.requires_grad
    assert f(a) is not None


def test_random_inside_is_refused_and_stream_is_untouched():
    compat.manual_seed(3)
    expected = compat.randn(2)
    compat.manual_seed(3)

    @compat.compile
    def f(x):
        return x + compat.randn(2)

    with pytest.raises(RuntimeError, match="random tensors cannot be drawn inside"):
        f(compat.zeros(2))
    assert compat.randn(2).tolist() == expected.tolist()


def test_graph_attached_input_is_rejected():
    x = compat.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="part of an autograd graph"):
        compat.compile(lambda t: t.sum())(y)


def test_returns_inputs_as_themselves_and_containers():
    x = compat.tensor([1.0, 2.0], requires_grad=True)

    @compat.compile
    def f(x):
        return x, {"double": x.detach() * 2, "n": 3}

    same, rest = f(x)
    assert same is x
    assert rest["double"].tolist() == [2.0, 4.0] and rest["n"] == 3
