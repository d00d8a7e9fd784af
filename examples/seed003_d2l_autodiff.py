"""Seed 003, "2.5. Automatic Differentiation" (Dive into Deep Learning), written with funcgrad.

The notebook differentiates ``y = 2 xᵀx`` and ``sum(x)``, backpropagates the non-scalar
``x * x`` with ``gradient=ones``, detaches ``u = (x * x).detach()``, and differentiates a
function with a data-dependent ``while`` loop and ``if``. Functionally:

- ``backward(f, x, cotangent=v)`` is ``f(x).backward(gradient=v); x.grad``;
- ``stop_gradient`` (alias ``detach``) is ``.detach()``;
- the ``while`` loop becomes ``funcgrad.while_loop`` (a bounded loop that reverse mode can
  differentiate under ``jax.jit``) and the ``if`` becomes ``jnp.where``, so ``f`` compiles; the
  notebook's plain Python ``f`` still works with ``grad`` outside ``jit``.

The notebook prints ``a`` with 4 decimals and ``d = f(a)`` from the unrounded ``a``, so ``d`` is
compared within the rounding of ``a`` times ``f``'s slope; gradients are compared exactly.

Run it on its own with ``python examples/seed003_d2l_autodiff.py``.
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

SEED = "003"
DOT = "y = 2 x^T x"
SUM = "y = x.sum()"
NONSCALAR = "non-scalar backward"
DETACH = "detach"
FLOW = "control flow, a scalar"
FLOW3 = "control flow, a in R^3"

A_SCALAR = 0.4857  # printed a (In [57])
A_VECTOR = [0.6928, 0.3621, -0.0261]  # printed a (In [61])
ROUNDING = 5e-5  # a is printed with 4 decimals
MAX_STEPS = 64  # doublings: enough for |a| >= 1000 / 2**64, far below float32's resolution


def f_python(a):
    """The notebook's f, verbatim in spirit: Python while and if on traced values."""
    b = a * 2
    while jnp.linalg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def f(a: jax.Array) -> jax.Array:
    """The notebook's f, jit-compatible: bounded differentiable while loop and a select."""
    b = fg.while_loop(lambda b: jnp.linalg.norm(b) < 1000, lambda b: b * 2, a * 2, MAX_STEPS)
    return jnp.where(b.sum() > 0, b, 100 * b)


@jax.jit
def basics(x: jax.Array) -> dict[str, jax.Array]:
    """The examples before control flow, for x = arange(4.)."""
    y, grad_dot = fg.value_and_grad(lambda x: 2 * jnp.dot(x, x))(x)
    u = fg.detach(x * x)
    grad_detached = fg.grad(lambda x: jnp.sum(fg.detach(x * x) * x))(x)
    return {
        "y": y,
        "grad_dot": grad_dot,
        "grad_dot_is_4x": grad_dot == 4 * x,
        "grad_sum": fg.grad(jnp.sum)(x),
        "grad_nonscalar": fg.backward(lambda x: x * x, x, cotangent=jnp.ones(len(x))),
        "u": u,
        "z": u * x,
        "grad_detached": grad_detached,
        "grad_detached_is_u": grad_detached == u,
        "grad_y_sum": fg.grad(lambda x: jnp.sum(x * x))(x),
        "grad_y_sum_is_2x": fg.grad(lambda x: jnp.sum(x * x))(x) == 2 * x,
    }


@jax.jit
def control_flow(a: jax.Array) -> dict[str, jax.Array]:
    """d = f(a) and the gradient of d (summed, for a vector a, as the notebook's exercise)."""
    d = f(a)
    grad = fg.grad(lambda a: jnp.sum(f(a)))(a)
    return {"d": d, "d_sum": jnp.sum(d), "grad": grad, "grad_is_d_over_a": grad == d / a}


def run() -> list[Row]:
    """Computes every example of the notebook under jax.jit and checks it."""
    x = np.arange(4.0, dtype=np.float32)
    out = basics(jnp.asarray(x))
    scalar = control_flow(jnp.float32(A_SCALAR))
    vector = control_flow(jnp.array(A_VECTOR))
    eager = fg.grad(f_python)(jnp.float32(A_SCALAR))  # Python control flow, outside jit
    true4 = [True] * 4
    return [
        row(SEED, DOT, "y", out["y"], expected=2 * x @ x, documented=28.0),
        row(SEED, DOT, "x.grad", out["grad_dot"], expected=4 * x, documented=[0, 4, 8, 12]),
        row(SEED, DOT, "x.grad == 4 * x", out["grad_dot_is_4x"], documented=true4),
        row(SEED, SUM, "x.grad", out["grad_sum"], expected=np.ones(4), documented=[1, 1, 1, 1]),
        row(SEED, NONSCALAR, "x*x, gradient=ones", out["grad_nonscalar"], expected=2 * x,
            documented=[0, 2, 4, 6]),
        row(SEED, DETACH, "u = detach(x * x)", out["u"], expected=x * x, documented=[0, 1, 4, 9]),
        row(SEED, DETACH, "z = u * x", out["z"], expected=x**3, documented=[0, 1, 8, 27]),
        row(SEED, DETACH, "x.grad of z.sum()", out["grad_detached"], expected=x * x,
            documented=[0, 1, 4, 9]),
        row(SEED, DETACH, "x.grad == u", out["grad_detached_is_u"], documented=true4),
        row(SEED, DETACH, "x.grad of y.sum()", out["grad_y_sum"], expected=2 * x,
            documented=[0, 2, 4, 6]),
        row(SEED, DETACH, "x.grad == 2 * x", out["grad_y_sum_is_2x"], documented=true4),
        row(SEED, FLOW, "d = f(a)", scalar["d"], expected=4096 * A_SCALAR, documented=1989.2413,
            atol=4096 * ROUNDING, note="documented d is f of the unrounded a"),
        row(SEED, FLOW, "a.grad", scalar["grad"], documented=4096.0),
        row(SEED, FLOW, "a.grad == d / a", scalar["grad_is_d_over_a"], documented=True),
        row(SEED, FLOW, "a.grad, Python f, no jit", eager, documented=4096.0),
        row(SEED, FLOW3, "d = f(a)", vector["d"], expected=2048 * np.array(A_VECTOR),
            documented=[1418.8359, 741.6139, -53.5094], atol=2048 * ROUNDING),
        row(SEED, FLOW3, "d.sum()", vector["d_sum"], documented=2106.9402,
            atol=3 * 2048 * ROUNDING),
        row(SEED, FLOW3, "a.grad", vector["grad"], documented=[2048.0, 2048.0, 2048.0]),
        row(SEED, FLOW3, "a.grad == d / a", vector["grad_is_d_over_a"], expected=[True] * 3),
    ]  # fmt: skip


def torch_reference() -> dict[tuple[str, str], object]:
    """The notebook's torch program on the same inputs, keyed like the rows of :func:`run`."""
    import torch

    values: dict[tuple[str, str], object] = {}
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    y.backward()
    values[(DOT, "y")] = y
    values[(DOT, "x.grad")] = x.grad.clone()
    values[(DOT, "x.grad == 4 * x")] = x.grad == 4 * x
    x.grad.zero_()
    x.sum().backward()
    values[(SUM, "x.grad")] = x.grad.clone()
    x.grad.zero_()
    y = x * x
    y.backward(gradient=torch.ones(len(y)))
    values[(NONSCALAR, "x*x, gradient=ones")] = x.grad.clone()
    x.grad.zero_()
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    values[(DETACH, "u = detach(x * x)")] = u
    values[(DETACH, "z = u * x")] = z
    values[(DETACH, "x.grad of z.sum()")] = x.grad.clone()
    values[(DETACH, "x.grad == u")] = x.grad == u
    x.grad.zero_()
    y.sum().backward()
    values[(DETACH, "x.grad of y.sum()")] = x.grad.clone()
    values[(DETACH, "x.grad == 2 * x")] = x.grad == 2 * x

    def f_torch(a):
        b = a * 2
        while b.norm() < 1000:
            b = b * 2
        if b.sum() > 0:
            c = b
        else:
            c = 100 * b
        return c

    a = torch.tensor(A_SCALAR, requires_grad=True)
    d = f_torch(a)
    d.backward()
    values[(FLOW, "d = f(a)")] = d
    values[(FLOW, "a.grad")] = a.grad
    values[(FLOW, "a.grad == d / a")] = a.grad == d / a
    values[(FLOW, "a.grad, Python f, no jit")] = a.grad
    a = torch.tensor(A_VECTOR, requires_grad=True)
    d = f_torch(a)
    d.sum().backward()
    values[(FLOW3, "d = f(a)")] = d
    values[(FLOW3, "d.sum()")] = d.sum()
    values[(FLOW3, "a.grad")] = a.grad
    values[(FLOW3, "a.grad == d / a")] = a.grad == d / a
    return values


if __name__ == "__main__":
    raise SystemExit(main(run, torch_reference))
