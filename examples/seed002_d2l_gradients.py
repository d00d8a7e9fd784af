"""Seed 002, "Gradients with pytorch" (Dive into Deep Learning, 2.5), written with funcgrad.

The notebook differentiates ``y = 2 xᵀx``, ``y = sum(x)``, ``y = xᵀz`` for two inputs, and
``y = xᵀz`` with the intermediate ``z = x²``, zeroing ``x.grad`` in between and calling
``z.retain_grad()`` to see the intermediate's gradient. Functionally there is nothing to zero:
each gradient is a fresh call, and an intermediate's gradient is the gradient with respect to it
as an argument. The notebook prints no outputs, so the references are the closed forms from its
text (``4x``, ones, ``z`` and ``x``, ``3x²`` and ``x``). Its ``make_dot`` cells draw the graphs;
``funcgrad.make_dot`` does that from a jaxpr and is exercised in its own tests.

Run it on its own with ``python examples/seed002_d2l_gradients.py``.
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

SEED = "002"
DOT = "y = 2 x^T x"
SUM = "y = sum(x)"
TWO = "y = x^T z, z = ones"
CHAIN = "z = x**2, y = x^T z"


@jax.jit
def examples(x: jax.Array) -> dict[str, jax.Array]:
    """Every gradient of the notebook, for x = arange(4.)."""
    y_dot, grad_dot = fg.value_and_grad(lambda x: 2 * jnp.dot(x, x))(x)
    grad_sum = fg.grad(jnp.sum)(x)
    z = jnp.ones(4)
    grad_x, grad_z = fg.grad(jnp.dot, argnums=(0, 1))(x, z)

    def y_of_x(x):
        return jnp.dot(x, x**2)

    y_chain, grad_chain = fg.value_and_grad(y_of_x)(x)
    # z.retain_grad(): treat the intermediate z = x**2 as an input of the rest of the graph.
    grad_intermediate = fg.grad(jnp.dot, argnums=1)(x, x**2)
    return {
        "y_dot": y_dot,
        "grad_dot": grad_dot,
        "grad_sum": grad_sum,
        "grad_x": grad_x,
        "grad_z": grad_z,
        "y_chain": y_chain,
        "grad_chain": grad_chain,
        "grad_intermediate": grad_intermediate,
    }


def run() -> list[Row]:
    """Computes every example of the notebook under jax.jit and checks it."""
    out = examples(jnp.arange(4.0))
    x = np.arange(4.0, dtype=np.float32)
    return [
        row(SEED, DOT, "y", out["y_dot"], expected=2 * x @ x),
        row(SEED, DOT, "x.grad = 4x", out["grad_dot"], expected=4 * x),
        row(SEED, SUM, "x.grad = ones", out["grad_sum"], expected=np.ones(4)),
        row(SEED, TWO, "x.grad = z", out["grad_x"], expected=np.ones(4)),
        row(SEED, TWO, "z.grad = x", out["grad_z"], expected=x),
        row(SEED, CHAIN, "y = sum(x**3)", out["y_chain"], expected=np.sum(x**3)),
        row(SEED, CHAIN, "x.grad = 3x**2", out["grad_chain"], expected=3 * x**2),
        row(SEED, CHAIN, "z.grad (retain_grad) = x", out["grad_intermediate"], expected=x),
    ]


def torch_reference() -> dict[tuple[str, str], object]:
    """The notebook's torch program, keyed like the rows of :func:`run`."""
    import torch

    x = torch.arange(4.0)
    x.requires_grad_(True)
    y = 2 * torch.dot(x, x)
    y.backward()
    values = {(DOT, "y"): y, (DOT, "x.grad = 4x"): x.grad.clone()}
    x.grad.zero_()
    x.sum().backward()
    values[(SUM, "x.grad = ones")] = x.grad.clone()
    z = torch.ones(4, requires_grad=True)
    x.grad.zero_()
    torch.dot(x, z).backward()
    values[(TWO, "x.grad = z")] = x.grad.clone()
    values[(TWO, "z.grad = x")] = z.grad
    z = x**2
    y = torch.dot(x, z)
    x.grad.zero_()
    z.retain_grad()
    y.backward()
    values[(CHAIN, "y = sum(x**3)")] = y
    values[(CHAIN, "x.grad = 3x**2")] = x.grad
    values[(CHAIN, "z.grad (retain_grad) = x")] = z.grad
    return values


if __name__ == "__main__":
    raise SystemExit(main(run, torch_reference))
