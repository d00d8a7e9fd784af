"""Tests for funcgrad.while_loop: values and gradients equal the Python loop's."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import funcgrad as fg


def identity(f):
    return f


TRANSFORMS = [pytest.param(identity, id="eager"), pytest.param(jax.jit, id="jit")]


def f_python(a):
    """Seed 003's f with Python control flow: differentiable only outside jit."""
    b = a * 2
    while jnp.linalg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def f_loop(a):
    """Seed 003's f with while_loop and a select: differentiable under jit."""
    b = fg.while_loop(lambda b: jnp.linalg.norm(b) < 1000, lambda b: b * 2, a * 2, 64)
    return jnp.where(b.sum() > 0, b, 100 * b)


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("a", [0.4857, -0.4857, 3.0, 1e-3, 600.0])
def test_seed003_scalar_matches_python_loop(transform, a):
    d, grad = transform(fg.value_and_grad(f_loop))(jnp.float32(a))
    d_ref, grad_ref = fg.value_and_grad(f_python)(jnp.float32(a))
    assert float(d) == float(d_ref)
    assert float(grad) == float(grad_ref)
    assert float(grad) == float(d / a)  # the notebook's check: a.grad == d / a


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_seed003_vector(transform):
    a = jnp.array([0.6928, 0.3621, -0.0261])
    d = transform(f_loop)(a)
    grad = transform(fg.grad(lambda a: jnp.sum(f_loop(a))))(a)
    np.testing.assert_array_equal(d, f_python(a))
    np.testing.assert_array_equal(grad, [2048.0, 2048.0, 2048.0])
    np.testing.assert_array_equal(grad, d / a)


def test_seed003_under_vmap():
    a = jnp.array([0.6928, 0.3621, -0.0261])
    grads = jax.jit(jax.vmap(fg.grad(f_loop)))(a)
    expected = [float(fg.grad(f_python)(x)) for x in a]
    np.testing.assert_array_equal(grads, expected)


def test_plain_lax_while_loop_is_not_reverse_differentiable():
    # The reason while_loop exists: pin the limitation it removes.
    def f(a):
        return jax.lax.while_loop(lambda b: jnp.abs(b) < 1000, lambda b: b * 2, a * 2)

    with pytest.raises(ValueError, match=r"[Rr]everse-mode differentiation does not work"):
        jax.grad(f)(0.5)
    assert (
        float(
            jax.grad(
                lambda a: fg.while_loop(lambda b: jnp.abs(b) < 1000, lambda b: b * 2, a * 2, 64)
            )(0.5)
        )
        == 2048.0
    )


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_pytree_state_and_step_count(transform):
    def newton_sqrt(y):
        def body(state):
            x, i = state
            return (x - (x * x - y) / (2 * x), i + 1)

        (x, i), steps = fg.while_loop(
            lambda s: jnp.abs(s[0] * s[0] - y) > 1e-4, body, (y, 0), 50, return_steps=True
        )
        return x, i, steps

    x, i, steps = transform(newton_sqrt)(jnp.float32(9.0))
    assert abs(float(x) - 3.0) < 1e-4
    assert int(i) == int(steps) and 0 < int(steps) < 50
    grad = transform(fg.grad(lambda y: newton_sqrt(y)[0]))(jnp.float32(9.0))
    assert abs(float(grad) - 1 / 6) < 1e-3  # d sqrt(y)/dy = 1 / (2 sqrt(y))


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_max_steps_truncates(transform):
    val, steps = transform(
        lambda x: fg.while_loop(lambda v: v < 100.0, lambda v: v + 1.0, x, 5, return_steps=True)
    )(jnp.float32(0.0))
    assert (float(val), int(steps)) == (5.0, 5)


def test_zero_steps_and_false_condition_return_init():
    assert float(fg.while_loop(lambda v: v < 10, lambda v: v + 1, 3.0, 0)) == 3.0
    val, steps = fg.while_loop(lambda v: v > 10, lambda v: v + 1, 3.0, 8, return_steps=True)
    assert (float(val), int(steps)) == (3.0, 0)
    assert (
        float(fg.grad(lambda x: fg.while_loop(lambda v: v > 10, lambda v: v * 5, x, 8))(3.0)) == 1.0
    )


def test_no_overflow_after_the_loop_stops():
    # After cond fails, body is not applied again: no inf from extra doublings, no NaN gradient.
    grad = jax.jit(fg.grad(lambda a: fg.while_loop(lambda b: b < 1000, lambda b: b * 2, a, 500)))
    assert float(grad(1.0)) == 1024.0


def test_weak_typed_init_with_strong_body():
    out = fg.while_loop(lambda v: v < 10, lambda v: v * jnp.float32(2), 1.0, 10)
    assert float(out) == 16.0


@pytest.mark.parametrize("max_steps", [2.0, jnp.int32(3), True, None])
def test_max_steps_must_be_python_int(max_steps):
    with pytest.raises(TypeError, match=r"while_loop: max_steps must be a Python int"):
        fg.while_loop(lambda v: v < 1, lambda v: v + 1, 0.0, max_steps)


def test_while_loop_errors():
    with pytest.raises(ValueError, match=r"max_steps must be >= 0, got -1"):
        fg.while_loop(lambda v: v < 1, lambda v: v + 1, 0.0, -1)
    with pytest.raises(TypeError, match=r"while_loop: body_fun must be a callable, got int"):
        fg.while_loop(lambda v: v < 1, 1, 0.0, 3)
    with pytest.raises(TypeError, match=r"cond_fun must return a boolean scalar, got bool\[3\]"):
        fg.while_loop(lambda v: v < 1, lambda v: v + 1, jnp.zeros(3), 3)
    with pytest.raises(TypeError, match=r"cond_fun must return a boolean scalar, got float32\[\]"):
        fg.while_loop(lambda v: jnp.sum(v), lambda v: v + 1, jnp.zeros(3), 3)
    with pytest.raises(TypeError, match=r"body_fun must return a state with init_val's structure"):
        fg.while_loop(lambda v: v[0] < 1, lambda v: jnp.concatenate([v, v]), jnp.zeros(3), 3)
    with pytest.raises(TypeError, match=r"body_fun must return a state with init_val's structure"):
        fg.while_loop(lambda v: v < 1, lambda v: v + 0.5, jnp.int32(0), 3)
