"""Seed 004, "Computation graphs and Autograd in PyTorch", written with funcgrad.

The notebook differentiates ``x**2`` and ``3x**2 + 4x + 2`` at ``x = 3``; because it does not
zero ``x.grad`` in between, it prints 28 (= 6 + 22) for the second gradient. It then turns
gradients off with ``requires_grad_(False)``/``detach()``, shows that ``x.grad.zero_()`` keeps
each epoch's gradient at 22, and differentiates a two-feature linear model with an MSE loss,
by autograd, by a hand-written chain rule and by a NumPy ``compute_gradient``.

Functionally there is no ``.grad`` to forget to zero: each ``grad`` call is fresh, and torch's
accumulation is written out with ``accumulate_grads``, whose ``init`` is the gradient already
stored. The hand-written chain rule is a VJP: the loss's gradient with respect to the
predictions, pulled back through the linear layer.

Run it on its own with ``python examples/seed004_accumulation.py``.
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

SEED = "004"
SIMPLE = "y = x**2, x = 3"
POLY = "y = 3x**2 + 4x + 2"
OFF = "turning gradients off"
EPOCHS = "3 epochs"
LINEAR = "linear model, autograd"
MANUAL = "linear model, by hand"
NUMPY = "compute_gradient"

X1, X2 = [2.0, 3.0], [2.0, 1.0]
W1, W2, B = [3.0, 2.0], [1.0, 4.0], 1.0
Y_TRUE = [11.0, 15.0]


def square(x: jax.Array) -> jax.Array:
    return x**2


def poly(x: jax.Array) -> jax.Array:
    return 3 * x**2 + 4 * x + 2


@jax.jit
def scalar_examples(x: jax.Array) -> dict[str, jax.Array]:
    """The x = 3 examples: gradients, torch's accumulated 28, detaching, the epoch loops."""
    grad_square = fg.grad(square)(x)
    y, grad_poly = fg.value_and_grad(poly)(x)
    # torch's second backward() adds into the x.grad the first one left: init is that gradient.
    accumulated = fg.accumulate_grads(lambda x: fg.grad(poly)(x), x, 1, init=grad_square)
    zeroed = jnp.stack([fg.grad(poly)(x) for _ in range(3)])  # zero_grad(): each epoch fresh
    _, running = fg.accumulate_grads(lambda x: fg.grad(poly)(x), x, 3, history=True)
    return {
        "grad_square": grad_square,
        "y": y,
        "grad_poly": grad_poly,
        "accumulated": accumulated,
        "detached": fg.detach(x),
        "grad_detached": fg.grad(lambda x: poly(fg.detach(x)))(x),
        "zeroed": zeroed,
        "running": running,
    }


def predict(x1, x2, w1, w2, b):
    """The notebook's network: y_pred = x1 * w1 + x2 * w2 + b (element-wise)."""
    return x1 * w1 + x2 * w2 + b


def mse(y_pred: jax.Array, y_true: jax.Array) -> jax.Array:
    return jnp.mean((y_pred - y_true) ** 2)


@jax.jit
def linear_examples(x1, x2, w1, w2, b, y_true) -> dict[str, jax.Array]:
    """Loss and gradients of the linear model, by autodiff and as the notebook's hand rules."""
    y_pred = predict(x1, x2, w1, w2, b)
    loss, (g_w1, g_w2, g_b) = fg.value_and_grad(
        lambda w1, w2, b: mse(predict(x1, x2, w1, w2, b), y_true), argnums=(0, 1, 2)
    )(w1, w2, b)
    dloss_dy_pred = fg.grad(mse)(y_pred, y_true)
    # compute_gradient(X, y, y_pred) is the VJP of a shared-weight layer X @ w + b with that
    # cotangent: (X.T @ dloss_dy_pred, sum(dloss_dy_pred)); it is linear, so w's value is moot.
    features = jnp.stack([x1, x2], axis=1)  # np.array(list(zip(x1, x2)))
    # zeros in the features' dtype, so the cotangent's dtype matches also with jax_enable_x64.
    w0 = jnp.zeros(2, features.dtype)
    _, layer_vjp = fg.vjp(lambda w, b: features @ w + b, w0, jnp.float32(0.0))
    dw, db = layer_vjp(dloss_dy_pred)
    m = features.shape[0]
    return {
        "y_pred": y_pred,
        "loss": loss,
        "grad_w1": g_w1,
        "grad_w2": g_w2,
        "grad_b": g_b,
        "manual_w1": jnp.sum(dloss_dy_pred * x1),
        "manual_w2": jnp.sum(dloss_dy_pred * x2),
        "manual_b": jnp.sum(dloss_dy_pred),
        "dw": dw,
        "db": db,
        "dw_over_m": dw / m,
        "db_over_m": db / m,
    }


def linear_inputs() -> tuple[jax.Array, ...]:
    return tuple(jnp.array(v, dtype=jnp.float32) for v in (X1, X2, W1, W2, B, Y_TRUE))


def run() -> list[Row]:
    """Computes every example of the notebook under jax.jit and checks it."""
    s = scalar_examples(jnp.float32(3.0))
    lin = linear_examples(*linear_inputs())
    return [
        row(SEED, SIMPLE, "x.grad", s["grad_square"], expected=2 * 3.0, documented=6.0),
        row(SEED, POLY, "y", s["y"], expected=41.0, documented=41.0),
        row(SEED, POLY, "dy/dx = 6x + 4", s["grad_poly"], expected=22.0,
            note="the notebook derives 22 in its text"),
        row(SEED, POLY, "x.grad, not zeroed (6+22)", s["accumulated"], expected=6.0 + 22.0,
            documented=28.0),
        row(SEED, OFF, "x.detach()", s["detached"], expected=3.0, documented=3.0),
        row(SEED, OFF, "grad through detach", s["grad_detached"], expected=0.0),
        row(SEED, EPOCHS, "x.grad, zeroed each epoch", s["zeroed"], expected=[22.0] * 3,
            documented=[22.0, 22.0, 22.0]),
        row(SEED, EPOCHS, "x.grad, never zeroed", s["running"], expected=[22.0, 44.0, 66.0],
            note="what the notebook warns about"),
        row(SEED, LINEAR, "y_pred", lin["y_pred"], documented=[9.0, 11.0]),
        row(SEED, LINEAR, "loss", lin["loss"], documented=10.0),
        row(SEED, LINEAR, "w1.grad", lin["grad_w1"], documented=[-4.0, -12.0]),
        row(SEED, LINEAR, "w2.grad", lin["grad_w2"], documented=[-4.0, -4.0]),
        row(SEED, LINEAR, "b.grad", lin["grad_b"], documented=-6.0),
        row(SEED, MANUAL, "dloss_dw1", lin["manual_w1"], documented=-16.0),
        row(SEED, MANUAL, "dloss_dw2", lin["manual_w2"], documented=-8.0),
        row(SEED, MANUAL, "dloss_db", lin["manual_b"], documented=-6.0),
        row(SEED, NUMPY, "dw", lin["dw"], documented=[-16.0, -8.0]),
        row(SEED, NUMPY, "db", lin["db"], documented=-6.0),
        row(SEED, NUMPY, "dw / len(X)", lin["dw_over_m"], documented=[-8.0, -4.0]),
        row(SEED, NUMPY, "db / len(X)", lin["db_over_m"], documented=-3.0),
    ]  # fmt: skip


def torch_reference() -> dict[tuple[str, str], object]:
    """The notebook's torch program, keyed like the rows of :func:`run`."""
    import torch

    values: dict[tuple[str, str], object] = {}
    x = torch.tensor(3.0, requires_grad=True)
    (x**2).backward()
    values[(SIMPLE, "x.grad")] = x.grad.clone()
    y = 3 * x**2 + 4 * x + 2
    values[(POLY, "y")] = y
    y.backward()
    values[(POLY, "x.grad, not zeroed (6+22)")] = x.grad.clone()
    values[(POLY, "dy/dx = 6x + 4")] = torch.autograd.grad(3 * x**2 + 4 * x + 2, x)[0]
    values[(OFF, "x.detach()")] = x.detach()

    x = torch.tensor(3.0, requires_grad=True)
    zeroed = []
    for _ in range(3):
        (3 * x**2 + 4 * x + 2).backward()
        zeroed.append(x.grad.clone())
        x.grad.zero_()
    values[(EPOCHS, "x.grad, zeroed each epoch")] = torch.stack(zeroed)
    running = []
    for _ in range(3):
        (3 * x**2 + 4 * x + 2).backward()
        running.append(x.grad.clone())
    values[(EPOCHS, "x.grad, never zeroed")] = torch.stack(running)

    x1, x2, w1, w2, b, y_true = (
        torch.tensor(v, dtype=torch.float32, requires_grad=True)
        for v in (X1, X2, W1, W2, B, Y_TRUE)
    )
    y_pred = x1 * w1 + x2 * w2 + b
    loss = torch.mean((y_pred - y_true) ** 2)
    dloss_dy_pred = 2 * (y_pred - y_true) / y_pred.numel()
    loss.backward()
    values |= {
        (LINEAR, "y_pred"): y_pred,
        (LINEAR, "loss"): loss,
        (LINEAR, "w1.grad"): w1.grad,
        (LINEAR, "w2.grad"): w2.grad,
        (LINEAR, "b.grad"): b.grad,
        (MANUAL, "dloss_dw1"): (dloss_dy_pred * x1).sum(),
        (MANUAL, "dloss_dw2"): (dloss_dy_pred * x2).sum(),
        (MANUAL, "dloss_db"): dloss_dy_pred.sum(),
    }
    features = np.array(list(zip(x1.detach().numpy(), x2.detach().numpy(), strict=True)))
    m = features.shape[0]
    residual = y_pred.detach().numpy() - y_true.detach().numpy()
    dw, db = (2 / m) * np.dot(features.T, residual), (2 / m) * np.sum(residual)
    values |= {
        (NUMPY, "dw"): dw,
        (NUMPY, "db"): db,
        (NUMPY, "dw / len(X)"): dw / m,
        (NUMPY, "db / len(X)"): db / m,
    }
    return values


def plot(out_dir: str | Path) -> list[Path]:
    """Saves the accumulation per epoch and the loss along b with its autodiff tangent."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = scalar_examples(jnp.float32(3.0))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = np.arange(1, 4)
    left.bar(epochs - 0.2, np.asarray(s["zeroed"]), width=0.4, label="zeroed each epoch")
    left.bar(epochs + 0.2, np.asarray(s["running"]), width=0.4, label="never zeroed")
    left.set_xticks(epochs)
    left.set_xlabel("epoch")
    left.set_ylabel("x.grad")
    left.set_title("Gradient accumulation, y = 3x² + 4x + 2 at x = 3")
    left.legend()

    x1, x2, w1, w2, b, y_true = linear_inputs()
    bs = jnp.linspace(-5.0, 7.0, 121)
    losses = jax.vmap(lambda b: mse(predict(x1, x2, w1, w2, b), y_true))(bs)
    loss, slope = fg.value_and_grad(lambda b: mse(predict(x1, x2, w1, w2, b), y_true))(b)
    right.plot(bs, losses, label="loss(b)")
    right.plot(bs, loss + slope * (bs - b), "--", label=f"tangent at b = 1, slope {slope:g}")
    right.set_xlabel("b")
    right.set_ylim(float(losses.min()) - 5, float(losses.max()))
    right.set_title("Linear model: loss along b")
    right.legend()
    path = Path(out_dir) / "seed004_accumulation_linear.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return [path]


if __name__ == "__main__":
    raise SystemExit(main(run, torch_reference))
