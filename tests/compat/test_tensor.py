"""Tensor attributes, methods, operators and `nn.functional`, against torch.

Each op in `OPS` runs forward on the same inputs with torch and with compat (repr, dtype, shape,
`grad_fn` chain and values compared), then backward with a non-uniform `gradient`, and the
leaves' `.grad` are compared too. `CASES` covers attributes, conversions, indexing and in-place
ops the same way: one function of the module, run on both.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests._torch import assert_parity, parity, require_torch

torch = require_torch()

import compat  # noqa: E402


def inputs(T):
    x = T.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]], requires_grad=True)
    y = T.tensor([[1.0, 2.0, -0.5], [0.5, -2.0, 1.25]], requires_grad=True)
    p = T.tensor([[0.5, 1.0, 2.0], [1.5, 0.25, 3.0]], requires_grad=True)
    return x, y, p


def _first_tensor(out):
    while isinstance(out, (tuple, list)):
        out = out[0]
    return out


def run_op(fn):
    """Forward `fn(T, x, y, p)`, then backward of its (first) output with a ramp gradient."""

    def case(T):
        x, y, p = inputs(T)
        out = fn(T, x, y, p)
        root = _first_tensor(out)
        if root.requires_grad:
            # Built from NumPy: no extra device kernels to compile for the ramp itself.
            ramp = np.arange(1, root.numel() + 1, dtype=np.float64).reshape(tuple(root.shape))
            root.backward(T.tensor(ramp / 4, dtype=root.dtype))
        return out, x.grad, y.grad, p.grad

    return case


def _F(T):
    return T.nn.functional


OPS = {
    # arithmetic, Python scalars on either side
    "add": lambda T, x, y, p: x + y,
    "add-scalar": lambda T, x, y, p: x + 2,
    "radd": lambda T, x, y, p: 2 + x,
    "add-alpha": lambda T, x, y, p: T.add(x, y, alpha=2),
    "sub": lambda T, x, y, p: x - y,
    "sub-scalar": lambda T, x, y, p: x - 2,
    "rsub": lambda T, x, y, p: 10 - x,
    "sub-alpha": lambda T, x, y, p: x.sub(y, alpha=3),
    "mul": lambda T, x, y, p: x * y,
    "mul-scalar": lambda T, x, y, p: x * 3,
    "rmul": lambda T, x, y, p: 3 * x,
    "div": lambda T, x, y, p: x / y,
    "div-scalar": lambda T, x, y, p: x / 2,
    "rdiv": lambda T, x, y, p: 2 / p,
    "pow-scalar": lambda T, x, y, p: x**2,
    "pow-cube": lambda T, x, y, p: x.pow(3),
    "pow-tensor": lambda T, x, y, p: p**y,
    "rpow": lambda T, x, y, p: 2**x,
    "pow-fn": lambda T, x, y, p: T.pow(p, 0.5),
    "neg": lambda T, x, y, p: -x,
    "abs": lambda T, x, y, p: abs(x),
    "abs-method": lambda T, x, y, p: x.abs(),
    "broadcast-add": lambda T, x, y, p: x + y[0],
    "broadcast-mul-col": lambda T, x, y, p: x * p[:, :1],
    "chain": lambda T, x, y, p: 3 * x**2 + 4 * x + 2,
    "mixed-chain": lambda T, x, y, p: (x * y + p).exp().sum() / 2 - 1,
    # elementwise math
    "exp": lambda T, x, y, p: x.exp(),
    "exp-fn": lambda T, x, y, p: T.exp(x),
    "log": lambda T, x, y, p: p.log(),
    "log-fn": lambda T, x, y, p: T.log(p),
    "sqrt": lambda T, x, y, p: p.sqrt(),
    "relu": lambda T, x, y, p: x.relu(),
    "relu-fn": lambda T, x, y, p: T.relu(x),
    "sigmoid": lambda T, x, y, p: x.sigmoid(),
    "sigmoid-fn": lambda T, x, y, p: T.sigmoid(x),
    "tanh": lambda T, x, y, p: x.tanh(),
    "clamp": lambda T, x, y, p: x.clamp(-0.5, 1.0),
    "clamp-min": lambda T, x, y, p: x.clamp(min=0),
    "clamp-max-fn": lambda T, x, y, p: T.clamp(x, max=1),
    "sin": lambda T, x, y, p: x.sin(),
    "cos": lambda T, x, y, p: x.cos(),
    "square": lambda T, x, y, p: x.square(),
    "reciprocal": lambda T, x, y, p: p.reciprocal(),
    "maximum": lambda T, x, y, p: T.maximum(x, y),
    "minimum": lambda T, x, y, p: T.minimum(x, y),
    "where": lambda T, x, y, p: T.where(x > 0, x, y),
    "where-scalar": lambda T, x, y, p: T.where(x > 0, x, 0.0),
    # reductions
    "sum": lambda T, x, y, p: x.sum(),
    "sum-fn": lambda T, x, y, p: T.sum(x * y),
    "sum-dim": lambda T, x, y, p: x.sum(0),
    "sum-keepdim": lambda T, x, y, p: x.sum(dim=1, keepdim=True),
    "mean": lambda T, x, y, p: x.mean(),
    "mean-fn": lambda T, x, y, p: T.mean((x - y) ** 2),
    "mean-dim": lambda T, x, y, p: x.mean(1),
    "mean-dims": lambda T, x, y, p: x.mean(dim=(0, 1)),
    "max": lambda T, x, y, p: x.max(),
    "max-dim": lambda T, x, y, p: x.max(dim=1),
    "max-dim-fields": lambda T, x, y, p: (x.max(1).values, x.max(1).indices),
    "max-binary": lambda T, x, y, p: T.max(x, y),
    "min": lambda T, x, y, p: x.min(),
    "min-dim": lambda T, x, y, p: T.min(x, 0),
    "norm": lambda T, x, y, p: x.norm(),
    "norm-fn": lambda T, x, y, p: T.norm(x),
    "norm-dim": lambda T, x, y, p: x.norm(dim=1),
    "norm-p1": lambda T, x, y, p: x.norm(p=1),
    "prod": lambda T, x, y, p: p.prod(),
    "amax": lambda T, x, y, p: x.amax(1),
    "var": lambda T, x, y, p: x.var(),
    "std": lambda T, x, y, p: x.std(),
    "logsumexp": lambda T, x, y, p: x.logsumexp(1),
    "cumsum": lambda T, x, y, p: x.cumsum(1),
    "argmax": lambda T, x, y, p: (x.argmax(), x.argmax(1)),
    # linear algebra
    "matmul": lambda T, x, y, p: T.matmul(x, y.t()),
    "matmul-op": lambda T, x, y, p: x @ y.T,
    "matmul-vec": lambda T, x, y, p: x[0] @ y[0],
    "matmul-mat-vec": lambda T, x, y, p: T.matmul(y[0], x.T),
    "dot": lambda T, x, y, p: T.dot(x[0], y[0]),
    "dot-method": lambda T, x, y, p: x[1].dot(p[1]),
    "dot-self": lambda T, x, y, p: 2 * T.dot(x[0], x[0]),
    "mm": lambda T, x, y, p: T.mm(x, y.T),
    "mv": lambda T, x, y, p: T.mv(x, y[0]),
    "outer": lambda T, x, y, p: T.outer(x[0], y[1]),
    # shape
    "view": lambda T, x, y, p: x.view(3, 2),
    "view-flat": lambda T, x, y, p: x.view(-1),
    "reshape": lambda T, x, y, p: x.reshape(6),
    "reshape-fn": lambda T, x, y, p: T.reshape(x, (3, -1)),
    "T": lambda T, x, y, p: x.T,
    "t": lambda T, x, y, p: x.t(),
    "index-row": lambda T, x, y, p: x[0],
    "index-col": lambda T, x, y, p: x[:, 1],
    "index-elem": lambda T, x, y, p: x[1, 2],
    "index-neg": lambda T, x, y, p: x[-1, -1],
    "index-slice-step": lambda T, x, y, p: x[:, ::2],
    "index-none": lambda T, x, y, p: x[..., None],
    "index-mask": lambda T, x, y, p: x[x > 0],
    "index-list": lambda T, x, y, p: x[[0, 1], [1, 2]],
    "index-tensor": lambda T, x, y, p: x[T.tensor([1, 0, 1])],
    "unsqueeze": lambda T, x, y, p: x.unsqueeze(0),
    "squeeze": lambda T, x, y, p: x[:1].squeeze(),
    "flatten": lambda T, x, y, p: x.flatten(),
    "permute": lambda T, x, y, p: x.permute(1, 0),
    "transpose": lambda T, x, y, p: x.transpose(0, 1),
    "expand": lambda T, x, y, p: x[:1].expand(3, 3),
    "repeat": lambda T, x, y, p: x.repeat(2, 1),
    "stack": lambda T, x, y, p: T.stack([x, y]),
    "stack-dim": lambda T, x, y, p: T.stack([x[0], y[0], p[0]], dim=1),
    "stack-scalars": lambda T, x, y, p: T.stack([x[0, 0], y[1, 1]]),
    "cat": lambda T, x, y, p: T.cat([x, y]),
    "cat-dim": lambda T, x, y, p: T.cat([x, y, p], 1),
    "split": lambda T, x, y, p: x.split(1),
    "chunk": lambda T, x, y, p: x.chunk(3, dim=1),
    "unbind": lambda T, x, y, p: x.unbind(1),
    "clone": lambda T, x, y, p: x.clone(),
    "detach-mul": lambda T, x, y, p: x.detach() * y,
    # dtype conversion
    "float": lambda T, x, y, p: x.double().float(),
    "double": lambda T, x, y, p: x.double(),
    "to-dtype": lambda T, x, y, p: x.to(T.float64),
    "to-dtype-kw": lambda T, x, y, p: x.to(dtype=T.float64) * 2,
    "to-same": lambda T, x, y, p: x.to(T.float32),
    # nn.functional
    "F-relu": lambda T, x, y, p: _F(T).relu(x),
    "F-sigmoid": lambda T, x, y, p: _F(T).sigmoid(x),
    "F-tanh": lambda T, x, y, p: _F(T).tanh(x),
    "F-softmax": lambda T, x, y, p: _F(T).softmax(x, dim=1),
    "F-softmax-0": lambda T, x, y, p: _F(T).softmax(x, 0),
    "F-log-softmax": lambda T, x, y, p: _F(T).log_softmax(x, dim=-1),
    "softmax-fn": lambda T, x, y, p: T.softmax(x, 1),
    "softmax-method": lambda T, x, y, p: x.softmax(-1),
    "F-mse": lambda T, x, y, p: _F(T).mse_loss(x, y),
    "F-mse-sum": lambda T, x, y, p: _F(T).mse_loss(x, y, reduction="sum"),
    "F-mse-none": lambda T, x, y, p: _F(T).mse_loss(x, y, reduction="none"),
    "F-bce-logits": lambda T, x, y, p: _F(T).binary_cross_entropy_with_logits(
        x, T.tensor([[0.0, 1.0, 0.5], [1.0, 0.0, 0.25]])
    ),
    "F-bce-logits-sum": lambda T, x, y, p: _F(T).binary_cross_entropy_with_logits(
        x, (y > 0).float(), reduction="sum"
    ),
    "F-bce-logits-none": lambda T, x, y, p: _F(T).binary_cross_entropy_with_logits(
        x, (y > 0).float(), reduction="none"
    ),
    "F-bce-logits-target-grad": lambda T, x, y, p: _F(T).binary_cross_entropy_with_logits(
        x, y.sigmoid()
    ),
    "F-bce": lambda T, x, y, p: _F(T).binary_cross_entropy(
        x.sigmoid(), T.tensor([[0.0, 1.0, 0.5], [1.0, 0.0, 0.25]])
    ),
    "F-bce-sum": lambda T, x, y, p: _F(T).binary_cross_entropy(
        x.sigmoid(), (y > 0).float(), reduction="sum"
    ),
    "F-cross-entropy": lambda T, x, y, p: _F(T).cross_entropy(x, T.tensor([2, 0])),
    "F-cross-entropy-sum": lambda T, x, y, p: _F(T).cross_entropy(
        x, T.tensor([1, 2]), reduction="sum"
    ),
    "F-cross-entropy-none": lambda T, x, y, p: _F(T).cross_entropy(
        x, T.tensor([1, 2]), reduction="none"
    ),
    "F-cross-entropy-probs": lambda T, x, y, p: _F(T).cross_entropy(x, y.softmax(1)),
    "seed001-loss": lambda T, x, y, p: _F(T).binary_cross_entropy_with_logits(
        T.matmul(T.ones(2), x) + y[0], T.zeros(3)
    ),
}


@pytest.mark.parametrize("name", list(OPS))
def test_op_forward_and_backward_match_torch(name):
    assert_parity(run_op(OPS[name]), torch)


def _with_grad(T):
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    return x


def _setattr(T):
    x = T.ones(2)
    x.requires_grad = True
    return x, x.requires_grad, x.is_leaf


def _requires_grad_(T):
    x = T.ones(2)
    r = x.requires_grad_()
    off = T.ones(2, requires_grad=True).requires_grad_(False)
    return r is x, x, off


def _grad_set(T):
    x = T.ones(3, requires_grad=True)
    x.grad = T.full((3,), 5.0)
    (2 * x).sum().backward()
    return x.grad


def _grad_set_none(T):
    x = _with_grad(T)
    x.grad = None
    return x.grad


def _detach(T):
    x = T.arange(3.0, requires_grad=True)
    y = x * 2
    u = y.detach()
    return u, u.requires_grad, u.is_leaf, u.grad_fn, y


def _detach_shares_data(T):
    x = T.arange(3.0, requires_grad=True)
    y = x * 2
    u = y.detach()
    u.add_(1)
    return y, u, y._version, u._version


def _detach_(T):
    x = T.arange(3.0, requires_grad=True)
    y = x * 2
    r = y.detach_()
    return r is y, y, y.requires_grad, y.is_leaf


def _clone(T):
    x = T.arange(3.0, requires_grad=True)
    c = x.clone()
    c.sum().backward()
    return c, x.grad


def _data(T):
    x = T.arange(3.0, requires_grad=True)
    d = x.data
    d.mul_(2)
    return x, d, d.requires_grad, x._version


def _data_set(T):
    x = T.arange(3.0, requires_grad=True)
    x.data = T.ones(3)
    return x


def _conversions(T):
    x = T.tensor([[1.5, -2.0], [3.0, 4.25]])
    return (
        x[0, 0].item(),
        x.tolist(),
        T.tensor(7).item(),
        T.tensor(True).item(),
        float(x[1, 1]),
        int(T.tensor(5)),
        bool(T.tensor(1.0)),
        x.numpy(),
        T.tensor([1, 2]).tolist(),
        T.tensor(2.5).tolist(),
    )


def _numpy_detached(T):
    x = T.arange(3.0, requires_grad=True)
    return x.detach().numpy(), type(x.detach().numpy()).__name__


def _attributes(T):
    x = T.zeros(2, 3, 4)
    return (
        x.shape,
        x.size(),
        x.size(1),
        x.size(-1),
        x.dim(),
        x.ndim,
        x.numel(),
        x.dtype,
        x.device,
        len(x),
        x.is_leaf,
        x.requires_grad,
        x.grad_fn,
        x.grad,
        x.nelement(),
    )


def _iteration(T):
    x = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    total = sum(r.sum() for r in rows)
    total.backward()
    return rows, total, x.grad, [v for v in T.arange(3)]


def _len(T):
    return len(T.zeros(4)), len(T.zeros(2, 7)), len(T.Size([3, 1]))


def _comparisons(T):
    x, y, p = inputs(T)
    return (
        x > 0,
        x < y,
        x >= 0.5,
        x <= y,
        x == y,
        x != y,
        x.eq(x),
        x.gt(0),
        T.equal(x, x),
        T.equal(x, y),
        T.allclose(x, x + 1e-9),
        x[0, 0] == 0.5,
        (x > 0).sum(),
        (x > 0).any(),
        (x > 0).all(),
        T.isclose(x, y),
    )


def _reflected(T):
    x = T.tensor([1.0, 2.0, 4.0], requires_grad=True)
    outs = (
        1 + x,
        1 - x,
        2 * x,
        2 / x,
        2**x,
        x + 1.5,
        x - True,
        x * 2,
        x / 4,
        x**0.5,
        -1 * x,
        0.5 - x,
    )
    sum(o.sum() for o in outs).backward()
    return outs, x.grad


def _int_arith(T):
    a = T.tensor([1, 2, 3])
    return (
        a + 1,
        a * 2,
        a / 2,
        a // 2,
        a % 2,
        a + 0.5,
        a**2,
        -a,
        a * True,
        a > 1,
        a.float() / 3,
        T.tensor([True, False]) + 1,
    )


def _inplace_plain(T):
    a = T.zeros(3)
    v0 = a._version
    a.add_(1)
    a.sub_(T.tensor([0.5, 1.0, 1.5]))
    a.mul_(4)
    a -= 1
    a += 2
    a *= 3
    a /= 2
    b = a.clone()
    b.zero_()
    return a, b, v0, a._version, b._version


def _inplace_nonleaf(T):
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y.add_(1)
    y.mul_(x)
    y -= 2
    y.backward(T.ones(3))
    return y, x.grad, y._version


def _inplace_leaf_no_grad(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    (x**2).sum().backward()
    with T.no_grad():
        x -= 0.1 * x.grad
        x.add_(1)
    x.grad.zero_()
    return x, x.grad, x._version, x.is_leaf, x.requires_grad


def _inplace_zero_fill_nonleaf(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    v = T.tensor(3.0, requires_grad=True)
    a, b, c = x * 2, x * 3, x * 4
    a.zero_()
    b.fill_(5.0)
    c.fill_(v)
    (a + b + c).sum().backward()
    return a, b, c, x.grad, v.grad


def _grad_zero_(T):
    x = _with_grad(T)
    g = x.grad
    g.zero_()
    return x.grad, x.grad is g


def _setitem_differentiable(T):
    t1 = T.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    t2 = T.tensor([[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]], requires_grad=True)
    t2m = t2.clone()
    t2m[0, 1] = t2[0, 1] + 3
    s = (t1 * t2m).sum()
    s.backward()
    return t2m, s, t1.grad, t2.grad


def _setitem_into_plain(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    z = T.zeros(3)
    z[1] = x[0] * 2
    z[2:] = x[1:] ** 2
    z.sum().backward()
    return z, x.grad, z._version


def _setitem_plain(T):
    z = T.zeros(2, 3)
    z[0] = 1.0
    z[:, 2] = T.tensor([5.0, 6.0])
    z[z > 4] = -1.0
    z[1, 0] += 7
    return z, z._version


def _setitem_slice_view(T):
    x = T.arange(6.0).reshape(2, 3)
    row = x[1]
    row[0] = 100.0
    return x, row, x._version, row._version


def _view_shares(T):
    x = T.arange(6.0, requires_grad=True)
    y = x * 1
    v = y.view(2, 3)
    v.mul_(2)
    w = y[1:3]
    (v.sum() + (w * w).sum()).backward()
    # Names only: compat's CopySlices links to the in-place op's node rather than re-wrapping
    # it, so the chains below the top differ in shape (the gradients do not).
    return (
        y.detach(),
        v.detach(),
        x.grad,
        y._version,
        v._version,
        type(y.grad_fn).__name__,
        type(v.grad_fn).__name__,
        type(w.grad_fn).__name__,
    )


def _base_write_refreshes_views(T):
    x = T.ones(3, requires_grad=True)
    y = x * 2
    v = y[:2]
    y.mul_(3)
    v.sum().backward()
    return v, x.grad


def _detach_write_leaf(T):
    x = T.ones(3, requires_grad=True)
    x.detach().add_(1)
    x.detach()[1:].mul_(5)
    return x, x._version, x.is_leaf


def _sibling_views(T):
    x = T.zeros(2, 3)
    a, b, flat = x[0], x[:, 0], x.view(-1)
    a.fill_(5)
    b[1] = 7
    u = x.detach()
    u[1, 2] = 9
    return x, a, b, flat, u, x._version


def _item_and_format(T):
    x = T.tensor(3.14159, requires_grad=True)
    return f"{x.item():5.2f}", f"{x:.3f}", f"{T.tensor(2.0)}", str(T.tensor([1.0, 2.0]))


def _repr_variety(T):
    return (
        repr(T.tensor([1.0, 2.0], requires_grad=True) * 2),
        repr(T.tensor(1e10)),
        repr(T.tensor([0.001, 1000.0])),
        repr(T.tensor([1, 2], dtype=T.int32)),
        repr(T.tensor([1.0], dtype=T.float64)),
        repr(T.zeros(0)),
        repr(T.tensor(True)),
    )


CASES = {
    "requires-grad-setter": _setattr,
    "requires-grad_": _requires_grad_,
    "grad-set": _grad_set,
    "grad-set-none": _grad_set_none,
    "detach": _detach,
    "detach-shares-data": _detach_shares_data,
    "detach_": _detach_,
    "clone": _clone,
    "data": _data,
    "data-set": _data_set,
    "conversions": _conversions,
    "numpy-detached": _numpy_detached,
    "attributes": _attributes,
    "iteration": _iteration,
    "len": _len,
    "comparisons": _comparisons,
    "reflected": _reflected,
    "int-arith": _int_arith,
    "inplace-plain": _inplace_plain,
    "inplace-nonleaf": _inplace_nonleaf,
    "inplace-leaf-no-grad": _inplace_leaf_no_grad,
    "grad-zero_": _grad_zero_,
    "inplace-zero-fill-nonleaf": _inplace_zero_fill_nonleaf,
    "setitem-differentiable": _setitem_differentiable,
    "setitem-into-plain": _setitem_into_plain,
    "setitem-plain": _setitem_plain,
    "setitem-slice-view": _setitem_slice_view,
    "view-shares": _view_shares,
    "base-write-refreshes-views": _base_write_refreshes_views,
    "detach-write-leaf": _detach_write_leaf,
    "sibling-views": _sibling_views,
    "item-and-format": _item_and_format,
    "repr-variety": _repr_variety,
    "is-leaf": lambda T: [
        t.is_leaf
        for t in (
            T.ones(1),
            T.ones(1, requires_grad=True),
            T.ones(1, requires_grad=True) * 2,
            (T.ones(1) * 2),
        )
    ],
    "contagious": lambda T: [
        (T.ones(2) * T.ones(2, requires_grad=True)).requires_grad,
        (T.ones(2) + T.ones(2)).requires_grad,
        T.stack([T.ones(1), T.ones(1, requires_grad=True)]).requires_grad,
    ],
    "max-dim-namedtuple": lambda T: (
        type(T.ones(2, 2).max(0)).__name__,
        T.tensor([[1.0, 5.0], [3.0, 2.0]]).max(dim=0),
    ),
    "sum-int-dtype": lambda T: (
        T.arange(4).sum(),
        T.tensor([True, True]).sum(),
        T.arange(4).float().mean(),
    ),
    "mean-int-error": lambda T: T.arange(4).mean(),
}


@pytest.mark.parametrize("name", list(CASES))
def test_tensor_behaviour_matches_torch(name):
    assert_parity(CASES[name], torch)


def test_grad_keeps_identity_across_accumulation():
    def case(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        g = x.grad
        y.backward()
        return x.grad is g, x.grad

    t_res, c_res = parity(case, torch)
    assert c_res[0] is True


def test_requires_grad_setter_returns_same_object():
    x = compat.ones(2)
    assert x.requires_grad_() is x and x.requires_grad
