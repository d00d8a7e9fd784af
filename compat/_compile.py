"""`compat.compile`: run a torch-style stateful step as one XLA program.

Every compat op is a JAX op on the tensor's array, so a whole step (forward, `.backward()`,
reading `.grad`, an in-place update under `no_grad`, `grad.zero_()`) can be traced with tracers
inside the tensors. `compile` does exactly that: it swaps each tensor the function can reach for a
tracer-backed state, traces the function once into a jaxpr, and compiles that with `jax.jit`.
After every call it writes the resulting state (data, `.grad`, `requires_grad`, version counters)
back, as eager execution would have left it.

What the function can reach (its *state*): its arguments; the globals, closure variables and
default values its code names, and the globals and closure variables of the user-code functions
it names (helpers, and the methods of the user objects it reaches); inside all these, the items
of lists, tuples and dicts and the attributes of objects of user code (a model class holding its
parameters, a `SimpleNamespace` config); the base of every view among the tensors found. Live
views of state tensors that the step cannot name (an alias kept by the caller) are refreshed
after the call. Changing any other existing tensor inside the step is refused with an error
instead of leaving a tracer behind.

Two things keep a call cheap once traced:
- The jaxpr is analysed once: outputs that do not depend on the inputs (a `.grad` zeroed by
  `zero_()`) are computed once and written back as the same immutable array every call; outputs
  that are an input unchanged are written back without a buffer. The XLA program returns only
  the rest.
- A guard remembers the objects of the last call (arguments, globals, each tensor's array, grad
  and flags). When a call finds them all unchanged, the program is run without rebuilding the
  cache key; any difference falls back to the full lookup, which retraces if the key changed.
"""

from __future__ import annotations

import argparse
import functools
import operator
import os
import sys
import sysconfig
import threading
import types
import warnings

import jax
from jax.extend import core as jcore

from . import _dtype, _grad_mode, _node
from ._tensor import Tensor

_tracing = threading.local()
_is = operator.is_
_data_of = operator.attrgetter("_data")
_grad_of = operator.attrgetter("_grad")
_rg_of = operator.attrgetter("_rg")
_MISSING = object()
_MISS = object()
#: How many different keys one compiled function is traced for before new keys run eagerly
#: (torch's `recompile_limit` is 8 too).
RECOMPILE_LIMIT = 8


def is_compiling() -> bool:
    """True while `compat.compile` traces a function (random ops refuse to run then)."""
    return getattr(_tracing, "depth", 0) > 0


def check_mutation(t: Tensor) -> None:
    """Called by compat before it changes an existing tensor (its data or `.grad`) while a
    compiled function is traced: a tensor outside the step's state would keep a tracer."""
    state = getattr(_tracing, "state", None)
    if state is None or id(t) in state or isinstance(t._data, jax.core.Tracer):
        return
    raise RuntimeError(
        "compat.compile: the compiled function changed a tensor that is not part of its state "
        "(not in its arguments, nor in a global, closure variable or default value named by its "
        "code or by the user functions and methods it calls), so the change could not be written "
        "back. Pass that tensor (or the object holding it) to the compiled function as an "
        "argument."
    )


_STATE_TYPES = (Tensor, list, tuple, dict, int, float, bool, str, type(None))
_LIBRARY_DIRS = tuple(
    {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    | {
        os.path.realpath(p)
        for k in ("stdlib", "purelib", "platlib")
        if (p := sysconfig.get_path(k))
    }
)


@functools.cache
def _user_module(name: str | None) -> bool:
    """Whether a module is user code (not the standard library, an installed package, or compat
    and funcgrad themselves): its functions are followed and its objects looked into."""
    if name == "__main__":
        return True  # the script, notebook or session being run (whatever runs it)
    if name is None or name.partition(".")[0] in ("compat", "funcgrad"):
        return False
    path = getattr(sys.modules.get(name), "__file__", None)
    return path is not None and not os.path.realpath(path).startswith(_LIBRARY_DIRS)


@functools.cache
def _holds_state(cls) -> bool:
    """Whether instances of `cls` are looked into (their `__dict__`, for tensors and Python
    values): namespaces and the classes of user code, not library objects."""
    if cls is types.SimpleNamespace or cls is argparse.Namespace:
        return True
    if issubclass(cls, (type, types.ModuleType, Tensor)):
        return False
    return _user_module(cls.__module__)


@functools.cache
def _methods(cls) -> tuple:
    """The functions a user class and its user-code bases define: methods, static and class
    methods, property getters (their globals are followed like a called helper's)."""
    out = []
    for k in cls.__mro__:
        if not _user_module(k.__module__):
            continue
        for v in vars(k).values():
            if isinstance(v, (staticmethod, classmethod)):
                v = v.__func__
            elif isinstance(v, property):
                v = v.fget
            if type(v) is types.FunctionType:
                out.append(v)
    return tuple(out)


def _user_dict(obj):
    """The attribute dict of an object whose attributes are state (see `_holds_state`)."""
    d = getattr(obj, "__dict__", None)
    return d if type(d) is dict and _holds_state(type(obj)) else None


def _flatten(obj, out: list, seen: dict | None = None):
    """Collects tensors in nested lists/tuples/dicts and the attributes of user objects,
    returning a hashable skeleton. `seen` (id -> object) gathers the user objects met."""
    t = type(obj)
    if t is Tensor:
        out.append(obj)
        return 0
    if t is tuple or t is list:
        return (t, tuple([_flatten(x, out, seen) for x in obj]))
    if t is dict:
        return (dict, tuple([(k, _flatten(v, out, seen)) for k, v in obj.items()]))
    if isinstance(obj, Tensor):
        out.append(obj)
        return 0
    d = _user_dict(obj)
    if d is not None:
        if seen is None:
            seen = {}
        if id(obj) in seen:  # met again (shared or a cycle): its identity is the key
            return ("ref", id(obj))
        seen[id(obj)] = obj
        return ("attrs", t, tuple([(k, _flatten(v, out, seen)) for k, v in d.items()]))
    try:
        hash(obj)
    except TypeError:
        return ("obj", id(obj))
    return (t, obj)


def _state_like(v) -> bool:
    return isinstance(v, _STATE_TYPES) or _user_dict(v) is not None


@functools.cache
def _code_names(code) -> tuple:
    """The global names a code object and the code nested in it (comprehensions, lambdas) use."""
    names = dict.fromkeys(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names.update(dict.fromkeys(_code_names(c)))
    return tuple(names)


class _Refs:
    """The state-like globals, closure variables and default values a function names, following
    the user-code functions it names (called helpers) and the methods of user objects."""

    def __init__(self, fn) -> None:
        self.fn = fn

    @staticmethod
    def _walkable(v) -> bool:
        return type(v) is types.FunctionType and _user_module(v.__module__)

    def collect(self, objects=()):
        """-> (state, guard): `state` the ((name, value), ...) pairs for the cache key; `guard`
        the (globals, cells, functions) whose values were read, for `read_guard`. The methods of
        the user `objects` met in the arguments are followed too."""
        state, gsrc, csrc, fsrc = [], [], [], []
        seen: set = set()
        stack = [self.fn]
        for cls in dict.fromkeys(type(o) for o in objects):
            stack += _methods(cls)
        while stack:
            f = stack.pop()
            code = getattr(f, "__code__", None)
            if code is None or code in seen:
                continue
            seen.add(code)
            g = f.__globals__
            for name in _code_names(code):
                v = g.get(name, _MISSING)
                if v is _MISSING:
                    continue
                gsrc.append((g, name))
                if _state_like(v):
                    state.append((name, v))
                    if _user_dict(v) is not None:
                        stack += _methods(type(v))
                elif self._walkable(v):
                    stack.append(v)
            for name, cell in zip(code.co_freevars, f.__closure__ or (), strict=False):
                try:
                    v = cell.cell_contents
                except ValueError:  # an empty cell
                    continue
                csrc.append(cell)
                if _state_like(v):
                    state.append((name, v))
                    if _user_dict(v) is not None:
                        stack += _methods(type(v))
                elif self._walkable(v):
                    stack.append(v)
            if f is self.fn and (f.__defaults__ or f.__kwdefaults__):
                # The compiled function's own defaults (a helper's are not followed: the call
                # usually passes those arguments).
                fsrc.append(f)
                for i, v in enumerate(f.__defaults__ or ()):
                    if _state_like(v):
                        state.append((f"<default {i}>", v))
                    elif self._walkable(v):
                        stack.append(v)
                for k, v in (f.__kwdefaults__ or {}).items():
                    if _state_like(v):
                        state.append((f"<default {k}>", v))
        return tuple(state), (tuple(gsrc), tuple(csrc), tuple(fsrc))


def _read_guard(guard) -> list | None:
    gsrc, csrc, fsrc = guard
    vals = [g.get(n, _MISSING) for g, n in gsrc]
    try:
        vals += [c.cell_contents for c in csrc]
    except ValueError:
        return None
    for f in fsrc:
        vals.append(f.__defaults__)
        vals.append(f.__kwdefaults__)
    return vals


def _tensor_key(t: Tensor):
    if t.grad_fn is not None and t._rg:
        raise RuntimeError(
            "compat.compile: an input tensor is part of an autograd graph built outside "
            "the compiled function (it has a grad_fn). Pass leaf tensors (parameters, "
            "data) or detach() it first."
        )
    g = t._grad
    v = t._view
    return (
        t._data.shape,
        t._data.dtype,
        t._rg,
        None if g is None else (g._data.shape, g._data.dtype, g._rg),
        None if v is None else (id(v[1]), v[2]),
        tuple(t._hooks) if t._hooks else None,
        tuple(t._post_acc_hooks) if t._post_acc_hooks else None,
    )


class _Compiled:
    def __init__(self, fn) -> None:
        self.fn = fn
        self.cache: dict = {}
        self.traces = 0
        self._refs = _Refs(fn)
        self._fast = None
        self._warned = False
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        fast = self._fast
        if fast is not None and not kwargs:
            res = fast(args)
            if res is not _MISS:
                return res
        return self._call(args, kwargs)

    def _state(self, args, kwargs):
        """-> (key, uniq, guard, vals): the cache key of a call, its state tensors (each once;
        bases of views included), and the guard sources with their current values."""
        tensors: list[Tensor] = []
        objects: dict = {}
        skel_args = (_flatten(args, tensors, objects), _flatten(kwargs, tensors, objects))
        refs, guard = self._refs.collect(objects.values())
        skel = (skel_args, _flatten(refs, tensors))
        seen: dict = {}
        for t in tensors:
            seen.setdefault(id(t), t)
        for t in list(seen.values()):
            if t._view is not None:
                seen.setdefault(id(t._view[0]), t._view[0])
        uniq = list(seen.values())
        if len(uniq) != len(tensors):
            pos = {i: n for n, i in enumerate(seen)}
            skel = (skel, tuple(pos[id(t)] for t in tensors), len(uniq))
        st = _grad_mode._state
        mode = (st.enabled, st.inference, _dtype._default_float[0])
        key = (skel, tuple(map(_tensor_key, uniq)), mode)
        return key, uniq, guard, _read_guard(guard)

    def _call(self, args, kwargs):
        self._fast = None
        key, uniq, guard, vals = self._state(args, kwargs)
        entry = self.cache.get(key)
        if entry is None:
            if len(self.cache) >= RECOMPILE_LIMIT:
                if not self._warned:
                    self._warned = True
                    warnings.warn(
                        f"compat.compile: {getattr(self.fn, '__qualname__', self.fn)!r} was traced "
                        f"for {RECOMPILE_LIMIT} different keys (shapes, dtypes, flags or Python "
                        "values of what it reaches); calls with a new key now run eagerly. A "
                        "Python value that changes on every call (a counter, a float computed "
                        "each step) is the usual cause: pass it as a tensor instead.",
                        UserWarning,
                        stacklevel=3,
                    )
                return self.fn(*args, **kwargs)
            entry = _trace(self, uniq, args, kwargs)
            self.cache[key] = entry
        datas = list(map(_data_of, uniq))
        gpresent = [g for g in map(_grad_of, uniq) if g is not None]
        gdatas = list(map(_data_of, gpresent))
        result = entry.run(uniq, datas, gpresent, gdatas)
        # The next call may skip the lookup if this step left everything it reaches as it found
        # it, up to new arrays (a training loop): same key, same tensors, same Python objects.
        if entry.steady and not kwargs and vals is not None:
            key2, uniq2, guard2, vals2 = self._state(args, kwargs)
            if (
                key2 == key
                and len(uniq2) == len(uniq)
                and all(map(_is, uniq2, uniq))
                and vals2 is not None
                and len(vals2) == len(vals)
                and all(map(_is, vals2, vals))
            ):
                self._fast = _make_fast(entry, args, guard, vals, uniq, key[2])
        return result

    def __repr__(self) -> str:
        return f"<compat.compile of {self.fn!r}>"


def _mutable(obj, seen: frozenset = frozenset()) -> bool:
    t = type(obj)
    if t is list or t is dict or _user_dict(obj) is not None:
        return True
    return t is tuple and id(obj) not in seen and any(_mutable(x, seen | {id(obj)}) for x in obj)


def _content_conds(expr: str, obj, conds: list, const, seen: frozenset = frozenset()) -> None:
    """Appends the conditions that catch a change inside the containers of `obj` (read through
    `expr`, whose identity was checked first): lengths, keys and each item's identity, and the
    attributes of user objects."""
    if id(obj) in seen:
        return  # a cycle: its identity was checked where it was first met
    seen = seen | {id(obj)}
    t = type(obj)
    d = _user_dict(obj)
    if d is not None:
        expr, obj, t = f"{expr}.__dict__", d, dict
    if t is list or t is tuple:
        if t is list:
            conds.append(f"len({expr}) != {len(obj)}")
        for i, x in enumerate(obj):
            if t is list:
                conds.append(f"{expr}[{i}] is not {const('A', x)}")
            if _mutable(x):
                _content_conds(f"{expr}[{i}]", x, conds, const, seen)
    elif t is dict:
        conds.append(f"tuple({expr}) != {const('A', tuple(obj))}")
        for k, v in obj.items():
            item = f"{expr}[{const('A', k)}]"
            conds.append(f"{item} is not {const('A', v)}")
            if _mutable(v):
                _content_conds(item, v, conds, const, seen)


#: A guard longer than this (a huge list reached by the step) is not generated: such calls take
#: the full path.
_MAX_GUARD = 4000


def _make_fast(entry, args, guard, vals, uniq, mode):
    """The guarded call for the next step of a stable loop, generated as straight-line Python.

    It checks that every object the last call saw is still there (the same arguments, globals,
    closure cells and defaults; each tensor's array, grad object, grad array and flag), calls the
    XLA program and writes its results back, with no lookups or loops left. Anything different
    returns `_MISS` and the call takes the full path."""
    from ._ops.shape import _refresh_views

    ns = {
        "MISS": _MISS,
        "MISSING": _MISSING,
        "state": _grad_mode._state,
        "hook_epoch": _node.hook_epoch,
        "EPOCH": _node.hook_epoch[0],
        "ME": mode[0],
        "MI": mode[1],
        "MD": mode[2],
        "DF": _dtype._default_float,
        "J": entry.jitted,
        "make": Tensor._make,
        "refresh": _refresh_views,
        "E": list(map(_data_of, uniq)),
    }
    code = ["def fast(args):"]

    def emit(line: str) -> None:
        code.append("    " + line)

    def any_not(conds) -> None:
        if conds:
            emit(f"if {' or '.join(conds)}: return MISS")

    def const(prefix: str, value) -> str:
        name = f"{prefix}{len(ns)}"
        ns[name] = value
        return name

    def same(expr: str, obj) -> None:
        """Conditions (any true: a miss) for `expr` still being `obj`, contents included."""
        conds = [f"{expr} is not {const('A', obj)}"]
        _content_conds(expr, obj, conds, const)
        any_not(conds)

    emit(f"if len(args) != {len(args)}: return MISS")
    for i, a in enumerate(args):
        same(f"args[{i}]", a)
    emit("if state.enabled is not ME or state.inference is not MI or DF[0] is not MD: return MISS")
    emit("if hook_epoch[0] != EPOCH: return MISS")
    gsrc, csrc, fsrc = guard
    it = iter(vals)
    for g, name in gsrc:
        emit(f"r = {const('G', g)}.get({name!r}, MISSING)")
        same("r", next(it))
    if csrc:
        emit("try:")
        for k, c in enumerate(csrc):
            emit(f"    c{k} = {const('C', c)}.cell_contents")
        emit("except ValueError: return MISS")
        for k in range(len(csrc)):
            same(f"c{k}", next(it))
    for f in fsrc:
        fn = const("F", f)
        same(f"{fn}.__defaults__", next(it))
        same(f"{fn}.__kwdefaults__", next(it))
    n = len(uniq)
    gpresent = []
    for i, t in enumerate(uniq):
        ns[f"T{i}"] = t
        emit(f"d{i} = T{i}._data")
    any_not([f"d{i} is not E[{i}]" for i in range(n)])
    conds = []
    for i, t in enumerate(uniq):
        if t._grad is None:
            conds.append(f"T{i}._grad is not None")
        else:
            ns[f"GP{len(gpresent)}"] = t._grad
            conds.append(f"T{i}._grad is not GP{len(gpresent)}")
            gpresent.append(t._grad)
        conds.append(f"T{i}._rg is not {bool(t._rg)!r}")
    if any(t._rg is not bool(t._rg) for t in uniq):
        return None
    any_not(conds)
    ns["EG"] = [g._data for g in gpresent]
    for k in range(len(gpresent)):
        emit(f"g{k} = GP{k}._data")
    any_not([f"g{k} is not EG[{k}]" for k in range(len(gpresent))])
    ins = [f"d{i}" for i in range(n)] + [f"g{k}" for k in range(len(gpresent))]
    emit(f"o = J({', '.join(ins)})")

    def val(logical: int) -> str:
        kind, x = entry.srcs[logical]
        if kind == 0:
            return f"o[{x}]"
        if kind == 1:
            return const("K", x)
        return ins[x]

    for i, lg in entry.data_ops:
        emit(f"v = {val(lg)}; T{i}._data = v; E[{i}] = v")
    for _, gi, lg, gdv in entry.grad_ops:
        emit(f"v = {val(lg)}; GP{gi}._data = v; EG[{gi}] = v")
        if gdv:
            emit(f"GP{gi}._vc[0] += {gdv}")
    for i, dv in entry.vc_ops:
        emit(f"T{i}._vc[0] += {dv}")
    for i, _ in entry.data_ops:
        emit(f'if "_views" in T{i}.__dict__: refresh(T{i}, regenerate=False)')

    def rebuild(recipe) -> str:
        tag = recipe[0]
        if tag == "input":
            return f"T{recipe[1]}"
        if tag == "T":
            return f"make({val(entry.out_base + recipe[1])}, {recipe[2]!r})"
        if tag == "A":
            return val(entry.out_base + recipe[1])
        if tag == "v":
            return const("R", recipe[1])
        kind, items = recipe
        if kind is dict:
            return "{" + ", ".join(f"{const('R', k)}: {rebuild(v)}" for k, v in items) + "}"
        parts = [rebuild(x) for x in items]
        if kind is list:
            return "[" + ", ".join(parts) + "]"
        if kind is tuple:
            return "(" + "".join(p + ", " for p in parts) + ")"
        return f"{const('R', kind)}({', '.join(parts)})"

    emit(f"return {'None' if entry.recipe is None else rebuild(entry.recipe)}")
    if len(ns) > _MAX_GUARD:
        return None
    exec("\n".join(code), ns)  # noqa: S102 - generated from the plan above, no user text
    return ns["fast"]


class _Entry:
    """One traced program and the plan for writing its results back into the tensors."""

    __slots__ = (
        "jitted",
        "srcs",
        "direct",
        "data_ops",
        "grad_ops",
        "vc_ops",
        "rg_ops",
        "recipe",
        "n_out",
        "out_base",
        "steady",
    )

    def run(self, uniq, datas, gpresent, gdatas):
        """Runs the program on the tensors' arrays and writes the new state back. `datas` and
        `gdatas` (lists of the arrays passed in) are updated to the arrays written back."""
        outs = self.jitted(*datas, *gdatas)
        if self.direct:
            vals = outs
        else:
            ins = datas + gdatas
            vals = [outs[x] if kind == 0 else (x if kind == 1 else ins[x]) for kind, x in self.srcs]
        for i, k in self.data_ops:
            a = vals[k]
            uniq[i]._data = a
            datas[i] = a
        for i, gi, k, gdv in self.grad_ops:
            t = uniq[i]
            if k is None:
                t._grad = None
            elif gi is None:
                g = Tensor._make(vals[k])
                g._vc[0] = gdv
                t._grad = g
            else:
                a = vals[k]
                g = gpresent[gi]
                g._data = a
                g._vc[0] += gdv
                gdatas[gi] = a
        for i, dv in self.vc_ops:
            uniq[i]._vc[0] += dv
        for i, rg in self.rg_ops:
            uniq[i]._rg = rg
        for i, _ in self.data_ops:
            if "_views" in uniq[i].__dict__:
                from ._ops.shape import _refresh_views

                _refresh_views(uniq[i], regenerate=False)
        if self.recipe is None:
            return None
        return _rebuild(vals, self.recipe, uniq, self.out_base)


def _trace(owner: _Compiled, uniq: list, args, kwargs) -> _Entry:
    """Traces `owner.fn` with tracers in the state tensors; builds the program and its plan."""
    fn = owner.fn
    n = len(uniq)
    gidx = [i for i, t in enumerate(uniq) if t._grad is not None]
    state_ids = {id(t) for t in uniq}
    # Live views of state tensors that the step can't name: kept out of the trace (their arrays
    # are restored), refreshed after each call from their written-back base.
    hidden = []
    for t in uniq:
        views = t.__dict__.get("_views")
        if views:
            hidden += [v for v in list(views) if id(v) not in state_ids]
    info: dict = {}

    def pure(*ins):
        saved = [
            (t._data, t._grad, t._rg, t._vc[0], t.grad_fn, t._output_nr, t._accumulator)
            for t in uniq
        ]
        saved_grad_vc = [None if t._grad is None else t._grad._vc[0] for t in uniq]
        saved_hidden = [(v._data, v._rg, v.grad_fn, v._output_nr) for v in hidden]
        prev_state = getattr(_tracing, "state", None)
        _tracing.state = state_ids | {id(v) for v in hidden}
        _tracing.depth = getattr(_tracing, "depth", 0) + 1
        _node.compile_active[0] += 1
        try:
            for t, d in zip(uniq, ins[:n], strict=True):
                t._data = d
                t._accumulator = None
            for i, g in zip(gidx, ins[n:], strict=True):
                uniq[i]._grad = Tensor._make(g, uniq[i]._grad._rg)
            vcs = {}
            for i, t in enumerate(uniq):
                vcs.setdefault(id(t._vc), (i, saved[i][3]))
            out = fn(*args, **kwargs)
            for t in uniq:
                if t.grad_fn is not None:
                    raise RuntimeError(
                        "compat.compile: the function left an input tensor attached to an "
                        "autograd graph (an in-place op recorded on it). Compiled steps "
                        "must leave inputs as leaves."
                    )
            logical: list = []  # the arrays the step leaves, in plan order
            data_ops, grad_ops, rg_ops = [], [], []
            for i, t in enumerate(uniq):
                if t._data is not ins[i]:
                    data_ops.append((i, len(logical)))
                    logical.append(t._data)
                if t._rg != saved[i][2]:
                    rg_ops.append((i, t._rg))
            pos_of_grad = {i: k for k, i in enumerate(gidx)}
            for i, t in enumerate(uniq):
                g = t._grad
                gi = pos_of_grad.get(i)
                if g is None:
                    if gi is not None:
                        grad_ops.append((i, gi, None, 0))
                    continue
                if gi is not None and g._data is ins[n + gi] and g._vc[0] == 0:
                    continue  # untouched
                # Grads enter the trace at version 0 (fresh), so this is the delta for an
                # existing .grad and the absolute version of one created inside.
                grad_ops.append((i, gi, len(logical), g._vc[0]))
                logical.append(g._data)
            vc_ops = [(i, uniq[i]._vc[0] - v0) for i, v0 in vcs.values() if uniq[i]._vc[0] != v0]
            out_base = len(logical)
            recipe = None if out is None else _strip(out, uniq, logical)
            info.update(
                data_ops=data_ops, grad_ops=grad_ops, vc_ops=vc_ops, rg_ops=rg_ops,
                recipe=recipe, out_base=out_base,
            )  # fmt: skip
            owner.traces += 1
            return logical
        finally:
            _tracing.depth -= 1
            _tracing.state = prev_state
            _node.compile_active[0] -= 1
            for t, s in zip(uniq, saved, strict=True):
                (t._data, t._grad, t._rg, t._vc[0], t.grad_fn, t._output_nr, t._accumulator) = s
            for t, gv in zip(uniq, saved_grad_vc, strict=True):
                if gv is not None:
                    t._grad._vc[0] = gv
            for v, s in zip(hidden, saved_hidden, strict=True):
                (v._data, v._rg, v.grad_fn, v._output_nr) = s

    ins = [t._data for t in uniq] + [uniq[i]._grad._data for i in gidx]
    closed = jax.make_jaxpr(pure)(*ins)
    entry = _Entry()
    entry.data_ops = info["data_ops"]
    entry.grad_ops = info["grad_ops"]
    entry.vc_ops = info["vc_ops"]
    entry.rg_ops = info["rg_ops"]
    entry.recipe = info["recipe"]
    entry.out_base = info["out_base"]
    # A step that creates or drops a .grad or flips requires_grad never leaves its key as it found
    # it, so it never gets the guarded fast path (and the check for it is skipped).
    entry.steady = not entry.rg_ops and all(
        gi is not None and k is not None for _, gi, k, _ in entry.grad_ops
    )
    _plan_outputs(entry, closed, ins)
    return entry


def _plan_outputs(entry: _Entry, closed, ins: list) -> None:
    """Sorts the jaxpr's outputs into computed ones (returned by the XLA program), constants
    (evaluated once here) and inputs passed through; compiles the program for the first kind."""
    jaxpr = closed.jaxpr
    invar_pos = {v: k for k, v in enumerate(jaxpr.invars)}
    if closed.effects:
        dep = None  # effects (callbacks): nothing is a constant
    else:
        dep = set(jaxpr.invars)
        for eqn in jaxpr.eqns:
            if any(type(v) is not jcore.Literal and v in dep for v in eqn.invars):
                dep.update(eqn.outvars)
    srcs, computed, const_pos = [], {}, []
    for p, v in enumerate(jaxpr.outvars):
        if type(v) is not jcore.Literal and v in invar_pos:
            srcs.append((2, invar_pos[v]))
        elif dep is None or (type(v) is not jcore.Literal and v in dep):
            srcs.append((0, computed.setdefault(v, len(computed))))
        else:
            srcs.append((1, len(const_pos)))
            const_pos.append(p)
    comp_pos = [next(p for p, v in enumerate(jaxpr.outvars) if v is w) for w in computed]
    f = jcore.jaxpr_as_fun(closed)

    def select(positions):
        def run(*xs):
            outs = f(*xs)
            return [outs[p] for p in positions]

        return run

    entry.jitted = jax.jit(select(comp_pos))
    if const_pos:
        consts = jax.jit(select(const_pos))(*ins)
        srcs = [(1, consts[x]) if kind == 1 else (kind, x) for kind, x in srcs]
    entry.srcs = srcs
    entry.direct = all(kind == 0 and x == k for k, (kind, x) in enumerate(srcs))
    entry.n_out = len(comp_pos)


def _strip(out, uniq, arrays: list):
    """Appends the result's arrays to `arrays`; returns a recipe to rebuild the result."""
    ids = {id(t): i for i, t in enumerate(uniq)}
    base = len(arrays)

    def rec(o):
        if isinstance(o, Tensor):
            if id(o) in ids:
                return ("input", ids[id(o)])
            arrays.append(o._data)
            return ("T", len(arrays) - 1 - base, o._rg and o.grad_fn is None)
        if isinstance(o, (list, tuple)):
            return (type(o), [rec(x) for x in o])
        if isinstance(o, dict):
            return (dict, [(k, rec(v)) for k, v in o.items()])
        if isinstance(o, jax.Array):
            arrays.append(o)
            return ("A", len(arrays) - 1 - base)
        return ("v", o)

    return rec(out)


def _rebuild(vals, recipe, uniq, base: int):
    tag = recipe[0]
    if tag == "input":
        return uniq[recipe[1]]
    if tag == "T":
        return Tensor._make(vals[base + recipe[1]], recipe[2])
    if tag == "A":
        return vals[base + recipe[1]]
    if tag == "v":
        return recipe[1]
    kind, items = recipe
    if kind is dict:
        return {k: _rebuild(vals, v, uniq, base) for k, v in items}
    out = [_rebuild(vals, x, uniq, base) for x in items]
    return kind(out) if kind in (list, tuple) else kind(*out)


def compile(fn=None, **options):  # noqa: A001 - torch's name
    """Compiles a torch-style stateful function into one XLA program (`jax.jit`).

    Mirrors the spirit of `torch.compile`: decorate a training step that runs forward,
    `.backward()`, reads `.grad` and updates tensors in place under `no_grad`; each call then runs
    as a single jitted program, and the tensors it reached (in its arguments; in the globals,
    closure variables and default values named by its code or by the user functions and methods
    it calls; inside lists, tuples, dicts and user objects' attributes; bases of views among them)
    hold afterwards exactly what eager execution would have left: data, `.grad` (same object,
    accumulated), `requires_grad` and version counters.

    Compiled programs are cached by the structure and Python values of the arguments and of
    the referenced globals, and by each tensor's shape, dtype, `requires_grad`, grad layout, view
    and hooks; a change in any of these retraces. Python control flow that reads tensor values
    (`if loss > 0`, `.item()`) cannot be traced and raises an error saying so; use
    `compat.where` or `funcgrad.while_loop`, or run that function eagerly. Random factories
    (`randn`, ...) refuse to run inside: draw random tensors outside and pass them in. Changing a
    tensor the step cannot see as state (one reached through an installed library's objects) is
    refused; a tensor it only reads that way is baked into the program as a constant.

    Differences from eager: tensors returned are new tensors without `grad_fn` (the graph lives
    inside the XLA program); Python side effects (printing, hooks) happen once, while tracing.

    Like torch's recompile limit, a function traced for `RECOMPILE_LIMIT` (8) different keys
    warns once and runs eagerly for any further new key (a key that changes on every call would
    otherwise pay a trace and an XLA compile per call); programs already built keep being used.

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
    unknown = set(options) - _TORCH_OPTIONS
    if unknown:
        raise TypeError(f"compile() got an unexpected keyword argument '{sorted(unknown)[0]}'")
    if fn is None:
        return functools.partial(compile, **options)
    if options.get("disable"):
        return fn
    return _Compiled(fn)


#: `torch.compile`'s keyword arguments: accepted (one XLA program is what every mode gives here);
#: `disable=True` returns the function unchanged, as torch does.
_TORCH_OPTIONS = frozenset({"fullgraph", "dynamic", "backend", "mode", "options", "disable"})
