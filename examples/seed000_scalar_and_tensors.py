"""Seed 000, "Automatic differentiation in PyTorch", written functionally with funcgrad.

The notebook differentiates ``f(x) = x**2 + 3x + 2`` element by element with a Python loop of
``torch.autograd.grad`` calls and compares it with the hand derivative ``2x + 3``; then it
multiplies two tensors, backpropagates the sum, and checks the gradient against a finite change
of one input. Here each example is one jitted function: ``elementwise_grad`` replaces the loop,
and ``value_and_grad(..., argnums=(0, 1))`` returns both gradients that torch stores in
``t1.grad`` and ``t2.grad``. The notebook prints no outputs, so the references are the closed
forms its text states.

Run it on its own with ``python examples/seed000_scalar_and_tensors.py``.
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

SEED = "000"
SCALAR = "scalar function"
TENSORS = "tensors t1 * t2"
CHANGE = "finite change"

T1 = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
T2 = [[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]


def f(x: jax.Array) -> jax.Array:
    """The notebook's function, x^2 + 3x + 2."""
    return x**2 + 3 * x + 2


def f_grad(x: jax.Array) -> jax.Array:
    """The notebook's hand derivative, 2x + 3."""
    return 2 * x + 3


@jax.jit
def scalar_example(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """f on every element of x, and df/dx at every element (the notebook's autograd loop)."""
    return f(x), fg.elementwise_grad(f)(x)


@jax.jit
def tensor_example(t1: jax.Array, t2: jax.Array) -> dict[str, jax.Array]:
    """Gradients of sum(t1 * t2), and the change of the sum when t2[0, 1] grows by 3."""
    total, (grad_t1, grad_t2) = fg.value_and_grad(lambda a, b: jnp.sum(a * b), argnums=(0, 1))(
        t1, t2
    )
    t2_modified = t2.at[0, 1].add(3.0)  # the notebook's clone-and-assign, without mutation
    return {
        "product": t1 * t2,
        "grad_t1": grad_t1,
        "grad_t2": grad_t2,
        "change": jnp.sum(t1 * t2_modified) - total,
        "linear_estimate": 3.0 * grad_t2[0, 1],
    }


def run() -> list[Row]:
    """Computes every example of the notebook under jax.jit and checks it."""
    x = jnp.arange(-5, 5, 1, dtype=jnp.float32)
    values, autograd = scalar_example(x)
    x_np = np.arange(-5, 5, dtype=np.float32)
    t1, t2 = jnp.array(T1), jnp.array(T2)
    out = tensor_example(t1, t2)
    t1_np, t2_np = np.array(T1, np.float32), np.array(T2, np.float32)
    return [
        row(SEED, SCALAR, "f(x), x = arange(-5, 5)", values, expected=x_np**2 + 3 * x_np + 2),
        row(SEED, SCALAR, "autograd(x) = df/dx", autograd, expected=2 * x_np + 3,
            note="closed form: the notebook's f_grad, 2x + 3"),
        row(SEED, TENSORS, "t1 * t2", out["product"], expected=t1_np * t2_np),
        row(SEED, TENSORS, "t1.grad of sum(t1*t2)", out["grad_t1"], expected=t2_np,
            note="d(t1*t2)/dt1 = t2"),
        row(SEED, TENSORS, "t2.grad of sum(t1*t2)", out["grad_t2"], expected=t1_np,
            note="d(t1*t2)/dt2 = t1"),
        row(SEED, CHANGE, "change in sum, t2[0,1] += 3", out["change"],
            expected=3 * t1_np[0, 1], note="exact: the sum is linear in t2"),
        row(SEED, CHANGE, "3 * t2.grad[0,1]", out["linear_estimate"], expected=3 * t1_np[0, 1]),
    ]  # fmt: skip


def torch_reference() -> dict[tuple[str, str], object]:
    """The notebook's torch program, keyed like the rows of :func:`run`."""
    import torch

    def autograd(func, x):
        return torch.stack([torch.autograd.grad(outputs=func(xi), inputs=xi)[0] for xi in x])

    x = torch.arange(-5, 5, 1, dtype=torch.float32, requires_grad=True)
    t1 = torch.tensor(T1, dtype=torch.float32, requires_grad=True)
    t2 = torch.tensor(T2, dtype=torch.float32, requires_grad=True)
    t1_mul_t2 = t1 * t2
    t1_mul_t2.sum().backward()
    t2_modified = t2.clone()
    t2_modified[0, 1] = t2[0, 1] + 3
    change_in_sum = (t1 * t2_modified).sum() - t1_mul_t2.sum()
    return {
        (SCALAR, "f(x), x = arange(-5, 5)"): f(x),
        (SCALAR, "autograd(x) = df/dx"): autograd(f, x),
        (TENSORS, "t1 * t2"): t1_mul_t2,
        (TENSORS, "t1.grad of sum(t1*t2)"): t1.grad,
        (TENSORS, "t2.grad of sum(t1*t2)"): t2.grad,
        (CHANGE, "change in sum, t2[0,1] += 3"): change_in_sum,
        (CHANGE, "3 * t2.grad[0,1]"): 3 * t2.grad[0, 1],
    }


def plot(out_dir: str | Path) -> list[Path]:
    """Saves f, its hand derivative and the autodiff derivative on [-5, 5] as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = jnp.linspace(-5.0, 5.0, 201)
    values, autograd = scalar_example(x)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(x, values, label="f(x) = x² + 3x + 2")
    ax.plot(x, f_grad(x), label="hand derivative 2x + 3", linewidth=3, alpha=0.5)
    ax.plot(x, autograd, "--", label="funcgrad.elementwise_grad(f)")
    ax.set_xlabel("x")
    ax.legend()
    ax.set_title("Seed 000: autodiff vs hand derivative")
    path = Path(out_dir) / "seed000_derivative.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return [path]


if __name__ == "__main__":
    raise SystemExit(main(run, torch_reference))
