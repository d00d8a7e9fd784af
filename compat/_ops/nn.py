"""Neural-network ops behind `compat.nn.functional`: activations, softmax family, losses, linear."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .. import _dtype
from ._base import OUT, Tensor, data, op, record
from .shape import norm_dim

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(reduction, size_average=None, reduce=None):
    if size_average is not None or reduce is not None:
        sa = True if size_average is None else size_average
        rd = True if reduce is None else reduce
        return "none" if not rd else ("mean" if sa else "sum")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(x, reduction):
    if reduction == "mean":
        return jnp.mean(x)
    if reduction == "sum":
        return jnp.sum(x)
    return x


def _unreduce(F, g, shape, reduction, n):
    if reduction == "mean":
        return F.expand(g / n, shape)
    if reduction == "sum":
        return F.expand(g, shape)
    return g


def _no_weight_grad(weight, fn_name):
    # torch's loss kernels have no derivative for `weight`, and say so up front.
    from .._grad_mode import is_grad_enabled

    if isinstance(weight, Tensor) and weight._rg and is_grad_enabled():
        raise RuntimeError(
            f"The function '{fn_name}' is not differentiable with respect to argument 'weight'. "
            "This input cannot have requires_grad True."
        )


def _size(shape):
    n = 1
    for s in shape:
        n *= s
    return max(n, 1)


# -- softmax family -------------------------------------------------------------------------------
@op("SoftmaxBackward0", saved=("result",))
def SoftmaxBackward0(F, node, g, r):  # noqa: N802
    d = node._extra
    return (r * (g - F.sum(g * r, axis=d, keepdims=True)),)


def softmax(x, dim=None, _stacklevel=3, dtype=None):
    """Mirrors `torch.softmax(input, dim)`."""
    if dtype is not None:
        x = x.to(dtype)
    d = norm_dim(_implicit_dim(x, dim), x.ndim)
    return record(jax.nn.softmax(x._data, axis=d), SoftmaxBackward0, (x,), (OUT,), d)


def _implicit_dim(x, dim):
    if dim is None:
        return 0 if x.ndim in (0, 1, 3) else 1
    return dim


@op("LogSoftmaxBackward0", saved=("result",))
def LogSoftmaxBackward0(F, node, g, r):  # noqa: N802
    d = node._extra
    return (g - F.exp(r) * F.sum(g, axis=d, keepdims=True),)


def log_softmax(x, dim=None, _stacklevel=3, dtype=None):
    """Mirrors `torch.log_softmax(input, dim)`."""
    if dtype is not None:
        x = x.to(dtype)
    d = norm_dim(_implicit_dim(x, dim), x.ndim)
    return record(jax.nn.log_softmax(x._data, axis=d), LogSoftmaxBackward0, (x,), (OUT,), d)


# -- losses ---------------------------------------------------------------------------------------
def _check_same_size(input, target, what="Using a target size"):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})"
        )


@op("MseLossBackward0", saved=("self", "target"))
def MseLossBackward0(F, node, g, x, y):  # noqa: N802
    reduction = node._extra
    gg = _unreduce(F, g, x.shape, reduction, _size(x.shape))
    d = x - y
    gx = gg * 2 * d if node.next_functions[0][0] is not None else None
    gy = -gg * 2 * d if node.next_functions[1][0] is not None else None
    return gx, gy


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mirrors `torch.nn.functional.mse_loss`."""
    red = _reduction(reduction, size_average, reduce)
    if tuple(input.shape) != tuple(target.shape):
        import warnings

        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=2,
        )
        from ._base import check_broadcast
        from .shape import broadcast_to

        check_broadcast(input._data.shape, target._data.shape)
        shape = jnp.broadcast_shapes(input._data.shape, target._data.shape)
        input, target = broadcast_to(input, shape), broadcast_to(target, shape)
    d = input._data - target._data
    return record(_reduce(d * d, red), MseLossBackward0, (input, target), (input, target), red)


@op("BinaryCrossEntropyWithLogitsBackward0", saved=("self", "target", "weight", "pos_weight"))
def BinaryCrossEntropyWithLogitsBackward0(F, node, g, x, y, w, pw):  # noqa: N802
    reduction = node._extra
    gg = _unreduce(F, g, x.shape, reduction, _size(x.shape))
    s = F.sigmoid(x)
    if pw is None:
        gx = (s - y) * gg
    else:
        gx = ((pw * y + 1 - y) * s - pw * y) * gg
    if w is not None:
        gx = gx * w
    gy = None
    if node.next_functions[1][0] is not None:
        # d/dy of (1 - y) x + (1 + (pw - 1) y) softplus(-x), with softplus(-x) = -log(sigmoid(x))
        gy = -x * gg if pw is None else (-x - (pw - 1) * F.log(s)) * gg
        if w is not None:
            gy = gy * w
    return gx, gy


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """Mirrors `torch.nn.functional.binary_cross_entropy_with_logits`."""
    red = _reduction(reduction, size_average, reduce)
    _check_same_size(input, target)
    _no_weight_grad(weight, "binary_cross_entropy_with_logits")
    x, y = input._data, target._data.astype(input._data.dtype)
    # Stable form: (1 - y) x + (1 + (pw - 1) y) * softplus(-x)
    sp = jax.nn.softplus(-x)
    if pos_weight is None:
        loss = (1 - y) * x + sp
    else:
        lw = 1 + (data(pos_weight) - 1) * y
        loss = (1 - y) * x + lw * sp
    if weight is not None:
        loss = loss * data(weight)
    return record(
        _reduce(loss, red),
        BinaryCrossEntropyWithLogitsBackward0,
        (input, target),
        (input, target, weight, pos_weight),
        red,
    )


@op("BinaryCrossEntropyBackward0", saved=("self", "target", "weight"))
def BinaryCrossEntropyBackward0(F, node, g, x, y, w):  # noqa: N802
    reduction = node._extra
    gg = _unreduce(F, g, x.shape, reduction, _size(x.shape))
    eps = 1e-12
    gx = gg * (x - y) / F.clamp_min(x * (1 - x), eps)
    if w is not None:
        gx = gx * w
    gy = None
    if node.next_functions[1][0] is not None:
        gy = gg * (F.log(1 - x) - F.log(x))
    return gx, gy


def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """Mirrors `torch.nn.functional.binary_cross_entropy` (log clamped at -100 as torch does)."""
    red = _reduction(reduction, size_average, reduce)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size."
        )
    _no_weight_grad(weight, "binary_cross_entropy")
    x, y = input._data, target._data
    if bool(jnp.any((x < 0) | (x > 1))) if not isinstance(x, jax.core.Tracer) else False:
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = -(y * jnp.maximum(jnp.log(x), -100.0) + (1 - y) * jnp.maximum(jnp.log1p(-x), -100.0))
    if weight is not None:
        loss = loss * data(weight)
    return record(
        _reduce(loss, red),
        BinaryCrossEntropyBackward0,
        (input, target),
        (input, target, weight),
        red,
    )


@op("NllLossBackward0", saved=("self", "target", "weight", "total_weight"))
def NllLossBackward0(F, node, g, x, t, w, tw):  # noqa: N802
    reduction, ignore_index, dim = node._extra
    tt = data(t)
    valid = tt != ignore_index
    safe = jnp.where(valid, tt, 0)
    onehot = jax.nn.one_hot(safe, x.shape[dim], dtype=F.data(x).dtype, axis=dim)
    wv = jnp.where(valid, 1.0 if w is None else jnp.take(data(w), safe), 0.0)
    coef = -onehot * jnp.expand_dims(wv, dim).astype(onehot.dtype)
    if reduction == "mean":
        coef = coef / data(tw)
    if reduction == "none":
        g = F.unsqueeze_dims(g, (dim,))
    return (F.const(coef) * F.expand(g, x.shape) if reduction == "none" else F.const(coef) * g,)


def nll_loss(
    input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"
):
    """Mirrors `torch.nn.functional.nll_loss` for (N, C) or (C,) input."""
    red = _reduction(reduction, size_average, reduce)
    _no_weight_grad(weight, "nll_loss_forward")
    if target.dtype.category != 1:
        raise RuntimeError(f"expected scalar type Long but found {_cname(target.dtype)}")
    x, t = input._data, target._data
    dim = 1 if input.ndim >= 2 else 0
    if input.ndim >= 2 and t.shape[0] != x.shape[0]:
        raise ValueError(
            f"Expected input batch_size ({x.shape[0]}) to match target batch_size ({t.shape[0]})."
        )
    valid = t != ignore_index
    safe = jnp.where(valid, t, 0)
    if not isinstance(t, jax.core.Tracer):
        bad = (safe < 0) | (safe >= x.shape[dim])
        if bool(jnp.any(bad)):
            raise IndexError(f"Target {int(safe[bad][0])} is out of bounds.")
    picked = (
        jnp.squeeze(jnp.take_along_axis(x, jnp.expand_dims(safe, dim), axis=dim), dim)
        if input.ndim >= 2
        else x[safe]
    )
    wv = jnp.where(valid, 1.0 if weight is None else jnp.take(data(weight), safe), 0.0)
    losses = -picked * wv.astype(x.dtype)
    tw = jnp.sum(wv).astype(x.dtype)
    if red == "mean":
        out = jnp.sum(losses) / tw
    elif red == "sum":
        out = jnp.sum(losses)
    else:
        out = losses
    return record(
        out, NllLossBackward0, (input,), (input, target, weight, tw), (red, ignore_index, dim)
    )


def _cname(d):
    return {"float32": "Float", "float64": "Double", "int32": "Int"}.get(d.name, d.name)


@op("DivBackward1")
def _DivScalarBackward(F, node, g):  # noqa: N802
    # torch's `div(Tensor, Scalar)` overload, used inside its C++ losses.
    return (g / node._extra,)


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    """Mirrors `torch.nn.functional.cross_entropy` (class indices or class probabilities)."""
    dim = 1 if input.ndim >= 2 else 0
    logp = log_softmax(input, dim)
    if target.dtype.category >= 2:
        # Probabilities as targets.
        from .elementwise import mul, neg
        from .reductions import sum

        red = _reduction(reduction, size_average, reduce)
        prod = mul(logp, target)
        if red == "none":
            return neg(sum(prod, dim))
        # torch reduces over everything, then divides by the batch size for "mean".
        total = neg(sum(prod))
        n_classes = input._data.shape[dim]
        if red != "mean":
            return total
        n = input._data.size / n_classes
        return record(total._data / n, _DivScalarBackward, (total,), (), n)
    if label_smoothing:
        raise NotImplementedError("compat: cross_entropy(label_smoothing=...) is not supported")
    return nll_loss(logp, target, weight, size_average, ignore_index, reduce, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    from .elementwise import abs, sub
    from .reductions import mean, sum

    red = _reduction(reduction, size_average, reduce)
    d = abs(sub(input, target))
    return mean(d) if red == "mean" else sum(d) if red == "sum" else d


# -- linear ---------------------------------------------------------------------------------------
@op("AddmmBackward0", saved=("mat1", "mat2"))
def AddmmBackward0(F, node, g, m1, m2):  # noqa: N802
    gb = F.sum_to(g, node._extra) if node.next_functions[0][0] is not None else None
    g1 = F.matmul(g, F.mT(m2)) if node.next_functions[1][0] is not None else None
    g2 = F.matmul(F.mT(m1), g) if node.next_functions[2][0] is not None else None
    return gb, g1, g2


def addmm(bias, m1, m2, *, beta=1, alpha=1):
    if beta != 1 or alpha != 1:
        raise NotImplementedError("compat: addmm with beta/alpha != 1 is not supported")
    if m1.dtype is not m2.dtype:
        from .shape import _legacy_name

        raise RuntimeError(
            f"self and mat2 must have the same dtype, but got {_legacy_name(m1.dtype)} and "
            f"{_legacy_name(m2.dtype)}"
        )
    out = jnp.matmul(m1._data, m2._data) + bias._data
    return record(out, AddmmBackward0, (bias, m1, m2), (m1, m2), bias._data.shape)


@op("AddmmBackward0", saved=("mat1", "weight"))
def _LinearAddmmBackward(F, node, g, x, w):  # noqa: N802
    # Same node as addmm(bias, x, weight.t()), holding the weight untransposed: the forward
    # never materialises weight.T, and the mat2 gradient goes to the TBackward0 node as x.T @ g.
    gb = F.sum_to(g, node._extra) if node.next_functions[0][0] is not None else None
    gx = F.matmul(g, w) if node.next_functions[1][0] is not None else None
    gwt = F.matmul(F.mT(x), g) if node.next_functions[2][0] is not None else None
    return gb, gx, gwt


_k_linear = jax.jit(lambda x, w, b: jnp.matmul(x, w.T) + b)


def linear(input, weight, bias=None):
    """Mirrors `torch.nn.functional.linear`: `input @ weight.T + bias`. For a 2-D input with
    bias the graph is torch's (AddmmBackward0 fed by TBackward0 of the weight), computed by one
    fused kernel."""
    from .._node import new_node
    from ._base import needs_grad
    from .linalg import matmul
    from .shape import TBackward0, _legacy_name, t_

    if bias is not None and input.ndim == 2 and weight.ndim == 2:
        if input.dtype is not weight.dtype:
            raise RuntimeError(
                f"self and mat2 must have the same dtype, but got {_legacy_name(input.dtype)} "
                f"and {_legacy_name(weight.dtype)}"
            )
        (n, k), (o, k2) = input._data.shape, weight._data.shape
        if k != k2:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{o})")
        out = Tensor._make(_k_linear(input._data, weight._data, bias._data))
        if needs_grad(bias, input, weight):
            node = new_node(
                _LinearAddmmBackward, (bias, input, None), (input, weight), bias._data.shape
            )
            wedge = (new_node(TBackward0, (weight,)), 0) if weight._rg else (None, 0)
            node.next_functions = node.next_functions[:2] + (wedge,)
            out._rg = True
            out.grad_fn = node
        return out
    wt = t_(weight)
    out = matmul(input, wt)
    if bias is not None:
        from .elementwise import add

        out = add(out, bias)
    return out


def dropout(input, p=0.5, training=True, inplace=False):
    if not training or p == 0:
        return input
    from .. import _creation
    from .elementwise import mul

    if p == 1:
        return mul(input, 0.0)
    mask = _creation.rand(*input.shape, dtype=input.dtype)._data >= p
    return mul(input, Tensor._make(mask.astype(input._data.dtype) / (1 - p)))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    from .elementwise import where

    return where(Tensor._make(input._data > 0), input, input * negative_slope)


def silu(input, inplace=False):
    from .elementwise import mul, sigmoid

    return mul(input, sigmoid(input))


def gelu(input, approximate="none"):
    from .elementwise import mul, tanh

    if approximate == "tanh":
        inner = (input + 0.044715 * input * input * input) * 0.7978845608028654
        return mul(input * 0.5, tanh(inner) + 1)
    from .elementwise import erf

    return mul(input * 0.5, erf(input * 0.7071067811865476) + 1)


def softplus(input, beta=1.0, threshold=20.0):
    from .elementwise import exp, log1p, where

    scaled = input * beta
    return where(Tensor._make(scaled._data > threshold), input, log1p(exp(scaled)) / beta)


def one_hot(tensor, num_classes=-1):
    n = int(jnp.max(tensor._data)) + 1 if num_classes == -1 else num_classes
    return Tensor._make(jax.nn.one_hot(tensor._data, n, dtype=jnp.int64))


_ = _dtype
