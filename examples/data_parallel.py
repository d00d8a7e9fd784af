"""Data-parallel (and sharded-parameter) training on 8 simulated devices.

Trains seed 004's two-feature linear model, ``y = x1 * w1 + x2 * w2 + b``, and a small MLP with
``funcgrad.parallel.data_parallel_grad``: every device holds a copy of the parameters and an
eighth of the batch, and the gradients are averaged by one all-reduce inside the jitted step. The
MLP is then trained again with its hidden layer split over a "model" axis
(``sharded_value_and_grad``).

Run: ``PYTHONPATH=. python examples/data_parallel.py``. With no accelerator the script asks XLA for
8 CPU devices (it must do so before jax is imported); with ``JAX_PLATFORMS`` set to ``cuda`` or
``tpu`` the same code uses the real devices instead.
"""

from __future__ import annotations

import os

# Must happen before jax initialises its backends.
if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    flags = os.environ.get("XLA_FLAGS", "")
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count=8".strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

from funcgrad import parallel  # noqa: E402

BATCH = 256


def linear_loss(params, batch):
    """Seed 004's model: y_pred = x1 * w1 + x2 * w2 + b, mean squared error."""
    x1, x2, y = batch
    y_pred = x1 * params["w1"] + x2 * params["w2"] + params["b"]
    return jnp.mean((y_pred - y) ** 2)


def mlp_loss(params, batch):
    x, y = batch
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    return jnp.mean(((h @ params["w2"])[:, 0] + params["b2"] - y) ** 2)


def sgd(value_and_grad_fn, lr):
    """One jitted training step around any value-and-grad function."""

    @jax.jit
    def step(params, batch):
        loss, grads = value_and_grad_fn(params, batch)
        return loss, jax.tree.map(lambda p, g: p - lr * g, params, grads)

    return step


def train(name, step, params, batch, steps, every):
    """Runs ``steps`` updates and returns the final parameters and the loss curve."""
    curve = []
    for i in range(steps + 1):
        loss, new_params = step(params, batch)
        # Reading the loss each step also keeps one step in flight at a time: with many simulated
        # CPU devices on few cores, XLA's CPU runtime can deadlock when steps queue up.
        curve.append(float(loss))
        if i % every == 0:
            print(f"{name} step {i:4d} loss {curve[-1]:.6f}")
        params = new_params
    return params, curve


def describe(name, x):
    shapes = [tuple(s.data.shape) for s in x.addressable_shards]
    devices = [s.device.id for s in x.addressable_shards]
    print(f"{name}: global {tuple(x.shape)}, {x.sharding.spec}, shards {shapes} on {devices}")


def main():
    print(f"devices: {jax.device_count()} x {jax.devices()[0].platform}")
    rng = np.random.default_rng(4)

    # Seed 004's linear model, data generated from w1=2, w2=-3, b=1 plus a little noise.
    x1, x2 = rng.normal(size=(2, BATCH)).astype(np.float32)
    y = (2.0 * x1 - 3.0 * x2 + 1.0 + 0.05 * rng.normal(size=BATCH)).astype(np.float32)
    linear_grad = parallel.data_parallel_grad(linear_loss)
    batch = linear_grad.shard_batch((x1, x2, y))  # placed once, reused every step
    describe("linear x1", batch[0])
    params = {"w1": jnp.float32(0.0), "w2": jnp.float32(0.0), "b": jnp.float32(0.0)}
    params, _ = train("linear", sgd(linear_grad, 0.1), params, batch, steps=60, every=10)
    print("linear fit:", {k: round(float(v), 3) for k, v in params.items()})

    # A 2 -> 32 -> 1 MLP learning sin(x1) * cos(x2), data parallel.
    x = rng.uniform(-2, 2, size=(BATCH, 2)).astype(np.float32)
    target = (np.sin(x[:, 0]) * np.cos(x[:, 1])).astype(np.float32)
    k1, k2 = jax.random.split(jax.random.key(0))
    mlp_params = {
        "w1": jax.random.normal(k1, (2, 32)) / np.sqrt(2.0),
        "b1": jnp.zeros(32),
        "w2": jax.random.normal(k2, (32, 1)) / np.sqrt(32.0),
        "b2": jnp.float32(0.0),
    }
    mlp_grad = parallel.data_parallel_grad(mlp_loss)
    mlp_batch = mlp_grad.shard_batch((x, target))
    describe("mlp x", mlp_batch[0])
    train("mlp", sgd(mlp_grad, 0.05), mlp_params, mlp_batch, steps=300, every=50)

    # The same MLP with its hidden units split over "model" (4) and the batch over "data" (2).
    mesh = parallel.make_mesh((2, jax.device_count() // 2), ("data", "model"))
    specs = {"w1": P(None, "model"), "b1": P("model"), "w2": P("model", None), "b2": None}
    sharded_grad = parallel.sharded_value_and_grad(mlp_loss, mesh, specs, batch_axis="data")
    sharded_params = sharded_grad.shard_params(mlp_params)
    describe("sharded-mlp w1", sharded_params["w1"])
    train(
        "sharded-mlp",
        sgd(sharded_grad, 0.05),
        sharded_params,
        sharded_grad.shard_batch((x, target)),
        steps=50,
        every=25,
    )


if __name__ == "__main__":
    main()
