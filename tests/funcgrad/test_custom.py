"""Tests for funcgrad.Function and funcgrad.custom_gradient."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import funcgrad as fg


def identity(f):
    return f


TRANSFORMS = [pytest.param(identity, id="eager"), pytest.param(jax.jit, id="jit")]


class Cube(fg.Function):
    @staticmethod
    def forward(x):
        return x**3, x

    @staticmethod
    def backward(x, g):
        return (3 * x**2 * g,)


class Mul(fg.Function):
    @staticmethod
    def forward(a, b):
        return a * b, (a, b)

    @staticmethod
    def backward(residuals, g):
        a, b = residuals
        return g * b, g * a


class ClippedIdentity(fg.Function):
    """Identity whose gradient is clipped: the custom rule must win over autodiff."""

    @staticmethod
    def forward(x):
        return x, ()

    @staticmethod
    def backward(residuals, g):
        del residuals
        return (jnp.clip(g, -1.0, 1.0),)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_function_forward_and_grad(transform):
    x = jnp.array([1.0, 2.0, -3.0])
    np.testing.assert_array_equal(transform(Cube.apply)(x), x**3)
    grad = transform(fg.grad(lambda x: jnp.sum(Cube.apply(x))))(x)
    np.testing.assert_array_equal(grad, 3 * x**2)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_function_backward_rule_is_used(transform):
    grad = transform(fg.grad(lambda x: jnp.sum(5.0 * ClippedIdentity.apply(x))))(jnp.ones(3))
    np.testing.assert_array_equal(grad, jnp.ones(3))  # autodiff would give 5


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_function_two_inputs(transform):
    ga, gb = transform(fg.grad(lambda a, b: jnp.sum(Mul.apply(a, b)), argnums=(0, 1)))(
        jnp.arange(3.0), jnp.full(3, 2.0)
    )
    np.testing.assert_array_equal(ga, jnp.full(3, 2.0))
    np.testing.assert_array_equal(gb, jnp.arange(3.0))


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_function_grad_of_grad(transform):
    # backward is written with differentiable jnp ops, so it can be differentiated again.
    second = transform(fg.grad(fg.grad(Cube.apply)))(2.0)
    third = transform(fg.grad(fg.grad(fg.grad(Cube.apply))))(2.0)
    assert (float(second), float(third)) == (12.0, 6.0)


def test_function_under_vmap_and_hessian():
    x = jnp.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(jax.vmap(fg.grad(Cube.apply))(x), 3 * x**2)
    np.testing.assert_array_equal(fg.hessian(lambda x: jnp.sum(Cube.apply(x)))(x), jnp.diag(6 * x))


def test_function_matches_numeric_gradient():
    from funcgrad.testing import check_grads

    check_grads(lambda a, b: Mul.apply(a, b), (jnp.arange(3.0), jnp.ones(3)), order=2)


def test_function_backward_may_return_none():
    class Scale(fg.Function):
        @staticmethod
        def forward(x, k):
            return x * k, k

        @staticmethod
        def backward(k, g):
            return g * k, None  # no gradient for k

    gx, gk = fg.grad(lambda x, k: Scale.apply(x, k), argnums=(0, 1))(2.0, 3.0)
    assert (float(gx), float(gk)) == (3.0, 0.0)


def test_function_is_not_instantiated():
    with pytest.raises(TypeError, match=r"Cube is not instantiated; call Cube\.apply\(\*args\)"):
        Cube()


def test_function_subclass_must_define_forward_and_backward():
    class NoBackward(fg.Function):
        @staticmethod
        def forward(x):
            return x, ()

    with pytest.raises(
        NotImplementedError, match=r"NoBackward must define a static method backward"
    ):
        NoBackward.apply(1.0)
    with pytest.raises(TypeError, match=r"Function is a base class"):
        fg.Function.apply(1.0)


def test_function_wrong_number_of_cotangents():
    class TooMany(fg.Function):
        @staticmethod
        def forward(x):
            return x * 2, ()

        @staticmethod
        def backward(residuals, g):
            return g, g

    assert float(TooMany.apply(1.0)) == 2.0  # forward is fine; the error comes with the gradient
    with pytest.raises(
        TypeError,
        match=r"TooMany: backward returned 2 cotangent\(s\), but the function was "
        r"called with 1 input\(s\)",
    ):
        fg.grad(TooMany.apply)(1.0)


def test_function_single_bare_cotangent_for_two_inputs_raises():
    class Bare(fg.Function):
        @staticmethod
        def forward(a, b):
            return a * b, ()

        @staticmethod
        def backward(residuals, g):
            return g

    with pytest.raises(TypeError, match=r"one cotangent per input \(2 inputs\), got a single"):
        fg.grad(Bare.apply)(1.0, 2.0)


def test_function_forward_must_return_a_pair():
    class NoResiduals(fg.Function):
        @staticmethod
        def forward(x):
            return x * 2

        @staticmethod
        def backward(residuals, g):
            return (g,)

    with pytest.raises(
        TypeError, match=r"NoResiduals: forward must return a pair \(output, residuals\)"
    ):
        NoResiduals.apply(jnp.ones(2))


def test_function_wrong_cotangent_shape_is_reported():
    class BadShape(fg.Function):
        @staticmethod
        def forward(x):
            return jnp.sum(x), ()

        @staticmethod
        def backward(residuals, g):
            return (jnp.ones(2) * g,)

    with pytest.raises((TypeError, ValueError), match=r"shape"):
        fg.grad(BadShape.apply)(jnp.ones(3))


def test_function_subclasses_do_not_share_implementations():
    class Double(fg.Function):
        @staticmethod
        def forward(x):
            return 2 * x, ()

        @staticmethod
        def backward(residuals, g):
            return (2 * g,)

    class Triple(Double):
        @staticmethod
        def forward(x):
            return 3 * x, ()

        @staticmethod
        def backward(residuals, g):
            return (3 * g,)

    assert float(fg.grad(Double.apply)(1.0)) == 2.0
    assert float(fg.grad(Triple.apply)(1.0)) == 3.0


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_custom_gradient_function_form(transform):
    def forward(x):
        y = jnp.exp(x)
        return y, y

    def backward(y, g):
        return g * y  # a bare array is accepted for one input

    my_exp = fg.custom_gradient(forward, backward, name="my_exp")
    assert my_exp.__name__ == "my_exp"
    x = jnp.array([0.0, 1.0])
    np.testing.assert_allclose(transform(jax.vmap(fg.grad(my_exp)))(x), jnp.exp(x), rtol=1e-6)


def test_custom_gradient_errors():
    with pytest.raises(TypeError, match=r"backward must be a callable, got int"):
        fg.custom_gradient(lambda x: (x, ()), 3)
    f = fg.custom_gradient(lambda x: (x, ()), lambda r, g: (g,), name="f")
    with pytest.raises(
        TypeError, match=r"f: takes positional arguments only, got keyword\(s\) \['x'\]"
    ):
        f(x=1.0)
