"""`funcgrad.make_dot`: a function's jaxpr drawn in torchviz's look, checked on the SVG that the
real `dot` program renders; and the example plots, decoded."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

pytest.importorskip("graphviz")

import funcgrad as fg  # noqa: E402
from funcgrad._graph import make_dot  # noqa: E402

_SVG = "{http://www.w3.org/2000/svg}"
_FILLS = {"#caff70": "darkolivegreen1"}


def svg_graph(dot):
    """(nodes: id -> (label, fill), edges: [(tail, head, dashed)], cluster titles) from the SVG."""
    svg = subprocess.run(["dot", "-Tsvg"], input=dot.source.encode(), capture_output=True,
                         check=True).stdout  # fmt: skip
    nodes, edges, clusters = {}, [], []
    for g in ET.fromstring(svg).iter(f"{_SVG}g"):
        kind, title = g.get("class"), g.findtext(f"{_SVG}title")
        texts = "\n".join((t.text or "").strip() for t in g.iter(f"{_SVG}text"))
        if kind == "node":
            fill = g.find(f"{_SVG}polygon").get("fill")
            nodes[title] = (texts, _FILLS.get(fill, fill))
        elif kind == "edge":
            tail, head = title.split("->")
            dashed = bool(g.find(f"{_SVG}path").get("stroke-dasharray"))
            edges.append((tail, head, dashed))
        elif kind == "cluster":
            clusters.append(texts)
    return nodes, edges, clusters


def by_color(nodes, color):
    return sorted(label for label, fill in nodes.values() if fill == color)


def arrows(nodes, edges):
    return Counter((nodes[t][0].split("\n")[0], nodes[h][0].split("\n")[0]) for t, h, _ in edges)


def test_dot_of_two_inputs_renders_png_and_svg(tmp_path):
    def y(x, z):
        return jnp.dot(x, z)

    dot = make_dot(y, jnp.arange(4.0), jnp.ones(4))
    png = Path(dot.render(tmp_path / "dot", format="png"))
    svg = Path(dot.render(tmp_path / "dot", format="svg"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    assert "dot_general" in svg.read_text()
    nodes, edges, clusters = svg_graph(dot)
    assert by_color(nodes, "lightblue") == ["x\n(4)", "z\n(4)"]
    assert by_color(nodes, "darkolivegreen1") == ["out\n()"]
    assert [label.split("\n")[0] for label in by_color(nodes, "lightgrey")] == ["dot_general"]
    assert arrows(nodes, edges) == Counter({("x", "dot_general"): 1, ("z", "dot_general"): 1,
                                            ("dot_general", "out"): 1})  # fmt: skip
    assert clusters == []


def test_seed002_chain_input_feeds_two_primitives():
    def y(x):
        z = x**2
        return jnp.dot(x, z)

    nodes, edges, _ = svg_graph(make_dot(y, jnp.arange(4.0)))
    assert "integer_pow\ny=2" in by_color(nodes, "lightgrey")
    a = arrows(nodes, edges)
    assert a[("x", "integer_pow")] == 1 and a[("x", "dot_general")] == 1
    assert a[("integer_pow", "dot_general")] == 1


def test_literals_are_orange():
    nodes, edges, _ = svg_graph(make_dot(lambda x: x * 3.0 + 2.0, jnp.arange(3.0)))
    orange = by_color(nodes, "orange")
    assert [label.split("\n")[0] for label in orange] == ["2.0", "3.0"]
    assert arrows(nodes, edges)[("3.0", "mul")] == 1


def test_captured_constant_is_orange():
    table = jnp.arange(3.0)

    def f(x):
        return x * table

    for fn in (f, jax.jit(f)):
        nodes, edges, _ = svg_graph(make_dot(fn, jnp.ones(3)))
        (const,) = by_color(nodes, "orange")
        assert re.fullmatch(r"const\nfloat(32|64)\[3\]", const)
        assert arrows(nodes, edges)[("const", "mul")] == 1


def test_input_names_from_params():
    def f(a, b):
        return a * b

    args = (jnp.ones(2), jnp.ones(2))
    nodes, _, _ = svg_graph(make_dot(f, *args, params=["w", "v"]))
    assert by_color(nodes, "lightblue") == ["v\n(2)", "w\n(2)"]
    named = {"weight": args[1]}
    nodes, _, _ = svg_graph(make_dot(f, *args, params=named))
    assert by_color(nodes, "lightblue") == ["a\n(2)", "weight\n(2)"]


def test_pytree_inputs_and_outputs_are_named_by_path():
    def loss(p, x):
        return {"loss": jnp.sum(p["w"] * x), "pred": p["w"] * x}

    p = {"w": jnp.ones(3)}
    nodes, _, _ = svg_graph(make_dot(loss, p, jnp.ones(3)))
    assert by_color(nodes, "lightblue") == ["p['w']\n(3)", "x\n(3)"]
    assert by_color(nodes, "darkolivegreen1") == ["out['loss']\n()", "out['pred']\n(3)"]
    nodes, _, _ = svg_graph(make_dot(loss, p, jnp.ones(3), params=["w", "data"]))
    assert by_color(nodes, "lightblue") == ["data\n(3)", "w['w']\n(3)"]


def test_jit_is_drawn_inline_in_a_labelled_box():
    def f(x):
        return jax.jit(jnp.tanh)(x) * 2.0

    dot = make_dot(f, jnp.ones(3))
    nodes, edges, clusters = svg_graph(dot)
    assert clusters == ["jit: tanh"]
    assert arrows(nodes, edges)[("x", "tanh")] == 1 and arrows(nodes, edges)[("tanh", "mul")] == 1
    body = re.search(r"subgraph cluster_0 \{(.*?)\n\t\}", dot.source, re.S).group(1)
    assert "label=tanh" in body and "->" not in body  # edges stay outside the box
    collapsed = svg_graph(make_dot(f, jnp.ones(3), collapse=True))
    assert collapsed[2] == [] and any(lbl.startswith("jit") for lbl, _ in collapsed[0].values())


def test_control_flow_bodies_are_clusters_feeding_their_primitive():
    def f(x):
        def body(c, xi):
            return c * xi, c

        total, _ = jax.lax.scan(body, 1.0, x)
        y = jax.lax.cond(total > 0, jnp.sin, jnp.cos, total)
        return jax.lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, y)

    nodes, edges, clusters = svg_graph(make_dot(f, jnp.ones(3)))
    assert sorted(clusters) == ["cond branches[0]", "cond branches[1]", "scan jaxpr",
                                "while body_jaxpr", "while cond_jaxpr"]  # fmt: skip
    dashed_heads = Counter(nodes[h][0].split("\n")[0] for _, h, dashed in edges if dashed)
    assert dashed_heads["cond"] == 2 and dashed_heads["while"] == 2 and dashed_heads["scan"] >= 1
    ops = {label.split("\n")[0] for label in by_color(nodes, "lightgrey")}
    assert {"scan", "cond", "while", "sin", "cos", "lt"} <= ops


def test_custom_vjp_body_is_drawn_inline():
    @jax.custom_vjp
    def g(x):
        return x * 2.0

    g.defvjp(lambda x: (x * 2.0, None), lambda _, ct: (ct * 2.0,))
    _, _, clusters = svg_graph(make_dot(g, 1.0))
    assert clusters == ["custom_vjp_call"]


def test_include_grad_scalar_output_uses_grad():
    def f(x, z):
        return jnp.dot(x, z**2)

    nodes, edges, clusters = svg_graph(make_dot(f, jnp.arange(4.0), jnp.ones(4),
                                                include_grad=True))  # fmt: skip
    assert clusters == ["gradient: jax.grad"]
    assert by_color(nodes, "darkolivegreen1") == ["grad x\n(4)", "grad z\n(4)", "out\n()"]
    # The gradient graph reads the same input boxes.
    assert len(by_color(nodes, "lightblue")) == 2
    x_id = next(n for n, (label, _) in nodes.items() if label == "x\n(4)")
    assert sum(1 for t, _, _ in edges if t == x_id) >= 2


def test_include_grad_non_scalar_uses_vjp_with_ones():
    nodes, _, clusters = svg_graph(make_dot(jnp.sin, jnp.ones(3), include_grad=True))
    assert clusters == ["gradient: jax.vjp with a cotangent of ones"]
    assert "cos" in {label for label, _ in nodes.values()}


def test_include_grad_skips_integer_arguments():
    def f(x, n):
        return jnp.sum(x**2) * n

    nodes, _, _ = svg_graph(make_dot(f, jnp.ones(2), 3, include_grad=True))
    assert [lbl for lbl in by_color(nodes, "darkolivegreen1") if lbl.startswith("grad")] == [
        "grad x\n(2)"
    ]
    with pytest.raises(TypeError, match="no floating-point argument to differentiate"):
        make_dot(lambda n: n * 2, jnp.arange(3), include_grad=True)


def test_make_dot_errors():
    with pytest.raises(TypeError, match="fn must be callable, got int"):
        make_dot(3, jnp.ones(2))
    with pytest.raises(TypeError, match="params must be a list of input names or a dict"):
        make_dot(jnp.sin, jnp.ones(2), params="x")
    with pytest.raises(ValueError, match="params names 3 inputs, but fn gets 1 arguments"):
        make_dot(jnp.sin, jnp.ones(2), params=["a", "b", "c"])


def test_missing_graphviz_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match=r"pip install funcgrad\[graph\]"):
        make_dot(jnp.sin, jnp.ones(2))


def test_public_name():
    assert fg.make_dot is make_dot


def test_example_plots_are_real_images(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    import matplotlib.image as mpimg
    import numpy as np

    from examples import run_all

    assert run_all.main(["--no-torch", "--plots", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    paths = sorted(tmp_path.glob("*.png"))
    assert [p.name for p in paths] == ["seed000_derivative.png", "seed004_accumulation_linear.png"]
    for path in paths:
        assert f"saved {path}" in out
        image = mpimg.imread(path)
        assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 300
        rgb = image[..., :3]
        # Not blank: several distinct colours (axes, lines, legend), much of it not background.
        assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20
        assert (rgb.std(axis=-1) > 0.05).mean() > 0.001  # coloured (non-grey) line pixels
