"""`compat.make_dot`: torchviz's picture of an autograd graph, checked on the SVG `dot` renders.

Seed 002's two graphs are checked box by box, and every drawing is compared with the one a
reference drawer (tests/compat/seeds/torchutils.py) makes from real torch for the same program.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("graphviz")

import compat  # noqa: E402
from compat._graph import make_dot  # noqa: E402
from compat._runner import run_cells  # noqa: E402
from tests._torch import require_torch  # noqa: E402
from tests.compat.seeds import torchutils  # noqa: E402
from tests.compat.seeds.torchutils import structure, svg_graph  # noqa: E402

SEEDS_DIR = Path(__file__).parent / "seeds"


def _labels(nodes: dict) -> Counter:
    return Counter(nodes.values())


def _arrows(nodes: dict, edges: list) -> Counter:
    """Arrows as (tail label, head label, kind), with multiplicity."""
    return Counter((nodes[t][0], nodes[h][0], kind) for t, h, kind in edges)


def seed002_graph_one(T):
    x = T.arange(4.0)
    x.requires_grad_(True)
    z = T.ones(4, requires_grad=True)
    y = T.dot(x, z)
    y.backward()
    return y, {"x": x, "y": y, "z": z, "T": T}


def seed002_graph_two(T):
    x = T.arange(4.0, requires_grad=True)
    z = x**2
    y = T.dot(x, z)
    return y, {"x": x, "y": y, "z": z}


def test_seed002_first_graph_leaves_dot_and_accumulators(tmp_path):
    y, params = seed002_graph_one(compat)
    dot = make_dot(y, params)
    png = Path(dot.render(tmp_path / "graph_one", format="png"))
    svg = Path(dot.render(tmp_path / "graph_one", format="svg"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    assert "<svg" in svg.read_text()
    nodes, edges = svg_graph(dot)
    assert _labels(nodes) == Counter({
        ("y\n()", "darkolivegreen1"): 1,
        ("DotBackward0", "lightgrey"): 1,
        ("AccumulateGrad", "lightgrey"): 2,
        ("x\n(4)", "lightblue"): 1,
        ("z\n(4)", "lightblue"): 1,
    })  # fmt: skip
    assert _arrows(nodes, edges) == Counter({
        ("x\n(4)", "AccumulateGrad", "arrow"): 1,
        ("z\n(4)", "AccumulateGrad", "arrow"): 1,
        ("AccumulateGrad", "DotBackward0", "arrow"): 2,
        ("DotBackward0", "y\n()", "arrow"): 1,
    })  # fmt: skip
    # Each leaf feeds its own accumulator.
    accumulators = {t: h for t, h, _ in edges if nodes[t][1] == "lightblue"}
    assert len(set(accumulators.values())) == 2


def test_seed002_second_graph_pow_feeds_dot_and_x_is_reached_twice():
    y, params = seed002_graph_two(compat)
    dot = make_dot(y, params)
    nodes, edges = svg_graph(dot)
    by_label = {label.split("\n")[0]: n for n, (label, _) in nodes.items()}
    # z is an intermediate: no box of its own, named on the node that made it.
    assert nodes[by_label["PowBackward0"]] == ("PowBackward0\n-> z (4)", "lightgrey")
    assert "z\n(4)" not in {label for label, _ in nodes.values()}
    arrows = {(t, h) for t, h, _ in edges}
    acc = by_label["AccumulateGrad"]
    assert (by_label["PowBackward0"], by_label["DotBackward0"]) in arrows
    assert sorted(h for t, h, _ in edges if t == acc) == sorted(
        [by_label["PowBackward0"], by_label["DotBackward0"]]
    )
    assert (by_label["x"], acc) in arrows
    assert sum(1 for _, (_, color) in nodes.items() if color == "lightblue") == 1


def test_source_has_torchviz_attributes():
    y, params = seed002_graph_two(compat)
    source = make_dot(y, params).source
    assert "style=filled" in source and "shape=box" in source and "fontname=monospace" in source
    assert re.search(r'label="x\n \(4\)" fillcolor=lightblue', source)
    assert re.search(r'label="y\n \(\)" fillcolor=darkolivegreen1', source)


def test_show_saved_draws_orange_tensors_joined_without_arrows():
    y, params = seed002_graph_two(compat)
    nodes, edges = svg_graph(make_dot(y, params, show_saved=True))
    orange = {label for label, color in nodes.values() if color == "orange"}
    # DotBackward0 saves x (the leaf, drawn once, light blue) and z (orange, named `tensor`).
    assert orange == {"tensor\n(4)"}
    plain = {(nodes[t][0].split("\n")[0], nodes[h][0]) for t, h, kind in edges if kind == "none"}
    assert plain == {("DotBackward0", "x\n(4)"), ("DotBackward0", "tensor\n(4)"),
                     ("PowBackward0", "x\n(4)")}  # fmt: skip


def test_show_attrs_lists_saved_values():
    y, params = seed002_graph_two(compat)
    source = make_dot(y, params, show_attrs=True).source
    assert re.search(r"exponent: +2\n", source)
    assert "self    : [saved tensor]" in source


def test_max_attr_chars_cuts_long_values():
    y, params = seed002_graph_two(compat)
    source = make_dot(y, params, show_attrs=True, max_attr_chars=5).source
    assert "exponent:     2\nself    : [s..." in source


def test_view_output_draws_its_base_dotted():
    x = compat.arange(6.0, requires_grad=True)
    base = x * 2
    v = base[1:]
    nodes, edges = svg_graph(make_dot(v, {"base": base, "v": v}))
    colors = {label: color for label, color in nodes.values()}
    assert colors["v\n(5)"] == "darkolivegreen1"
    assert colors["base\n(6)"] == "darkolivegreen3"
    assert ("base\n(6)", "v\n(5)", "dotted") in _arrows(nodes, edges)


def test_tuple_of_outputs_and_params_without_tensors():
    x = compat.arange(3.0, requires_grad=True)
    a, b = x * 2, x.exp()
    nodes, _ = svg_graph(make_dot((a, b), {"a": a, "b": b, "n": 3, "s": "text"}))
    green = sorted(label for label, color in nodes.values() if color == "darkolivegreen1")
    assert green == ["a\n(3)", "b\n(3)"]


def test_custom_function_saved_tensors_are_always_drawn():
    class Exp(compat.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    x = compat.arange(3.0, requires_grad=True)
    y = Exp.apply(x).sum()
    nodes, edges = svg_graph(make_dot(y))
    assert ("ExpBackward", "lightgrey") in nodes.values()
    assert any(color == "orange" for _, color in nodes.values())
    kinds = {kind for t, h, kind in edges if "orange" in (nodes[t][1], nodes[h][1])}
    assert kinds == {"none"}


def test_freed_saved_values_are_skipped_not_raised():
    y, params = seed002_graph_two(compat)
    y.backward()
    nodes, _ = svg_graph(make_dot(y, params, show_saved=True, show_attrs=True))
    assert not any(color == "orange" for _, color in nodes.values())


def test_make_dot_errors():
    x = compat.arange(3.0, requires_grad=True)
    with pytest.raises(TypeError, match="var must be a Tensor or a tuple of Tensors, got list"):
        make_dot([[1.0]])
    with pytest.raises(TypeError, match="params must be a dict of name -> Tensor"):
        make_dot(x * 2, [x])


def test_missing_graphviz_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    x = compat.arange(3.0, requires_grad=True)
    with pytest.raises(ImportError, match=r"pip install funcgrad\[graph\]"):
        make_dot(x * 2)


def _programs():
    def dot_ones(T):
        return seed002_graph_one(T)

    def dot_pow(T):
        return seed002_graph_two(T)

    def chain(T):
        x = T.arange(4.0, requires_grad=True)
        w = T.ones(4, requires_grad=True)
        h = (x * w).sin()
        y = (h + x).sum()
        return y, {"x": x, "w": w, "h": h, "y": y}

    def matmul(T):
        x = T.arange(4.0, requires_grad=True)
        m = x.reshape(2, 2)
        y = (m.t() @ m).mean()
        return y, {"x": x, "m": m, "y": y}

    def unbind(T):
        x = T.arange(4.0, requires_grad=True)
        a, b = x.unbind(0)[:2]
        y = (a * b + x.sum()).exp()
        return y, {"x": x, "a": a, "b": b}

    return [dot_ones, dot_pow, chain, matmul, unbind]


@pytest.mark.parametrize("show_saved", [False, True])
@pytest.mark.parametrize("program", _programs(), ids=lambda f: f.__name__)
def test_same_picture_as_torch(program, show_saved):
    torch = require_torch()
    expected = structure(torchutils.reference_make_dot(*program(torch), show_saved=show_saved))
    actual = structure(make_dot(*program(compat), show_saved=show_saved))
    assert actual == expected


def _seed002_graphs(use_compat: bool) -> list:
    src = (SEEDS_DIR / "seed002.py").read_text()
    cells = [c for c in re.split(r"^# %%.*$", src, flags=re.M) if c.strip()]
    old_path = list(sys.path)
    sys.path.insert(0, str(SEEDS_DIR))
    sys.modules.pop("torchutils", None)
    try:
        status = run_cells(cells, use_compat=use_compat)
        drawn = list(sys.modules["torchutils"].DRAWN)
    finally:
        sys.path[:] = old_path
        sys.modules.pop("torchutils", None)
    assert status == 0
    return drawn


def test_seed002_notebook_draws_the_same_graphs_as_torch(capsys):
    require_torch()
    compat_graphs = _seed002_graphs(use_compat=True)
    torch_graphs = _seed002_graphs(use_compat=False)
    capsys.readouterr()
    assert len(compat_graphs) == len(torch_graphs) == 2
    assert [structure(g) for g in compat_graphs] == [structure(g) for g in torch_graphs]
    first, second = (svg_graph(g)[0] for g in compat_graphs)
    assert Counter(label for label, _ in first.values())["AccumulateGrad"] == 2
    assert "PowBackward0\n-> z (4)" in {label for label, _ in second.values()}
