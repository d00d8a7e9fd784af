"""Tests for funcgrad's differentiation transforms and gradient accumulation."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import funcgrad as fg
from funcgrad.testing import assert_allclose_tree


def identity(f):
    return f


TRANSFORMS = [pytest.param(identity, id="eager"), pytest.param(jax.jit, id="jit")]
X4 = jnp.arange(4.0)


def quadratic(x):
    return 2 * jnp.dot(x, x)


# ---------------------------------------------------------------------------------------------
# grad / value_and_grad
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_grad_of_2xtx_is_4x(transform):
    np.testing.assert_array_equal(transform(fg.grad(quadratic))(X4), [0.0, 4.0, 8.0, 12.0])


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_value_and_grad_of_polynomial(transform):
    value, grad = transform(fg.value_and_grad(lambda x: 3 * x**2 + 4 * x + 2))(3.0)
    assert float(value) == 41.0
    assert float(grad) == 22.0


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_grad_matches_jax_grad(transform):
    def f(x, y):
        return jnp.sum(jnp.sin(x) * y**2)

    x, y = jnp.linspace(-1.0, 1.0, 5), jnp.linspace(0.5, 2.0, 5)
    ours = transform(fg.grad(f, argnums=(0, 1)))(x, y)
    theirs = jax.grad(f, argnums=(0, 1))(x, y)
    assert_allclose_tree(ours, theirs, rtol=1e-6)


def test_grad_jaxpr_is_identical_to_jax_grad():
    # The wrapper's checks run at trace time only: the traced program is JAX's own.
    def f(x):
        return jnp.sum(jnp.sin(x) * x)

    ours = jax.make_jaxpr(fg.grad(f))(X4)
    theirs = jax.make_jaxpr(jax.grad(f))(X4)
    assert str(ours) == str(theirs)


def test_jitted_grad_does_not_retrace():
    @jax.jit
    @chex.assert_max_traces(n=1)
    def step(x):
        return fg.grad(quadratic)(x)

    for offset in range(3):
        step(X4 + offset)
    np.testing.assert_array_equal(step(X4), 4 * X4)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_grad_argnums_tuple_and_negative(transform):
    def f(a, b, c):
        return jnp.sum(a * b * c)

    a, b, c = jnp.float32(2.0), jnp.float32(3.0), jnp.float32(5.0)
    ga, gc = transform(fg.grad(f, argnums=(0, -1)))(a, b, c)
    assert (float(ga), float(gc)) == (15.0, 6.0)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_grad_has_aux(transform):
    def f(x):
        return jnp.sum(x**2), {"mean": jnp.mean(x)}

    grads, aux = transform(fg.grad(f, has_aux=True))(X4)
    np.testing.assert_array_equal(grads, 2 * X4)
    assert float(aux["mean"]) == 1.5


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_value_and_grad_has_aux(transform):
    (value, aux), grads = transform(fg.value_and_grad(lambda x: (jnp.sum(x), x * 2), has_aux=True))(
        X4
    )
    assert float(value) == 6.0
    np.testing.assert_array_equal(aux, 2 * X4)
    np.testing.assert_array_equal(grads, jnp.ones(4))


def test_grad_pytree_input_and_keyword_passthrough():
    def loss(params, x, *, scale):
        return scale * jnp.sum(params["w"] * x + params["b"])

    params = {"w": jnp.ones(3), "b": jnp.float32(0.5)}
    grads = fg.grad(loss)(params, jnp.arange(3.0), scale=2.0)
    np.testing.assert_array_equal(grads["w"], [0.0, 2.0, 4.0])
    assert float(grads["b"]) == 6.0


def test_grad_allow_int_gives_float0():
    grads = fg.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert float(grads[0]) == 3.0
    assert grads[1].dtype == jax.dtypes.float0


def test_grad_keeps_float32_and_respects_float64():
    assert fg.grad(quadratic)(X4).dtype == jnp.float32
    with jax.enable_x64(True):
        x64 = jnp.arange(4.0, dtype=jnp.float64)
        assert fg.grad(quadratic)(x64).dtype == jnp.float64
    assert jnp.ones(1).dtype == jnp.float32  # funcgrad did not turn x64 on


def test_grad_python_control_flow_outside_jit():
    def f(a):
        b = a * 2
        while jnp.abs(b) < 1000:
            b = b * 2
        return b if b > 0 else 100 * b

    assert float(fg.grad(f)(0.4857)) == 4096.0
    assert float(fg.grad(f)(-0.4857)) == 409600.0


# ---------------------------------------------------------------------------------------------
# Errors of grad / value_and_grad, raised before tracing where the inputs decide them.
# ---------------------------------------------------------------------------------------------


def test_grad_rejects_non_callable():
    with pytest.raises(TypeError, match=r"grad: fun must be a callable, got ArrayImpl"):
        fg.grad(jnp.ones(3))


@pytest.mark.parametrize("argnums", ["0", 1.5, True, (0, "1"), None])
def test_grad_rejects_non_integer_argnums(argnums):
    with pytest.raises(TypeError, match=r"grad: argnums must be an int or a tuple of ints"):
        fg.grad(quadratic, argnums=argnums)


@pytest.mark.parametrize(
    ("argnums", "message"),
    [((), r"must name at least one argument"), ((0, 0), r"must not repeat an argument")],
)
def test_value_and_grad_rejects_empty_or_repeated_argnums(argnums, message):
    with pytest.raises(ValueError, match=message):
        fg.value_and_grad(quadratic, argnums=argnums)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_grad_rejects_out_of_range_argnums(transform):
    with pytest.raises(ValueError, match=r"argnums=2 is out of range for a call with 1 positional"):
        transform(fg.grad(quadratic, argnums=2))(X4)


def test_grad_rejects_argnums_aliasing_the_same_argument():
    with pytest.raises(ValueError, match=r"name the same argument twice"):
        fg.grad(lambda a, b: a * b, argnums=(0, -2))(1.0, 2.0)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_grad_rejects_integer_input_before_tracing(transform):
    calls = []

    def f(x):
        calls.append(x)
        return x * 2.0

    with pytest.raises(TypeError, match=r"grad differentiates only floating-point .* int32"):
        transform(fg.grad(f))(3)
    assert calls == []  # validated before fun was traced


def test_grad_integer_error_names_the_pytree_path():
    with pytest.raises(TypeError, match=r"argument 0\['n'\] has dtype int32.*allow_int=True"):
        fg.grad(lambda p: p["x"] * p["n"])({"x": 1.0, "n": jnp.arange(2)})


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_grad_rejects_non_scalar_output(transform):
    with pytest.raises(
        TypeError, match=r"scalar-output functions, but fun returned an output of shape \(4,\)"
    ):
        transform(fg.grad(lambda x: x * x))(X4)


def test_value_and_grad_non_scalar_message_says_how_to_fix():
    with pytest.raises(TypeError, match=r"fun\(x\)\.sum\(\).*backward\(fun, x, cotangent=\.\.\.\)"):
        fg.value_and_grad(lambda x: x * x)(X4)


def test_grad_rejects_tuple_output_without_has_aux():
    with pytest.raises(TypeError, match=r"grad needs fun to return a scalar array, got tuple"):
        fg.grad(lambda x: (jnp.sum(x), x))(X4)


@pytest.mark.parametrize("result", [lambda x: jnp.sum(x), lambda x: (jnp.sum(x),)])
def test_grad_has_aux_needs_a_pair(result):
    with pytest.raises(TypeError, match=r"grad with has_aux=True needs fun to return a pair"):
        fg.grad(result, has_aux=True)(X4)


@pytest.mark.parametrize(
    ("fun", "dtype"),
    [(lambda x: jnp.sum(x).astype(jnp.int32), "int32"), (lambda x: jnp.sum(x) * 1j, "complex64")],
)
def test_grad_rejects_non_real_output(fun, dtype):
    with pytest.raises(TypeError, match=rf"grad needs a real floating-point output.*{dtype}"):
        fg.grad(fun)(X4)


# ---------------------------------------------------------------------------------------------
# backward: torch's y.backward(gradient=v)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_backward_with_cotangent_is_vjp(transform):
    result = transform(lambda x: fg.backward(lambda x: x * x, x, cotangent=jnp.ones(4)))(X4)
    np.testing.assert_array_equal(result, [0.0, 2.0, 4.0, 6.0])


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_backward_scalar_output_without_cotangent_is_grad(transform):
    result = transform(lambda x: fg.backward(quadratic, x))(X4)
    np.testing.assert_array_equal(result, 4 * X4)


def test_backward_weighted_cotangent_and_argnums_tuple():
    v = jnp.array([1.0, 0.5, 0.0, 2.0])
    gx, gy = fg.backward(lambda x, y: x * y, X4, 2 * X4, cotangent=v, argnums=(0, 1))
    np.testing.assert_array_equal(gx, v * 2 * X4)
    np.testing.assert_array_equal(gy, v * X4)


def test_backward_casts_a_float64_numpy_cotangent():
    result = fg.backward(lambda x: x * x, X4, cotangent=np.ones(4))
    assert result.dtype == jnp.float32
    np.testing.assert_array_equal(result, 2 * X4)


def test_backward_pytree_output():
    out_ct = {"a": jnp.ones(4), "b": jnp.float32(2.0)}
    result = fg.backward(lambda x: {"a": x * x, "b": jnp.sum(x)}, X4, cotangent=out_ct)
    np.testing.assert_array_equal(result, 2 * X4 + 2.0)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_backward_non_scalar_without_cotangent_raises(transform):
    with pytest.raises(
        TypeError,
        match=r"implicitly only for a scalar output, but fun returned an output of shape "
        r"\(3, 3\)\. Sum the output first .* or pass cotangent=",
    ):
        transform(lambda x: fg.backward(lambda x: 10 - x, x))(jnp.ones((3, 3)))


def test_backward_rejects_cotangent_of_wrong_shape():
    with pytest.raises(
        ValueError, match=r"cotangent shape \(3,\) does not match the output shape \(4,\)"
    ):
        fg.backward(lambda x: x * x, X4, cotangent=jnp.ones(3))


def test_backward_rejects_cotangent_of_wrong_structure():
    with pytest.raises(ValueError, match=r"cotangent must have the output's structure"):
        fg.backward(lambda x: (x, x), X4, cotangent=jnp.ones(4))


def test_backward_rejects_integer_input_and_bad_argnums():
    with pytest.raises(TypeError, match=r"backward differentiates only floating-point"):
        fg.backward(lambda x: x * 2.0, jnp.arange(3))
    with pytest.raises(ValueError, match=r"argnums=1 is out of range"):
        fg.backward(jnp.sum, X4, argnums=1)
    with pytest.raises(TypeError, match=r"backward: fun must be a callable"):
        fg.backward(3.0, X4)


# ---------------------------------------------------------------------------------------------
# vjp / jvp / jacobian / hessian
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_vjp_matches_jacobian_transpose(transform):
    def pullback(x, v):
        _, vjp_fn = fg.vjp(jnp.sin, x)
        return vjp_fn(v)[0]

    v = jnp.array([1.0, -1.0, 2.0, 0.5])
    np.testing.assert_allclose(transform(pullback)(X4, v), v * jnp.cos(X4), rtol=1e-6)


def test_vjp_has_aux_and_errors():
    out, vjp_fn, aux = fg.vjp(lambda x: (x * 3, "aux"), X4, has_aux=True)
    assert aux == "aux"
    np.testing.assert_array_equal(vjp_fn(jnp.ones(4))[0], 3 * jnp.ones(4))
    with pytest.raises(TypeError, match=r"vjp with has_aux=True needs fun to return a pair"):
        fg.vjp(lambda x: x, X4, has_aux=True)
    with pytest.raises(TypeError, match=r"vjp: fun must be a callable"):
        fg.vjp("sin", X4)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_jvp_of_sin(transform):
    out, tangent = transform(lambda x, t: fg.jvp(jnp.sin, (x,), (t,)))(X4, jnp.ones(4))
    np.testing.assert_allclose(out, jnp.sin(X4), rtol=1e-6)
    np.testing.assert_allclose(tangent, jnp.cos(X4), rtol=1e-6)


def test_jvp_has_aux():
    out, tangent, aux = fg.jvp(lambda x: (x**2, x + 1), [3.0], [1.0], has_aux=True)
    assert (float(out), float(tangent), float(aux)) == (9.0, 6.0, 4.0)


def test_jvp_errors():
    with pytest.raises(TypeError, match=r"jvp: primals must be a tuple or list .* \(primal,\)"):
        fg.jvp(jnp.sin, X4, (X4,))
    with pytest.raises(ValueError, match=r"got 2 primal\(s\) but 1 tangent\(s\)"):
        fg.jvp(jnp.add, (X4, X4), (X4,))
    with pytest.raises(ValueError, match=r"argument 0: primal shape \(4,\), tangent shape \(3,\)"):
        fg.jvp(jnp.sin, (X4,), (jnp.ones(3),))
    with pytest.raises(ValueError, match=r"argument 0: primal is"):
        fg.jvp(lambda p: p["a"], ({"a": X4},), (X4,))


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_modes_agree(transform, mode):
    def f(x):
        return jnp.array([x[0] * x[1], jnp.sin(x[2]), x[3] ** 2])

    expected = jnp.array(
        [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, jnp.cos(2.0), 0.0], [0.0, 0.0, 0.0, 6.0]]
    )
    np.testing.assert_allclose(transform(fg.jacobian(f, mode=mode))(X4), expected, rtol=1e-6)


def test_jacobian_argnums_tuple_and_has_aux():
    (ja, jb), aux = fg.jacobian(lambda a, b: (a * b, "aux"), argnums=(0, 1), has_aux=True)(
        X4, 2 * X4
    )
    np.testing.assert_array_equal(ja, jnp.diag(2 * X4))
    np.testing.assert_array_equal(jb, jnp.diag(X4))
    assert aux == "aux"


def test_jacobian_errors():
    with pytest.raises(
        ValueError, match=r"jacobian: mode must be 'reverse' or 'forward', got 'fwd'"
    ):
        fg.jacobian(jnp.sin, mode="fwd")
    with pytest.raises(TypeError, match=r"jacobian differentiates only floating-point"):
        fg.jacobian(jnp.sin)(jnp.arange(3))
    with pytest.raises(ValueError, match=r"argnums=1 is out of range"):
        fg.jacobian(jnp.sin, argnums=1)(X4)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_hessian_of_cubic(transform):
    x = jnp.array([1.0, 2.0, -1.0])
    result = transform(fg.hessian(lambda x: jnp.sum(x**3)))(x)
    np.testing.assert_array_equal(result, jnp.diag(6 * x))


def test_hessian_errors():
    with pytest.raises(TypeError, match=r"hessian: fun must be a callable"):
        fg.hessian(None)
    with pytest.raises(TypeError, match=r"hessian differentiates only floating-point"):
        fg.hessian(jnp.sum)(jnp.arange(3))


# ---------------------------------------------------------------------------------------------
# elementwise_grad, stop_gradient / detach
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_elementwise_grad_is_hand_derivative(transform):
    x = jnp.arange(-5, 5, 1, dtype=jnp.float32)
    result = transform(fg.elementwise_grad(lambda x: x**2 + 3 * x + 2))(x)
    np.testing.assert_array_equal(result, 2 * x + 3)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_elementwise_grad_keeps_shape_and_passes_extra_args(transform):
    x = jnp.arange(6.0).reshape(2, 3)
    result = transform(fg.elementwise_grad(lambda x, k: k * jnp.sin(x)))(x, 2.0)
    assert result.shape == (2, 3)
    np.testing.assert_allclose(result, 2.0 * jnp.cos(x), rtol=1e-6)


def test_elementwise_grad_of_zero_dimensional_input():
    assert float(fg.elementwise_grad(lambda x: x**3)(2.0)) == 12.0


def test_elementwise_grad_errors():
    with pytest.raises(TypeError, match=r"elementwise_grad: fun must be a callable"):
        fg.elementwise_grad([1.0])
    with pytest.raises(TypeError, match=r"elementwise_grad differentiates only floating-point"):
        fg.elementwise_grad(jnp.sin)(jnp.arange(3))
    with pytest.raises(TypeError, match=r"elementwise_grad: a gradient is defined only for scalar"):
        fg.elementwise_grad(lambda x: jnp.stack([x, x]))(X4)


def test_detach_is_stop_gradient():
    assert fg.detach is fg.stop_gradient


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_stop_gradient_blocks_gradient(transform):
    grad = transform(fg.grad(lambda x: jnp.sum(fg.detach(x * x) * x)))(X4)
    np.testing.assert_array_equal(grad, X4 * X4)


def test_stop_gradient_on_pytree_keeps_values():
    tree = {"a": X4, "b": (jnp.float32(1.0),)}
    out = fg.stop_gradient(tree)
    assert_allclose_tree(out, tree)
    assert float(fg.grad(lambda s: fg.stop_gradient({"v": s})["v"] * 3.0)(1.0)) == 0.0


# ---------------------------------------------------------------------------------------------
# accumulate_grads
# ---------------------------------------------------------------------------------------------


def _linear_loss(params, batch):
    x, y = batch
    return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_accumulate_grads_over_stacked_batches(transform):
    params = {"w": jnp.array([1.0, -1.0]), "b": jnp.float32(0.5)}
    xs = jnp.arange(24.0).reshape(3, 4, 2) / 10
    ys = jnp.arange(12.0).reshape(3, 4) / 5
    total = transform(lambda p, b: fg.accumulate_grads(fg.grad(_linear_loss), p, b))(
        params, (xs, ys)
    )
    expected = fg.grad(lambda p: sum(_linear_loss(p, (xs[i], ys[i])) for i in range(3)))(params)
    assert_allclose_tree(total, expected, rtol=1e-5)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_accumulate_grads_repeated_steps_history_and_init(transform):
    step = fg.grad(lambda x: 3 * x**2 + 4 * x + 2)

    def accumulate(x):
        total, running = fg.accumulate_grads(step, x, 3, history=True)
        onto_previous = fg.accumulate_grads(step, x, 1, init=fg.grad(lambda x: x**2)(x))
        return total, running, onto_previous

    total, running, onto_previous = transform(accumulate)(jnp.float32(3.0))
    assert float(total) == 66.0
    np.testing.assert_array_equal(running, [22.0, 44.0, 66.0])
    assert float(onto_previous) == 28.0  # seed 004: 6 from x**2, then 22 on top


def test_accumulate_grads_zero_steps_returns_init():
    assert float(fg.accumulate_grads(lambda x: x, jnp.float32(3.0), 0, init=5.0)) == 5.0


def test_accumulate_grads_errors():
    with pytest.raises(TypeError, match=r"accumulate_grads: grad_fn must be a callable"):
        fg.accumulate_grads(None, 1.0, 3)
    with pytest.raises(ValueError, match=r"the number of steps must be >= 0, got -1"):
        fg.accumulate_grads(lambda p: p, 1.0, -1)
    with pytest.raises(
        TypeError, match=r"batches must be an int or a pytree of arrays, got a bool"
    ):
        fg.accumulate_grads(lambda p: p, 1.0, True)
    with pytest.raises(ValueError, match=r"every leaf of batches needs the same leading"):
        fg.accumulate_grads(lambda p, b: p, 1.0, (jnp.ones(3), jnp.ones(2)))
    with pytest.raises(TypeError, match=r"got list with no array leaves"):
        fg.accumulate_grads(lambda p, b: p, 1.0, [])
    with pytest.raises(TypeError, match=r"grad_fn must return gradients shaped like init"):
        fg.accumulate_grads(lambda p: jnp.ones(2), jnp.ones(3), 2)


@pytest.mark.parametrize(
    "module_name",
    ["_transforms", "_custom", "_control", "_accumulate", "testing", "__init__"],
)
def test_docstring_examples_run(module_name):
    import doctest
    import importlib

    module = importlib.import_module(
        "funcgrad" if module_name == "__init__" else f"funcgrad.{module_name}"
    )
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
