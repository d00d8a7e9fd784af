"""Tests for funcgrad.testing: numeric gradient checks and tree assertions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from funcgrad.testing import assert_allclose_tree, assert_matches_torch, check_grads, to_numpy


def test_check_grads_passes_for_correct_gradients():
    check_grads(lambda x, y: jnp.sum(jnp.sin(x) * y**2), (jnp.arange(3.0), jnp.ones(3)), order=2)


def test_check_grads_non_scalar_and_pytree_inputs():
    check_grads(
        lambda p: {"out": p["w"] * jnp.tanh(p["b"])}, ({"w": jnp.ones(2), "b": jnp.arange(2.0)},)
    )


def test_check_grads_with_python_control_flow():
    def f(a):
        return a**2 if a > 0 else -a

    check_grads(f, (jnp.float32(1.5),))
    check_grads(f, (jnp.float32(-1.5),))


def test_check_grads_float64_uses_tight_defaults():
    with jax.enable_x64(True):
        check_grads(lambda x: jnp.sum(jnp.exp(x)), (jnp.linspace(0.0, 1.0, 3, dtype=jnp.float64),))


def _wrong_gradient():
    @jax.custom_vjp
    def f(x):
        return jnp.sin(x)

    f.defvjp(lambda x: (jnp.sin(x), x), lambda x, g: (g * 2 * jnp.cos(x),))  # off by 2
    return f


def test_check_grads_reports_every_mismatch():
    with pytest.raises(AssertionError) as info:
        check_grads(lambda x: jnp.sum(_wrong_gradient()(x)), (jnp.array([0.1, 0.2, 0.3]),))
    message = str(info.value)
    assert "order-1 derivatives disagree with central differences at 3 of 3 entries" in message
    for index in range(3):
        assert f"argument 0[{index}]" in message


def test_check_grads_order_two_catches_wrong_second_derivative():
    @jax.custom_vjp
    def cube(x):
        return x**3

    cube.defvjp(lambda x: (x**3, x), lambda x, g: (3 * x**2 * g + 0 * x,))
    check_grads(cube, (jnp.float32(1.2),), order=2)  # correct rule passes both orders

    @jax.custom_vjp
    def bad(x):
        return x**3

    bad.defvjp(lambda x: (x**3, x), lambda x, g: (3 * jax.lax.stop_gradient(x) ** 2 * g,))
    check_grads(bad, (jnp.float32(1.2),), order=1)
    with pytest.raises(AssertionError, match=r"order-2 derivatives disagree"):
        check_grads(bad, (jnp.float32(1.2),), order=2)


def test_check_grads_errors():
    with pytest.raises(TypeError, match=r"args must be a tuple or list .* \(x,\)"):
        check_grads(jnp.sum, jnp.ones(3))
    with pytest.raises(ValueError, match=r"order must be an int >= 1, got 0"):
        check_grads(jnp.sum, (jnp.ones(3),), order=0)
    with pytest.raises(TypeError, match=r"argument 0 has dtype int32; finite differences"):
        check_grads(jnp.sum, (jnp.arange(3),))


def test_assert_allclose_tree_passes_and_accepts_mixed_leaves():
    assert_allclose_tree(
        {"a": jnp.ones(2), "b": (1.0, np.zeros(3))}, {"a": [1.0, 1.0], "b": (1.0, [0.0] * 3)}
    )


def test_assert_allclose_tree_lists_every_mismatched_leaf():
    actual = {"w": jnp.array([1.0, 2.0, 3.0]), "b": jnp.float32(0.5), "ok": jnp.zeros(2)}
    expected = {"w": jnp.array([1.0, 2.5, 4.0]), "b": jnp.float32(0.0), "ok": jnp.zeros(2)}
    with pytest.raises(AssertionError) as info:
        assert_allclose_tree(actual, expected)
    message = str(info.value)
    assert message.startswith("2 of 3 leaves differ")
    assert "['w']: 2 of 3 elements differ, max abs diff 1; first at [1]" in message
    assert "['b']: actual 0.5, expected 0.0" in message
    assert "['ok']" not in message


def test_assert_allclose_tree_structure_shape_and_dtype():
    with pytest.raises(AssertionError, match=r"Pytree structures differ"):
        assert_allclose_tree((1.0, 2.0), [1.0, 2.0])
    with pytest.raises(AssertionError, match=r"shape \(2,\) != expected \(3,\)"):
        assert_allclose_tree(jnp.ones(2), jnp.ones(3))
    with pytest.raises(AssertionError, match=r"dtype float32 != expected float64"):
        assert_allclose_tree(jnp.ones(2), np.ones(2), check_dtype=True)


def test_assert_allclose_tree_tolerances_and_nan():
    assert_allclose_tree(jnp.array([1.0, jnp.nan]), np.array([1.001, np.nan]), rtol=1e-2)
    with pytest.raises(AssertionError):
        assert_allclose_tree(jnp.array([1.0]), np.array([1.001]))


class FakeTorchTensor:
    """Quacks like a torch tensor (detach/cpu/numpy) without importing torch."""

    def __init__(self, value):
        self.value = np.asarray(value)
        self.calls = []

    def detach(self):
        self.calls.append("detach")
        return self

    def cpu(self):
        self.calls.append("cpu")
        return self

    def numpy(self):
        self.calls.append("numpy")
        return self.value


def test_assert_matches_torch_duck_types_tensors():
    tensor = FakeTorchTensor([0.0, 2.0, 4.0])
    assert_matches_torch(jnp.array([0.0, 2.0, 4.0]), tensor)
    assert tensor.calls == ["detach", "cpu", "numpy"]
    assert_matches_torch(
        (jnp.ones(2), jnp.float32(3.0)), (FakeTorchTensor([1.0, 1.0]), FakeTorchTensor(3.0))
    )
    with pytest.raises(AssertionError, match=r"1 of 1 leaves differ"):
        assert_matches_torch(jnp.array([0.0, 2.0]), FakeTorchTensor([0.0, 2.1]))


def test_assert_matches_torch_with_real_torch():
    torch = pytest.importorskip("torch")
    x = torch.arange(4.0, requires_grad=True)
    (2 * torch.dot(x, x)).backward()
    assert_matches_torch(jax.grad(lambda x: 2 * jnp.dot(x, x))(jnp.arange(4.0)), x.grad)
    assert_matches_torch(jnp.ones(2), torch.ones(2, requires_grad=True))


def test_to_numpy_converts_trees():
    out = to_numpy({"a": jnp.ones(2), "t": FakeTorchTensor([1.0])})
    assert isinstance(out["a"], np.ndarray) and isinstance(out["t"], np.ndarray)
