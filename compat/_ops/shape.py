"""Shape and view ops, indexing, joining/splitting, copies and casts, and in-place commits.

JAX arrays are immutable, so torch's shared storage is modelled explicitly: a view remembers its
base and how it was cut from it (`_view = (base, fn, shares_version)`, `fn(base_array)` giving
the view's array). An in-place op on a view writes its new values back into the base through the
index map `fn(arange(base.numel()))`, and records a `CopySlices` node on the base as torch does.
"""

from __future__ import annotations

import weakref

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype, _grad_mode, _node
from ._base import Tensor, data, needs_grad, op, record, record_multi, to_array

_state = _grad_mode._state


def norm_dim(dim: int, ndim: int) -> int:
    """Wraps a negative dim, raising torch's IndexError when out of range."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim + n if dim < 0 else dim


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


# -- views --------------------------------------------------------------------------------------
def _make_view(t: Tensor, res: Tensor, fn, kind: str = "index") -> Tensor:
    """Marks `res` as a view of `t`'s base, sharing its version counter."""
    if t._view is not None:
        base, bfn, shares = t._view
        bkind = t.__dict__.get("_view_kind", "index")

        def composed(d):
            return fn(bfn(d))

        kind = "reshape" if kind == "reshape" and bkind == "reshape" else "index"
        res._view = (base, composed, shares)
        if t.__dict__.get("_nondiff_view"):
            res.__dict__["_nondiff_view"] = True
    else:
        base = t
        res._view = (t, fn, True)
    res.__dict__["_view_kind"] = kind
    res._vc = t._vc
    if not _state.enabled and t._rg and not res.__dict__.get("_nondiff_view"):
        # torch: a view made under no_grad still requires grad (as a leaf with no grad_fn).
        res._rg = True
    _register_view(base, res)
    return res


def alias(t: Tensor, track_version: bool) -> Tensor:
    """A graph-free alias of `t`: `detach()` (shares the version counter) or `.data` (doesn't).

    Like torch's, it shares storage (an in-place write through it is seen by `t` and its views)
    but not autograd history (the write changes no `grad_fn`)."""
    res = Tensor._make(t._data)
    if t._view is not None:
        base, bfn, shares = t._view
        res._view = (base, bfn, track_version and shares)
        res.__dict__["_view_kind"] = t.__dict__.get("_view_kind", "index")
    else:
        base = t
        res._view = (t, _identity, track_version)
        res.__dict__["_view_kind"] = "reshape"
    res.__dict__["_nondiff_view"] = True
    if track_version:
        res._vc = t._vc
    _register_view(base, res)
    return res


def _register_view(base: Tensor, view: Tensor) -> None:
    # JAX arrays are immutable, so each view holds its own array: the base keeps (weakly) its
    # live views so a write through any of them, or into the base, can refresh the others.
    views = base.__dict__.get("_views")
    if views is None:
        views = base.__dict__["_views"] = weakref.WeakSet()
    views.add(view)


@op("AsStridedBackward0")
def AsStridedBackward0(F, node, g):  # noqa: N802
    idx, shape = node._extra
    n = idx.size
    flat = F.scatter_zeros((_numel(shape),), idx.ravel(), F.reshape(g, (n,)))
    return (F.reshape(flat, shape),)


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _refresh_views(base: Tensor, regenerate: bool) -> None:
    """Re-reads every live view of `base` after an in-place write. With `regenerate` (the base's
    history changed), differentiable views get torch's regenerated grad_fn, an
    AsStridedBackward0 onto the base's new history."""
    views = base.__dict__.get("_views")
    if not views:
        return
    for v in list(views):
        fn = v._view[1]
        v._data = fn(base._data)
        if regenerate and base._rg and not v.__dict__.get("_nondiff_view"):
            idx = _index_map(base._data.shape, fn)
            v.grad_fn = _node.new_node(AsStridedBackward0, (base,), (), (idx, base._data.shape))
            v._output_nr = 0
            v._rg = True


def _identity(d):
    return d


@op("ViewBackward0")
def ViewBackward0(F, node, g):  # noqa: N802
    return (F.reshape(g, node._extra),)


def _infer_shape(shape, numel):
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def view(t: Tensor, *shape) -> Tensor:
    """Mirrors `Tensor.view(*shape)` (dtype views are not supported)."""
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        raise NotImplementedError("compat: Tensor.view(dtype) is not supported")
    new = _infer_shape(_shape_arg(shape), t._data.size)
    out = t._data.reshape(new)
    res = record(out, ViewBackward0, (t,), (), t._data.shape)
    return _make_view(t, res, lambda d: d.reshape(new), "reshape")


reshape = view


def view_as(t, other):
    return view(t, *other.shape)


reshape_as = view_as


def flatten(t: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Mirrors `torch.flatten`: returns `t` itself when nothing changes, as torch does."""
    if t.ndim == 0:
        return view(t, 1)
    s, e = norm_dim(start_dim, t.ndim), norm_dim(end_dim, t.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return t
    shape = t._data.shape
    n = 1
    for d in shape[s : e + 1]:
        n *= d
    return view(t, *(shape[:s] + (n,) + shape[e + 1 :]))


def unflatten(t, dim, sizes):
    d = norm_dim(dim, t.ndim)
    shape = t._data.shape
    return view(t, *(shape[:d] + tuple(sizes) + shape[d + 1 :]))


@op("SqueezeBackward0")
def SqueezeBackward0(F, node, g):  # noqa: N802
    return (F.reshape(g, node._extra),)


@op("SqueezeBackward1")
def SqueezeBackward1(F, node, g):  # noqa: N802
    return (F.reshape(g, node._extra),)


@op("SqueezeBackward2")
def SqueezeBackward2(F, node, g):  # noqa: N802
    return (F.reshape(g, node._extra),)


@op("SqueezeBackward4")
def SqueezeBackward4(F, node, g):  # noqa: N802
    return (F.reshape(g, node._extra),)


def squeeze(t: Tensor, dim=None, *, _inplace: bool = False) -> Tensor:
    shape = t._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
        cls = SqueezeBackward0
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        # torch names the grad_fn by overload: squeeze(dim) 1, squeeze(dims) 2, squeeze_(dim) 4.
        cls = SqueezeBackward1 if isinstance(dim, int) else SqueezeBackward2
        if _inplace and isinstance(dim, int):
            cls = SqueezeBackward4
        dims = {norm_dim(d, t.ndim) for d in dims}
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    res = record(t._data.reshape(new), cls, (t,), (), shape)
    return _make_view(t, res, lambda d: d.reshape(new), "reshape")


@op("UnsqueezeBackward0")
def UnsqueezeBackward0(F, node, g):  # noqa: N802
    return (F.reshape(g, node._extra),)


def unsqueeze(t: Tensor, dim: int) -> Tensor:
    d = norm_dim(dim, t.ndim + 1)
    shape = t._data.shape
    new = shape[:d] + (1,) + shape[d:]
    res = record(t._data.reshape(new), UnsqueezeBackward0, (t,), (), shape)
    return _make_view(t, res, lambda x: x.reshape(new), "reshape")


@op("PermuteBackward0")
def PermuteBackward0(F, node, g):  # noqa: N802
    return (F.permute(g, tuple(np.argsort(node._extra))),)


def permute(t: Tensor, *dims) -> Tensor:
    dims = _shape_arg(dims)
    if len(dims) != t.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {t.ndim} is not "
            f"equal to len(dims) = {len(dims)}"
        )
    dims = tuple(norm_dim(d, t.ndim) for d in dims)
    res = record(jnp.transpose(t._data, dims), PermuteBackward0, (t,), (), dims)
    return _make_view(t, res, lambda d: jnp.transpose(d, dims))


@op("TransposeBackward0")
def TransposeBackward0(F, node, g):  # noqa: N802
    return (F.permute(g, node._extra),)


def transpose(t: Tensor, dim0: int, dim1: int) -> Tensor:
    n = t.ndim
    d0, d1 = norm_dim(dim0, n), norm_dim(dim1, n)
    perm = list(range(n))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    perm = tuple(perm)
    res = record(jnp.transpose(t._data, perm), TransposeBackward0, (t,), (), perm)
    return _make_view(t, res, lambda d: jnp.transpose(d, perm))


@op("TBackward0")
def TBackward0(F, node, g):  # noqa: N802
    return (F.mT(g) if g.ndim == 2 else g,)


def t_(t: Tensor) -> Tensor:
    """Mirrors `Tensor.t()`."""
    if t.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {t.ndim}D")
    res = record(t._data.T, TBackward0, (t,), ())
    return _make_view(t, res, lambda d: d.T)


def T(t: Tensor) -> Tensor:  # noqa: N802
    """Mirrors `Tensor.T`: all dims reversed (a PermuteBackward0 in torch)."""
    if t.ndim < 2:
        return t
    return permute(t, *reversed(range(t.ndim)))


def mT(t: Tensor) -> Tensor:  # noqa: N802
    return transpose(t, -2, -1)


@op("ExpandBackward0")
def ExpandBackward0(F, node, g):  # noqa: N802
    return (F.sum_to(g, node._extra),)


def expand(t: Tensor, *sizes) -> Tensor:
    sizes = _shape_arg(sizes)
    shape = t._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(shape)}}}, size={list(sizes)}): the number of sizes "
            f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the "
            f"tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            target.append(s)
            continue
        cur = shape[i - lead]
        if s == -1:
            target.append(cur)
        elif cur != 1 and cur != s:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}"
            )
        else:
            target.append(s)
    target = tuple(target)
    res = record(jnp.broadcast_to(t._data, target), ExpandBackward0, (t,), (), shape)
    return _make_view(t, res, lambda d: jnp.broadcast_to(d, target))


def expand_as(t, other):
    return expand(t, *other.shape)


def broadcast_to(t, shape):
    return expand(t, *shape)


@op("RepeatBackward0")
def RepeatBackward0(F, node, g):  # noqa: N802
    shape, reps = node._extra
    lead = len(reps) - len(shape)
    full = (1,) * lead + tuple(shape)
    split = []
    for r, s in zip(reps, full, strict=True):
        split += [r, s]
    g = F.reshape(g, tuple(split))
    g = F.sum(g, axis=tuple(range(0, 2 * len(full), 2)))
    return (F.reshape(g, shape),)


def repeat(t: Tensor, *reps) -> Tensor:
    reps = _shape_arg(reps)
    if len(reps) < t.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of "
            "tensor"
        )
    return record(jnp.tile(t._data, reps), RepeatBackward0, (t,), (), (t._data.shape, reps))


@op("FlipBackward0")
def FlipBackward0(F, node, g):  # noqa: N802
    if F.is_graph:
        return (flip(g, node._extra),)
    return (jnp.flip(g, node._extra),)


def flip(t: Tensor, dims) -> Tensor:
    dims = (dims,) if isinstance(dims, int) else tuple(norm_dim(d, t.ndim) for d in dims)
    return record(jnp.flip(t._data, dims), FlipBackward0, (t,), (), dims)


# -- indexing -----------------------------------------------------------------------------------
@op("SelectBackward0")
def SelectBackward0(F, node, g):  # noqa: N802
    shape, dim, i = node._extra
    return (F.scatter_zeros(shape, (slice(None),) * dim + (i,), g),)


@op("SliceBackward0")
def SliceBackward0(F, node, g):  # noqa: N802
    shape, dim, sl = node._extra
    return (F.scatter_zeros(shape, (slice(None),) * dim + (sl,), g),)


@op("IndexBackward0", saved=("indices",))
def IndexBackward0(F, node, g, idx):  # noqa: N802
    return (F.scatter_zeros(node._extra, idx, g),)


def _select(t, dim, i):
    size = t._data.shape[dim]
    if not -size <= i < size:
        raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {size}")
    i = i + size if i < 0 else i
    key = (slice(None),) * dim + (i,)
    res = record(t._data[key], SelectBackward0, (t,), (), (t._data.shape, dim, i))
    return _make_view(t, res, lambda d: d[key])


def select(t, dim, index):
    return _select(t, norm_dim(dim, t.ndim), int(index))


def _slice(t, dim, sl):
    start, stop, step = sl.indices(t._data.shape[dim])
    if step <= 0:
        raise ValueError("step must be greater than zero")
    sl = slice(start, max(stop, start), step)
    key = (slice(None),) * dim + (sl,)
    res = record(t._data[key], SliceBackward0, (t,), (), (t._data.shape, dim, sl))
    return _make_view(t, res, lambda d: d[key])


def narrow(t, dim, start, length):
    d = norm_dim(dim, t.ndim)
    return _slice(t, d, slice(start, start + length))


def _is_advanced(k) -> bool:
    return isinstance(k, (Tensor, list, np.ndarray, jax.Array)) or isinstance(k, bool)


def _normalize_key(key):
    if not isinstance(key, tuple):
        key = (key,)
    return key


def _expand_ellipsis(key, ndim):
    n_real = sum(
        1
        for k in key
        if k is not None
        and k is not Ellipsis
        and not (isinstance(k, Tensor) and k.dtype is _dtype.bool_ and k.ndim > 1)
    )
    out = []
    seen = False
    for k in key:
        if k is Ellipsis:
            if seen:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen = True
            out += [slice(None)] * (ndim - n_real)
        else:
            out.append(k)
    return out


def _adv_key(key):
    out = []
    for k in key:
        if isinstance(k, Tensor):
            if k.dtype.category >= 2:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(k._data)
        elif isinstance(k, list):
            out.append(jnp.asarray(np.asarray(k)))
        else:
            out.append(k)
    return tuple(out)


def getitem(t: Tensor, key) -> Tensor:
    """Mirrors `Tensor.__getitem__`: basic indexing gives chained views as torch does
    (`x[0, 1]` is two SelectBackward0 nodes); any tensor/list index gives one IndexBackward0."""
    key = _normalize_key(key)
    if t.ndim == 0 and key and all(isinstance(k, int) for k in key):
        raise IndexError(
            "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
            "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
        )
    if any(_is_advanced(k) for k in key):
        k = _adv_key(key)
        _check_adv_bounds(t, k)
        out = t._data[k]
        return record(out, IndexBackward0, (t,), (k,), t._data.shape)
    key = _expand_ellipsis(key, t.ndim)
    n_idx = sum(1 for k in key if k is not None)
    if n_idx > t.ndim:
        raise IndexError(f"too many indices for tensor of dimension {t.ndim}")
    res = t
    dim = 0
    all_full = all(isinstance(k, slice) and k == slice(None) for k in key)
    for k in key:
        if k is None:
            res = unsqueeze(res, dim)
            dim += 1
        elif isinstance(k, slice):
            if k != slice(None) or (all_full and res is t):
                res = _slice(res, dim, k)
            dim += 1
        elif isinstance(k, (int, np.integer)) or (isinstance(k, Tensor) and k.ndim == 0):
            res = _select(res, dim, int(k))
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                "are valid indices (got " + type(k).__name__ + ")"
            )
    if res is t:
        res = alias(t, True)
        if t._rg:
            res = _slice(t, 0, slice(None)) if t.ndim else view(t)
    return res


def _check_adv_bounds(t, key):
    dim = 0
    for k in key:
        if isinstance(k, jax.Array) and k.dtype != jnp.bool_:
            size = t._data.shape[dim]
            if k.size and (int(jnp.max(k)) >= size or int(jnp.min(k)) < -size):
                bad = int(jnp.max(k)) if int(jnp.max(k)) >= size else int(jnp.min(k))
                raise IndexError(
                    f"index {bad} is out of bounds for dimension {dim} with size {size}"
                )
            dim += 1
        elif isinstance(k, jax.Array):
            dim += k.ndim
        elif k is not None and k is not Ellipsis:
            dim += 1


@op("CopySlices")
def CopySlices(F, node, g):  # noqa: N802
    idx, vshape, vin = node._extra
    gb = F.flat_set_zero(g, idx)
    gv = None
    if node.next_functions[1][0] is not None:
        gv = F.sum_to(F.flat_take(g, idx, idx.shape), vin)
    return gb, gv


CopySlices.name = lambda self: "torch::autograd::CopySlices"


def _index_map(shape, fn):
    n = 1
    for s in shape:
        n *= s
    return fn(jnp.arange(n, dtype=jnp.int64).reshape(shape))


def setitem(t: Tensor, key, value) -> None:
    """Mirrors `Tensor.__setitem__`: an in-place copy into a region, recorded as CopySlices."""
    key = _normalize_key(key)
    if (
        _state.enabled
        and t._rg
        and t.grad_fn is None
        and t._view is None
        and not any(_is_advanced(k) for k in key)
        and any(isinstance(k, (int, slice)) for k in key)
    ):
        # torch writes a basic-indexing assignment through a view of `t`.
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )
    check_inplace(t)
    if any(_is_advanced(k) for k in key):
        k = _adv_key(key)
        _check_adv_bounds(t, k)
    else:
        k = tuple(_expand_ellipsis(key, t.ndim))
        for i, kk in enumerate(x for x in k if x is not None):
            if isinstance(kk, int):
                size = t._data.shape[i]
                if not -size <= kk < size:
                    raise IndexError(
                        f"index {kk} is out of bounds for dimension {i} with size {size}"
                    )
    idx = _index_map(t._data.shape, lambda d: d[k])
    v = value if isinstance(value, Tensor) else None
    varr = to_array(value, t.dtype) if v is None else value._data.astype(t._data.dtype)
    try:
        vb = jnp.broadcast_to(varr, idx.shape)
    except ValueError:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(np.shape(varr))} cannot be broadcast "
            f"to indexing result of shape {list(idx.shape)}"
        ) from None
    new = t._data.ravel().at[idx.ravel()].set(vb.ravel()).reshape(t._data.shape)
    res = record(new, CopySlices, (t, v), (), (idx, idx.shape, np.shape(varr)))
    commit(t, res)


# -- joining and splitting -----------------------------------------------------------------------
@op("StackBackward0")
def StackBackward0(F, node, g):  # noqa: N802
    dim, n = node._extra
    return tuple(F.getitem(g, (slice(None),) * dim + (i,)) for i in range(n))


def stack(tensors, dim: int = 0) -> Tensor:
    """Mirrors `torch.stack(tensors, dim=0)`."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    s0 = tensors[0].shape
    for i, x in enumerate(tensors):
        if x.shape != s0:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(s0)} at entry 0 and "
                f"{list(x.shape)} at entry {i}"
            )
    d = norm_dim(dim, len(s0) + 1)
    arrs, _ = _promote_all(tensors)
    return record(jnp.stack(arrs, d), StackBackward0, tuple(tensors), (), (d, len(tensors)))


def _promote_all(tensors):
    from ._base import promote

    return (
        promote(*tensors, broadcast=False)
        if len(tensors) > 1
        else ([tensors[0]._data], tensors[0].dtype)
    )


@op("CatBackward0")
def CatBackward0(F, node, g):  # noqa: N802
    dim, sizes = node._extra
    out = []
    start = 0
    for s in sizes:
        out.append(F.getitem(g, (slice(None),) * dim + (slice(start, start + s),)))
        start += s
    return tuple(out)


def cat(tensors, dim: int = 0) -> Tensor:
    """Mirrors `torch.cat(tensors, dim=0)`."""
    tensors = [x for x in tensors]
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    keep = [x for x in tensors if not (x.ndim == 1 and x.numel() == 0)] or tensors[:1]
    d = norm_dim(dim, keep[0].ndim)
    for i, x in enumerate(keep):
        if x.ndim != keep[0].ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {keep[0].ndim} and {x.ndim}"
            )
        for j in range(x.ndim):
            if j != d and x.shape[j] != keep[0].shape[j]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{keep[0].shape[j]} but got size {x.shape[j]} for tensor number {i} in the "
                    "list."
                )
    arrs, _ = _promote_all(keep)
    sizes = tuple(x.shape[d] for x in keep)
    return record(jnp.concatenate(arrs, d), CatBackward0, tuple(keep), (), (d, sizes))


concat = cat
concatenate = cat


def hstack(tensors):
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([x if x.ndim > 1 else unsqueeze(x, 0) for x in tensors], 0)


@op("UnbindBackward0")
def UnbindBackward0(F, node, grads):  # noqa: N802
    dim, shape = node._extra
    part = shape[:dim] + shape[dim + 1 :]
    gs = [g if g is not None else F.zeros(part, _first(grads)) for g in grads]
    return (F.stack(gs, dim),)


def _first(grads):
    for g in grads:
        if g is not None:
            return g
    return None


def unbind(t: Tensor, dim: int = 0) -> tuple:
    """Mirrors `torch.unbind`: iteration over a tensor yields these (UnbindBackward0)."""
    d = norm_dim(dim, t.ndim)
    n = t._data.shape[d]
    outs = (
        [t._data[(slice(None),) * d + (i,)] for i in range(n)]
        if n < 64
        else list(jnp.moveaxis(t._data, d, 0))
    )
    res = record_multi(outs, UnbindBackward0, (t,), (), (d, t._data.shape))
    for i, r in enumerate(res):
        key = (slice(None),) * d + (i,)
        _make_view(t, r, lambda x, key=key: x[key])
    return res


@op("SplitBackward0")
def SplitBackward0(F, node, grads):  # noqa: N802
    dim, sizes, shape = node._extra
    gs = []
    for g, s in zip(grads, sizes, strict=True):
        if g is None:
            g = F.zeros(shape[:dim] + (s,) + shape[dim + 1 :], _first(grads))
        gs.append(g)
    return (F.cat(gs, dim),)


def split(t: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    d = norm_dim(dim, t.ndim)
    n = t._data.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        sizes = [s] * (n // s) + ([n % s] if n % s else [])
        if n == 0:
            sizes = [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
    outs, start = [], 0
    for s in sizes:
        outs.append(t._data[(slice(None),) * d + (slice(start, start + s),)])
        start += s
    return record_multi(outs, SplitBackward0, (t,), (), (d, tuple(sizes), t._data.shape))


def chunk(t: Tensor, chunks: int, dim: int = 0) -> tuple:
    n = t._data.shape[norm_dim(dim, t.ndim)]
    size = -(-n // chunks)
    return split(t, size, dim)


# -- copies and casts ----------------------------------------------------------------------------
@op("CloneBackward0")
def CloneBackward0(F, node, g):  # noqa: N802
    return (g,)


def clone(t: Tensor, *, memory_format=None) -> Tensor:
    del memory_format
    return record(t._data, CloneBackward0, (t,), ())


def contiguous(t: Tensor, memory_format=None) -> Tensor:
    del memory_format
    return t


@op("ToCopyBackward0")
def ToCopyBackward0(F, node, g):  # noqa: N802
    return (F.cast(g, node._extra),)


def to_dtype(t: Tensor, dt, copy: bool = False) -> Tensor:
    dt = _dtype.to_dtype(dt)
    if dt is t.dtype and not copy:
        return t
    out = t._data.astype(dt.jax)
    if dt.category < 2:
        return Tensor._make(out)
    return record(out, ToCopyBackward0, (t,), (), t._data.dtype)


def to(t: Tensor, *args, **kwargs) -> Tensor:
    """Mirrors `Tensor.to(dtype)`, `.to(device)`, `.to(other)`; devices other than JAX's
    default are accepted by name and ignored, as compat has one device per JAX backend."""
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("device", None)
    for a in args:
        if isinstance(a, _dtype.dtype) or a in (float, int, bool):
            dt = a
        elif isinstance(a, Tensor):
            dt = a.dtype
    if dt is None:
        return t if not copy else clone(t)
    return to_dtype(t, dt, copy)


# -- misc -----------------------------------------------------------------------------------------
def nonzero(t: Tensor, *, as_tuple: bool = False):
    idx = jnp.nonzero(t._data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(jnp.int64)) for i in idx)
    return Tensor._make(jnp.stack(idx, -1).astype(jnp.int64))


@op("MaskedFillBackward0", saved=("mask",))
def MaskedFillBackward0(F, node, g, mask):  # noqa: N802
    return (F.mask(g, ~jnp.broadcast_to(mask, g.shape)),)


def masked_fill(t: Tensor, mask, value) -> Tensor:
    m = data(mask)
    return record(
        jnp.where(m, data(value), t._data).astype(t._data.dtype), MaskedFillBackward0, (t,), (m,)
    )


@op("DiagonalBackward0")
def DiagonalBackward0(F, node, g):  # noqa: N802
    n = node._extra
    if F.is_graph:
        raise NotImplementedError("compat: create_graph through diag() is not supported")
    return (jnp.diag(g) if n is None else jnp.zeros(n, g.dtype).at[jnp.diag_indices(n[0])].set(g),)


def diag(t: Tensor, diagonal: int = 0) -> Tensor:
    if t.ndim == 1:
        return Tensor._make(jnp.diag(t._data, diagonal))
    return record(jnp.diag(t._data, diagonal), DiagonalBackward0, (t,), (), t._data.shape)


# -- in-place machinery ---------------------------------------------------------------------------
def check_inplace(t: Tensor) -> None:
    """torch refuses in-place ops on a leaf (or a view of one) that requires grad, in grad mode."""
    if not _state.enabled:
        return
    if t._rg and t.grad_fn is None and t._view is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    if t._view is not None:
        base = t._view[0]
        if base._rg and base.grad_fn is None and t._view[2] and not t.__dict__.get("_nondiff_view"):
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation."
            )


def commit(t: Tensor, res: Tensor) -> Tensor:
    """Makes `t` hold `res` (the out-of-place result of an in-place op) and bumps its version."""
    if res._data.dtype != t._data.dtype:
        rd, td = _dtype.from_jax(res._data.dtype), t.dtype
        if rd.category > td.category:
            raise RuntimeError(
                f"result type {_legacy_name(rd)} can't be cast to the desired output type "
                f"{_legacy_name(td)}"
            )
        res._data = res._data.astype(t._data.dtype)
    if res._data.shape != t._data.shape:
        raise RuntimeError(
            f"output with shape {list(t._data.shape)} doesn't match the broadcast shape "
            f"{list(res._data.shape)}"
        )
    if _node.compile_active[0]:
        _node.check_compile_mutation(t, t if t._view is None else t._view[0])
    node = res.grad_fn
    if node is not None:
        _snapshot_saved(t, res, node)
        _set_history(t, node, res._output_nr)
    t._data = res._data
    t._vc[0] += 1
    base = t if t._view is None else t._view[0]
    old_fn = base.grad_fn
    if t._view is not None:
        _write_back(t)
    if "_views" in base.__dict__:
        _refresh_views(
            base, regenerate=base.grad_fn is not old_fn or (t is base and node is not None)
        )
    return t


def _set_history(t: Tensor, node, output_nr: int) -> None:
    """Makes `t` the output `output_nr` of `node` (after an in-place change of `t`)."""
    t.grad_fn = node
    t._output_nr = output_nr
    t._rg = True
    if t._retains_grad:
        # torch moves retain_grad to the tensor's new version.
        t._register_on_node()


def _snapshot_saved(t, res, node):
    # The node saved `t` as an input: keep its pre-op value and graph identity (torch's
    # original_self), and save the result as `t` itself so a later in-place change is caught.
    saved = node._saved
    if not saved:
        return
    snap = None
    new = []
    for s in saved:
        if s is t:
            if snap is None:
                snap = Tensor._make(t._data, t._rg)
                snap.grad_fn, snap._output_nr = t.grad_fn, t._output_nr
                snap._accumulator = t._accumulator
            new.append(snap)
        elif s is res:
            new.append(t)
        else:
            new.append(s)
    node._saved = tuple(new)
    node._saved_versions = tuple(
        (x, x._vc[0] + (1 if x is t else 0)) if x is t else (x, v)
        for x, v in node._saved_versions
        if x is not snap and x is not t
    ) + (((t, t._vc[0] + 1),) if any(s is t for s in new) else ())


def _legacy_name(d):
    return {
        "float32": "Float",
        "float64": "Double",
        "int64": "Long",
        "int32": "Int",
        "bool": "Bool",
        "float16": "Half",
        "uint8": "Byte",
        "int8": "Char",
        "int16": "Short",
        "bfloat16": "BFloat16",
    }.get(d.name, d.name)


def _write_back(t: Tensor) -> None:
    base, fn, _ = t._view
    if t.__dict__.get("_view_kind") == "reshape":
        new_base = t._data.reshape(base._data.shape)
        idx = None
    else:
        idx = _index_map(base._data.shape, fn)
        new_base = base._data.ravel().at[idx.ravel()].set(t._data.ravel()).reshape(base._data.shape)
    if needs_grad(base, t) and t._view[2] and not t.__dict__.get("_nondiff_view"):
        if idx is None:
            idx = _index_map(base._data.shape, fn)
        node = _node.new_node(CopySlices, (base, t), (), (idx, idx.shape, t._data.shape))
        _set_history(base, node, 0)
    base._data = new_base
