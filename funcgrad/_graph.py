"""Computation-graph drawings: a function's jaxpr drawn as a graphviz picture, in torchviz's look.

The picture uses the colours torchviz gives a PyTorch autograd graph, so the functional and the
stateful (``compat.make_dot``) drawings read the same way: inputs light blue, operations grey
boxes, constants orange, outputs green. Data flows along the arrows, from the inputs to the
outputs. graphviz is an optional extra (``pip install funcgrad[graph]``) imported only here.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
from jax.extend.core import CallPrimitive, ClosedJaxpr, Jaxpr, Literal, Var

if TYPE_CHECKING:
    import graphviz

# torchviz's node look; compat's drawing uses the same values.
NODE_ATTR = {
    "style": "filled",
    "shape": "box",
    "align": "left",
    "fontsize": "10",
    "ranksep": "0.1",
    "height": "0.2",
    "fontname": "monospace",
}
LEAF = "lightblue"
OP = "lightgrey"
SAVED = "orange"
OUTPUT = "darkolivegreen1"
BASE = "darkolivegreen3"
SUBGRAPH = "white"

# Equation params that are noise in a picture (placement, layouts, compiler switches).
_HIDDEN_PARAMS = frozenset({
    "donated_invars", "ctx_mesh", "keep_unused", "inline", "compiler_options_kvs",
    "symbolic_zeros", "out_trees", "num_consts", "linear", "jaxpr_known", "accuracy",
    "unroll", "_split_transpose", "memory_space",
})  # fmt: skip
_MAX_PARAM_CHARS = 30
# Primitives that run their one sub-jaxpr once on their operands (pjit was renamed jit).
_CALL_LIKE = frozenset({
    "jit", "pjit", "closed_call", "core_call", "custom_jvp_call", "custom_vjp_call",
    "custom_vjp_call_jaxpr", "remat", "remat2", "checkpoint", "named_call", "custom_lin",
})  # fmt: skip


def new_digraph() -> graphviz.Digraph:
    """An empty ``graphviz.Digraph`` with torchviz's node and graph attributes.

    Raises:
      ImportError: graphviz (the Python package) is not installed.
    """
    try:
        import graphviz
    except ImportError as e:
        raise ImportError(
            "make_dot needs the graphviz Python package: pip install funcgrad[graph] "
            "(rendering also needs the Graphviz `dot` program, https://graphviz.org/download/)."
        ) from e
    return graphviz.Digraph(node_attr=dict(NODE_ATTR), graph_attr={"size": "12,12"})


def resize(dot: graphviz.Digraph, per_line: float = 0.15, min_size: float = 12.0) -> None:
    """Grows the drawing's size bound with its number of statements, as torchviz does."""
    size = max(min_size, len(dot.body) * per_line)
    dot.graph_attr["size"] = f"{size},{size}"


def shape_str(shape: Sequence[int]) -> str:
    """A shape as torchviz writes it: ``(4)``, ``(2, 3)``, ``()``."""
    return "(" + ", ".join(str(int(d)) for d in shape) + ")"


def tensor_label(name: str, shape: Sequence[int]) -> str:
    """A tensor node's label, torchviz style: the name, then the shape on its own line."""
    return f"{name}\n {shape_str(shape)}"


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= _MAX_PARAM_CHARS else text[: _MAX_PARAM_CHARS - 3] + "..."


def _is_jaxpr(value: Any) -> bool:
    return isinstance(value, (Jaxpr, ClosedJaxpr))


def _shown_params(params: Mapping[str, Any]) -> list[str]:
    lines = []
    for key, value in params.items():
        if key in _HIDDEN_PARAMS or "sharding" in key or "layout" in key or value is None:
            continue
        if _is_jaxpr(value) or callable(value):
            continue
        if isinstance(value, tuple) and any(_is_jaxpr(v) or callable(v) for v in value):
            continue
        lines.append(f"{key}={_short(value)}")
    return lines


def _sub_jaxprs(params: Mapping[str, Any]) -> list[tuple[str, Jaxpr, Sequence[Any]]]:
    """(param name, jaxpr, consts) of every sub-jaxpr in an equation's params."""
    found = []
    for key, value in params.items():
        values = value if isinstance(value, tuple) else (value,)
        for i, v in enumerate(values):
            name = f"{key}[{i}]" if isinstance(value, tuple) else key
            if isinstance(v, ClosedJaxpr):
                found.append((name, v.jaxpr, v.consts))
            elif isinstance(v, Jaxpr):
                found.append((name, v, ()))
    return found


class _JaxprDrawer:
    """Draws jaxprs into one Digraph; ``env`` maps a Var to (node id, edge label)."""

    def __init__(self, dot: graphviz.Digraph, collapse: bool) -> None:
        self.dot = dot
        self.collapse = collapse
        self._ids = itertools.count()
        self._clusters = itertools.count()

    def node(self, graph, label: str, color: str) -> str:
        node_id = f"n{next(self._ids)}"
        graph.node(node_id, label, fillcolor=color)
        return node_id

    def constant(self, graph, value: Any, aval: Any) -> str:
        shape = getattr(aval, "shape", ())
        text = _short(value) if not shape else "const"
        return self.node(graph, f"{text}\n {aval.str_short()}", SAVED)

    def source(self, graph, env: dict, atom: Any) -> tuple[str, str]:
        if isinstance(atom, Var):
            return env[atom]
        if isinstance(atom, Literal):
            return self.constant(graph, atom.val, atom.aval), ""
        raise TypeError(f"make_dot: unexpected jaxpr atom {atom!r}.")

    def edge(self, src: tuple[str, str], dst: str, **attrs: str) -> None:
        # Edges go in the root graph: an edge stated inside a cluster would pull both of its
        # end nodes into that cluster's box.
        node_id, label = src
        if label:
            attrs = {"label": label, "fontname": "monospace", "fontsize": "10", **attrs}
        self.dot.edge(node_id, dst, **attrs)

    def draw(self, graph, jaxpr: Jaxpr, consts: Sequence[Any], env: dict) -> None:
        """Draws `jaxpr`'s equations into `graph`; its invars must already be in `env`."""
        for var, value in zip(jaxpr.constvars, consts, strict=True):
            env[var] = (self.constant(graph, value, var.aval), "")
        for eqn in jaxpr.eqns:
            subs = _sub_jaxprs(eqn.params)
            if not self.collapse and len(subs) == 1 and self._inlinable(eqn, subs[0][1]):
                self._inline(graph, eqn, subs[0], env)
            else:
                self._op(graph, eqn, subs, env)

    @staticmethod
    def _inlinable(eqn, sub: Jaxpr) -> bool:
        # Call-like primitives (jit, custom_vjp_call, remat, ...) pass operands and results
        # through one to one, so their body can be drawn in place inside a labelled box; loops
        # and branches cannot.
        call_like = isinstance(eqn.primitive, CallPrimitive) or eqn.primitive.name in _CALL_LIKE
        return (
            call_like
            and len(sub.invars) == len(eqn.invars)
            and len(sub.outvars) == len(eqn.outvars)
        )

    def _inline(self, graph, eqn, sub, env: dict) -> None:
        _, jaxpr, consts = sub
        name = eqn.params.get("name")
        label = f"{eqn.primitive.name}: {name}" if name else eqn.primitive.name
        with graph.subgraph(name=f"cluster_{next(self._clusters)}") as box:
            box.attr(label=label, style="rounded,dashed", fontname="monospace", fontsize="10")
            inner = {}
            for inner_var, outer in zip(jaxpr.invars, eqn.invars, strict=True):
                inner[inner_var] = self.source(box, env, outer)
            self.draw(box, jaxpr, consts, inner)
            results = [self.source(box, inner, v) for v in jaxpr.outvars]
        for var, src in zip(eqn.outvars, results, strict=True):
            env[var] = src

    def _op(self, graph, eqn, subs, env: dict) -> None:
        lines = [eqn.primitive.name, *_shown_params(eqn.params)]
        op_id = self.node(graph, "\n".join(lines), OP)
        for atom in eqn.invars:
            self.edge(self.source(graph, env, atom), op_id)
        many = len(eqn.outvars) > 1
        for i, var in enumerate(eqn.outvars):
            env[var] = (op_id, str(i) if many else "")
        if self.collapse:
            return
        for key, jaxpr, consts in subs:
            with graph.subgraph(name=f"cluster_{next(self._clusters)}") as box:
                box.attr(label=f"{eqn.primitive.name} {key}", style="rounded,dashed",
                         fontname="monospace", fontsize="10")  # fmt: skip
                inner = {
                    v: (self.node(box, tensor_label(f"in{i}", v.aval.shape), SUBGRAPH), "")
                    for i, v in enumerate(jaxpr.invars)
                }
                self.draw(box, jaxpr, consts, inner)
                for v in jaxpr.outvars:
                    self.edge(self.source(box, inner, v), op_id, style="dashed")


def _arg_names(fn: Callable, n: int) -> list[str]:
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = []
    for p in parameters:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            names.extend(f"{p.name}[{i}]" for i in range(n - len(names)))
    names = names[:n]
    return names + [f"arg{i}" for i in range(len(names), n)]


def _leaf_names(fn: Callable, args: tuple, params: Any) -> list[str]:
    """One name per flattened input leaf (the order of the jaxpr's invars)."""
    arg_names = _arg_names(fn, len(args))
    by_identity: dict[int, str] = {}
    if isinstance(params, Mapping):
        by_identity = {id(v): str(k) for k, v in params.items() if isinstance(v, jax.Array)}
    elif params is not None:
        if isinstance(params, str) or not isinstance(params, Sequence):
            raise TypeError(
                "make_dot: params must be a list of input names or a dict name -> array, got "
                f"{type(params).__name__}."
            )
        arg_names = [str(p) for p in params]
    names = []
    leaves_per_arg = [jax.tree_util.tree_flatten_with_path(a)[0] for a in args]
    n_leaves = sum(len(leaves) for leaves in leaves_per_arg)
    flat_names = params is not None and not isinstance(params, Mapping)
    if flat_names and len(arg_names) not in (len(args), n_leaves):
        raise ValueError(
            f"make_dot: params names {len(arg_names)} inputs, but fn gets {len(args)} arguments "
            f"({n_leaves} arrays); give one name per argument or per array."
        )
    per_leaf = flat_names and len(arg_names) == n_leaves and n_leaves != len(args)
    k = 0
    for i, leaves in enumerate(leaves_per_arg):
        for path, leaf in leaves:
            if id(leaf) in by_identity:
                names.append(by_identity[id(leaf)])
            elif per_leaf:
                names.append(arg_names[k])
            else:
                names.append(arg_names[i] + jax.tree_util.keystr(path))
            k += 1
    return names


def _grad_fn(fn: Callable, args: tuple) -> tuple[Callable, list[int], str]:
    """The gradient function drawn by ``include_grad``, the argnums it covers, and a title."""

    def is_float(leaves: list) -> bool:
        return bool(leaves) and all(jnp.issubdtype(jnp.result_type(x), jnp.inexact) for x in leaves)

    argnums = [i for i, a in enumerate(args) if is_float(jax.tree_util.tree_leaves(a))]
    if not argnums:
        raise TypeError(
            "make_dot(include_grad=True): no floating-point argument to differentiate; got "
            f"argument dtypes {[str(jnp.result_type(x)) for x in jax.tree_util.tree_leaves(args)]}."
        )
    out = jax.eval_shape(fn, *args)
    if (
        isinstance(out, jax.ShapeDtypeStruct)
        and out.shape == ()
        and jnp.issubdtype(out.dtype, jnp.inexact)
    ):
        return jax.grad(fn, argnums=tuple(argnums)), argnums, "gradient: jax.grad"

    def vjp_with_ones(*a):
        def partial(*diff):
            full = list(a)
            for i, d in zip(argnums, diff, strict=True):
                full[i] = d
            return fn(*full)

        primal, pullback = jax.vjp(partial, *[a[i] for i in argnums])
        return pullback(jax.tree_util.tree_map(jnp.ones_like, primal))

    return vjp_with_ones, argnums, "gradient: jax.vjp with a cotangent of ones"


def _output_names(prefix: str, tree: Any) -> list[str]:
    paths = [p for p, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]
    if len(paths) == 1 and not paths[0]:
        return [prefix]
    return [prefix + jax.tree_util.keystr(p) for p in paths]


def make_dot(
    fn: Callable,
    *example_args: Any,
    params: Sequence[str] | Mapping[str, Any] | None = None,
    include_grad: bool = False,
    collapse: bool = False,
) -> graphviz.Digraph:
    """Draws the computation graph of ``fn`` (its jaxpr) the way torchviz draws a torch graph.

    ``fn`` is traced with ``jax.make_jaxpr`` on ``example_args``. Inputs are light-blue boxes
    labelled with their name and shape (``x\\n (4)``), each primitive is a grey box with its name
    and its short params, literals and captured constants are orange, and outputs are green.
    Arrows go from inputs to outputs. A call-like primitive (``jit``, ``custom_vjp_call``, ...)
    is drawn inline inside a dashed box named after it; a control-flow primitive (``scan``,
    ``cond``, ``while``) is one grey box, with each body drawn in its own dashed box whose results
    flow (dashed arrows) into it.

    Args:
      fn: The function to draw; its positional arguments may be arrays or pytrees of arrays.
      *example_args: Arguments to trace ``fn`` with (only shapes and dtypes matter).
      params: Input names: a list with one name per argument (pytree leaves get their path
        appended, ``p['w']``) or one per array leaf; or a dict name -> array, matched by identity
        against the arguments' leaves (as torchviz's ``params``, e.g. ``locals()``). By default
        the names of ``fn``'s parameters (``inspect.signature``), else ``arg0``, ``arg1``, ...
      include_grad: Also draw the jaxpr of the gradient, in a box of its own fed by the same input
        nodes: ``jax.grad`` for a scalar float output, else the VJP with a cotangent of ones (the
        ``backward(gradient=ones)`` of torch). Only floating-point arguments are differentiated.
      collapse: Draw every primitive with a sub-jaxpr as a single grey box.

    Returns:
      A ``graphviz.Digraph``: ``.source`` is its DOT text, ``.render(...)`` writes an image with the
      Graphviz ``dot`` program, and Jupyter displays it inline.

    Raises:
      ImportError: the graphviz package is missing (``pip install funcgrad[graph]``).
      TypeError: ``params`` is neither names nor a dict; ``include_grad`` with no float argument.
      ValueError: ``params`` has the wrong number of names.

    Example:
      >>> import jax.numpy as jnp
      >>> import funcgrad as fg
      >>> dot = fg.make_dot(lambda x, z: jnp.dot(x, z), jnp.arange(4.0), jnp.ones(4))
      >>> "dot_general" in dot.source and "lightblue" in dot.source
      True
    """
    if not callable(fn):
        raise TypeError(f"make_dot: fn must be callable, got {type(fn).__name__}.")
    dot = new_digraph()
    names = _leaf_names(fn, example_args, params)
    closed, out_shape = jax.make_jaxpr(fn, return_shape=True)(*example_args)
    drawer = _JaxprDrawer(dot, collapse)
    inputs = []
    for name, var in zip(names, closed.jaxpr.invars, strict=True):
        inputs.append((drawer.node(dot, tensor_label(name, var.aval.shape), LEAF), ""))
    env = dict(zip(closed.jaxpr.invars, inputs, strict=True))
    drawer.draw(dot, closed.jaxpr, closed.consts, env)
    _draw_outputs(drawer, dot, closed.jaxpr, env, _output_names("out", out_shape))

    if include_grad:
        grad, argnums, title = _grad_fn(fn, example_args)
        g_closed = jax.make_jaxpr(grad)(*example_args)
        # Gradient outputs follow the differentiated arguments' leaves, in order.
        counts = [len(jax.tree_util.tree_leaves(a)) for a in example_args]
        starts = list(itertools.accumulate([0, *counts]))
        g_names = ["grad " + names[starts[i] + j] for i in argnums for j in range(counts[i])]
        with dot.subgraph(name="cluster_gradient") as box:
            box.attr(label=title, style="rounded", fontname="monospace", fontsize="10")
            g_env = dict(zip(g_closed.jaxpr.invars, inputs, strict=True))
            drawer.draw(box, g_closed.jaxpr, g_closed.consts, g_env)
            _draw_outputs(drawer, box, g_closed.jaxpr, g_env, g_names)
    resize(dot)
    return dot


def _draw_outputs(drawer: _JaxprDrawer, graph, jaxpr: Jaxpr, env: dict, names: list[str]) -> None:
    for name, var in zip(names, jaxpr.outvars, strict=True):
        out_id = drawer.node(graph, tensor_label(name, var.aval.shape), OUTPUT)
        drawer.edge(drawer.source(graph, env, var), out_id)


__all__ = ["make_dot"]
