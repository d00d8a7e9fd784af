"""compat.compile: N compiled steps leave exactly the state N eager steps leave."""

from __future__ import annotations

import numpy as np
import pytest

import compat
from compat._ops.control import DataDependentControlFlowError


def _sgd_step(X, y, w, b, lr=0.05):
    loss = ((X @ w + b - y) ** 2).mean()
    loss.backward()
    with compat.no_grad():
        w.sub_(lr * w.grad)
        b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return loss


def _params():
    return compat.zeros(3, requires_grad=True), compat.zeros(1, requires_grad=True)


def _data():
    rng = np.random.default_rng(0)
    X = compat.tensor(rng.standard_normal((16, 3)).astype(np.float32))
    y = compat.tensor(rng.standard_normal(16).astype(np.float32))
    return X, y


def _state(*ts):
    return [
        (
            np.asarray(t._data),
            None if t.grad is None else np.asarray(t.grad._data),
            t.requires_grad,
            t._version,
            None if t.grad is None else t.grad._version,
        )
        for t in ts
    ]


def _assert_same_state(a, b):
    for (d1, g1, r1, v1, gv1), (d2, g2, r2, v2, gv2) in zip(a, b, strict=True):
        np.testing.assert_allclose(d1, d2, rtol=1e-6, atol=1e-7)
        assert (g1 is None) == (g2 is None)
        if g1 is not None:
            np.testing.assert_allclose(g1, g2, rtol=1e-6, atol=1e-7)
        assert (r1, v1, gv1) == (r2, v2, gv2)


def test_n_compiled_steps_equal_n_eager_steps():
    X, y = _data()
    w1, b1 = _params()
    w2, b2 = _params()
    step = compat.compile(_sgd_step)
    for _ in range(6):
        l1 = _sgd_step(X, y, w1, b1)
        l2 = step(X, y, w2, b2)
        np.testing.assert_allclose(l1.item(), l2.item(), rtol=1e-6)
    _assert_same_state(_state(w1, b1, X, y), _state(w2, b2, X, y))
    # One trace without .grad, one once .grad exists: then the program is reused.
    assert step.traces == 2


def test_grad_keeps_its_identity_and_accumulates_like_eager():
    x1 = compat.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x2 = compat.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def acc(x):
        (x * x).sum().backward()

    cacc = compat.compile(acc)
    acc(x1)
    cacc(x2)
    g1, g2 = x1.grad, x2.grad
    for _ in range(3):
        acc(x1)
        cacc(x2)
    assert x1.grad is g1 and x2.grad is g2
    _assert_same_state(_state(x1), _state(x2))
    np.testing.assert_allclose(np.asarray(x2.grad._data), [8.0, 16.0, 24.0])


def test_global_tensors_are_state_too():
    X, y = _data()
    global W_GLOBAL
    W_GLOBAL = compat.zeros(3, requires_grad=True)

    @compat.compile
    def step():
        loss = ((X @ W_GLOBAL - y) ** 2).mean()
        loss.backward()
        with compat.no_grad():
            W_GLOBAL.sub_(0.1 * W_GLOBAL.grad)
        W_GLOBAL.grad = None
        return loss

    w_eager = compat.zeros(3, requires_grad=True)
    for _ in range(3):
        step()
        loss = ((X @ w_eager - y) ** 2).mean()
        loss.backward()
        with compat.no_grad():
            w_eager.sub_(0.1 * w_eager.grad)
        w_eager.grad = None
    np.testing.assert_allclose(np.asarray(W_GLOBAL._data), np.asarray(w_eager._data), rtol=1e-6)
    assert W_GLOBAL.grad is None


def test_python_value_change_retraces_never_stale():
    x = compat.tensor([1.0, 2.0])

    @compat.compile
    def f(x, scale, mode):
        return x * scale if mode == "mul" else x + scale

    assert f(x, 2.0, "mul").tolist() == [2.0, 4.0]
    assert f(x, 3.0, "mul").tolist() == [3.0, 6.0]
    assert f(x, 3.0, "add").tolist() == [4.0, 5.0]
    assert f.traces == 3


def test_global_python_flag_change_retraces():
    global FLAG
    FLAG = True
    x = compat.tensor([1.0, 2.0])

    @compat.compile
    def f(x):
        return x * 2 if FLAG else x * 3

    assert f(x).tolist() == [2.0, 4.0]
    FLAG = False
    assert f(x).tolist() == [3.0, 6.0]


def test_shape_change_retraces():
    @compat.compile
    def f(x):
        return (x * x).sum()

    assert f(compat.ones(3)).item() == 3.0
    assert f(compat.ones(5)).item() == 5.0


@pytest.mark.parametrize("body", ["if", "while", "item"])
def test_data_dependent_control_flow_raises_clear_error(body):
    def f(a):
        b = a * 2
        if body == "if":
            if b.sum() > 0:
                return b
            return -b
        if body == "while":
            while b.norm() < 1000:
                b = b * 2
            return b
        return b.item()

    a = compat.tensor(0.5, requires_grad=True)
    with pytest.raises(DataDependentControlFlowError, match="funcgrad.while_loop"):
        compat.compile(f)(a)
    # Nothing was lost: the tensor is intact and usable eagerly.
    assert a.item() == 0.5 and a.grad is None and a.requires_grad
    assert f(a) is not None


def test_random_inside_is_refused_and_stream_is_untouched():
    compat.manual_seed(3)
    expected = compat.randn(2)
    compat.manual_seed(3)

    @compat.compile
    def f(x):
        return x + compat.randn(2)

    with pytest.raises(RuntimeError, match="random tensors cannot be drawn inside"):
        f(compat.zeros(2))
    assert compat.randn(2).tolist() == expected.tolist()


def test_graph_attached_input_is_rejected():
    x = compat.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="part of an autograd graph"):
        compat.compile(lambda t: t.sum())(y)


def test_returns_inputs_as_themselves_and_containers():
    x = compat.tensor([1.0, 2.0], requires_grad=True)

    @compat.compile
    def f(x):
        return x, {"double": x.detach() * 2, "n": 3}

    same, rest = f(x)
    assert same is x
    assert rest["double"].tolist() == [2.0, 4.0] and rest["n"] == 3


# -- the guarded fast path and what it must notice -------------------------------------------------
def _slow_calls(compiled):
    """Counts the calls that take the full lookup (a miss of the identity guard)."""
    count = [0]
    orig = compiled._call

    def counting(args, kwargs):
        count[0] += 1
        return orig(args, kwargs)

    compiled._call = counting
    return count


def test_steady_loop_takes_the_guarded_path_and_stays_exact():
    X, y = _data()
    w1, b1 = _params()
    w2, b2 = _params()
    step = compat.compile(_sgd_step)
    slow = _slow_calls(step)
    for _ in range(10):
        _sgd_step(X, y, w1, b1)
        step(X, y, w2, b2)
    _assert_same_state(_state(w1, b1, X, y), _state(w2, b2, X, y))
    # Call 1 creates .grad (a new key), call 2 finds it (installs the guard); then all hit it.
    assert slow[0] == 2


def test_zeroed_grad_is_a_constant_written_back_and_still_independent():
    X, y = _data()
    w1, b1 = _params()
    w2, b2 = _params()
    step = compat.compile(_sgd_step)
    for _ in range(3):
        _sgd_step(X, y, w1, b1)
        step(X, y, w2, b2)
    entry = next(iter(step.cache.values()))
    consts = [x for kind, x in entry.srcs if kind == 1]
    assert len(consts) == 2  # the two zeroed grads leave no buffer per call
    assert entry.n_out == 3  # only w, b and the loss come out of the XLA program
    # Eager work on the grads between calls must not disturb the shared constant.
    for w, b in ((w1, b1), (w2, b2)):
        with compat.no_grad():
            w.grad.add_(1.0)
            b.grad.add_(2.0)
    for _ in range(2):
        _sgd_step(X, y, w1, b1)
        step(X, y, w2, b2)
    _assert_same_state(_state(w1, b1), _state(w2, b2))


@pytest.mark.parametrize("change", ["inplace", "data", "grad_none", "requires_grad", "new_arg"])
def test_changes_between_calls_are_seen(change):
    X, y = _data()
    w1, b1 = _params()
    w2, b2 = _params()
    step = compat.compile(_sgd_step)
    for _ in range(3):
        _sgd_step(X, y, w1, b1)
        step(X, y, w2, b2)
    for w, b in ((w1, b1), (w2, b2)):
        if change == "inplace":
            with compat.no_grad():
                w.mul_(2.0)
        elif change == "data":
            w.data = compat.ones(3)
        elif change == "grad_none":
            b.grad = None
        elif change == "requires_grad":
            b.requires_grad_(False)
            b.grad = None
    if change == "new_arg":
        X = X * 2
    if change == "requires_grad":
        with pytest.raises(TypeError):
            _sgd_step(X, y, w1, b1)  # b.grad stays None: eager fails at lr * b.grad
        before = _state(w2, b2)
        with pytest.raises(TypeError):
            step(X, y, w2, b2)
        _assert_same_state(_state(w2, b2), before)  # the failed trace changed nothing
        return
    for _ in range(2):
        _sgd_step(X, y, w1, b1)
        step(X, y, w2, b2)
    _assert_same_state(_state(w1, b1, X, y), _state(w2, b2, X, y))


def test_hook_added_between_calls_retraces():
    x = compat.tensor([1.0, 2.0], requires_grad=True)
    seen = []

    @compat.compile
    def f(x):
        (x * x).sum().backward()
        g = x.grad.clone()
        x.grad = None
        return g

    assert f(x).tolist() == [2.0, 4.0]
    assert f(x).tolist() == [2.0, 4.0]
    h = x.register_hook(lambda g: seen.append(1) or g * 10)
    assert f(x).tolist() == [20.0, 40.0]
    assert seen  # ran while tracing
    h.remove()
    assert f(x).tolist() == [2.0, 4.0]


def test_global_rebound_between_calls_is_seen():
    global W_REBOUND
    W_REBOUND = compat.tensor([1.0, 2.0])

    @compat.compile
    def f(x):
        return x * W_REBOUND

    x = compat.ones(2)
    assert f(x).tolist() == [1.0, 2.0]
    assert f(x).tolist() == [1.0, 2.0]
    W_REBOUND = compat.tensor([5.0, 6.0])
    assert f(x).tolist() == [5.0, 6.0]


def test_aliases_kept_by_the_caller_are_refreshed_not_leaked():
    w = compat.zeros(3, requires_grad=True)
    alias, detached, row = w.data, w.detach(), w.detach()[1:]

    @compat.compile
    def step(w):
        with compat.no_grad():
            w.add_(1.0)

    for _ in range(3):
        step(w)
    assert w.tolist() == alias.tolist() == detached.tolist() == [3.0, 3.0, 3.0]
    assert row.tolist() == [3.0, 3.0]
    assert detached._version == w._version == 3


def test_view_and_its_base_as_arguments_count_versions_once():
    def f(base, view):
        with compat.no_grad():
            view.mul_(2.0)
            base.add_(1.0)

    b1 = compat.ones(4)
    b2 = compat.ones(4)
    cf = compat.compile(f)
    for _ in range(3):
        f(b1, b1[1:3])
        cf(b2, b2[1:3])
    assert b1.tolist() == b2.tolist()
    assert b1._version == b2._version


def test_a_view_argument_writes_through_to_its_base():
    base1, base2 = compat.zeros(4), compat.zeros(4)
    f = compat.compile(lambda v: v.add_(1.0))
    for lo in (0, 1, 2):  # different views of the same shape: never the stale program
        base1[lo : lo + 2].add_(1.0)
        f(base2[lo : lo + 2])
    assert base1.tolist() == base2.tolist() == [1.0, 2.0, 2.0, 1.0]


GLOBAL_IN_HELPER = compat.zeros(2, requires_grad=True)


def _helper_loss():
    return (GLOBAL_IN_HELPER * compat.tensor([1.0, 2.0])).sum()


def test_globals_of_called_helpers_are_state():
    GLOBAL_IN_HELPER.grad = None

    @compat.compile
    def step():
        _helper_loss().backward()

    step()
    step()
    assert GLOBAL_IN_HELPER.grad.tolist() == [2.0, 4.0]


def test_default_argument_tensors_are_state():
    w0 = compat.tensor([1.0, 1.0])

    def bump(w=w0):
        with compat.no_grad():
            w.mul_(3.0)

    f = compat.compile(bump)
    f()
    f()
    assert w0.tolist() == [9.0, 9.0] and w0._version == 2


def test_changing_a_tensor_outside_the_state_is_refused_and_loses_nothing():
    class Slotted:  # no __dict__: compile can't look inside
        __slots__ = ("t",)

    box = Slotted()
    box.t = compat.tensor([1.0, 2.0], requires_grad=True)

    @compat.compile
    def step(x):
        (x * box.t).sum().backward()  # box.t is reached through an opaque object, not as state

    x = compat.ones(2)
    with pytest.raises(RuntimeError, match="not part of its state"):
        step(x)
    assert box.t.grad is None and box.t.tolist() == [1.0, 2.0]
    (x * box.t).sum().backward()  # still usable eagerly
    assert box.t.grad.tolist() == [1.0, 1.0]


def test_kwargs_and_python_scalars_use_the_full_path_correctly():
    x = compat.tensor([1.0, 2.0])
    f = compat.compile(lambda x, *, k=1.0: x * k)
    assert f(x, k=2.0).tolist() == [2.0, 4.0]
    assert f(x, k=3.0).tolist() == [3.0, 6.0]
    assert f(x).tolist() == [1.0, 2.0]


def test_parameter_lists_are_guarded_by_content():
    params1 = [compat.ones(2, requires_grad=True), compat.ones(2, requires_grad=True)]
    params2 = [compat.ones(2, requires_grad=True), compat.ones(2, requires_grad=True)]

    def step(ps, scale):
        sum(((p * p).sum() for p in ps), compat.tensor(0.0)).backward()
        with compat.no_grad():
            for p in ps:
                p.sub_(scale * p.grad)
                p.grad.zero_()

    cstep = compat.compile(step)
    slow = _slow_calls(cstep)
    for _ in range(4):
        step(params1, 0.1)
        cstep(params2, 0.1)
    assert slow[0] == 2
    # Swap a parameter inside the same list object: the guard must see it.
    params1[1] = compat.full((2,), 5.0, requires_grad=True)
    params2[1] = compat.full((2,), 5.0, requires_grad=True)
    for _ in range(2):
        step(params1, 0.1)
        cstep(params2, 0.1)
    for p1, p2 in zip(params1, params2, strict=True):
        assert p1.tolist() == p2.tolist() and p1._version == p2._version
    params1.append(compat.ones(3, requires_grad=True))
    params2.append(compat.ones(3, requires_grad=True))
    step(params1, 0.1)
    cstep(params2, 0.1)
    assert params1[2].tolist() == params2[2].tolist()


STEP_COUNT = 0


def test_a_step_that_rebinds_its_globals_is_never_reused_stale():
    # Python side effects happen while tracing; a global the step rebinds changes the key, so
    # every call retraces and reads like eager code would.
    global STEP_COUNT
    STEP_COUNT = 0

    @compat.compile
    def f(x):
        global STEP_COUNT
        STEP_COUNT += 1
        return x * STEP_COUNT

    x = compat.ones(1)
    assert [f(x).item() for _ in range(3)] == [1.0, 2.0, 3.0]


def test_a_key_changing_every_call_falls_back_to_eager_after_the_limit():
    from compat._compile import RECOMPILE_LIMIT

    f = compat.compile(lambda x, k: x * k)
    x = compat.ones(1)
    for k in range(RECOMPILE_LIMIT):
        assert f(x, float(k)).item() == k
    with pytest.warns(UserWarning, match="traced for 8 different keys"):
        assert f(x, 100.0).item() == 100.0
    assert f(x, 101.0).item() == 101.0  # eager again, warned once
    assert f(x, 3.0).item() == 3.0  # a key already built still runs compiled
    assert f.traces == RECOMPILE_LIMIT


def test_torch_compile_keyword_arguments():
    def g(x):
        return x * 2

    assert compat.compile(g, disable=True) is g
    assert compat.compile(mode="reduce-overhead", fullgraph=True)(g)(compat.ones(1)).item() == 2.0
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        compat.compile(g, bogus=1)


class _Model:
    def __init__(self):
        self.w = compat.zeros(3, requires_grad=True)
        self.b = compat.zeros(1, requires_grad=True)
        self.lr = 0.05


def _model_step(model, X, y):
    loss = ((X @ model.w + model.b - y) ** 2).mean()
    loss.backward()
    with compat.no_grad():
        for p in (model.w, model.b):
            p.sub_(model.lr * p.grad)
            p.grad = None
    return loss


def test_tensors_and_values_inside_user_objects_are_state():
    X, y = _data()
    m1, m2 = _Model(), _Model()
    step = compat.compile(_model_step)
    slow = _slow_calls(step)
    for _ in range(4):
        _model_step(m1, X, y)
        step(m2, X, y)
    assert slow[0] == 1
    _assert_same_state(_state(m1.w, m1.b), _state(m2.w, m2.b))
    # An attribute change is a Python-side change: seen, never a stale program.
    m1.lr = m2.lr = 0.5
    m2.b = compat.ones(1, requires_grad=True)
    m1.b = compat.ones(1, requires_grad=True)
    for _ in range(2):
        _model_step(m1, X, y)
        step(m2, X, y)
    _assert_same_state(_state(m1.w, m1.b), _state(m2.w, m2.b))


def test_a_namespace_config_is_part_of_the_key():
    import types

    cfg = types.SimpleNamespace(scale=2.0)
    f = compat.compile(lambda x: x * cfg.scale)
    x = compat.ones(2)
    assert f(x).tolist() == [2.0, 2.0]
    assert f(x).tolist() == [2.0, 2.0]
    cfg.scale = 3.0
    assert f(x).tolist() == [3.0, 3.0]


# -- random interleavings of compiled steps and eager changes: the guard never goes stale ---------
_ACTIONS = ("step", "step", "step", "mul", "grad_none", "grad_add", "data", "new_x", "lr")


def _interleaving(actions):
    X, y = _data()
    twins = [_params(), _params()]  # [eager, compiled]
    step = _SHARED_STEP  # its keys: grads present or not x two lr values, under the limit
    lr = 0.05
    for action in actions:
        if action == "new_x":
            X = X * 1.5
        elif action == "lr":
            lr = 0.1 if lr == 0.05 else 0.05
        for k, (w, b) in enumerate(twins):
            if action == "step":
                if k == 0:
                    _sgd_step(X, y, w, b, lr)
                else:
                    step(X, y, w, b, lr)
            elif action == "mul":
                with compat.no_grad():
                    w.mul_(0.5)
            elif action == "grad_none":
                w.grad = None
            elif action == "grad_add" and w.grad is not None:
                with compat.no_grad():
                    w.grad.add_(1.0)
            elif action == "data":
                b.data = compat.full((1,), 0.25)
        _assert_same_state(_state(*twins[0], X, y), _state(*twins[1], X, y))


_SHARED_STEP = compat.compile(_sgd_step)  # shared: its cache and guard outlive each example


def _interleaving_test(max_examples):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.lists(st.sampled_from(_ACTIONS), min_size=1, max_size=12))
    def run(actions):
        _interleaving(actions)

    run()


def test_random_interleavings_of_compiled_steps_and_eager_changes():
    _interleaving_test(40)


@pytest.mark.slow
def test_random_interleavings_of_compiled_steps_and_eager_changes_many():
    _interleaving_test(400)


MASK_SCALE = 1.0


class _Scaled:
    def __init__(self):
        self.w = compat.ones(2, requires_grad=True)

    def forward(self, x):
        return self.w * x * MASK_SCALE  # a global read inside a method


def test_globals_read_in_methods_of_argument_objects_are_part_of_the_key():
    global MASK_SCALE
    MASK_SCALE = 1.0
    m = _Scaled()
    f = compat.compile(lambda model, x: model.forward(x).sum())
    x = compat.tensor([1.0, 2.0])
    assert f(m, x).item() == 3.0
    assert f(m, x).item() == 3.0
    MASK_SCALE = 10.0
    assert f(m, x).item() == 30.0


def test_default_dtype_and_grad_mode_are_part_of_the_key():
    f = compat.compile(lambda x: (x.sum() * compat.tensor(2.0), compat.is_grad_enabled()))
    x = compat.ones(2, dtype=compat.float64)
    assert f(x)[0].dtype == compat.float64 and f(x)[1] is True
    with compat.no_grad():
        assert f(x)[1] is False
    prev = compat.get_default_dtype()
    try:
        g = compat.compile(lambda: compat.tensor(1.5))
        assert g().dtype == prev
        compat.set_default_dtype(compat.float64 if prev == compat.float32 else compat.float32)
        assert g().dtype == compat.get_default_dtype()
    finally:
        compat.set_default_dtype(prev)
