"""Hand-written parity cases: the seed tutorials, every compat error case, the autograd API
(graphs, grad modes, hooks, retain_grad, higher order), and three-way cases with a funcgrad twin.

Each program is written once, against whatever module is passed as `torch`.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import jax.numpy as jnp
from _parity_harness import Case

import funcgrad as fg

CASES: list[Case] = []


def case(name: str, *, seed: int = 0, rtol32: float = 1e-5, fg=None, fg_inputs=(), tags=()):
    """Registers the decorated `prog(torch, rec)` as a parity case."""

    def deco(prog):
        CASES.append(
            Case(
                name,
                prog,
                seed=seed,
                rtol32=rtol32,
                fg=fg,
                fg_inputs=tuple(fg_inputs),
                tags=tuple(tags),
            )
        )
        return prog

    return deco


# --------------------------------------------------------------------------------------------
# the seed tutorials, cell by cell: stdout, errors and warnings per cell, then every tensor

SEED_DIR = Path(__file__).resolve().parents[1] / "compat" / "seeds"
# cells that print uninitialised memory (`torch.Tensor(3, 5)`): their output is not compared
_UNINITIALISED = {"seed001": {3}}
_UNINITIALISED_NAMES = {"seed001": ("tsr", "t2")}


def _cells(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [c.strip("\n") for c in text.split("# %%") if c.strip()]


def _seed_prog(stem: str):
    def prog(torch, rec):
        from compat._as_torch import as_torch
        from compat._runner import _run_cell

        use_compat = torch.__name__ == "compat"
        ns: dict = {"__name__": "__main__"}
        with as_torch() if use_compat else contextlib.nullcontext():
            for i, src in enumerate(_cells(SEED_DIR / f"{stem}.py")):
                buf = io.StringIO()
                with contextlib.redirect_stdout(buf):
                    rec.run(f"cell{i}", lambda src=src: _run_cell(src, ns), record_result=False)
                out = buf.getvalue()
                rec(
                    f"cell{i}.stdout",
                    "<uninitialised>" if i in _UNINITIALISED.get(stem, ()) else out,
                )
        skip = _UNINITIALISED_NAMES.get(stem, ())
        for k, v in ns.items():
            if hasattr(v, "grad_fn") and k not in skip:
                rec(f"ns.{k}", v)

    return prog


for _stem in ("seed000", "seed001", "seed003", "seed004"):
    CASES.append(Case(f"seed/{_stem}", _seed_prog(_stem), seed=0, tags=("seed",)))


# --------------------------------------------------------------------------------------------
# error cases: class and message must match


@case("error/nonscalar_backward")
def _(torch, rec):
    x = torch.randn(2, 3, requires_grad=True)
    y = x * 2
    rec.run("backward", lambda: y.backward())
    rec.run("autograd.grad", lambda: torch.autograd.grad(y, x))
    rec("x", x)


@case("error/int_requires_grad")
def _(torch, rec):
    rec.run("tensor", lambda: torch.tensor([1, 2, 3], requires_grad=True))
    rec.run("arange", lambda: torch.arange(3, requires_grad=True))
    rec.run("requires_grad_", lambda: torch.arange(3).requires_grad_())

    def setter():
        t = torch.ones(3, dtype=torch.int64)
        t.requires_grad = True

    rec.run("setter", setter)
    rec.run("bool", lambda: torch.zeros(2, dtype=torch.bool).requires_grad_(True))
    rec.run("float_ok", lambda: torch.arange(3.0).requires_grad_())


@case("error/backward_not_requiring_grad")
def _(torch, rec):
    rec.run("sum", lambda: torch.ones(2).sum().backward())
    rec.run("grad", lambda: torch.autograd.grad(torch.ones(2).sum(), torch.ones(2)))
    x = torch.randn(3, requires_grad=True)
    with torch.no_grad():
        y = (x * 2).sum()
    rec.run("no_grad_result", lambda: y.backward())
    rec("y", y)
    d = (x * 3).detach().sum()
    rec.run("detached", lambda: d.backward())


@case("error/inplace_on_leaf")
def _(torch, rec):
    x = torch.randn(3, requires_grad=True)
    rec.run("add_", lambda: x.add_(1))
    rec.run("mul_", lambda: x.mul_(2))
    rec.run("zero_", lambda: x.zero_())

    def setitem():
        x[0] = 1.0

    def iadd():
        nonlocal_x = x
        nonlocal_x += 1

    rec.run("setitem", setitem)
    rec.run("iadd", iadd)
    with torch.no_grad():
        x.add_(1)  # allowed under no_grad
    rec("x", x)
    v = x[1:]
    rec.run("view_of_leaf", lambda: v.mul_(2))


@case("error/saved_tensor_modified")
def _(torch, rec):
    x = torch.randn(2, 3, requires_grad=True)
    y = x.exp()
    y.mul_(2)  # exp saved its result
    rec("y", y)
    rec.run("backward", lambda: y.sum().backward())
    a = x * 1
    b = a * a
    a.add_(1)  # mul saved its inputs
    rec.run("backward2", lambda: b.sum().backward())
    c = x.sin()
    c2 = c * 1
    c2.add_(1)  # add saves nothing: fine
    c2.sum().backward()
    rec("x", x)


@case("error/shape_mismatch_grad")
def _(torch, rec):
    x = torch.randn(2, requires_grad=True)
    y = x * 3
    rec.run("backward", lambda: y.backward(torch.ones(3)))
    rec.run("backward_2d", lambda: y.backward(torch.ones(1, 2)))
    rec.run("grad", lambda: torch.autograd.grad(y, x, torch.ones(2, 2)))
    rec.run("ok", lambda: y.backward(torch.ones(2)))
    rec("x", x)


@case("error/second_backward")
def _(torch, rec):
    x = torch.randn(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    rec.run("again", lambda: y.backward())
    z = (x.exp() * 2).sum()
    z.backward(retain_graph=True)
    rec.run("retained", lambda: z.backward())
    rec.run("after_release", lambda: z.backward())
    rec("x", x)


@case("error/misc")
def _(torch, rec):
    x = torch.randn(3, requires_grad=True)
    y = torch.randn(3, requires_grad=True)
    rec.run("unused", lambda: torch.autograd.grad((x * 2).sum(), [x, y]))
    rec.run("allow_unused", lambda: torch.autograd.grad((x * 2).sum(), [x, y], allow_unused=True))
    z = x * 2

    def set_rg():
        z.requires_grad = False

    rec.run("nonleaf_requires_grad", set_rg)
    rec.run("broadcast", lambda: torch.ones(2, 3) + torch.ones(4))
    rec.run("mm", lambda: torch.ones(2, 3) @ torch.ones(2, 3))
    rec.run("view", lambda: torch.ones(6).view(4, 2))
    rec.run("item", lambda: torch.ones(2).item())
    rec.run("dot_dtype", lambda: torch.dot(torch.ones(2), torch.ones(2, dtype=torch.float64)))
    rec.run("stack", lambda: torch.stack([torch.ones(2), torch.ones(3)]))
    rec.run("index", lambda: torch.ones(3)[5])
    rec.run("numpy_rg", lambda: x.numpy())
    rec.run("bool", lambda: bool(torch.ones(2)))


@case("error/nonleaf_grad_warning")
def _(torch, rec):
    x = torch.randn(2, requires_grad=True)
    y = x * 2
    y.sum().backward()
    rec.run("y.grad", lambda: y.grad)
    rec("x", x)


# --------------------------------------------------------------------------------------------
# graph structure, flags, grad modes, hooks, retain_grad


@case("graph/seed_like")
def _(torch, rec):
    a = torch.randn(3, 3, requires_grad=True)
    w = [torch.randn(3, 3, requires_grad=True) for _ in range(4)]
    b = w[0] * a
    c = w[1] * a
    d = w[2] * b + w[3] * c
    L = 10 - d
    rec("L", L)
    rec("d", d)
    rec("L.grad_fn", L.grad_fn)
    L.sum().backward()
    rec("a", a)
    for i, wi in enumerate(w):
        rec(f"w{i}", wi)


@case("graph/ops_mix")
def _(torch, rec):
    x = torch.randn(2, 3, requires_grad=True)
    W = torch.randn(3, 4, requires_grad=True)
    h = torch.tanh(x @ W).relu()
    y = h.mean(dim=0).pow(2).sum() / 3 - h.max()
    rec("y", y)
    y.backward()
    rec("x", x)
    rec("W", W)


@case("graph/leaf_flags")
def _(torch, rec):
    a = torch.ones(2)
    b = torch.ones(2, requires_grad=True)
    c = b * 2
    d = c.detach()
    e = b[0]
    rec("a", a)
    rec("b", b)
    rec("c", c)
    rec("d", d)
    rec("e", e)
    f = torch.ones(2, requires_grad=True).clone()
    rec("f", f)
    g = b.float()
    rec("g", g)
    h = b.double()
    rec("h", h)


@case("graph/grad_modes")
def _(torch, rec):
    x = torch.randn(3, requires_grad=True)
    with torch.no_grad():
        y = x * 2
        with torch.enable_grad():
            z = x * 3
    rec("y", y)
    rec("z", z)
    with torch.set_grad_enabled(False):
        u = x + 1
    rec("u", u)
    rec("enabled", torch.is_grad_enabled())

    @torch.no_grad()
    def f(t):
        return t * t

    rec("f", f(x))
    with torch.inference_mode():
        v = x * 5
    rec("v.requires_grad", v.requires_grad)


@case("graph/retain_grad")
def _(torch, rec):
    x = torch.randn(2, 2, requires_grad=True)
    y = x * x
    y.retain_grad()
    z = y.exp()
    z.retain_grad()
    s = z.sum()
    s.backward()
    rec("y", y)
    rec("z", z)
    rec("x", x)
    rec("y.retains_grad", y.retains_grad)
    rec("x.retains_grad", x.retains_grad)


@case("graph/accumulate_and_zero")
def _(torch, rec):
    x = torch.randn(3, requires_grad=True)
    for i in range(3):
        (x * x * (i + 1)).sum().backward()
        rec(f"x{i}", x)
    x.grad.zero_()
    rec("zeroed", x)
    x.grad = None
    rec("none", x)
    (x.sin()).sum().backward()
    rec("after", x)


@case("graph/hooks")
def _(torch, rec):
    x = torch.randn(3, requires_grad=True)
    seen = []
    h = x.register_hook(lambda g: g * 2)
    y = x * x
    y.register_hook(lambda g: seen.append(g.clone()))
    y.sum().backward()
    rec("x", x)
    rec("seen", seen)
    h.remove()
    x.grad = None
    (x * x).sum().backward()
    rec("x_after_remove", x)


@case("graph/backward_gradient_arg")
def _(torch, rec):
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    y.backward(gradient=torch.ones(len(y)))
    rec("x", x)
    x.grad.zero_()
    z = x.pow(3)
    z.backward(torch.tensor([0.1, 1.0, 0.0001, 10.0]))
    rec("x2", x)


@case("graph/detach_shares_storage")
def _(torch, rec):
    x = torch.randn(3, requires_grad=True)
    y = x.exp()
    d = y.detach()
    d.zero_()  # also changes y, which exp saved
    rec("y", y)
    rec.run("backward", lambda: y.sum().backward())
    u = x * x
    w = u.detach()
    z = w * x
    z.sum().backward()
    rec("x", x)
    rec("w", w)


@case("graph/inplace_nonleaf")
def _(torch, rec):
    x = torch.randn(2, 3, requires_grad=True)
    y = x * 2
    y.add_(1)
    y.mul_(x)
    y[0, 1] = 5.0
    y.sin_()
    y.clamp_(min=-0.5)
    rec("y", y)
    y.sum().backward()
    rec("x", x)
    z = x.clone()
    z[:, 0] += x[:, 1]
    z.relu_()
    rec("z", z)
    z.sum().backward()
    rec("x2", x)


@case("graph/views")
def _(torch, rec):
    x = torch.randn(4, 3, requires_grad=True)
    y = x * 1
    v = y[1:3]
    v.mul_(10)
    rec("y", y)
    t = y.t()
    rec("t", t)
    w = y.view(2, 6)
    rec("w", w)
    (w * torch.arange(12.0).view(2, 6)).sum().backward()
    rec("x", x)


@case("graph/data_attr")
def _(torch, rec):
    x = torch.randn(3, requires_grad=True)
    d = x.data
    rec("d", d)
    d.mul_(2)
    rec("x", x)
    x.requires_grad_(False)
    rec("x2", x)
    x.requires_grad_(True)
    rec("x3", x)


@case(
    "graph/second_order",
    fg_inputs=("x",),
    fg=lambda x: {
        "g": fg.grad(lambda t: jnp.sum(t**3 * jnp.sin(t)))(x),
        "x.grad": fg.grad(lambda t: jnp.sum(fg.grad(lambda u: jnp.sum(u**3 * jnp.sin(u)))(t)))(x),
    },
)
def _(torch, rec):
    x = torch.randn(4, requires_grad=True)
    y = (x**3 * x.sin()).sum()
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    rec("g", g, graph=False)
    g.sum().backward()
    rec("x", x)


@case("graph/third_order")
def _(torch, rec):
    x = torch.tensor(0.7, requires_grad=True)
    y = x.exp() * x.cos()
    g1 = torch.autograd.grad(y, x, create_graph=True)[0]
    g2 = torch.autograd.grad(g1, x, create_graph=True)[0]
    g3 = torch.autograd.grad(g2, x)[0]
    rec("g1", g1, graph=False)
    rec("g2", g2, graph=False)
    rec("g3", g3)


@case("graph/backward_inputs")
def _(torch, rec):
    x = torch.randn(3, requires_grad=True)
    y = torch.randn(3, requires_grad=True)
    (x * y).sum().backward(inputs=[x])
    rec("x", x)
    rec("y", y)
    torch.autograd.backward([(x * 2).sum(), (y * 3).sum()])
    rec("x2", x)
    rec("y2", y)


@case("graph/custom_function")
def _(torch, rec):
    class Exp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            r = i.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * r

    x = torch.randn(3, requires_grad=True)
    y = Exp.apply(x)
    rec("y.requires_grad", y.requires_grad)
    rec("y.is_leaf", y.is_leaf)
    (y * 2).sum().backward()
    rec("x", x)
    rec("name", type(y.grad_fn).__name__)


@case("graph/functional_api", rtol32=1e-4)
def _(torch, rec):
    AF = torch.autograd.functional

    def f(x):
        return (x**2).sum() + x.prod()

    x = torch.randn(3)
    rec("jacobian", AF.jacobian(lambda t: t.sin() * t, x))
    rec("hessian", AF.hessian(f, x))
    rec("vjp", AF.vjp(lambda t: t.exp(), x, torch.ones(3)))
    rec("jvp", AF.jvp(lambda t: t.exp(), x, torch.ones(3)))
    rec("vhp", AF.vhp(f, x, torch.ones(3)))


@case("graph/clone_chain_repr")
def _(torch, rec):
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rec("x", x)
    for i, y in enumerate(
        [
            x + 1,
            x - 1,
            1 - x,
            x * 2,
            x / 2,
            2 / x,
            x**2,
            2**x,
            -x,
            x.sum(),
            x.mean(),
            x.t(),
            x[0],
            x[:, 1],
            x.view(4),
            x.exp(),
        ]
    ):
        rec(f"y{i}", y)


@case("graph/printing", tags=("repr",))
def _(torch, rec):
    rec("big", torch.arange(2000.0))
    rec("mixed", torch.tensor([1e-5, 1.0, 1e5]))
    rec("ints", torch.tensor([[1, -2], [300, 4]]))
    rec("bools", torch.tensor([True, False]))
    rec("f64", torch.tensor([0.1, 0.25], dtype=torch.float64))
    rec("empty", torch.zeros(0, 3))
    rec("scalar", torch.tensor(3.5))
    rec("nan", torch.tensor([float("nan"), float("inf"), -float("inf"), 1.5]))
    rec("sci", torch.tensor([1e-10, 1e10]))
    rec("randn", torch.randn(3, 4))


# --------------------------------------------------------------------------------------------
# three-way cases: torch, compat (same source) and a funcgrad function


def _lin_reg_fg(x1, x2, w1, w2, b, y_true):
    def loss(w1, w2, b):
        y = x1 * w1 + x2 * w2 + b
        return jnp.mean((y - y_true) ** 2)

    v, (g1, g2, gb) = fg.value_and_grad(loss, argnums=(0, 1, 2))(w1, w2, b)
    return {"loss": v, "w1.grad": g1, "w2.grad": g2, "b.grad": gb}


@case(
    "three/seed004_linear_regression",
    fg=_lin_reg_fg,
    fg_inputs=("x1", "x2", "w1", "w2", "b", "y_true"),
)
def _(torch, rec):
    x1 = torch.tensor([2, 3], dtype=torch.float32, requires_grad=True)
    x2 = torch.tensor([2, 1], dtype=torch.float32, requires_grad=True)
    w1 = torch.tensor([3, 2], dtype=torch.float32, requires_grad=True)
    w2 = torch.tensor([1, 4], dtype=torch.float32, requires_grad=True)
    b = torch.tensor(1, dtype=torch.float32, requires_grad=True)
    y_true = torch.tensor([11, 15], dtype=torch.float32)
    loss = torch.mean((x1 * w1 + x2 * w2 + b - y_true) ** 2)
    loss.backward()
    for k, v in dict(loss=loss, x1=x1, x2=x2, w1=w1, w2=w2, b=b, y_true=y_true).items():
        rec(k, v)


def _bce_fg(w, b):
    def loss(w, b):
        z = jnp.ones(5, w.dtype) @ w + b
        y = jnp.zeros(3, w.dtype)
        return jnp.mean(jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))

    v, (gw, gb) = fg.value_and_grad(loss, argnums=(0, 1))(w, b)
    return {"loss": v, "w.grad": gw, "b.grad": gb}


@case("three/seed001_bce_with_logits", fg=_bce_fg, fg_inputs=("w", "b"))
def _(torch, rec):
    x = torch.ones(5)
    y = torch.zeros(3)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    rec("z", z)
    rec("loss", loss)
    loss.backward()
    rec("w", w)
    rec("b", b)


@case(
    "three/seed003_dot",
    fg=lambda x: {"y": 2 * jnp.dot(x, x), "x.grad": fg.grad(lambda t: 2 * jnp.dot(t, t))(x)},
    fg_inputs=("x",),
)
def _(torch, rec):
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    y.backward()
    rec("y", y)
    rec("x", x)


def _seed003_scale(a) -> float:
    # the tutorial's data-dependent loop and branch, run on concrete values: f(a) = scale * a
    b = a * 2
    scale = 2.0
    while float(jnp.linalg.norm(b)) < 1000:
        b = b * 2
        scale *= 2
    return scale if float(jnp.sum(b)) > 0 else 100 * scale


def _seed003_fg(a):
    s = _seed003_scale(a)
    return {"d": a * s, "a.grad": fg.backward(lambda t: t * s, a, cotangent=jnp.ones_like(a))}


@case("three/seed003_control_flow", seed=3, fg=_seed003_fg, fg_inputs=("a",))
def _(torch, rec):
    def f(a):
        b = a * 2
        while b.norm() < 1000:
            b = b * 2
        if b.sum() > 0:
            c = b
        else:
            c = 100 * b
        return c

    a = torch.randn(size=(3,), requires_grad=True)
    d = f(a)
    d.sum().backward()
    rec("d", d)
    rec("a", a)


@case(
    "three/backward_with_cotangent",
    fg=lambda x, v: {"x.grad": fg.backward(lambda t: t * t * t, x, cotangent=v)},
    fg_inputs=("x", "v"),
)
def _(torch, rec):
    x = torch.randn(5, requires_grad=True)
    v = torch.randn(5)
    (x * x * x).backward(v)
    rec("x", x)
    rec("v", v)


@case(
    "three/detach",
    fg=lambda x: {"x.grad": fg.grad(lambda t: jnp.sum(fg.detach(t * t) * t))(x)},
    fg_inputs=("x",),
)
def _(torch, rec):
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    rec("x", x)


@case(
    "three/vjp",
    fg=lambda x, v: {"x.grad": fg.vjp(lambda t: jnp.tanh(t) @ t.T, x)[1](v)[0]},
    fg_inputs=("x", "v"),
    rtol32=1e-4,
)
def _(torch, rec):
    x = torch.randn(3, 4, requires_grad=True)
    v = torch.randn(3, 3)
    y = torch.tanh(x) @ x.t()
    y.backward(v)
    rec("x", x)
    rec("v", v)


@case(
    "three/hessian",
    fg=lambda x: {"H": fg.hessian(lambda t: jnp.sum(jnp.sin(t) * t**2) + jnp.prod(t))(x)},
    fg_inputs=("x",),
    rtol32=1e-4,
)
def _(torch, rec):
    x = torch.randn(4)
    H = torch.autograd.functional.hessian(lambda t: (t.sin() * t**2).sum() + t.prod(), x)
    rec("H", H)
    rec("x", x)


@case(
    "three/jacobian",
    fg=lambda x: {"J": fg.jacobian(lambda t: jnp.exp(t) * jnp.cumsum(t))(x)},
    fg_inputs=("x",),
    rtol32=1e-4,
)
def _(torch, rec):
    x = torch.randn(4)
    J = torch.autograd.functional.jacobian(lambda t: t.exp() * t.cumsum(0), x)
    rec("J", J)
    rec("x", x)


def _mlp_fg(x, W1, b1, W2, b2, target):
    def loss(W1, b1, W2, b2):
        h = jnp.tanh(x @ W1.T + b1)
        out = h @ W2.T + b2
        logp = out - jax_logsumexp(out)
        return -jnp.mean(jnp.take_along_axis(logp, target[:, None], axis=1))

    v, gs = fg.value_and_grad(loss, argnums=(0, 1, 2, 3))(W1, b1, W2, b2)
    return {"loss": v, "W1.grad": gs[0], "b1.grad": gs[1], "W2.grad": gs[2], "b2.grad": gs[3]}


def jax_logsumexp(z):
    import jax.scipy.special as jss

    return jss.logsumexp(z, axis=1, keepdims=True)


@case(
    "three/mlp_cross_entropy",
    fg=_mlp_fg,
    rtol32=1e-4,
    fg_inputs=("x", "W1", "b1", "W2", "b2", "target"),
)
def _(torch, rec):
    F = torch.nn.functional
    x = torch.randn(8, 5)
    W1 = torch.randn(16, 5, requires_grad=True)
    b1 = torch.randn(16, requires_grad=True)
    W2 = torch.randn(3, 16, requires_grad=True)
    b2 = torch.randn(3, requires_grad=True)
    target = torch.randint(0, 3, (8,))
    h = torch.tanh(F.linear(x, W1, b1))
    loss = F.cross_entropy(F.linear(h, W2, b2), target)
    loss.backward()
    for k, v in dict(loss=loss, x=x, W1=W1, b1=b1, W2=W2, b2=b2, target=target).items():
        rec(k, v)


def _unary_three(name, tfn, jfn, dom="any", dtype="float32"):
    def fgf(x):
        return {
            "y": jfn(x),
            "x.grad": fg.grad(lambda t: jnp.sum(jfn(t) * fg.stop_gradient(jnp.cos(t))))(x),
        }

    def prog(torch, rec):
        x = torch.randn(2, 3, dtype=getattr(torch, dtype))
        if dom == "pos":
            x = x.abs() + 0.1
        x.requires_grad_()
        y = tfn(x)
        (y * x.detach().cos()).sum().backward()
        rec("y", y)
        rec("x", x)

    CASES.append(Case(f"three/{name}_{dtype}", prog, seed=11, fg=fgf, fg_inputs=("x",)))


for _dt in ("float32", "float64"):
    _unary_three("poly", lambda t: t**2 + 3 * t + 2, lambda t: t**2 + 3 * t + 2, dtype=_dt)
    _unary_three(
        "exp_sin", lambda t: t.exp() * t.sin(), lambda t: jnp.exp(t) * jnp.sin(t), dtype=_dt
    )
    _unary_three(
        "log_sqrt",
        lambda t: t.log() + t.sqrt(),
        lambda t: jnp.log(t) + jnp.sqrt(t),
        dom="pos",
        dtype=_dt,
    )
    _unary_three(
        "sigmoid_tanh",
        lambda t: t.sigmoid() * t.tanh(),
        lambda t: 1 / (1 + jnp.exp(-t)) * jnp.tanh(t),
        dtype=_dt,
    )
    _unary_three(
        "softmax",
        lambda t: t.softmax(dim=1),
        lambda t: jnp.exp(t) / jnp.sum(jnp.exp(t), axis=1, keepdims=True),
        dtype=_dt,
    )
    _unary_three(
        "norm",
        lambda t: t.norm(dim=1, keepdim=True) * t,
        lambda t: jnp.linalg.norm(t, axis=1, keepdims=True) * t,
        dtype=_dt,
    )
    _unary_three(
        "var_mean",
        lambda t: t.var(dim=0) + t.mean(),
        lambda t: jnp.var(t, axis=0, ddof=1) + jnp.mean(t),
        dtype=_dt,
    )
    _unary_three("matmul_self", lambda t: t @ t.t() @ t, lambda t: t @ t.T @ t, dtype=_dt)


@case("three/custom_function_cube", fg_inputs=("x",), fg=lambda x: _custom_fg_simple(x))
def _(torch, rec):
    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t**3

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return 3 * t**2 * g

    x = torch.randn(4, requires_grad=True)
    y = Cube.apply(x)
    y.sum().backward()
    rec("y", y)
    rec("x", x)


def _custom_fg_simple(x):
    class Cube(fg.Function):
        @staticmethod
        def forward(t):
            return t**3, t

        @staticmethod
        def backward(t, g):
            return (3 * t**2 * g,)

    return {"y": Cube.apply(x), "x.grad": fg.grad(lambda t: jnp.sum(Cube.apply(t)))(x)}
