"""Matrix products: dot, mv, mm, bmm, matmul, outer."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._base import op, record
from .shape import _legacy_name

# Compiled once: dispatch through JAX's C++ fast path (cheaper than jnp's Python layers).
_k_dot = jax.jit(jnp.dot)
_k_matmul = jax.jit(jnp.matmul)


@op("DotBackward0", saved=("self", "tensor"))
def DotBackward0(F, node, g, a, b):  # noqa: N802
    ga = g * b if node.next_functions[0][0] is not None else None
    gb = g * a if node.next_functions[1][0] is not None else None
    return ga, gb


def dot(a, b):
    """Mirrors `torch.dot(input, tensor)`."""
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.dtype is not b.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{_legacy_name(a.dtype)} and {_legacy_name(b.dtype)}"
        )
    n, m = a._data.shape[0], b._data.shape[0]
    if n != m:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same "
            f"number of elements, but got {n} and {m} elements respectively"
        )
    return record(_k_dot(a._data, b._data), DotBackward0, (a, b), (a, b))


@op("MmBackward0", saved=("self", "mat2"))
def MmBackward0(F, node, g, a, b):  # noqa: N802
    ga = F.matmul(g, F.mT(b)) if node.next_functions[0][0] is not None else None
    gb = F.matmul(F.mT(a), g) if node.next_functions[1][0] is not None else None
    return ga, gb


def _same_dtype(a, b, what):
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"expected {what[0]} and {what[1]} to have the same dtype, but got: "
            f"{_long(a.dtype)} != {_long(b.dtype)}"
        )


def _long(d):
    return {
        "float32": "float",
        "float64": "double",
        "int64": "long int",
        "int32": "int",
        "float16": "c10::Half",
        "bfloat16": "c10::BFloat16",
    }.get(d.name, d.name)


def mm(a, b):
    """Mirrors `torch.mm(input, mat2)`."""
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a._data.shape[1] != b._data.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a._data.shape[0]}x{a._data.shape[1]} "
            f"and {b._data.shape[0]}x{b._data.shape[1]})"
        )
    _same_dtype(a, b, ("self", "mat2"))
    return record(_k_matmul(a._data, b._data), MmBackward0, (a, b), (a, b))


@op("MvBackward0", saved=("self", "vec"))
def MvBackward0(F, node, g, a, v):  # noqa: N802
    ga = F.outer(g, v) if node.next_functions[0][0] is not None else None
    gv = F.matmul(F.mT(a), g) if node.next_functions[1][0] is not None else None
    return ga, gv


def mv(a, v):
    if a._data.shape[1] != v._data.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({a._data.shape[0]}), mat ({a._data.shape[0]}x"
            f"{a._data.shape[1]}), vec ({v._data.shape[0]})"
        )
    return record(_k_matmul(a._data, v._data), MvBackward0, (a, v), (a, v))


@op("BmmBackward0", saved=("self", "mat2"))
def BmmBackward0(F, node, g, a, b):  # noqa: N802
    ga = F.matmul(g, F.mT(b)) if node.next_functions[0][0] is not None else None
    gb = F.matmul(F.mT(a), g) if node.next_functions[1][0] is not None else None
    return ga, gb


def bmm(a, b):
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    return record(_k_matmul(a._data, b._data), BmmBackward0, (a, b), (a, b))


@op("UnsafeViewBackward0", saved=("self", "other"))
def MatmulNdBackward(F, node, g, a, b):  # noqa: N802
    sa, sb = node._extra
    ga = gb = None
    # Promote 1-D operands as matmul does, then reduce broadcast batch dims.
    av = F.reshape(a, (1,) + sa) if len(sa) == 1 else a
    bv = F.reshape(b, sb + (1,)) if len(sb) == 1 else b
    gv = g
    if len(sa) == 1:
        gv = F.unsqueeze_dims(gv, (gv.ndim - 1,))
    if len(sb) == 1:
        gv = F.unsqueeze_dims(gv, (gv.ndim,))
    if node.next_functions[0][0] is not None:
        ga = F.sum_to(F.matmul(gv, F.mT(bv)), av.shape)
        ga = F.reshape(ga, sa)
    if node.next_functions[1][0] is not None:
        gb = F.sum_to(F.matmul(F.mT(av), gv), bv.shape)
        gb = F.reshape(gb, sb)
    return ga, gb


def matmul(a, b):
    """Mirrors `torch.matmul`: dispatches to dot / mv / mm as torch does (same grad_fn names)."""
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D"
        )
    if a.ndim == 1 and b.ndim == 1:
        return dot(a, b)
    if a.ndim == 2 and b.ndim == 1:
        return mv(a, b)
    if a.ndim == 1 and b.ndim == 2:
        from .shape import squeeze, unsqueeze

        if a._data.shape[0] != b._data.shape[0]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied (1x{a._data.shape[0]} and "
                f"{b._data.shape[0]}x{b._data.shape[1]})"
            )
        # torch squeezes the mm result in place (`squeeze_(-2)`): grad_fn SqueezeBackward4.
        return squeeze(mm(unsqueeze(a, 0), b), 0, _inplace=True)
    if a.ndim == 2 and b.ndim == 2:
        return mm(a, b)
    if a._data.shape[-1] != b._data.shape[-2 if b.ndim > 1 else 0]:
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{a._data.shape[0]}, {a._data.shape[-1]}] but got: "
            f"[{b._data.shape[0]}, {b._data.shape[-2]}]."
        )
    return record(
        _k_matmul(a._data, b._data),
        MatmulNdBackward,
        (a, b),
        (a, b),
        (a._data.shape, b._data.shape),
    )


def outer(a, b):
    """Mirrors `torch.outer`: computed as torch does, `a.reshape(-1, 1) * b` (same grad_fns)."""
    from .elementwise import mul
    from .shape import view

    return mul(view(a, a._data.size, 1), b)


ger = outer
