"""The backward engine: `Tensor.backward`, `autograd.backward` and `autograd.grad`.

One pass: count each node's consumers (iterative DFS), then run nodes when all their consumers
have delivered, newest first (a heap on creation order, as torch orders ready nodes), summing
gradients per node output. Nothing user-visible changes until the whole pass has succeeded:
`.grad` accumulation, retained grads and the freeing of saved values are applied at the end, so
a failed backward leaves every `.grad` and the graph exactly as they were.
"""

from __future__ import annotations

import heapq
import warnings

import jax
import jax.numpy as jnp

from . import _grad_mode, _node
from ._node import _FREED_MSG, _SAVED_FREED, AccumulateGrad
from ._node import edge as _edge
from ._tensor import Tensor


def _raw_ns():
    from ._ops._base import RAW

    return RAW


def _graph_ns():
    from ._ops._graph_ns import GRAPH

    return GRAPH


_ones_cache: dict = {}
_k_add = jax.jit(jnp.add)  # .grad accumulation, through JAX's C++ dispatch


def _ones(shape, jdt):
    key = (shape, jdt)
    arr = _ones_cache.get(key)
    if arr is None:
        arr = jnp.ones(shape, jdt)
        if len(_ones_cache) < 256 and not isinstance(arr, jax.core.Tracer):
            _ones_cache[key] = arr
    return arr


def _legacy(t) -> str:
    return f"torch.{t.dtype._legacy}"


def _version_error(t, expected, node):
    fn = t.grad_fn
    if node is not None:
        # torch names a saved *output* after the node that saved it (its history is not kept
        # with it); a saved input after its current grad_fn.
        names = type(node)._saved_names
        for i, s in enumerate(node._saved if node._saved is not _SAVED_FREED else ()):
            if s is t and i < len(names) and names[i].startswith("result"):
                fn = node
                break
    shape = list(t._data.shape)
    where = ""
    if fn is not None:
        # torch's wording: AddBackward0 -> "Add", ClampBackward1 -> "Clamp1", a custom
        # ExpBackward -> "Exp", CopySlices -> "torch::autograd::CopySlices".
        name = fn.name().replace("Backward0", "").replace("Backward", "")
        where = f", which is output {t._output_nr} of {name},"
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{_legacy(t)} {shape}]{where} is at version {t._vc[0]}; expected version "
        f"{expected} instead. Hint: enable anomaly detection to find the operation that failed "
        "to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
    )


def _prepare_roots(tensors, grad_tensors, graph):
    """Validates outputs and their gradients; returns [(edge, grad)] with grads as arrays or
    tensors (graph mode)."""
    roots = []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"backward(): argument 'tensors' must be a Tensor or sequence of Tensors, not "
                f"{type(t).__name__}"
            )
        if not t._rg:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        g = None if grad_tensors is None else grad_tensors[i]
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if t.dtype.category != 2:
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got {t.dtype}"
                )
            garr = _ones(t._data.shape, t._data.dtype)
            g = Tensor._make(garr) if graph else garr
        else:
            if not isinstance(g, Tensor):
                from ._ops._base import as_tensor_arg

                g = as_tensor_arg(g)
            if tuple(g._data.shape) != tuple(t._data.shape):
                if g._data.size == t._data.size == 1 and g._data.ndim == 0 or False:
                    pass
                else:
                    raise RuntimeError(
                        f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                        f"output[{i}] has a shape of {t.shape}."
                    )
            if g.dtype.category != t.dtype.category:
                raise RuntimeError(
                    "For complex Tensors, both grad_output and output are required to have the "
                    "same dtype. Mismatch in dtype: grad_output[0] has a dtype of "
                    f"{g.dtype} and output[0] has a dtype of {t.dtype}."
                )
            g = g if graph else g._data
        roots.append((_edge(t), g))
    return roots


def _count_deps(root_nodes):
    deps: dict = {}
    parents: dict = {}
    seen = set(root_nodes)
    order = list(root_nodes)
    stack = list(root_nodes)
    while stack:
        n = stack.pop()
        for m, _ in n.next_functions:
            if m is None:
                continue
            deps[m] = deps.get(m, 0) + 1
            parents.setdefault(m, []).append(n)
            if m not in seen:
                seen.add(m)
                stack.append(m)
                order.append(m)
    return deps, parents, order


def _needed(targets, parents):
    """Nodes from which some target node is reachable (those worth running for a capture)."""
    reach = set()
    stack = [n for n in targets]
    while stack:
        n = stack.pop()
        if n in reach:
            continue
        reach.add(n)
        stack.extend(parents.get(n, ()))
    return reach


def _add(a, b):
    return a + b


def run(roots, *, retain_graph, create_graph, capture=None, accumulate=True, only=None):
    """Runs one backward pass.

    Args:
      roots: [(edge, grad)] from `_prepare_roots`.
      capture: dict edge -> None to fill with the gradient flowing into that edge (autograd.grad).
      accumulate: whether leaves' `.grad` receive their gradients.
      only: for `backward(inputs=...)`, the set of edges whose tensors accumulate.
    """
    F = _graph_ns() if create_graph else _raw_ns()
    root_nodes = []
    for (n, _), _g in roots:
        if n is not None and n not in root_nodes:
            root_nodes.append(n)
    deps, parents, order = _count_deps(root_nodes)
    if not create_graph and _run_planned(roots, order, retain_graph, capture, accumulate, only):
        return
    targets = None
    if capture is not None or only is not None:
        tnodes = [e[0] for e in (capture or only) if e[0] is not None]
        reach = _needed(tnodes, parents)
        exec_needed = {n for n in reach if any(m in reach for m, _ in n.next_functions)}
        targets = set(capture or only)
    buffers: dict = {}
    ready: list = []

    def deliver(node, nr, g):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._nout
        buf[nr] = g if buf[nr] is None else buf[nr] + g
        deps[node] -= 1
        if deps[node] == 0:
            heapq.heappush(ready, (-node._seq, node))

    for (n, _nr), _g in roots:
        if n is None:
            continue
        deps[n] = deps.get(n, 0) + 1
    for (n, nr), g in roots:
        if n is not None:
            deliver(n, nr, g)

    pending_acc = []
    pending_retain = []
    ran = []
    prev_mode = _grad_mode._state.enabled
    _grad_mode._state.enabled = bool(create_graph)
    try:
        while ready:
            _, node = heapq.heappop(ready)
            buf = buffers.pop(node)
            tensors = node._tensors
            if tensors:
                for nr, t in list(tensors.items()):
                    if t.grad_fn is not node or t._output_nr != nr or buf[nr] is None:
                        continue
                    if t._hooks:
                        buf[nr] = _run_tensor_hooks(t, buf[nr], create_graph)
                    if t._retains_grad and accumulate and (only is None or (node, nr) in only):
                        pending_retain.append((t, buf[nr]))
            if node._pre_hooks:
                buf = _run_pre_hooks(node, buf, create_graph)
            if targets is not None:
                for nr in range(node._nout):
                    if (node, nr) in targets and buf[nr] is not None:
                        if capture is not None:
                            capture[(node, nr)] = buf[nr]
                        elif type(node) is not AccumulateGrad:
                            t = _tensor_of(node, nr)
                            if t is not None:
                                pending_retain.append((t, buf[nr]))
            if type(node) is AccumulateGrad:
                leaf = node.variable
                g = buf[0]
                if leaf._hooks:
                    g = _run_tensor_hooks(leaf, g, create_graph)
                if accumulate and (only is None or (node, 0) in only):
                    pending_acc.append((leaf, g))
                continue
            if targets is not None and node not in exec_needed:
                continue
            if node._saved is _SAVED_FREED:
                raise RuntimeError(_FREED_MSG)
            for t, v in node._saved_versions:
                if t._vc[0] != v:
                    raise _version_error(t, v, node)
            grads_in = apply_node(node, buf, create_graph, F)
            ran.append(node)
            for (m, nr), g in zip(node.next_functions, grads_in, strict=False):
                if m is None or g is None:
                    continue
                if targets is not None and m not in reach:
                    continue
                deliver(m, nr, g)
    finally:
        _grad_mode._state.enabled = prev_mode

    # Success: now make the results visible.
    if _node.compile_active[0]:
        _node.check_compile_mutation(*(leaf for leaf, _ in pending_acc))
    for leaf, g in pending_acc:
        _accumulate(leaf, g, create_graph)
    for t, g in pending_retain:
        gt = g if isinstance(g, Tensor) else Tensor._make(g)
        t._grad = gt if t._grad is None else Tensor._make(t._grad._data + gt._data)
    if not retain_graph:
        for node in ran:
            if _holds_saved(node._saved):
                node._saved = _SAVED_FREED
                node._saved_versions = ()


def _holds_saved(saved) -> bool:
    """Whether backward frees this node's saved values: torch frees saved tensors only, so a
    node that saved just scalars (AddBackward0's alpha) can run again without retain_graph."""
    if not saved or saved is _SAVED_FREED:
        return False
    return any(s is True or isinstance(s, (Tensor, jax.Array)) for s in saved)


# -- compiled backward passes --------------------------------------------------------------------
# A training loop builds the same graph every step. Once a graph's structure (node classes,
# static facts, wiring, creation order) has been seen _PLAN_AFTER times, its whole backward pass
# runs as one jitted XLA call on the new step's saved arrays: one dispatch instead of one per op.

_PLAN_AFTER = 2
_plan_seen: dict = {}
# What tracing a rule raises when it reads data (those rules stay interpreted).
_TRACE_ERRORS = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerBoolConversionError,
    jax.errors.TracerArrayConversionError,
    jax.errors.TracerIntegerConversionError,
)
_plan_cache: dict = {}


def _plan_signature(roots, order, capture, only):
    index = {n: i for i, n in enumerate(order)}
    entries = []
    arrays = []
    for node in order:
        cls = type(node)
        if cls is AccumulateGrad:
            if node.variable._hooks:
                return None
            entries.append(("acc",))
            arrays.append(())
            continue
        saved = node._saved
        if cls._no_jit or node._hooks or node._pre_hooks or saved is _SAVED_FREED or node._tensors:
            return None
        # One pass over the saved values: arrays are the call's inputs, the rest is static.
        statics, slots, arrs = [], [], []
        for x in saved:
            if isinstance(x, Tensor):
                statics.append(None)
                slots.append(True)
                arrs.append(x._data)
            elif isinstance(x, jax.Array):
                statics.append(None)
                slots.append(True)
                arrs.append(x)
            else:
                statics.append(x)
                slots.append(False)
        nf = tuple([(-1 if m is None else index[m], nr) for m, nr in node.next_functions])
        entries.append((cls, node._extra, nf, tuple(statics), tuple(slots), node._nout))
        arrays.append(arrs)
    ranks = tuple(sorted(range(len(order)), key=lambda i: -order[i]._seq))
    root_sig = tuple((index[n], nr) for (n, nr), _ in roots if n is not None)
    tgt = capture if capture is not None else only
    if only is not None and any(type(n) is not AccumulateGrad for n, _ in only):
        return None  # non-leaf inputs= keep their .grad: the interpreted pass handles that
    tgt_sig = (
        None
        if tgt is None
        else tuple(sorted((index[n], nr) for n, nr in tgt if n is not None and n in index))
    )
    key = (tuple(entries), ranks, root_sig, tgt_sig, capture is not None)
    try:
        hash(key)
    except TypeError:  # unhashable static facts (arrays in `_extra`)
        return None
    return key, arrays, index


def _make_plan_executor(key):
    entries, ranks, root_sig, tgt_sig, is_capture = key
    n = len(entries)
    prio = [0] * n
    for r, i in enumerate(ranks):
        prio[i] = r
    deps0 = [0] * n
    for e in entries:
        if e[0] != "acc":
            for j, _ in e[2]:
                if j >= 0:
                    deps0[j] += 1
    for i, _ in root_sig:
        deps0[i] += 1
    targets = None if tgt_sig is None else set(tgt_sig)
    if targets is not None:
        parents = [[] for _ in range(n)]
        for i, e in enumerate(entries):
            if e[0] != "acc":
                for j, _ in e[2]:
                    if j >= 0:
                        parents[j].append(i)
        reach, stack = set(), [i for i, _ in targets]
        while stack:
            i = stack.pop()
            if i not in reach:
                reach.add(i)
                stack.extend(parents[i])
    out_slots = (
        sorted(targets)
        if targets is not None
        else [(i, 0) for i, e in enumerate(entries) if e[0] == "acc"]
    )
    F = _raw_ns()

    def execute(root_grads, arrays, olds):
        deps = list(deps0)
        buffers = [None] * n
        ready: list = []
        results: dict = {}

        def deliver(i, nr, g):
            if buffers[i] is None:
                buffers[i] = [None] * (1 if entries[i][0] == "acc" else entries[i][5])
            buf = buffers[i]
            buf[nr] = g if buf[nr] is None else buf[nr] + g
            deps[i] -= 1
            if deps[i] == 0:
                heapq.heappush(ready, (prio[i], i))

        for (i, nr), g in zip(root_sig, root_grads, strict=True):
            deliver(i, nr, g)
        while ready:
            _, i = heapq.heappop(ready)
            buf = buffers[i]
            e = entries[i]
            if targets is not None:
                for nr in range(len(buf)):
                    if (i, nr) in targets and buf[nr] is not None:
                        results[(i, nr)] = buf[nr]
            if e[0] == "acc":
                if targets is None:
                    results[(i, 0)] = buf[0]
                continue
            cls, extra, nf, statics, slots, nout = e
            if targets is not None and not any(j in reach for j, _ in nf):
                continue
            it = iter(arrays[i])
            args = tuple(next(it) if a else x for a, x in zip(slots, statics, strict=True))
            g = buf[0] if nout == 1 else buf
            if g is None and nout == 1:
                continue
            out = cls._rule(F, _RuleNode(tuple(j >= 0 for j, _ in nf), extra, nout), g, *args)
            if not isinstance(out, tuple):
                out = (out,)
            for (j, nr), gi in zip(nf, out, strict=False):
                if j < 0 or gi is None or (targets is not None and j not in reach):
                    continue
                deliver(j, nr, gi)
        outs = [results.get(s) for s in out_slots]
        # Fused `.grad` accumulation: `old + g` for leaves that already hold a gradient.
        return [
            g if old is None or g is None else old + g.astype(old.dtype)
            for g, old in zip(outs, olds, strict=True)
        ]

    return jax.jit(execute), out_slots


def _run_planned(roots, order, retain_graph, capture, accumulate, only) -> bool:
    """Runs the pass as one compiled call when its graph structure is hot; False otherwise."""
    sig = _plan_signature(roots, order, capture, only)
    if sig is None:
        return False
    key, arrays, index = sig
    entry = _plan_cache.get(key)
    if entry is None:
        seen = _plan_seen.get(key, 0) + 1
        _plan_seen[key] = seen
        if seen < _PLAN_AFTER:
            return False
        if len(_plan_seen) > 4096:
            _plan_seen.clear()
        entry = _make_plan_executor(key)
        _plan_cache[key] = entry
    executor, out_slots = entry
    # Checks the interpreted pass would make, before anything runs.
    for node in order:
        for t, v in node._saved_versions:
            if t._vc[0] != v:
                raise _version_error(t, v, node)
    root_grads = [g for (n, _), g in roots if n is not None]
    # Leaves whose existing .grad can be summed inside the compiled call (plain float grads).
    olds = [None] * len(out_slots)
    if capture is None and accumulate:
        for k, (i, nr) in enumerate(out_slots):
            leaf = order[i].variable
            old = leaf._grad
            if (
                old is not None
                and not old._rg
                and old._data.dtype == leaf._data.dtype
                and old._data.shape == leaf._data.shape
                and (only is None or (order[i], nr) in only)
            ):
                olds[k] = old._data
    try:
        outs = executor(root_grads, arrays, olds)
    except _TRACE_ERRORS:
        _plan_cache[key] = None
        _plan_seen[key] = -(10**9)  # never again for this structure
        return False
    if _node.compile_active[0] and capture is None and accumulate:
        _node.check_compile_mutation(
            *(order[i].variable for (i, _), g in zip(out_slots, outs, strict=True) if g is not None)
        )
    for k, ((i, nr), g) in enumerate(zip(out_slots, outs, strict=True)):
        if g is None:
            continue
        node = order[i]
        if capture is not None:
            capture[(node, nr)] = g
        elif accumulate and (only is None or (node, nr) in only):
            if olds[k] is None:
                _accumulate(node.variable, g, False)
            else:
                leaf = node.variable
                leaf._grad._data = g  # summed in the compiled call: same .grad object
                leaf._grad._vc[0] += 1
                if leaf._post_acc_hooks:
                    for hook in list(leaf._post_acc_hooks.values()):
                        hook(leaf)
    if not retain_graph:
        for node in order:
            if type(node) is not AccumulateGrad and _holds_saved(node._saved):
                node._saved = _SAVED_FREED
                node._saved_versions = ()
    return True


def _tensor_of(node, nr):
    ts = node._tensors
    return None if not ts else ts.get(nr)


class _RuleNode:
    """What a jitted rule sees of its node: the static facts only."""

    __slots__ = ("next_functions", "_extra", "_nout")

    def __init__(self, mask, extra, nout):
        self.next_functions = tuple((True if m else None, 0) for m in mask)
        self._extra = extra
        self._nout = nout


_rule_seen: dict = {}
_rule_jit: dict = {}
_JIT_AFTER = 3  # calls of the same rule signature before it is compiled
_NO_JIT = object()


def _raw_rule_jitted(node, g, args):
    """Runs a node's RAW backward rule as one compiled XLA call once its signature (rule, static
    arguments, shapes via jit's own cache) is hot: one dispatch instead of one per array op.
    Returns None when the rule can't be compiled (data-dependent rules, unhashable facts)."""
    cls = type(node)
    if getattr(cls, "_no_jit", False):
        return None
    mask = tuple(m is not None for m, _ in node.next_functions)
    arr_pos = tuple(i for i, a in enumerate(args) if isinstance(a, jax.Array))
    statics = tuple(None if i in arr_pos else a for i, a in enumerate(args))
    key = (cls, node._extra, mask, statics, node._nout)
    try:
        fn = _rule_jit.get(key)
    except TypeError:  # unhashable static facts (arrays in `_extra`)
        return None
    if fn is None:
        n = _rule_seen.get(key, 0) + 1
        _rule_seen[key] = n
        if n < _JIT_AFTER:
            return None
        extra, nout, rule = node._extra, node._nout, cls._rule

        def run_rule(g, arrs):
            full = list(statics)
            for i, a in zip(arr_pos, arrs, strict=True):
                full[i] = a
            return rule(_raw_ns(), _RuleNode(mask, extra, nout), g, *full)

        fn = jax.jit(run_rule)
        _rule_jit[key] = fn
    elif fn is _NO_JIT:
        return None
    try:
        return fn(g, [args[i] for i in arr_pos])
    except _TRACE_ERRORS:
        _rule_jit[key] = _NO_JIT
        return None


def apply_node(node, buf, create_graph, F=None):
    """Calls a node's backward rule on output gradients `buf` (list, one per output)."""
    if F is None:
        F = _graph_ns() if create_graph else _raw_ns()
    saved = node._saved
    if saved is _SAVED_FREED:
        raise RuntimeError(_FREED_MSG)
    if create_graph:
        buf = [g if g is None or isinstance(g, Tensor) else Tensor._make(g) for g in buf]
        args = saved
    else:
        buf = [g._data if isinstance(g, Tensor) else g for g in buf]
        args = tuple(s._data if isinstance(s, Tensor) else s for s in saved) if saved else ()
    g = buf[0] if node._nout == 1 else buf
    if g is None and node._nout == 1:
        return ()
    out = None
    if not create_graph and not node._hooks:
        out = _raw_rule_jitted(node, g, args)
    if out is None:
        out = node._rule(F, node, g, *args)
    if not isinstance(out, tuple):
        out = (out,)
    if node._hooks:
        wrap = (lambda x: x) if create_graph else (lambda x: None if x is None else Tensor._make(x))
        gi = tuple(wrap(x) for x in out)
        go = tuple(wrap(x) for x in buf)
        for hook in list(node._hooks.values()):
            r = hook(gi, go)
            if r is not None:
                gi = tuple(r)
        out = tuple(x if x is None or create_graph else x._data for x in gi)
    return out


def _run_tensor_hooks(t, g, create_graph):
    gt = g if isinstance(g, Tensor) else Tensor._make(g)
    for hook in list(t._hooks.values()):
        r = hook(gt)
        if r is not None:
            gt = r
    return gt if create_graph else gt._data


def _run_pre_hooks(node, buf, create_graph):
    wrap = (lambda x: x) if create_graph else (lambda x: None if x is None else Tensor._make(x))
    go = tuple(wrap(x) for x in buf)
    for hook in list(node._pre_hooks.values()):
        r = hook(go)
        if r is not None:
            go = tuple(r)
    return [x if x is None or create_graph else x._data for x in go]


def _accumulate(leaf, g, create_graph):
    if isinstance(g, Tensor):
        garr = g._data
    else:
        garr = g
    if garr.dtype != leaf._data.dtype:
        garr = garr.astype(leaf._data.dtype)
        g = Tensor._make(garr) if isinstance(g, Tensor) else garr
    if garr.shape != leaf._data.shape:
        garr = jnp.broadcast_to(garr, leaf._data.shape)
        g = Tensor._make(garr) if isinstance(g, Tensor) else garr
    old = leaf._grad
    if old is None:
        leaf._grad = g if (create_graph and isinstance(g, Tensor)) else Tensor._make(garr)
    elif create_graph or old._rg:
        leaf._grad = old + (g if isinstance(g, Tensor) else Tensor._make(garr))
    else:
        # torch accumulates in place into the existing .grad tensor (same object).
        old._data = _k_add(old._data, garr)
        old._vc[0] += 1
    if leaf._post_acc_hooks:
        for hook in list(leaf._post_acc_hooks.values()):
            hook(leaf)


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


_CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using autograd.grad "
    "when creating the graph to avoid this. If you have to use this function, make sure to reset "
    "the .grad fields of your parameters to None after use to break the cycle and avoid the leak."
)
_warned_create_graph = False


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Mirrors `torch.autograd.backward`."""
    global _warned_create_graph
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors)
    if grad_tensors is not None and len(grad_tensors) != len(tensors):
        raise RuntimeError(f"got {len(grad_tensors)} tensors and {len(tensors)} gradients")
    if create_graph and not _warned_create_graph:
        # torch warns once per process (TORCH_WARN_ONCE in its engine).
        _warned_create_graph = True
        warnings.warn(_CREATE_GRAPH_WARNING, UserWarning, stacklevel=3)
    if retain_graph is None:
        retain_graph = create_graph
    only = None
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        only = set()
        for t in inputs:
            if not t._rg:
                # torch's backward(inputs=...) retains grads on its inputs, hence the wording.
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            if t.grad_fn is not None:
                t._register_on_node()  # a non-leaf input receives its .grad, as in torch
            only.add(_edge(t))
    roots = _prepare_roots(tensors, grad_tensors, create_graph)
    run(roots, retain_graph=retain_graph, create_graph=create_graph, only=only)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    only_inputs=True,
    allow_unused=None,
    is_grads_batched=False,
    materialize_grads=False,
):
    """Mirrors `torch.autograd.grad`: the gradients of `outputs` with respect to `inputs`,
    returned as a tuple (nothing is accumulated into `.grad`)."""
    del only_inputs
    if is_grads_batched:
        raise NotImplementedError("compat: autograd.grad(is_grads_batched=True) is not supported")
    outputs = _as_tuple(outputs)
    single = isinstance(inputs, Tensor)
    inputs = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if not allow_unused and materialize_grads:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but "
            "got: allow_unused=False."
        )
    if grad_outputs is not None and len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"grad requires one grad_output per output: got {len(grad_outputs)} grad_outputs "
            f"and {len(outputs)} outputs"
        )
    if retain_graph is None:
        retain_graph = create_graph
    edges = []
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): inputs must be Tensors, got {type(t).__name__}")
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        edges.append(_edge(t))
    roots = _prepare_roots(outputs, grad_outputs, create_graph)
    capture = {e: None for e in edges}
    run(
        roots,
        retain_graph=retain_graph,
        create_graph=create_graph,
        capture=capture,
        accumulate=False,
    )
    result = []
    for i, (e, t) in enumerate(zip(edges, inputs, strict=True)):
        g = capture.get(e)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
            result.append(Tensor._make(jnp.zeros_like(t._data)) if materialize_grads else None)
            continue
        if not isinstance(g, Tensor):
            g = Tensor._make(g)
        if g._data.dtype != t._data.dtype:
            g = g.to(t.dtype)
        result.append(g)
    del single
    return tuple(result)
