"""Seed 001, "Automatic Differentiation with torch.autograd" (graphs), written with funcgrad.

The notebook builds a one-layer network with a binary cross-entropy loss, then a small graph
``b = w1*a; c = w2*a; d = w3*b + w4*c; L = 10 - d``, shows that ``L.backward()`` fails for a
non-scalar ``L``, and backpropagates ``(10 - d).sum()`` instead. Functionally:

- the network's ``z`` and ``loss`` come from the weights the notebook prints (transcribed, so
  the printed ``z`` and ``loss`` can be compared, to the rounding of those 4-decimal weights);
  their gradients are checked against the closed form ``sigmoid(z) / 3``;
- the graph's gradients are checked against ``dL/dw1 = -w3*a`` and its siblings, with inputs
  from a fixed PRNG key (the notebook's random draws were not all printed);
- torch's "grad can be implicitly created only for scalar outputs" is funcgrad's TypeError for
  a non-scalar output without a cotangent;
- the gradient at the non-leaf ``d``, which torch keeps only after ``retain_grad()``, is the
  gradient with respect to ``d`` as an argument.

The notebook's cells that print ``grad_fn`` objects belong to the stateful API (``compat``).

Run it on its own with ``python examples/seed001_graphs.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import funcgrad as fg  # noqa: E402
from examples._common import Row, main, row  # noqa: E402

SEED = "001"
NET = "one-layer BCE network"
GRAPH = "graph w1..w4"

# The weights the notebook prints (In [4]); its z and loss are printed from unrounded weights.
W = [
    [0.1120, -0.0213, 0.5249],
    [-0.3198, -0.0042, -0.7752],
    [0.8590, 1.2993, -0.1937],
    [-0.1327, -0.9119, 0.6002],
    [0.4720, -1.5287, 0.9750],
]
B = [0.6012, -0.2897, 2.4452]
Z_DOCUMENTED = [1.5918, -1.4565, 3.5764]
LOSS_DOCUMENTED = 1.8635
# Each z sums six printed numbers, each rounded by up to 5e-5, and is itself printed rounded.
PRINT_ATOL = 6 * 5e-5 + 5e-5


def bce_with_logits(z: jax.Array, y: jax.Array) -> jax.Array:
    """Mean binary cross-entropy on logits, in the numerically stable form torch uses."""
    return jnp.mean(jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))


def network_loss(w: jax.Array, b: jax.Array, x: jax.Array, y: jax.Array):
    """The notebook's one-layer network: returns the loss and, as auxiliary output, z."""
    z = jnp.matmul(x, w) + b
    return bce_with_logits(z, y), z


@jax.jit
def network_example(w: jax.Array, b: jax.Array) -> dict[str, jax.Array]:
    """z, loss and the loss gradients with respect to w and b."""
    x, y = jnp.ones(5), jnp.zeros(3)
    (loss, z), (grad_w, grad_b) = fg.value_and_grad(network_loss, argnums=(0, 1), has_aux=True)(
        w, b, x, y
    )
    return {"z": z, "loss": loss, "grad_w": grad_w, "grad_b": grad_b}


def graph_inputs(seed: int = 0) -> dict[str, jax.Array]:
    """a, w1, w2, w3 ~ N(0, 1) and w4 ~ U[0, 1), each 3x3, as the notebook draws them."""
    keys = jax.random.split(jax.random.key(seed), 5)
    normal = [jax.random.normal(k, (3, 3)) for k in keys[:4]]
    return {
        "a": normal[0],
        "w1": normal[1],
        "w2": normal[2],
        "w3": normal[3],
        "w4": jax.random.uniform(keys[4], (3, 3)),
    }


def graph_d(a: jax.Array, w1: jax.Array, w2: jax.Array, w3: jax.Array, w4: jax.Array):
    """d = w3*(w1*a) + w4*(w2*a), the notebook's graph up to d."""
    b = w1 * a
    c = w2 * a
    return w3 * b + w4 * c


def graph_loss(a, w1, w2, w3, w4) -> jax.Array:
    """L = (10 - d).sum(), the scalar the notebook backpropagates."""
    return jnp.sum(10 - graph_d(a, w1, w2, w3, w4))


@jax.jit
def graph_example(p: dict[str, jax.Array]) -> dict[str, jax.Array]:
    """Gradients of L with respect to every leaf, and with respect to the non-leaf d."""
    args = (p["a"], p["w1"], p["w2"], p["w3"], p["w4"])
    grads = fg.grad(graph_loss, argnums=(0, 1, 2, 3, 4))(*args)
    d = graph_d(*args)
    grad_d = fg.grad(lambda d: jnp.sum(10 - d))(d)  # what d.retain_grad() would keep
    return dict(zip(("a", "w1", "w2", "w3", "w4"), grads, strict=True)) | {"d": grad_d}


def non_scalar_raises(p: dict[str, jax.Array]) -> tuple[bool, str]:
    """Whether grad of the non-scalar L = 10 - d fails, as torch's L.backward() does."""
    try:
        fg.grad(lambda w1: 10 - graph_d(p["a"], w1, p["w2"], p["w3"], p["w4"]))(p["w1"])
    except TypeError as error:
        return "scalar-output" in str(error), str(error)
    return False, "no error"


def run() -> list[Row]:
    """Computes every example of the notebook under jax.jit and checks it."""
    w, b = jnp.array(W), jnp.array(B)
    net = network_example(w, b)
    z = np.ones(5, np.float32) @ np.array(W, np.float32) + np.array(B, np.float32)
    dz = 1 / (1 + np.exp(-z)) / 3  # d mean(softplus(z)) / dz for the target y = 0
    p = graph_inputs()
    g = graph_example(p)
    n = {k: np.asarray(v) for k, v in p.items()}
    raised, message = non_scalar_raises(p)
    return [
        row(SEED, NET, "z = x @ w + b", net["z"], expected=z, documented=Z_DOCUMENTED,
            atol=PRINT_ATOL, note="documented z is from unrounded weights"),
        row(SEED, NET, "loss", net["loss"], documented=LOSS_DOCUMENTED, atol=PRINT_ATOL,
            expected=np.mean(np.log1p(np.exp(z)))),
        row(SEED, NET, "w.grad", net["grad_w"], expected=np.outer(np.ones(5), dz), rtol=1e-5),
        row(SEED, NET, "b.grad", net["grad_b"], expected=dz, rtol=1e-5),
        row(SEED, GRAPH, "w1.grad = -w3*a", g["w1"], expected=-n["w3"] * n["a"]),
        row(SEED, GRAPH, "w2.grad = -w4*a", g["w2"], expected=-n["w4"] * n["a"]),
        row(SEED, GRAPH, "w3.grad = -w1*a", g["w3"], expected=-n["w1"] * n["a"]),
        row(SEED, GRAPH, "w4.grad = -w2*a", g["w4"], expected=-n["w2"] * n["a"]),
        row(SEED, GRAPH, "a.grad", g["a"], expected=-(n["w3"] * n["w1"] + n["w4"] * n["w2"]),
            rtol=1e-5),
        row(SEED, GRAPH, "d.grad (retain_grad)", g["d"], expected=-np.ones((3, 3), np.float32)),
        row(SEED, GRAPH, "non-scalar L raises", raised, expected=True, documented=True,
            note=message),
    ]  # fmt: skip


def torch_reference() -> dict[tuple[str, str], object]:
    """The notebook's torch program on the same inputs, keyed like the rows of :func:`run`."""
    import torch

    x, y = torch.ones(5), torch.zeros(3)
    w = torch.tensor(W, requires_grad=True)
    b = torch.tensor(B, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    loss.backward()

    t = {k: torch.tensor(np.asarray(v), requires_grad=True) for k, v in graph_inputs().items()}
    bb = t["w1"] * t["a"]
    c = t["w2"] * t["a"]
    d = t["w3"] * bb + t["w4"] * c
    d.retain_grad()
    try:
        (10 - d).backward(retain_graph=True)
        raised = False
    except RuntimeError as error:
        raised = "only for scalar outputs" in str(error)
    (10 - d).sum().backward()
    return {
        (NET, "z = x @ w + b"): z,
        (NET, "loss"): loss,
        (NET, "w.grad"): w.grad,
        (NET, "b.grad"): b.grad,
        (GRAPH, "w1.grad = -w3*a"): t["w1"].grad,
        (GRAPH, "w2.grad = -w4*a"): t["w2"].grad,
        (GRAPH, "w3.grad = -w1*a"): t["w3"].grad,
        (GRAPH, "w4.grad = -w2*a"): t["w4"].grad,
        (GRAPH, "a.grad"): t["a"].grad,
        (GRAPH, "d.grad (retain_grad)"): d.grad,
        (GRAPH, "non-scalar L raises"): raised,
    }


if __name__ == "__main__":
    raise SystemExit(main(run, torch_reference))
