"""`compat.compile`: run a torch-style stateful step as one XLA program.

Every compat op is a JAX op on the tensor's array, so a whole step (forward, `.backward()`,
reading `.grad`, an in-place update under `no_grad`, `grad.zero_()`) can be traced by `jax.jit`
with tracers inside the tensors. `compile` does exactly that: it swaps each tensor the function
can reach (its arguments, and tensors its code names as globals or closure variables) for a
tracer-backed state, runs the function once under `jax.jit`, and writes the resulting state
(data, `.grad`, `requires_grad`, version counters) back after every call, as eager execution
would have left it.
"""

from __future__ import annotations

import functools
import threading

import jax

from . import _grad_mode
from ._tensor import Tensor

_tracing = threading.local()


def is_compiling() -> bool:
    """True while `compat.compile` traces a function (random ops refuse to run then)."""
    return getattr(_tracing, "depth", 0) > 0


_STATE_TYPES = (Tensor, list, tuple, dict, int, float, bool, str, type(None))


def _flatten(obj, out: list):
    """Collects tensors in nested lists/tuples/dicts, returning a hashable skeleton."""
    t = type(obj)
    if t is Tensor:
        out.append(obj)
        return 0
    if t is tuple or t is list:
        return (t, tuple([_flatten(x, out) for x in obj]))
    if t is dict:
        return (dict, tuple([(k, _flatten(v, out)) for k, v in obj.items()]))
    if isinstance(obj, Tensor):
        out.append(obj)
        return 0
    try:
        hash(obj)
    except TypeError:
        return ("obj", id(obj))
    return (t, obj)


def _reference_reader(fn):
    """A function returning the state-like globals and closure variables `fn`'s code names.

    The names are fixed by the code; their values are re-read on every call (a global rebound
    between calls must be seen)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return lambda: ()
    g = getattr(fn, "__globals__", {})
    names = tuple(code.co_names)
    cells = tuple(zip(code.co_freevars, fn.__closure__ or (), strict=False))

    def read():
        vals = []
        for name in names:
            v = g.get(name, g)
            if v is not g and isinstance(v, _STATE_TYPES):
                vals.append((name, v))
        for name, cell in cells:
            try:
                v = cell.cell_contents
            except ValueError:  # empty cell
                continue
            if isinstance(v, _STATE_TYPES):
                vals.append((name, v))
        return tuple(vals)

    return read


class _Compiled:
    def __init__(self, fn) -> None:
        self.fn = fn
        self.cache: dict = {}
        self.traces = 0
        self._refs = _reference_reader(fn)
        functools.update_wrapper(self, fn)

    def _state_key(self, tensors):
        key = []
        for t in tensors:
            if t.grad_fn is not None and t._rg:
                raise RuntimeError(
                    "compat.compile: an input tensor is part of an autograd graph built outside "
                    "the compiled function (it has a grad_fn). Pass leaf tensors (parameters, "
                    "data) or detach() it first."
                )
            g = t._grad
            key.append(
                (
                    t._data.shape,
                    t._data.dtype,
                    t._rg,
                    None if g is None else (g._data.shape, g._data.dtype),
                )
            )
        return tuple(key)

    def __call__(self, *args, **kwargs):
        tensors: list[Tensor] = []
        skel = (
            _flatten(args, tensors),
            _flatten(kwargs, tensors) if kwargs else None,
            _flatten(self._refs(), tensors),
        )
        # A tensor reachable twice is one state.
        seen: dict = {}
        for t in tensors:
            seen.setdefault(id(t), t)
        uniq = list(seen.values())
        if len(uniq) != len(tensors):
            pos = {i: n for n, i in enumerate(seen)}
            skel = (skel, tuple(pos[id(t)] for t in tensors))
        key = (skel, self._state_key(uniq), _grad_mode._state.enabled)
        entry = self.cache.get(key)
        if entry is None:
            entry = self._build(uniq)
            self.cache[key] = entry
        jitted, meta = entry
        datas = [t._data for t in uniq]
        grads = [None if t._grad is None else t._grad._data for t in uniq]
        changed_datas, changed_grads, outs = jitted(datas, grads, args, kwargs)
        rgs, version_deltas, grad_version_deltas, out_meta, dmask, gmask = meta["after"]
        it_d, it_g = iter(changed_datas), iter(changed_grads)
        for t, d0, g0, rg, dv, gdv, dm, gm in zip(
            uniq, datas, grads, rgs, version_deltas, grad_version_deltas, dmask, gmask, strict=True
        ):
            d = next(it_d) if dm else d0
            g = next(it_g) if gm else g0
            t._data = d
            t._rg = rg
            t._vc[0] += dv
            if g is None:
                t._grad = None
            elif t._grad is None:
                t._grad = Tensor._make(g)
                t._grad._vc[0] = gdv
            else:
                t._grad._data = g
                t._grad._vc[0] += gdv
        return _rebuild(outs, out_meta, uniq)

    def _build(self, uniq):
        meta: dict = {}
        fn = self.fn

        def pure(datas, grads, args, kwargs):
            saved = [
                (
                    t._data,
                    t._grad,
                    t._rg,
                    t._vc[0],
                    t.grad_fn,
                    t._output_nr,
                    t._accumulator,
                    None if t._grad is None else t._grad._vc[0],
                )
                for t in uniq
            ]
            grad_objs = [t._grad for t in uniq]
            _tracing.depth = getattr(_tracing, "depth", 0) + 1
            try:
                for t, d, g in zip(uniq, datas, grads, strict=True):
                    t._data = d
                    t._accumulator = None
                    if g is not None:
                        t._grad = Tensor._make(g)
                        t._grad._vc = [0]
                out = fn(*args, **kwargs)
                new_datas = [t._data for t in uniq]
                new_grads = [None if t._grad is None else t._grad._data for t in uniq]
                rgs = [t._rg for t in uniq]
                deltas = [t._vc[0] - s[3] for t, s in zip(uniq, saved, strict=True)]
                # Grads start the trace at version 0 (fresh or reset), so this is the delta for
                # an existing .grad and the absolute version of one created inside.
                gdeltas = [0 if t._grad is None else t._grad._vc[0] for t in uniq]
                for t in uniq:
                    if t.grad_fn is not None:
                        raise RuntimeError(
                            "compat.compile: the function left an input tensor attached to an "
                            "autograd graph (an in-place op recorded on it). Compiled steps "
                            "must leave inputs as leaves."
                        )
                out_arrays, out_meta = _strip(out, uniq)
                # Only state the step changed leaves the program: pass-through outputs would cost
                # a buffer each per call.
                dmask = [nd is not d for nd, d in zip(new_datas, datas, strict=True)]
                gmask = [ng is not g for ng, g in zip(new_grads, grads, strict=True)]
                meta["after"] = (rgs, deltas, gdeltas, out_meta, dmask, gmask)
                self.traces += 1
                return (
                    [d for d, m in zip(new_datas, dmask, strict=True) if m],
                    [g for g, m in zip(new_grads, gmask, strict=True) if m],
                    out_arrays,
                )
            finally:
                _tracing.depth -= 1
                for t, s, go in zip(uniq, saved, grad_objs, strict=True):
                    (t._data, _, t._rg, t._vc[0], t.grad_fn, t._output_nr, t._accumulator, gv) = s
                    t._grad = go
                    if go is not None:
                        go._vc[0] = gv

        return _StaticArgs(pure), meta


class _StaticArgs:
    """jax.jit over (datas, grads) with the call's arguments closed over: arrays inside the
    arguments are the same objects as `datas` (the tensors), so the arguments only carry
    structure and Python values, which the cache key already covers."""

    def __init__(self, pure) -> None:
        self.pure = pure
        self.jitted = None
        self.args = None

    def __call__(self, datas, grads, args, kwargs):
        self.args = (args, kwargs)
        if self.jitted is None:
            self.jitted = jax.jit(lambda d, g: self.pure(d, g, *self.args))
        return self.jitted(datas, grads)


def _strip(out, uniq):
    """Splits the function's result into arrays (traced outputs) and a rebuild recipe."""
    ids = {id(t): i for i, t in enumerate(uniq)}
    arrays: list = []

    def rec(o):
        if isinstance(o, Tensor):
            if id(o) in ids:
                return ("input", ids[id(o)])
            arrays.append(o._data)
            return ("T", len(arrays) - 1, o._rg and o.grad_fn is None)
        if isinstance(o, (list, tuple)):
            return (type(o), [rec(x) for x in o])
        if isinstance(o, dict):
            return (dict, [(k, rec(v)) for k, v in o.items()])
        if isinstance(o, jax.Array):
            arrays.append(o)
            return ("A", len(arrays) - 1)
        return ("v", o)

    recipe = rec(out)
    return arrays, recipe


def _rebuild(arrays, recipe, uniq):
    tag = recipe[0]
    if tag == "input":
        return uniq[recipe[1]]
    if tag == "T":
        return Tensor._make(arrays[recipe[1]], recipe[2])
    if tag == "A":
        return arrays[recipe[1]]
    if tag == "v":
        return recipe[1]
    kind, items = recipe
    if kind is dict:
        return {k: _rebuild(arrays, v, uniq) for k, v in items}
    vals = [_rebuild(arrays, x, uniq) for x in items]
    return kind(vals) if kind in (list, tuple) else kind(*vals)


def compile(fn=None, **options):  # noqa: A001 - torch's name
    """Compiles a torch-style stateful function into one XLA program (`jax.jit`).

    Mirrors the spirit of `torch.compile`: decorate a training step that runs forward,
    `.backward()`, reads `.grad` and updates tensors in place under `no_grad`; each call then runs
    as a single jitted program, and the tensors it reached (arguments, and globals or closure
    variables its code names) hold afterwards exactly what eager execution would have left:
    data, `.grad` (same object, accumulated), `requires_grad` and version counters.

    Compiled programs are cached by the structure and Python values of the arguments and of
    the referenced globals, and by each tensor's shape, dtype, `requires_grad` and grad layout;
    a change in any of these retraces. Python control flow that reads tensor values
    (`if loss > 0`, `.item()`) cannot be traced and raises an error saying so; use
    `compat.where` or `funcgrad.while_loop`, or run that function eagerly. Random factories
    (`randn`, ...) refuse to run inside: draw random tensors outside and pass them in.

    Differences from eager: tensors returned are new tensors without `grad_fn` (the graph lives
    inside the XLA program); Python side effects (printing) happen once, while tracing.

    Example:
        >>> import compat as torch
        >>> w = torch.zeros(3, requires_grad=True)
        >>> @torch.compile
        ... def step(x, y):
        ...     loss = ((x @ w - y) ** 2).mean()
        ...     loss.backward()
        ...     with torch.no_grad():
        ...         w.sub_(0.1 * w.grad)
        ...         w.grad.zero_()
        ...     return loss
    """
    del options
    if fn is None:
        return compile
    return _Compiled(fn)
