"""`make_dot`: torchviz's picture of an autograd graph, drawn from compat's `grad_fn` nodes.

The drawing follows torchviz's conventions, so a tutorial's picture looks the same under compat:
the tensor passed in is green, reachable leaves that require grad are light blue (each feeding
its `AccumulateGrad`), backward nodes are grey boxes named as torch names them, saved tensors
(with `show_saved`) are orange, and arrows point from the inputs towards the output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jax

from funcgrad._graph import BASE, LEAF, OP, OUTPUT, SAVED, new_digraph, resize, shape_str

from ._tensor import Tensor

if TYPE_CHECKING:
    import graphviz

_SAVED_PREFIX = "_saved_"
# When one tensor is drawn in two roles, the stronger one names and colours it (torchviz gets
# the same result because the later DOT statement wins).
_RANK = {SAVED: 0, LEAF: 1, BASE: 2, OUTPUT: 3}


def _is_saved_tensor(value: Any) -> bool:
    return isinstance(value, (Tensor, jax.Array))


def _shape(value: Any) -> tuple:
    return tuple(value.shape)


def _saved_values(fn) -> list[tuple[str, Any]]:
    """The node's saved values as (name, value), sorted by name (torchviz reads `dir(fn)`)."""
    out = []
    for name in sorted(getattr(type(fn), "_saved_names", ())):
        try:
            value = getattr(fn, _SAVED_PREFIX + name)
        except RuntimeError:  # freed by a backward without retain_graph
            continue
        out.append((name, value))
    return out


class _Drawing:
    """Collects nodes and edges first, then writes them, so a tensor seen in two roles (a leaf
    that a node also saves) becomes one box with the stronger role's label and colour."""

    def __init__(self, params: Mapping[str, Any] | None, show_attrs: bool, show_saved: bool,
                 max_attr_chars: int) -> None:  # fmt: skip
        self.names = {}
        if params is not None:
            if not isinstance(params, Mapping):
                raise TypeError(
                    "make_dot(): params must be a dict of name -> Tensor (e.g. locals()), got "
                    f"{type(params).__name__}"
                )
            self.names = {id(v): str(k) for k, v in params.items() if isinstance(v, Tensor)}
        self.params = params or {}
        self.show_attrs = show_attrs
        self.show_saved = show_saved
        self.max_attr_chars = max(max_attr_chars, 3)
        self.nodes: dict[Any, list] = {}  # key -> [node id, label, colour]
        self.edges: list[tuple[str, str, dict]] = []
        self.keep: list[Any] = []  # keeps every keyed object alive, so ids stay unique
        self.seen_fns: set[int] = set()
        self.seen_outputs: set[int] = set()
        self.drawn_tensors: set[int] = set()

    def node(self, key: Any, obj: Any, label: str | None = None, color: str = OP) -> str:
        """The id of `obj`'s box, made on first sight; a label given here replaces a missing
        one, or one of a weaker role."""
        entry = self.nodes.get(key)
        if entry is None:
            self.keep.append(obj)
            entry = self.nodes[key] = [f"n{len(self.nodes)}", label, color]
        elif label is not None and (
            entry[1] is None or _RANK.get(color, -1) > _RANK.get(entry[2], -1)
        ):
            entry[1:] = [label, color]
        return entry[0]

    def var_label(self, t: Any, name: str | None = None) -> str:
        if not name:
            name = self.names.get(id(t), "")
        return f"{name}\n {shape_str(_shape(t))}"

    def tensor(self, t: Any, color: str, name: str | None = None) -> str:
        return self.node(id(t), t, self.var_label(t, name), color)

    def edge(self, tail: str, head: str, **attrs: str) -> None:
        self.edges.append((tail, head, attrs))

    def fn_label(self, fn) -> str:
        name = type(fn).__name__
        # The extra: a non-leaf tensor the caller holds (named in params) is shown on the box of
        # the node that made it, so intermediates like `z = x**2` can be found in the picture.
        produced = [
            f"-> {k} {shape_str(_shape(v))}"
            for k, v in self.params.items()
            if isinstance(v, Tensor) and v.grad_fn is fn and id(v) not in self.drawn_tensors
        ]
        head = "\n".join([name, *produced])
        if not self.show_attrs:
            return head
        attrs = {}
        for key, value in _saved_values(fn):
            if _is_saved_tensor(value):
                attrs[key] = "[saved tensor]"
            elif isinstance(value, (tuple, list)) and any(_is_saved_tensor(v) for v in value):
                attrs[key] = "[saved tensors]"
            else:
                attrs[key] = str(value)
        if not attrs:
            return head
        key_w = max(len(k) for k in attrs)
        val_w = min(max(len(v) for v in attrs.values()), self.max_attr_chars)
        sep = "-" * max(key_w + val_w + 2, len(name))

        def cut(text: str) -> str:
            return text[: val_w - 3] + "..." if len(text) > val_w else text

        rows = [f"{k:<{key_w}}: {cut(v):>{val_w}}" for k, v in attrs.items()]
        return "\n".join([head, sep, *rows])

    def saved(self, fn, fn_id: str) -> None:
        for name, value in _saved_values(fn):
            items = [(name, value)]
            if isinstance(value, (tuple, list)):
                items = [(f"{name}[{i}]", v) for i, v in enumerate(value)]
            for label, v in items:
                if not _is_saved_tensor(v):
                    continue
                # torch unpacks a node's own saved output as a fresh tensor, and a raw array
                # has no identity to share: both get a box of their own.
                shared = isinstance(v, Tensor) and v.grad_fn is not fn
                key = id(v) if shared else (id(fn), label)
                node_id = self.node(key, v, self.var_label(v, label), SAVED)
                self.edge(fn_id, node_id, dir="none")

    def graph(self, root) -> None:
        stack = [root]
        while stack:
            fn = stack.pop()
            if id(fn) in self.seen_fns:
                continue
            self.seen_fns.add(id(fn))
            fn_id = self.node(id(fn), fn, self.fn_label(fn), OP)
            if self.show_saved:
                self.saved(fn, fn_id)
            variable = getattr(fn, "variable", None)
            if variable is not None:
                self.edge(self.tensor(variable, LEAF), fn_id)
            children = [u for u, _ in getattr(fn, "next_functions", ()) if u is not None]
            for u in children:
                self.edge(self.node(id(u), u), fn_id)
            stack.extend(reversed(children))
            # Custom autograd Functions: torchviz always shows what `save_for_backward` kept.
            try:
                ctx_saved = getattr(fn, "saved_tensors", None) or ()
            except RuntimeError:
                ctx_saved = ()
            for t in ctx_saved:
                if t is not None:
                    self.edge(self.tensor(t, SAVED), fn_id, dir="none")

    def output(self, t: Tensor) -> None:
        color = OUTPUT
        while t is not None and id(t) not in self.seen_outputs:
            self.seen_outputs.add(id(t))
            t_id = self.tensor(t, color)
            if t.grad_fn is not None:
                self.graph(t.grad_fn)
                self.edge(self.nodes[id(t.grad_fn)][0], t_id)
            base = t._base
            if base is not None:
                self.edge(self.tensor(base, BASE), t_id, style="dotted")
            t, color = base, BASE

    def write(self) -> graphviz.Digraph:
        dot = new_digraph()
        for node_id, label, color in self.nodes.values():
            dot.node(node_id, label, fillcolor=color)
        for tail, head, attrs in self.edges:
            dot.edge(tail, head, **attrs)
        resize(dot)
        return dot


def make_dot(
    var: Tensor | tuple[Tensor, ...],
    params: Mapping[str, Any] | None = None,
    show_attrs: bool = False,
    show_saved: bool = False,
    max_attr_chars: int = 50,
) -> graphviz.Digraph:
    """Mirrors torchviz's `make_dot`: a graphviz picture of the autograd graph behind `var`.

    Boxes: `var` (each tensor, when a tuple) dark olive green; if it is a view, its base a darker
    green joined by a dotted arrow. Every backward node light grey, named as torch names it
    (`DotBackward0`, `PowBackward0`, `AccumulateGrad`). Each reachable leaf that requires grad
    light blue, with an arrow into its `AccumulateGrad`. Tensor boxes read `name\\n (shape)`,
    the name taken from `params`. Arrows run from the leaves towards the output; a node reached
    along two paths gets two arrows.

    Differences from torchviz: `params` may hold anything (only tensors are used, so `locals()`
    works); a non-leaf tensor named in `params` (an intermediate such as `z = x**2`, which
    torchviz does not show) is listed as `-> z (4)` on the box of the node that produced it;
    saved values freed by a backward without `retain_graph` are skipped instead of raising.

    Args:
      var: The output tensor, or a tuple of them.
      params: Names for tensors, e.g. `dict(model.named_parameters())` or `locals()`.
      show_attrs: Also list each node's saved non-tensor values (e.g. `exponent: 2`).
      show_saved: Also draw each node's saved tensors, orange, joined by an undirected edge.
        Tensors saved with `ctx.save_for_backward` in a custom Function are always drawn.
      max_attr_chars: With `show_attrs`, the longest value shown before it is cut with `...`.

    Returns:
      A `graphviz.Digraph` (`.source`, `.render(...)`, displayed inline by Jupyter).

    Raises:
      ImportError: graphviz is not installed (`pip install funcgrad[graph]`).
      TypeError: `var` is not a tensor, or `params` is not a dict.

    Example:
      >>> import compat as torch
      >>> from compat._graph import make_dot
      >>> x = torch.arange(4.0, requires_grad=True)
      >>> z = x**2
      >>> y = torch.dot(x, z)
      >>> "PowBackward0\\n-> z (4)" in make_dot(y, {"x": x, "z": z}).source
      True
    """
    outputs = tuple(var) if isinstance(var, (tuple, list)) else (var,)
    for t in outputs:
        if not isinstance(t, Tensor):
            raise TypeError(
                f"make_dot(): var must be a Tensor or a tuple of Tensors, got {type(t).__name__}"
            )
    drawing = _Drawing(params, show_attrs, show_saved, max_attr_chars)
    for t in outputs:
        while t is not None:
            drawing.drawn_tensors.add(id(t))
            t = t._base
    for t in outputs:
        drawing.output(t)
    return drawing.write()


__all__ = ["make_dot"]
