"""The `torchutils` module seed 002 imports (`from torchutils import make_dot`), for the tests.

`make_dot` draws compat tensors with `compat.make_dot` and real torch tensors with
`reference_make_dot`, a small torchviz-style drawer written here for tests only (torchviz is not
a dependency). Both follow the same conventions (see `compat.make_dot`), so the pictures of one
program run under torch and under compat can be compared box for box and arrow for arrow. Every
graph drawn is also appended to `DRAWN`, so a test can collect the pictures a notebook made.

`svg_graph` and `structure` read a drawing back from the SVG the real `dot` program renders.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from typing import Any

DRAWN: list[Any] = []

_COLORS = {"leaf": "lightblue", "op": "lightgrey", "saved": "orange",
           "out": "darkolivegreen1", "base": "darkolivegreen3"}  # fmt: skip
_STRENGTH = ["saved", "leaf", "base", "out"]


def make_dot(var, params=None, show_attrs=False, show_saved=False, max_attr_chars=50):
    """torchviz's `make_dot`, for compat tensors (compat's drawer) or torch tensors (reference)."""
    import compat

    first = var[0] if isinstance(var, (tuple, list)) else var
    if isinstance(first, compat.Tensor):
        from compat._graph import make_dot as compat_make_dot

        dot = compat_make_dot(var, params, show_attrs, show_saved, max_attr_chars)
    else:
        dot = reference_make_dot(var, params, show_attrs, show_saved, max_attr_chars)
    DRAWN.append(dot)
    return dot


def reference_make_dot(var, params=None, show_attrs=False, show_saved=False, max_attr_chars=50):
    """The drawing for real torch tensors: torchviz's rules plus compat's documented extras."""
    import graphviz
    import torch

    names = {id(v): k for k, v in (params or {}).items() if isinstance(v, torch.Tensor)}
    outs = list(var) if isinstance(var, (tuple, list)) else [var]
    shown = set()
    for t in outs:
        while t is not None:
            shown.add(id(t))
            t = t._base
    boxes: dict[Any, list] = {}  # key -> [id, label, role]
    arrows: list[tuple[str, str, dict]] = []
    alive: list[Any] = []

    def box(key, obj, label=None, role="op"):
        if key not in boxes:
            alive.append(obj)
            boxes[key] = [f"n{len(boxes)}", label, role]
        entry = boxes[key]
        if label is not None and (
            entry[1] is None
            or (
                role in _STRENGTH
                and entry[2] in _STRENGTH
                and _STRENGTH.index(role) > _STRENGTH.index(entry[2])
            )
        ):
            entry[1:] = [label, role]
        return entry[0]

    def size(t):
        return "(" + ", ".join(str(d) for d in t.shape) + ")"

    def tensor_box(t, role, name=None):
        return box(id(t), t, f"{name or names.get(id(t), '')}\n {size(t)}", role)

    def saved_attrs(fn):
        out = []
        for attr in sorted(a for a in dir(fn) if a.startswith("_saved_")):
            try:
                out.append((attr[len("_saved_") :], getattr(fn, attr)))
            except RuntimeError:
                pass
        return out

    def fn_label(fn):
        made = [
            f"-> {k} {size(v)}"
            for k, v in (params or {}).items()
            if isinstance(v, torch.Tensor) and v.grad_fn is fn and id(v) not in shown
        ]
        head = "\n".join([type(fn).__name__, *made])
        if not show_attrs:
            return head
        attrs = {}
        for k, v in saved_attrs(fn):
            if torch.is_tensor(v):
                attrs[k] = "[saved tensor]"
            elif isinstance(v, tuple) and any(torch.is_tensor(x) for x in v):
                attrs[k] = "[saved tensors]"
            else:
                attrs[k] = str(v)
        if not attrs:
            return head
        w1 = max(map(len, attrs))
        w2 = min(max(len(v) for v in attrs.values()), max(max_attr_chars, 3))
        rows = [
            f"{k:<{w1}}: {(v if len(v) <= w2 else v[: w2 - 3] + '...'):>{w2}}"
            for k, v in attrs.items()
        ]
        return "\n".join([head, "-" * max(w1 + w2 + 2, len(type(fn).__name__)), *rows])

    visited = set()

    def walk(fn):
        todo = [fn]
        while todo:
            fn = todo.pop()
            if fn in visited:
                continue
            visited.add(fn)
            me = box(id(fn), fn, fn_label(fn))
            if show_saved:
                for k, v in saved_attrs(fn):
                    for name, t in (
                        [(f"{k}[{i}]", x) for i, x in enumerate(v)]
                        if isinstance(v, tuple)
                        else [(k, v)]
                    ):
                        if torch.is_tensor(t):
                            key = (id(fn), name) if t.grad_fn is fn else id(t)
                            other = box(key, t, f"{name}\n {size(t)}", "saved")
                            arrows.append((me, other, {"dir": "none"}))
            if hasattr(fn, "variable"):
                arrows.append((tensor_box(fn.variable, "leaf"), me, {}))
            nxt = [u for u, _ in fn.next_functions if u is not None]
            for u in nxt:
                arrows.append((box(id(u), u), me, {}))
            todo.extend(reversed(nxt))
            for t in getattr(fn, "saved_tensors", ()) or ():
                arrows.append((tensor_box(t, "saved"), me, {"dir": "none"}))

    done = set()
    for t in outs:
        role = "out"
        while t is not None and id(t) not in done:
            done.add(id(t))
            me = tensor_box(t, role)
            if t.grad_fn is not None:
                walk(t.grad_fn)
                arrows.append((boxes[id(t.grad_fn)][0], me, {}))
            if t._base is not None:
                arrows.append((tensor_box(t._base, "base"), me, {"style": "dotted"}))
            t, role = t._base, "base"

    dot = graphviz.Digraph()
    for node_id, label, role in boxes.values():
        dot.node(node_id, label, fillcolor=_COLORS[role], style="filled", shape="box")
    for a, b, attrs in arrows:
        dot.edge(a, b, **attrs)
    return dot


# -- reading a drawing back --------------------------------------------------------------------

_SVG = "{http://www.w3.org/2000/svg}"
# The fills graphviz writes into SVG for torchviz's colours (names SVG lacks become hex).
SVG_FILLS = {
    "lightblue": "lightblue",
    "lightgrey": "lightgrey",
    "orange": "orange",
    "white": "white",
    "#caff70": "darkolivegreen1",
    "#a2cd5a": "darkolivegreen3",
}


def svg_graph(dot) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, str]]]:
    """Renders `dot` to SVG with the real `dot` program and reads it back.

    Returns (nodes, edges): nodes maps a node id to (label, fill colour name), the label's lines
    joined by newlines and stripped; edges lists (tail id, head id, kind), kind "arrow",
    "none" (no arrowhead) or "dotted".
    """
    svg = subprocess.run(["dot", "-Tsvg"], input=dot.source.encode(), capture_output=True,
                         check=True).stdout  # fmt: skip
    root = ET.fromstring(svg)
    nodes, edges = {}, []
    for g in root.iter(f"{_SVG}g"):
        kind = g.get("class")
        title = g.findtext(f"{_SVG}title")
        if kind == "node":
            label = "\n".join((t.text or "").strip() for t in g.iter(f"{_SVG}text"))
            shape = g.find(f"{_SVG}polygon")
            fill = shape.get("fill") if shape is not None else "none"
            nodes[title] = (label, SVG_FILLS.get(fill, fill))
        elif kind == "edge":
            tail, head = title.split("->")
            path = g.find(f"{_SVG}path")
            if g.find(f"{_SVG}polygon") is None:
                style = "none"
            elif path is not None and path.get("stroke-dasharray"):
                style = "dotted"
            else:
                style = "arrow"
            edges.append((tail, head, style))
    return nodes, edges


def structure(dot) -> list:
    """The drawing up to node ids: for each box, its label and colour together with, recursively,
    the boxes whose arrows lead into it, and the labels it is joined to without arrows.
    Two drawings with equal structures have the same boxes and the same arrows."""
    nodes, edges = svg_graph(dot)
    into: dict[str, list] = {n: [] for n in nodes}
    plain: dict[str, list] = {n: [] for n in nodes}
    for tail, head, style in edges:
        if style == "none":
            plain[tail].append(nodes[head][0])
            plain[head].append(nodes[tail][0])
        else:
            into[head].append((tail, style))
    memo: dict[str, tuple] = {}

    def sig(n: str) -> tuple:
        if n not in memo:
            memo[n] = (
                *nodes[n],
                tuple(sorted((sig(t), s) for t, s in into[n])),
                tuple(sorted(plain[n])),
            )
        return memo[n]

    return sorted(sig(n) for n in nodes)
