"""`autograd.Function` against torch: forward/backward with a ctx, saved tensors, the grad_fn
class named `<Name>Backward`, non-tensor arguments, several outputs, the wrong-gradient-count
error and double backward."""

from __future__ import annotations

import pytest

from tests._torch import assert_parity, fails_cleanly, require_torch, values_only

torch = require_torch()

import compat  # noqa: E402

_CLASSES: dict = {}


def functions(T):
    """The custom Functions of these tests, defined once per library (torch's or compat's)."""
    if T.__name__ in _CLASSES:
        return _CLASSES[T.__name__]

    class Exp(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    class Cube(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    class ScaleShift(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale, shift):
            ctx.scale = scale
            ctx.save_for_backward(x, shift)
            return x * scale + shift

        @staticmethod
        def backward(ctx, g):
            x, shift = ctx.saved_tensors
            return g * ctx.scale, None, g.sum(0) if shift.dim() else g.sum()

    class SplitTwo(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            return ga * 2 + gb * 3

    class TooMany(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g, g

    class NeedsInput(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.flags = ctx.needs_input_grad
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g, g

    _CLASSES[T.__name__] = {
        c.__name__: c for c in (Exp, Cube, ScaleShift, SplitTwo, TooMany, NeedsInput)
    }
    return _CLASSES[T.__name__]


def _exp(T):
    Exp = functions(T)["Exp"]
    x = T.tensor([0.0, 1.0, -1.0], requires_grad=True)
    y = Exp.apply(x)
    y.sum().backward()
    return y, y.grad_fn, x.grad, y.grad_fn.next_functions, y.is_leaf


def _saved_tensors(T):
    Cube = functions(T)["Cube"]
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    saved = y.grad_fn.saved_tensors
    return y, saved, saved[0] is x


def _chain(T):
    fs = functions(T)
    x = T.tensor([0.5, -0.5], requires_grad=True)
    z = fs["Cube"].apply(fs["Exp"].apply(x) * 2).sum()
    z.backward()
    return z, x.grad


def _non_tensor_args(T):
    f = functions(T)["ScaleShift"]
    x = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    shift = T.tensor([0.5, -0.5], requires_grad=True)
    y = f.apply(x, 3.0, shift)
    (y * y).sum().backward()
    return y, x.grad, shift.grad


def _two_outputs(T):
    f = functions(T)["SplitTwo"]
    x = T.tensor([1.0, 2.0], requires_grad=True)
    a, b = f.apply(x)
    (a.sum() + 2 * b.sum()).backward()
    return a, b, a.grad_fn is b.grad_fn, x.grad


def _one_output_used(T):
    f = functions(T)["SplitTwo"]
    x = T.tensor([1.0, 2.0], requires_grad=True)
    a, _ = f.apply(x)
    a.sum().backward()
    return x.grad


def _no_grad_input(T):
    f = functions(T)["Exp"]
    y = f.apply(T.tensor([1.0, 2.0]))
    return y, y.requires_grad, y.grad_fn


def _under_no_grad(T):
    f = functions(T)["Exp"]
    x = T.tensor([1.0], requires_grad=True)
    with T.no_grad():
        y = f.apply(x)
    return y


def _needs_input_grad(T):
    f = functions(T)["NeedsInput"]
    x = T.tensor([1.0], requires_grad=True)
    y = f.apply(x, T.tensor([2.0]))
    return y.grad_fn.flags


def _wrong_count(T):
    f = functions(T)["TooMany"]
    x = T.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    y = f.apply(x).sum()
    err = fails_cleanly(lambda: y.backward(), x)
    return err, x.grad


def _double_backward(T):
    f = functions(T)["Cube"]
    x = T.tensor([1.0, -2.0, 0.5], requires_grad=True)
    y = f.apply(x).sum()
    (g,) = T.autograd.grad(y, x, create_graph=True)
    (h,) = T.autograd.grad(g.sum(), x)
    return values_only((y, g, h))


def _saved_after_free(T):
    f = functions(T)["Cube"]
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = f.apply(x)
    y.sum().backward()
    err = fails_cleanly(lambda: y.grad_fn.saved_tensors, x)
    err2 = fails_cleanly(lambda: y.sum().backward(), x)
    return err, err2, x.grad


def _saved_modified(T):
    f = functions(T)["Cube"]
    x = T.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = f.apply(h)
    h.add_(1)
    return fails_cleanly(lambda: y.sum().backward(), x), x.grad


def _retain_graph_twice(T):
    f = functions(T)["Exp"]
    x = T.tensor([0.0, 1.0], requires_grad=True)
    y = f.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return x.grad


CASES = {
    "exp": _exp,
    "saved-tensors": _saved_tensors,
    "chain": _chain,
    "non-tensor-args": _non_tensor_args,
    "two-outputs": _two_outputs,
    "one-output-used": _one_output_used,
    "no-grad-input": _no_grad_input,
    "under-no-grad": _under_no_grad,
    "needs-input-grad": _needs_input_grad,
    "wrong-count": _wrong_count,
    "double-backward": _double_backward,
    "saved-after-free": _saved_after_free,
    "saved-modified": _saved_modified,
    "retain-graph-twice": _retain_graph_twice,
}


@pytest.mark.parametrize("name", list(CASES))
def test_function_matches_torch(name):
    assert_parity(CASES[name], torch)


def test_grad_fn_class_is_named_after_the_function():
    Exp = functions(compat)["Exp"]
    y = Exp.apply(compat.ones(1, requires_grad=True))
    assert type(y.grad_fn).__name__ == "ExpBackward"
    assert repr(y.grad_fn).startswith("<torch.autograd.function.ExpBackward object at 0x")
    assert repr(y) == "tensor([2.7183], grad_fn=<ExpBackward>)"
