"""funcgrad.parallel: data-parallel and sharded gradients on a device mesh.

This process has one CPU device, so the single-device path is tested here and every multi-device
check runs in a subprocess (``_parallel_worker.py``) whose XLA_FLAGS ask for 8 simulated devices
before jax starts; a two-process ``jax.distributed`` run on loopback covers the multi-host path.
"""

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from funcgrad import parallel

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("_parallel_worker.py")
TIMEOUT_S = 120


def _load_worker():
    spec = importlib.util.spec_from_file_location("_parallel_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


worker = _load_worker()


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["JAX_PLATFORMS"] = "cpu"
    env.pop("XLA_FLAGS", None)  # each child sets its own device count
    return env


def _result(stdout: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"worker printed no RESULT line; stdout:\n{stdout}"
    return json.loads(lines[-1][len("RESULT ") :])


def _plain(tree):
    """Arrays to nested lists and tuples to lists, so JSON results and jax results compare."""
    if isinstance(tree, dict):
        return {k: _plain(v) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return [_plain(v) for v in tree]
    return np.asarray(tree).tolist()


def _close(actual, expected, rtol=1e-5, atol=1e-5):
    """Compares two pytrees of numbers with float32 tolerance."""
    flat_actual, tree_a = jax.tree.flatten(_plain(actual))
    flat_expected, tree_e = jax.tree.flatten(_plain(expected))
    assert tree_a == tree_e, f"structure differs: {tree_a} vs {tree_e}"
    np.testing.assert_allclose(flat_actual, flat_expected, rtol=rtol, atol=atol)


def _reference(loss, problem):
    params, batch = problem()
    return jax.value_and_grad(loss)(params, batch)


# --- one device, in process -----------------------------------------------------------------


@pytest.mark.parametrize("transform", [lambda f: f, jax.jit], ids=["eager", "jit"])
def test_data_parallel_one_device_matches_value_and_grad(transform):
    params, batch = worker.linear_problem()
    step = parallel.data_parallel_grad(worker.linear_loss)
    value, grads = transform(step)(params, batch)
    ref_value, ref_grads = _reference(worker.linear_loss, worker.linear_problem)
    _close([float(value), grads], [ref_value, ref_grads])
    assert step.mesh.axis_names == ("batch",)
    assert step.mesh.size == jax.device_count()


def test_data_parallel_replicates_extra_args_and_kwargs():
    def loss(params, batch, scale, *, shift):
        x, y = batch
        return scale * jnp.mean((x @ params["w"] + params["b"] + shift - y) ** 2)

    params, batch = worker.linear_problem()
    step = parallel.data_parallel_grad(loss)
    got = step(params, batch, 2.0, shift=0.5)
    want = jax.value_and_grad(loss)(params, batch, 2.0, shift=0.5)
    _close(got, want)


def test_data_parallel_batch_argnum_and_axis_name():
    def loss(batch, params):  # batch first: params must still be argument 0 of the result
        del batch
        return jnp.sum(params**2)

    with pytest.raises(ValueError, match=r"batch_argnum must be a positive integer .* got 0"):
        parallel.data_parallel_grad(loss, batch_argnum=0)

    def loss2(params, scale, batch):
        return scale * jnp.mean(batch * params)

    step = parallel.data_parallel_grad(loss2, batch_argnum=2, axis_name="data")
    batch = jnp.arange(4.0 * jax.device_count())
    value, grad = step(jnp.float32(3.0), 2.0, batch)
    want_value, want_grad = jax.value_and_grad(loss2)(jnp.float32(3.0), 2.0, batch)
    assert float(value) == pytest.approx(float(want_value))
    assert float(grad) == pytest.approx(float(want_grad))
    assert step.mesh.axis_names == ("data",)


def test_shard_batch_one_device():
    params, batch = worker.linear_problem()
    step = parallel.data_parallel_grad(worker.linear_loss)
    placed = step.shard_batch(batch)
    assert isinstance(placed[0].sharding, NamedSharding)
    assert placed[0].sharding.spec == P("batch")
    np.testing.assert_array_equal(np.asarray(placed[0]), batch[0])
    local = parallel.shard_local_batch(batch, step.mesh)
    np.testing.assert_array_equal(np.asarray(local[1]), batch[1])


@pytest.mark.parametrize("transform", [lambda f: f, jax.jit], ids=["eager", "jit"])
def test_sharded_value_and_grad_one_device(transform):
    params, batch = worker.mlp_problem()
    mesh = parallel.make_mesh((1, jax.device_count()), ("data", "model"))
    specs = {"w1": P(None, "model"), "b1": P("model"), "w2": P("model", None), "b2": None}
    fn = parallel.sharded_value_and_grad(worker.mlp_loss, mesh, specs, batch_axis="data")
    placed = fn.shard_params(params)
    value, grads = transform(fn)(placed, batch)
    _close([float(value), grads], _reference(worker.mlp_loss, worker.mlp_problem))
    # An outer jit may normalise a spec over a size-1 axis; the layout must be equivalent.
    assert grads["w1"].sharding.is_equivalent_to(placed["w1"].sharding, 2)
    if transform is not jax.jit:
        assert grads["w1"].sharding == placed["w1"].sharding
        assert grads["w1"].sharding.spec == P(None, "model")


def test_shard_params_accepts_one_spec_for_all_leaves():
    mesh = parallel.make_mesh((jax.device_count(),), ("model",))
    placed = parallel.shard_params({"a": jnp.ones(4), "b": jnp.ones((2, 3))}, mesh, P())
    assert placed["b"].sharding == NamedSharding(mesh, P())


def test_make_mesh_defaults_to_auto_axes():
    mesh = parallel.make_mesh((jax.device_count(),), ("batch",))
    assert mesh.axis_types == (jax.sharding.AxisType.Auto,)
    with pytest.raises(ValueError, match=r"make_mesh: axis_shapes and axis_names must have"):
        parallel.make_mesh((1,), ("a", "b"))
    with pytest.raises(ValueError, match=r"holds 2 devices but 1 are available"):
        parallel.make_mesh((2,), ("a",), devices=jax.devices()[:1])


# --- errors, in process ---------------------------------------------------------------------


def test_error_mesh_lacks_axis():
    mesh = parallel.make_mesh((jax.device_count(),), ("x",))
    with pytest.raises(
        ValueError, match=r"data_parallel_grad: the mesh has no axis 'batch' .*got a mesh with axes"
    ):
        parallel.data_parallel_grad(worker.linear_loss, mesh)
    with pytest.raises(ValueError, match=r"shard_batch: the mesh has no axis 'data'"):
        parallel.shard_batch(np.ones((4, 2)), mesh, "data")
    with pytest.raises(ValueError, match=r"sharded_value_and_grad: the mesh has no axis 'data'"):
        parallel.sharded_value_and_grad(worker.mlp_loss, mesh, None, batch_axis="data")


def test_error_spec_names_unknown_axis():
    mesh = parallel.make_mesh((jax.device_count(),), ("data",))
    with pytest.raises(
        ValueError, match=r"names mesh axis 'model', but the mesh has axes \('data',\)"
    ):
        parallel.sharded_value_and_grad(worker.mlp_loss, mesh, {"w1": P(None, "model")})
    with pytest.raises(ValueError, match=r"shard_params: .* names mesh axis 'model'"):
        parallel.shard_params(jnp.ones((2, 2)), mesh, P("model"))


def test_error_spec_rank_and_structure():
    mesh = parallel.make_mesh((jax.device_count(),), ("model",))
    with pytest.raises(ValueError, match=r"has 2 entries but parameter \['w'\] has shape \(4,\)"):
        parallel.shard_params({"w": jnp.ones(4)}, mesh, {"w": P(None, "model")})
    with pytest.raises(ValueError, match=r"specs do not match the parameters' structure"):
        parallel.shard_params({"w": jnp.ones(4)}, mesh, {"v": P()})
    with pytest.raises(
        TypeError, match=r"specs must be jax.sharding.PartitionSpec or None; got str"
    ):
        parallel.shard_params({"w": jnp.ones(4)}, mesh, {"w": "model"})


def test_error_bad_batch_and_arguments():
    step = parallel.data_parallel_grad(worker.linear_loss)
    params, (x, y) = worker.linear_problem()
    with pytest.raises(ValueError, match=r"different leading dimensions"):
        step(params, (x, y[:-1]))
    with pytest.raises(ValueError, match=r"batch leaf \[1\] is a scalar"):
        step(params, (x, np.float32(1.0)))
    with pytest.raises(ValueError, match=r"the batch has no arrays"):
        step(params, ())
    with pytest.raises(TypeError, match=r"expected the batch as positional argument 1 .* got 1"):
        step(params)
    with pytest.raises(TypeError, match=r"mesh must be a jax.sharding.Mesh; got tuple"):
        parallel.data_parallel_grad(worker.linear_loss, mesh=(8,))
    with pytest.raises(TypeError, match=r"loss_fn must be callable; got int"):
        parallel.data_parallel_grad(3)


# --- 8 simulated devices, in a subprocess ---------------------------------------------------


@pytest.fixture(scope="module")
def eight():
    proc = subprocess.run(
        [sys.executable, str(WORKER), "devices"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=_env(),
        cwd=ROOT,
    )
    assert proc.returncode == 0, f"worker failed:\n{proc.stdout}\n{proc.stderr}"
    return _result(proc.stdout)


def test_eight_devices_data_parallel_matches_single_device(eight):
    assert eight["device_count"] == 8
    ref_value, ref_grads = _reference(worker.linear_loss, worker.linear_problem)
    for key in ("dp_numpy", "dp_jit", "dp_2d", "dp_explicit"):
        _close(eight[key], [ref_value, ref_grads])
    _close([eight["dp"]["value"], eight["dp"]["grads"]], [ref_value, ref_grads])


def test_eight_devices_batch_is_sharded(eight):
    dp = eight["dp"]
    assert dp["mesh_shape"] == {"batch": 8}
    for key, shard_shape in (("batch_x", [4, 2]), ("batch_y", [4])):
        info = dp[key]
        assert info["devices"] == 8
        assert info["addressable"] == 8
        assert info["shard_shapes"] == [shard_shape]  # 32 rows / 8 devices
        assert info["replicated"] is False
        assert info["spec"] == "P('batch',)"
    # On a (data=4, model=2) mesh, the batch is split 4 ways only.
    assert eight["dp_2d_batch"]["shard_shapes"] == [[8, 2]]


def test_eight_devices_gradient_and_value_are_replicated(eight):
    for info in (eight["dp"]["grad_w"], eight["dp"]["value_sharding"]):
        assert info["replicated"] is True
        assert info["addressable"] == 8
    assert eight["dp"]["grad_w"]["shard_shapes"] == [[2]]  # full gradient on every device
    assert eight["dp_explicit_axis_types"] == "(Explicit,)"  # results stay on the caller's mesh


def test_eight_devices_sharded_params_match_single_device(eight):
    sharded = eight["sharded"]
    reference = _reference(worker.mlp_loss, worker.mlp_problem)
    _close([sharded["value"], sharded["grads"]], reference)
    _close(eight["sharded_numpy"], reference)
    _close(eight["sharded_explicit"], reference)


def test_eight_devices_sharded_grads_carry_param_shardings(eight):
    sharded = eight["sharded"]
    assert sharded["param_w1"]["shard_shapes"] == [[6, 8]]  # 16 hidden units over model=2
    assert sharded["same_sharding"] == {"b1": True, "b2": True, "w1": True, "w2": True}
    assert sharded["grad"]["w1"]["spec"] == "P(None, 'model')"
    assert sharded["grad"]["w2"]["shard_shapes"] == [[8, 1]]
    assert sharded["grad"]["b2"]["replicated"] is True
    assert sharded["value_sharding"]["replicated"] is True
    assert eight["sgd_w1"]["spec"] == "P(None, 'model')"  # an update keeps the sharding


@pytest.mark.parametrize(
    ("key", "pattern"),
    [
        (
            "err_indivisible",
            r"^data_parallel_grad: the batch's leading dimension \(30\) does not divide across "
            r"the 8 devices of mesh axis 'batch'\. Use a batch size that is a multiple of 8",
        ),
        ("err_indivisible_shard", r"^shard_batch: the batch's leading dimension \(30\)"),
        (
            "err_param_indivisible",
            r"^shard_params: dimension 0 of parameter \['w'\] \(size 3\) does not divide across "
            r"mesh axes \('data',\) \(4 devices\)",
        ),
        (
            "err_sharded_batch",
            r"^sharded_value_and_grad: the batch's leading dimension \(30\) does not divide "
            r"across the 4 devices of mesh axis 'data'",
        ),
        ("err_make_mesh", r"^make_mesh: the mesh shape \(3, 2\) holds 6 devices but 8 are"),
    ],
)
def test_eight_devices_errors(eight, key, pattern):
    error = eight[key]
    assert error is not None, f"{key}: no error raised"
    assert error[0] == "ValueError"
    assert re.search(pattern, error[1]), error[1]


# --- two processes on loopback (jax.distributed) --------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_data_parallel_matches_single_process(tmp_path):
    port = _free_port()
    procs, logs = [], []
    try:
        for process_id in (0, 1):
            log = open(tmp_path / f"process{process_id}.log", "w+")  # noqa: SIM115 - closed below
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [sys.executable, str(WORKER), "process", str(port), str(process_id)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    text=True,
                    env=_env(),
                    cwd=ROOT,
                )
            )
        codes = [proc.wait(timeout=TIMEOUT_S) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    outputs = []
    for log in logs:
        log.seek(0)
        outputs.append(log.read())
        log.close()
    assert codes == [0, 0], "\n----\n".join(outputs)

    ref_value, ref_grads = _reference(worker.linear_loss, worker.linear_problem)
    for process_id, output in enumerate(outputs):
        result = _result(output)
        assert result["process_index"] == process_id
        assert result["process_count"] == 2
        assert result["device_count"] == 4
        assert result["local_device_count"] == 2
        assert result["global_batch_shape"] == [32, 2]  # 16 rows from each process
        assert result["local_shard_shapes"] == [[8, 2], [8, 2]]
        _close([result["value"], result["grads"]], [ref_value, ref_grads])


# --- the example script ---------------------------------------------------------------------


def test_example_trains_on_eight_devices():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "data_parallel.py")],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=_env(),
        cwd=ROOT,
    )
    assert proc.returncode == 0, f"example failed:\n{proc.stdout}\n{proc.stderr}"
    assert "devices: 8 x cpu" in proc.stdout
    assert "shards [(32, 2), (32, 2), (32, 2), (32, 2)" in proc.stdout
    curves: dict[str, list[float]] = {}
    for name, loss in re.findall(r"^(\S+) step +\d+ loss (\S+)$", proc.stdout, re.MULTILINE):
        curves.setdefault(name, []).append(float(loss))
    assert set(curves) == {"linear", "mlp", "sharded-mlp"}, proc.stdout
    for name, curve in curves.items():
        assert all(np.isfinite(curve)), f"{name}: {curve}"
        assert curve[-1] < 0.2 * curve[0], f"{name} loss did not decrease: {curve}"
