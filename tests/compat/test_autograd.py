"""The autograd engine against torch: grad_fn graphs, accumulation, retained grads, hooks,
`backward` options, `autograd.grad` / `autograd.backward`, `autograd.functional` and higher
order gradients. Each case runs on torch and on compat; results (tensors with their `grad_fn`
chains, gradients, flags) and warnings must agree.
"""

from __future__ import annotations

import pytest

from tests._torch import assert_parity, node_summary, parity, require_torch, values_only

torch = require_torch()

import compat  # noqa: E402


def _leaves(T):
    a = T.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    b = T.tensor([[2.0, 1.0], [-1.0, 0.25]], requires_grad=True)
    return a, b


def _values(case):
    """Compares values only: the graphs of derivatives are torch's internal formulas."""

    def wrapped(T):
        return values_only(case(T))

    return wrapped


# -- grad_fn names and next_functions chains ----------------------------------------------------
def _graph_seed001(T):
    a, w1 = _leaves(T)
    w2, w3 = T.ones(2, 2, requires_grad=True), T.full((2, 2), 0.5, requires_grad=True)
    b = w1 * a
    c = w2 * a
    d = w3 * b + w2 * c
    L = 10 - d
    return L, L.grad_fn, d.grad_fn, c.grad_fn, L.grad_fn.next_functions, a.grad_fn


def _graph_names(T):
    x = T.arange(4.0, requires_grad=True)
    outs = [
        2 * T.dot(x, x),
        x.sum(),
        x**2,
        x.mean(),
        x.view(2, 2).mean(0),
        x + 1,
        1 - x,
        x - 1,
        x / 2,
        x.exp(),
        (x * x).sum(),
        x.max(),
        T.stack([x, x]),
        T.cat([x, x]),
        x[1:],
        x[0],
        x.t(),
        x.reshape(2, 2).T,
        x.abs(),
        x.relu(),
        x.sigmoid(),
        x.tanh(),
        -x,
        x.clone(),
        x.norm(),
        x.pow(x),
        x.float(),
        x.double(),
        x.unsqueeze(0),
        x.sqrt(),
        x.log(),
        x.clamp(0, 1),
        T.where(x > 1, x, 2 * x),
    ]
    return [type(o.grad_fn).__name__ for o in outs], [node_summary(o.grad_fn) for o in outs]


def _accumulate_grad_node(T):
    x = T.ones(2, requires_grad=True)
    y = x * 3
    acc = y.grad_fn.next_functions[0][0]
    return type(acc).__name__, acc.variable is x, acc.next_functions, y.grad_fn.name()


def _copy_slices(T):
    x = T.ones(3, requires_grad=True)
    y = x.clone()
    y[1] = x[0] * 5
    return y, y.grad_fn.name(), y.grad_fn.next_functions


def _bce_graph(T):
    x = T.ones(5)
    w = T.tensor([[0.5, -0.25, 1.0]] * 5, requires_grad=True)
    b = T.tensor([0.1, 0.2, -0.3], requires_grad=True)
    z = T.matmul(x, w) + b
    loss = T.nn.functional.binary_cross_entropy_with_logits(z, T.zeros(3))
    loss.backward()
    return z, loss, w.grad, b.grad


def _saved_values(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = T.tensor([3.0, 4.0], requires_grad=True)
    m = x * y
    p = x**3
    return (
        m.grad_fn._saved_self,
        m.grad_fn._saved_other,
        p.grad_fn._saved_self,
        p.grad_fn._saved_exponent,
    )


# -- backward semantics --------------------------------------------------------------------------
def _accumulate(T):
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for _ in range(3):
        (x**2).sum().backward()
    first = x.grad.clone()
    x.grad.zero_()
    (3 * x).sum().backward()
    return first, x.grad


def _accumulate_epochs(T):
    x = T.tensor(3.0, requires_grad=True)
    seen = []
    for _ in range(3):
        y = 3 * x**2 + 4 * x + 2
        y.backward()
        seen.append(x.grad.clone())
        x.grad.zero_()
    return seen, x.grad


def _nonleaf_grad(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y.sum()
    z.backward()
    return y.grad, y.retains_grad, x.retains_grad, z.is_leaf


def _retain_grad(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    z = (y * y).sum()
    z.retain_grad()
    z.backward(retain_graph=True)
    first = y.grad.clone()
    z.backward()
    return first, y.grad, z.grad, y.retains_grad, x.grad


def _retain_grad_leaf(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    x.retain_grad()
    (x * x).sum().backward()
    return x.grad, x.retains_grad


def _contagious(T):
    a = T.ones(2)
    b = T.ones(2, requires_grad=True)
    c = a * 2
    d = c + b
    e = d.detach() * 3
    return c, d, e, (a @ a).requires_grad, (a @ b).requires_grad


def _no_grad_tensors(T):
    x = T.ones(2, requires_grad=True)
    with T.no_grad():
        y = x * 2
        z = x[0]
    w = y * x
    return y, z, w, y.is_leaf


def _detach_graph(T):
    x = T.arange(4.0, requires_grad=True)
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    g1 = x.grad.clone()
    x.grad.zero_()
    y.sum().backward()
    return u, z, g1, x.grad


def _backward_twice_no_saved(T):
    x = T.ones(3, requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    return x.grad


def _retain_graph(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return x.grad


def _gradient_arg(T):
    x = T.arange(4.0, requires_grad=True)
    y = x * x
    y.backward(gradient=T.ones(len(y)))
    g1 = x.grad.clone()
    z = x * 3
    z.backward(T.tensor([1.0, 0.0, -1.0, 2.0]))
    return g1, x.grad


def _backward_inputs(T):
    a, b = _leaves(T)
    (a * b).sum().backward(inputs=[a])
    ga, gb = a.grad, b.grad
    (a * b).sum().backward(inputs=b)
    return ga, gb, a.grad, b.grad


def _backward_inputs_nonleaf(T):
    a, b = _leaves(T)
    c = a * 2
    (c * b).sum().backward(inputs=[c])
    return c.grad, a.grad, b.grad


def _diamond(T):
    x = T.tensor(2.0, requires_grad=True)
    a = x * 3
    b = x**2
    c = a * b + a
    c.backward()
    return c, x.grad


def _shared_subgraph(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    y = h.sum() + (h * h).sum() + h[0]
    y.backward()
    return y, x.grad


def _control_flow(T):
    def f(a):
        b = a * 2
        while b.norm() < 1000:
            b = b * 2
        return b if b.sum() > 0 else 100 * b

    a = T.tensor([0.3, -0.2, 0.5], requires_grad=True)
    d = f(a)
    d.sum().backward()
    return d, a.grad


def _grad_identity(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    g = x.grad
    (x * x).sum().backward()
    same = x.grad is g
    g.zero_()
    return same, x.grad, g


def _grad_set_then_accumulate(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    x.grad = T.tensor([10.0, 20.0])
    (x * x).sum().backward()
    return x.grad


def _multiple_roots(T):
    a, b = _leaves(T)
    T.autograd.backward([(a * b).sum(), (a + b).mean()])
    return a.grad, b.grad


def _autograd_backward_grads(T):
    a, b = _leaves(T)
    T.autograd.backward([a * b, a.sum()], [T.ones(2, 2), T.tensor(2.0)])
    return a.grad, b.grad


def _autograd_backward_single(T):
    a, _ = _leaves(T)
    T.autograd.backward(a.exp().sum())
    return a.grad


# -- hooks ---------------------------------------------------------------------------------------
def _hooks(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h1 = x.register_hook(lambda g: seen.append(("leaf", g.clone())))
    y = x * 3
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    first = x.grad.clone()
    h1.remove()
    x.grad = None
    (x * 3).sum().backward()
    return seen, first, x.grad


def _hook_return_none_and_order(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    order = []
    x.register_hook(lambda g: order.append(1))
    x.register_hook(lambda g: g + 1)
    x.register_hook(lambda g: order.append(g.clone()))
    (x * x).sum().backward()
    return order, x.grad


def _hook_on_retained(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 0 + 7)
    (y * y).sum().backward()
    return y.grad, x.grad


# -- autograd.grad -------------------------------------------------------------------------------
def _grad_basic(T):
    x = T.arange(-2.0, 2.0, requires_grad=True)
    y = (x**2 + 3 * x + 2).sum()
    (g,) = T.autograd.grad(y, x)
    return g, x.grad


def _grad_elementwise(T):
    x = T.arange(-5, 5, 1, dtype=T.float32, requires_grad=True)
    gs = [T.autograd.grad(outputs=xi**2 + 3 * xi + 2, inputs=xi)[0] for xi in x]
    return T.stack(gs)


def _grad_outputs(T):
    a, b = _leaves(T)
    y = a * b
    return T.autograd.grad(y, [a, b], grad_outputs=T.tensor([[1.0, 2.0], [3.0, 4.0]]))


def _grad_retain(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    g1 = T.autograd.grad(y, x, retain_graph=True)
    g2 = T.autograd.grad(y, x)
    return g1, g2


def _grad_allow_unused(T):
    a, b = _leaves(T)
    return T.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)


def _grad_materialize(T):
    a, b = _leaves(T)
    return T.autograd.grad((a * 2).sum(), [a, b], materialize_grads=True)


def _grad_nonleaf_input(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    y = (h * 3).sum()
    return T.autograd.grad(y, h), x.grad


@_values
def _grad_create_graph(T):
    x = T.tensor([1.0, 2.0, -1.5], requires_grad=True)
    y = (x**3).sum()
    (g,) = T.autograd.grad(y, x, create_graph=True)
    (h,) = T.autograd.grad(g.sum(), x, create_graph=True)
    (k,) = T.autograd.grad(h.sum(), x)
    return g, h, k


def _grad_multiple_outputs(T):
    a, b = _leaves(T)
    return T.autograd.grad([(a * b).sum(), (a**2).sum()], [a, b])


# -- higher order via backward(create_graph=True) ------------------------------------------------
@_values
def _second_derivative_backward(T):
    x = T.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = (x.sin() * x**2).sum()
    y.backward(create_graph=True)
    g = x.grad
    g_copy = g.detach().clone()
    x.grad = None
    g.sum().backward()
    return g, g_copy, x.grad


@_values
def _higher_order_ops(T):
    x = T.tensor([0.3, -0.7, 1.1], requires_grad=True)
    y = T.tensor([1.5, 0.5, -0.25], requires_grad=True)
    f = (
        (
            (x * y).exp() + x.tanh() * y.sigmoid() + (x / y) - x.log1p()
            if hasattr(x, "log1p")
            else x
        ).sum()
        + T.dot(x, y) ** 2
        + x.norm()
        + (x - y).abs().mean()
    )
    gx, gy = T.autograd.grad(f, [x, y], create_graph=True)
    hx = T.autograd.grad(gx.sum() + (gy * gy).sum(), [x, y])
    return f, gx, gy, hx


@_values
def _third_order_poly(T):
    x = T.tensor(1.5, requires_grad=True)
    y = x**4 - 2 * x**3 + x
    d = [y]
    for _ in range(4):
        (g,) = T.autograd.grad(d[-1], x, create_graph=True)
        d.append(g)
    return d


@_values
def _hessian_vector(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    v = T.tensor([0.5, -1.0])
    y = (x[0] ** 2 * x[1] + x[1] ** 3).sum()
    (g,) = T.autograd.grad(y, x, create_graph=True)
    (hv,) = T.autograd.grad(g, x, grad_outputs=v)
    return g, hv


# -- autograd.functional --------------------------------------------------------------------------
def _fn(x):
    return x**2 * x.sum()


def _F(T):
    return T.autograd.functional


FUNCTIONAL = {
    "jacobian": lambda T: _F(T).jacobian(_fn, T.tensor([1.0, 2.0, 3.0])),
    "jacobian-tuple": lambda T: _F(T).jacobian(
        lambda a, b: a * b, (T.tensor([1.0, 2.0]), T.tensor([3.0, 4.0]))
    ),
    "jacobian-multi-out": lambda T: _F(T).jacobian(
        lambda a: (a.exp(), a.sum()), T.tensor([0.5, 1.0])
    ),
    "jacobian-scalar": lambda T: _F(T).jacobian(lambda a: (a**3).sum(), T.tensor([1.0, -2.0])),
    "hessian": lambda T: _F(T).hessian(lambda a: (a**3).sum() + a[0] * a[1], T.tensor([1.0, 2.0])),
    "hessian-tuple": lambda T: _F(T).hessian(
        lambda a, b: (a * b**2).sum(), (T.tensor([1.0, 2.0]), T.tensor([0.5, 3.0]))
    ),
    "vjp": lambda T: _F(T).vjp(_fn, T.tensor([1.0, 2.0, 3.0]), T.tensor([1.0, 0.0, -1.0])),
    "vjp-scalar": lambda T: _F(T).vjp(lambda a: (a * a).sum(), T.tensor([1.0, 2.0])),
    "jvp": lambda T: _F(T).jvp(_fn, T.tensor([1.0, 2.0, 3.0]), T.tensor([1.0, 0.0, -1.0])),
    "jvp-tuple": lambda T: _F(T).jvp(
        lambda a, b: a * b, (T.tensor([1.0, 2.0]), T.tensor([3.0, 4.0])), (T.ones(2), T.zeros(2))
    ),
    "jacobian-create-graph": _values(
        lambda T: _F(T).jacobian(_fn, T.tensor([1.0, 2.0], requires_grad=True), create_graph=True)
    ),
}


CASES = {
    "graph-seed001": _graph_seed001,
    "graph-names": _graph_names,
    "accumulate-grad-node": _accumulate_grad_node,
    "copy-slices": _copy_slices,
    "bce-graph": _bce_graph,
    "saved-values": _saved_values,
    "accumulate": _accumulate,
    "accumulate-epochs": _accumulate_epochs,
    "nonleaf-grad": _nonleaf_grad,
    "retain-grad": _retain_grad,
    "retain-grad-leaf": _retain_grad_leaf,
    "contagious": _contagious,
    "no-grad-tensors": _no_grad_tensors,
    "detach-graph": _detach_graph,
    "backward-twice-no-saved": _backward_twice_no_saved,
    "retain-graph": _retain_graph,
    "gradient-arg": _gradient_arg,
    "backward-inputs": _backward_inputs,
    "backward-inputs-nonleaf": _backward_inputs_nonleaf,
    "diamond": _diamond,
    "shared-subgraph": _shared_subgraph,
    "control-flow": _control_flow,
    "grad-identity": _grad_identity,
    "grad-set-then-accumulate": _grad_set_then_accumulate,
    "multiple-roots": _multiple_roots,
    "autograd-backward-grads": _autograd_backward_grads,
    "autograd-backward-single": _autograd_backward_single,
    "hooks": _hooks,
    "hook-order": _hook_return_none_and_order,
    "hook-on-retained": _hook_on_retained,
    "grad-basic": _grad_basic,
    "grad-elementwise": _grad_elementwise,
    "grad-outputs": _grad_outputs,
    "grad-retain": _grad_retain,
    "grad-allow-unused": _grad_allow_unused,
    "grad-materialize": _grad_materialize,
    "grad-nonleaf-input": _grad_nonleaf_input,
    "grad-create-graph": _grad_create_graph,
    "grad-multiple-outputs": _grad_multiple_outputs,
    "second-derivative-backward": _second_derivative_backward,
    "higher-order-ops": _higher_order_ops,
    "third-order-poly": _third_order_poly,
    "hessian-vector": _hessian_vector,
    **{f"functional-{k}": v for k, v in FUNCTIONAL.items()},
}


@pytest.mark.parametrize("name", list(CASES))
def test_autograd_matches_torch(name):
    assert_parity(CASES[name], torch)


def test_nonleaf_grad_warns_like_torch():
    def case(T):
        x = T.ones(2, requires_grad=True)
        y = x * 2
        return y.grad

    with pytest.warns(UserWarning, match=r"^The \.grad attribute of a Tensor that is not a leaf"):
        y = compat.ones(2, requires_grad=True) * 2
        assert y.grad is None
    parity(case, torch)  # same warning text (torch's C++ location suffix aside)


def test_retained_grad_does_not_warn():
    x = compat.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    assert y.grad is None  # filterwarnings=error: a warning here would fail
    (y * y).sum().backward()
    assert y.grad.tolist() == [4.0, 4.0]


def test_accumulate_grad_variable_is_the_leaf():
    x = compat.ones(3, requires_grad=True)
    acc = (x * 2).grad_fn.next_functions[0][0]
    assert acc.variable is x
    # The same accumulator node serves every use of the leaf.
    assert (x + 1).grad_fn.next_functions[0][0] is acc


def test_grad_accumulates_in_place_into_same_object():
    x = compat.ones(2, requires_grad=True)
    (x * 2).sum().backward()
    g = x.grad
    v = g._version
    (x * 3).sum().backward()
    assert x.grad is g and g.tolist() == [5.0, 5.0] and g._version > v


def test_hook_handle_remove_is_idempotent():
    x = compat.ones(2, requires_grad=True)
    calls = []
    h = x.register_hook(lambda g: calls.append(1))
    h.remove()
    h.remove()
    (x * 2).sum().backward()
    assert calls == [] and x.grad.tolist() == [2.0, 2.0]


def test_backward_create_graph_warns_once_like_torch():
    from compat import _engine

    _engine._warned_create_graph = False
    x = compat.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(
        UserWarning,
        match=r"^Using backward\(\) with create_graph=True will "
        r"create a reference cycle",
    ):
        (x * x).sum().backward(create_graph=True)
    x.grad = None
    (x * x).sum().backward(create_graph=True)  # second time: silent (filterwarnings=error)
    assert x.grad.requires_grad and x.grad.tolist() == [2.0, 4.0]
