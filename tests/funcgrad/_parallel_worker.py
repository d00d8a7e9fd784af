"""Subprocess worker for tests/funcgrad/test_parallel.py.

The pytest process has already initialised jax with one CPU device, so every multi-device check
runs here, in a fresh interpreter whose XLA_FLAGS / JAX_PLATFORMS are set before jax is imported.
Results go to stdout as one JSON line prefixed with ``RESULT``.

    python _parallel_worker.py devices                    # 8 simulated devices
    python _parallel_worker.py process PORT PROCESS_ID    # one of 2 processes, 2 devices each

The problems are plain numpy (no jax at import time), so the test imports this module to build
the single-device references.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

BATCH = 32


def linear_problem() -> tuple[dict[str, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Seed 004's two-feature linear model, y = x1 * w1 + x2 * w2 + b, on a batch of 32."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(BATCH, 2)).astype(np.float32)
    y = (x @ np.array([3.0, -2.0]) + 1.0 + 0.1 * rng.normal(size=BATCH)).astype(np.float32)
    params = {"w": np.array([0.5, 0.5], np.float32), "b": np.array(0.0, np.float32)}
    return params, (x, y)


def linear_loss(params, batch):
    import jax.numpy as jnp

    x, y = batch
    return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)


def mlp_problem() -> tuple[dict[str, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A 6 -> 16 -> 1 tanh MLP; hidden width 16 divides over a model axis of 4."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(BATCH, 6)).astype(np.float32)
    y = np.sin(x[:, 0] + x[:, 1]).astype(np.float32)
    params = {
        "w1": (rng.normal(size=(6, 16)) / np.sqrt(6)).astype(np.float32),
        "b1": (0.1 * rng.normal(size=16)).astype(np.float32),
        "w2": (rng.normal(size=(16, 1)) / 4.0).astype(np.float32),
        "b2": np.zeros(1, np.float32),
    }
    return params, (x, y)


def mlp_loss(params, batch):
    import jax.numpy as jnp

    x, y = batch
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    return jnp.mean(((h @ params["w2"] + params["b2"])[:, 0] - y) ** 2)


def _tolist(tree):
    import jax

    return jax.tree.map(lambda a: np.asarray(a).tolist(), tree)


def _error(fn):
    """``[class name, message]`` of what ``fn()`` raises, or ``None``."""
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - report whatever it is to the test
        return [type(err).__name__, str(err)]
    return None


def _sharding_info(x):
    return {
        "devices": len(x.sharding.device_set),
        "addressable": len(x.addressable_shards),
        "shard_shapes": sorted({tuple(s.data.shape) for s in x.addressable_shards}),
        "replicated": bool(x.sharding.is_fully_replicated),
        "spec": str(getattr(x.sharding, "spec", None)),
    }


def run_devices() -> dict:
    import jax
    from jax.sharding import PartitionSpec as P

    from funcgrad import parallel

    out: dict = {"device_count": jax.device_count()}

    # Data parallel, default mesh (1-D over all 8 devices), batch placed ahead of time.
    params, batch = linear_problem()
    step = parallel.data_parallel_grad(linear_loss)
    sharded = step.shard_batch(batch)
    value, grads = step(params, sharded)
    out["dp"] = {
        "value": float(value),
        "grads": _tolist(grads),
        "mesh_shape": dict(step.mesh.shape),
        "batch_x": _sharding_info(sharded[0]),
        "batch_y": _sharding_info(sharded[1]),
        "grad_w": _sharding_info(grads["w"]),
        "value_sharding": _sharding_info(value),
    }
    # Unplaced numpy batch, and the whole step nested in a user's jit.
    out["dp_numpy"] = _tolist(step(params, batch))
    out["dp_jit"] = _tolist(jax.jit(step)(params, batch))

    # 2-D mesh: batch split over "data" (4), work replicated over "model" (2); an Explicit mesh
    # (jax.make_mesh's default) must work too and results stay on that mesh.
    mesh2 = parallel.make_mesh((4, 2), ("data", "model"))
    step2 = parallel.data_parallel_grad(linear_loss, mesh2, axis_name="data")
    out["dp_2d"] = _tolist(step2(params, batch))
    out["dp_2d_batch"] = _sharding_info(step2.shard_batch(batch)[0])
    explicit = jax.make_mesh((8,), ("batch",))
    step3 = parallel.data_parallel_grad(linear_loss, explicit)
    v3, g3 = step3(params, step3.shard_batch(batch))
    out["dp_explicit"] = _tolist((v3, g3))
    out["dp_explicit_axis_types"] = str(g3["w"].sharding.mesh.axis_types)

    # Sharded parameters: hidden units split over "model", batch over "data".
    mparams, mbatch = mlp_problem()
    specs = {"w1": P(None, "model"), "b1": P("model"), "w2": P("model", None), "b2": None}
    fn = parallel.sharded_value_and_grad(mlp_loss, mesh2, specs, batch_axis="data")
    placed = fn.shard_params(mparams)
    mv, mg = fn(placed, fn.shard_batch(mbatch))
    out["sharded"] = {
        "value": float(mv),
        "grads": _tolist(mg),
        "param_w1": _sharding_info(placed["w1"]),
        "grad": {k: _sharding_info(g) for k, g in mg.items()},
        "value_sharding": _sharding_info(mv),
        "same_sharding": {k: bool(mg[k].sharding == placed[k].sharding) for k in mg},
    }
    # Unplaced inputs, replicated batch, explicit mesh, and a jitted SGD step that keeps sharding.
    fn_rep = parallel.sharded_value_and_grad(mlp_loss, mesh2, specs)
    out["sharded_numpy"] = _tolist(fn_rep(mparams, mbatch))
    explicit2 = jax.make_mesh((2, 4), ("data", "model"))
    fn_exp = parallel.sharded_value_and_grad(mlp_loss, explicit2, specs, batch_axis="data")
    out["sharded_explicit"] = _tolist(fn_exp(fn_exp.shard_params(mparams), mbatch))

    @jax.jit
    def sgd(p, b):
        loss, g = fn(p, b)
        return loss, jax.tree.map(lambda w, d: w - 0.1 * d, p, g)

    _, updated = jax.block_until_ready(sgd(placed, mbatch))
    out["sgd_w1"] = _sharding_info(updated["w1"])

    # Errors that need more than one device.
    x30 = (batch[0][:30], batch[1][:30])
    out["err_indivisible"] = _error(lambda: step(params, x30))
    out["err_indivisible_shard"] = _error(lambda: step.shard_batch(x30))
    out["err_param_indivisible"] = _error(
        lambda: parallel.shard_params({"w": np.ones((3, 6))}, mesh2, {"w": P("data", None)})
    )
    fn_odd = parallel.sharded_value_and_grad(mlp_loss, mesh2, specs, batch_axis="data")
    out["err_sharded_batch"] = _error(lambda: fn_odd(mparams, x30))
    out["err_make_mesh"] = _error(lambda: parallel.make_mesh((3, 2), ("a", "b")))
    return out


def run_process(port: int, process_id: int) -> dict:
    import jax

    # gloo carries CPU collectives between processes (the default in jax 0.10; set it explicitly
    # where the option exists so a changed default cannot break the test).
    if "jax_cpu_collectives_implementation" in jax.config.values:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=f"127.0.0.1:{port}",
        num_processes=2,
        process_id=process_id,
        initialization_timeout=60,
    )
    try:
        from funcgrad import parallel

        mesh = parallel.make_mesh((jax.device_count(),), ("batch",))
        step = parallel.data_parallel_grad(linear_loss, mesh)
        params, (x, y) = linear_problem()
        rows = slice(process_id * BATCH // 2, (process_id + 1) * BATCH // 2)
        batch = parallel.shard_local_batch((x[rows], y[rows]), mesh)
        value, grads = step(params, batch)
        return {
            "process_index": jax.process_index(),
            "process_count": jax.process_count(),
            "device_count": jax.device_count(),
            "local_device_count": jax.local_device_count(),
            "global_batch_shape": list(batch[0].shape),
            "local_shard_shapes": [list(s.data.shape) for s in batch[0].addressable_shards],
            "value": float(value),
            "grads": _tolist(grads),
        }
    finally:
        jax.distributed.shutdown()


def main(argv: list[str]) -> None:
    mode = argv[1]
    os.environ["JAX_PLATFORMS"] = "cpu"
    count = 8 if mode == "devices" else 2
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={count}"
    if mode == "devices":
        result = run_devices()
    elif mode == "process":
        result = run_process(int(argv[2]), int(argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv)
