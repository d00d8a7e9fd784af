"""Errors against torch: same exception class and message, and the failed call loses nothing.

Each case sets up leaves (most with a `.grad` already accumulated), makes one call that must
fail, and checks with `fails_cleanly` that every tensor involved kept its values, its version and
its `.grad` (same object, same values). The case returns the error and the tensors' state, and
both are compared with torch's.
"""

from __future__ import annotations

import pytest

from tests._torch import assert_parity, fails_cleanly, require_torch

torch = require_torch()

import compat  # noqa: E402


def _setup(T):
    """Two leaves with gradients already accumulated, and a graph that saved tensors."""
    a = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = T.tensor([0.5, -1.0, 2.0], requires_grad=True)
    (a * b).sum().backward()
    return a, b


def _check(call, *tensors):
    err = fails_cleanly(call, *tensors)
    return err, [(t, t.grad if t.is_leaf else None, t._version) for t in tensors]


def _nonscalar_backward(T):
    a, b = _setup(T)
    y = a * b
    return _check(lambda: y.backward(), a, b, y)


def _nonscalar_backward_2d(T):
    a, b = _setup(T)
    L = 10 - a.view(3, 1) * b
    return _check(lambda: L.backward(), a, b)


def _int_tensor_factory(T):
    return _check(lambda: T.tensor([1, 2], requires_grad=True))


def _int_arange_factory(T):
    return _check(lambda: T.arange(3, requires_grad=True))


def _int_ones_factory(T):
    return _check(lambda: T.ones(2, dtype=T.int64, requires_grad=True))


def _int_setter(T):
    x = T.arange(3)

    def set_rg():
        x.requires_grad = True

    return _check(set_rg, x)


def _bool_setter(T):
    x = T.tensor([True])

    def set_rg():
        x.requires_grad = True

    return _check(set_rg, x)


def _int_requires_grad_(T):
    x = T.arange(3)
    return _check(lambda: x.requires_grad_(), x)


def _backward_no_grad(T):
    a, b = _setup(T)
    c = T.ones(2)
    return _check(lambda: c.sum().backward(), a, b, c)


def _backward_made_under_no_grad(T):
    a, b = _setup(T)
    with T.no_grad():
        y = (a * b).sum()
    return _check(lambda: y.backward(), a, b)


def _backward_detached(T):
    a, b = _setup(T)
    y = (a * b).sum().detach()
    return _check(lambda: y.backward(), a, b)


def _inplace_leaf(T):
    a, b = _setup(T)
    return _check(lambda: a.add_(1), a, b)


def _inplace_leaf_op(T):
    a, b = _setup(T)

    def sub():
        a.sub_(0.1 * a.grad)

    return _check(sub, a, b)


def _inplace_leaf_setitem(T):
    a, b = _setup(T)

    def setitem():
        a[0] = 5.0

    return _check(setitem, a, b)


def _inplace_leaf_isub(T):
    a, b = _setup(T)

    def isub():
        nonlocal a
        a -= 1

    return _check(isub, a, b)


def _inplace_leaf_view(T):
    a, b = _setup(T)
    v = a[:2]
    return _check(lambda: v.mul_(2), a, b)


def _inplace_leaf_zero(T):
    a, b = _setup(T)
    return _check(lambda: a.zero_(), a, b)


def _version_saved_input(T):
    a, b = _setup(T)
    y = a * 2
    z = y * y
    y.add_(1)
    return _check(lambda: z.sum().backward(), a, b, y)


def _version_saved_output(T):
    a, b = _setup(T)
    y = a.exp()
    y.mul_(2)
    return _check(lambda: y.sum().backward(), a, b)


def _version_leaf_saved(T):
    a, b = _setup(T)
    c = T.tensor([1.0, 1.0, 1.0])
    z = a * c
    c.add_(1)
    return _check(lambda: z.sum().backward(), a, b, c)


def _version_mul_output(T):
    a, b = _setup(T)
    y = a * b
    z = y.sigmoid()
    w = z * y
    y.mul_(3)
    return _check(lambda: w.sum().backward(), a, b)


def _version_in_grad(T):
    a, b = _setup(T)
    y = a * b
    z = (y**2).sum()
    y.sub_(1)
    return _check(lambda: T.autograd.grad(z, [a, b]), a, b)


def _second_backward(T):
    a, b = _setup(T)
    y = (a * b).sum()
    y.backward()
    return _check(lambda: y.backward(), a, b)


def _second_backward_exp(T):
    a, b = _setup(T)
    y = a.exp().sum()
    T.autograd.grad(y, a)
    return _check(lambda: y.backward(), a, b)


def _second_backward_partial(T):
    # The second pass fails midway (the freed node is deep in the graph): nothing may change.
    a, b = _setup(T)
    h = a * b
    y1 = h.sum()
    y1.backward()
    y2 = (h + b).sum()
    return _check(lambda: y2.backward(), a, b)


def _saved_access_after_free(T):
    a, b = _setup(T)
    y = a * b
    y.sum().backward()
    return _check(lambda: y.grad_fn._saved_self, a, b)


def _mismatch_shape(T):
    a, b = _setup(T)
    y = a * b
    return _check(lambda: y.backward(T.ones(2)), a, b)


def _mismatch_shape_2d(T):
    a, b = _setup(T)
    y = a * b
    return _check(lambda: y.backward(T.ones(3, 1)), a, b)


def _mismatch_shape_scalar(T):
    a, b = _setup(T)
    y = (a * b).sum()
    return _check(lambda: y.backward(T.ones(3)), a, b)


def _mismatch_grad_outputs(T):
    a, b = _setup(T)
    y = a * b
    return _check(lambda: T.autograd.grad(y, a, grad_outputs=T.ones(4)), a, b)


def _grad_input_no_grad(T):
    a, b = _setup(T)
    c = T.ones(3)
    return _check(lambda: T.autograd.grad((a * c).sum(), c), a, b, c)


def _grad_unused(T):
    a, b = _setup(T)
    return _check(lambda: T.autograd.grad((a * 2).sum(), [a, b]), a, b)


def _grad_output_no_grad(T):
    a, b = _setup(T)
    return _check(lambda: T.autograd.grad(T.ones(2).sum(), a), a, b)


def _backward_inputs_no_grad(T):
    a, b = _setup(T)
    return _check(lambda: (a * b).sum().backward(inputs=[T.ones(2)]), a, b)


def _requires_grad_nonleaf(T):
    a, b = _setup(T)
    y = a * 2
    return _check(lambda: y.requires_grad_(False), a, b, y)


def _retain_grad_no_grad(T):
    x = T.ones(2)
    return _check(lambda: x.retain_grad(), x)


def _hook_no_grad(T):
    x = T.ones(2)
    return _check(lambda: x.register_hook(lambda g: g), x)


def _numpy_requires_grad(T):
    a, b = _setup(T)
    return _check(lambda: a.numpy(), a, b)


def _grad_assign_shape(T):
    a, b = _setup(T)

    def assign():
        a.grad = T.ones(2)

    return _check(assign, a, b)


def _grad_assign_dtype(T):
    a, b = _setup(T)

    def assign():
        a.grad = T.ones(3, dtype=T.float64)

    return _check(assign, a, b)


def _inplace_leaf_advanced(T):
    a, b = _setup(T)

    def setitem():
        a[a > 1] = 0.0

    return _check(setitem, a, b)


def _grad_assign_type(T):
    a, b = _setup(T)

    def assign():
        a.grad = [1.0, 2.0, 3.0]

    return _check(assign, a, b)


SHAPE_ERRORS = {
    "matmul": lambda T, a, b: T.ones(2, 3) @ T.ones(2, 3),
    "mm": lambda T, a, b: T.ones(2, 3).mm(T.ones(2, 3)),
    "matmul-vec": lambda T, a, b: a @ T.ones(2),
    "add-broadcast": lambda T, a, b: T.ones(2, 3) + T.ones(2),
    "mul-broadcast": lambda T, a, b: a * T.ones(2),
    "dot-size": lambda T, a, b: T.dot(a, T.ones(2)),
    "dot-dtype": lambda T, a, b: T.dot(a, T.ones(3, dtype=T.float64)),
    "view": lambda T, a, b: a.view(2),
    "reshape": lambda T, a, b: T.ones(2, 2).reshape(3, -1),
    "view-two-infer": lambda T, a, b: a.view(-1, -1),
    "expand": lambda T, a, b: T.ones(2).expand(3, 3),
    "cat": lambda T, a, b: T.cat([T.ones(2, 3), T.ones(2, 2)]),
    "stack": lambda T, a, b: T.stack([a, T.ones(2)]),
    "index": lambda T, a, b: a[3],
    "index-2d": lambda T, a, b: T.ones(2, 3)[2],
    "sum-dim": lambda T, a, b: a.sum(1),
    "max-dim": lambda T, a, b: T.ones(2, 3).max(dim=3),
    "item": lambda T, a, b: a.item(),
    "bool": lambda T, a, b: bool(a),
    "len-0d": lambda T, a, b: len(T.tensor(1.0)),
    "iter-0d": lambda T, a, b: iter(T.tensor(1.0)),
    "mean-int": lambda T, a, b: T.arange(3).mean(),
    "mse-size": lambda T, a, b: T.nn.functional.mse_loss(T.ones(2), T.ones(3, 3)),
    "ce-target": lambda T, a, b: T.nn.functional.cross_entropy(T.ones(2, 3), T.tensor([0, 5])),
    "bce-range": lambda T, a, b: T.nn.functional.binary_cross_entropy(a, T.ones(3)),
    "bce-logits-size": lambda T, a, b: T.nn.functional.binary_cross_entropy_with_logits(
        a, T.ones(2)
    ),
    "tensor-ragged": lambda T, a, b: T.tensor([[1.0, 2.0], [3.0]]),
    "sub-bool": lambda T, a, b: T.tensor([True]) - T.tensor([False]),
}


def _shape_error(fn):
    def case(T):
        a, b = _setup(T)
        return _check(lambda: fn(T, a, b), a, b)

    return case


CASES = {
    "nonscalar-backward": _nonscalar_backward,
    "nonscalar-backward-2d": _nonscalar_backward_2d,
    "int-tensor-factory": _int_tensor_factory,
    "int-arange-factory": _int_arange_factory,
    "int-ones-factory": _int_ones_factory,
    "int-setter": _int_setter,
    "bool-setter": _bool_setter,
    "int-requires-grad_": _int_requires_grad_,
    "backward-no-grad": _backward_no_grad,
    "backward-made-under-no-grad": _backward_made_under_no_grad,
    "backward-detached": _backward_detached,
    "inplace-leaf": _inplace_leaf,
    "inplace-leaf-op": _inplace_leaf_op,
    "inplace-leaf-setitem": _inplace_leaf_setitem,
    "inplace-leaf-isub": _inplace_leaf_isub,
    "inplace-leaf-view": _inplace_leaf_view,
    "inplace-leaf-zero": _inplace_leaf_zero,
    "version-saved-input": _version_saved_input,
    "version-saved-output": _version_saved_output,
    "version-leaf-saved": _version_leaf_saved,
    "version-mul-output": _version_mul_output,
    "version-in-grad": _version_in_grad,
    "second-backward": _second_backward,
    "second-backward-exp": _second_backward_exp,
    "second-backward-partial": _second_backward_partial,
    "saved-access-after-free": _saved_access_after_free,
    "mismatch-shape": _mismatch_shape,
    "mismatch-shape-2d": _mismatch_shape_2d,
    "mismatch-shape-scalar": _mismatch_shape_scalar,
    "mismatch-grad-outputs": _mismatch_grad_outputs,
    "grad-input-no-grad": _grad_input_no_grad,
    "grad-unused": _grad_unused,
    "grad-output-no-grad": _grad_output_no_grad,
    "backward-inputs-no-grad": _backward_inputs_no_grad,
    "requires-grad-nonleaf": _requires_grad_nonleaf,
    "retain-grad-no-grad": _retain_grad_no_grad,
    "hook-no-grad": _hook_no_grad,
    "numpy-requires-grad": _numpy_requires_grad,
    "grad-assign-shape": _grad_assign_shape,
    "grad-assign-type": _grad_assign_type,
    "grad-assign-dtype": _grad_assign_dtype,
    "inplace-leaf-advanced": _inplace_leaf_advanced,
    **{f"shape-{k}": _shape_error(v) for k, v in SHAPE_ERRORS.items()},
}


@pytest.mark.parametrize("name", list(CASES))
def test_error_matches_torch_and_loses_nothing(name):
    assert_parity(CASES[name], torch)


def test_failed_backward_keeps_grad_objects():
    a, b = _setup(compat)
    ga, gb = a.grad, b.grad
    y = (a * b).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="^Trying to backward through the graph a second time"):
        y.backward()
    assert a.grad is ga and b.grad is gb
    assert a.grad.tolist() == [1.0, -2.0, 4.0] and b.grad.tolist() == [2.0, 4.0, 6.0]


def test_version_error_names_the_output():
    x = compat.ones(3, requires_grad=True)
    y = x * 2
    z = y * y
    y.add_(1)
    # A saved input is named after its current history (the in-place Add), as torch does.
    with pytest.raises(
        RuntimeError,
        match=r"\[torch\.FloatTensor \[3\]\], which is output 0 "
        r"of Add, is at version 1; expected version 0",
    ):
        z.sum().backward()
    assert x.grad is None
    # A saved output is named after the node that saved it.
    y = x.exp()
    y.mul_(2)
    with pytest.raises(RuntimeError, match=r"which is output 0 of Exp, is at version 1"):
        y.sum().backward()


def _version_name(make):
    def case(T):
        x = T.ones(3, requires_grad=True)
        y = make(T, x)
        z = y * y
        with T.no_grad():
            y.mul_(1)
        return fails_cleanly(lambda: z.sum().backward(), x)

    return case


@pytest.mark.parametrize(
    "make",
    [
        lambda T, x: 10 - x,
        lambda T, x: x.clamp(min=0.5),
        lambda T, x: x.sum(0, keepdim=True),
        lambda T, x: x.exp(),
    ],
    ids=["Rsub1", "Clamp1", "Sum1", "Exp"],
)
def test_version_error_names_grad_fn_like_torch(make):
    assert_parity(_version_name(make), torch)
