"""Op coverage: every op compat offers, forward and backward, as parity cases.

Each op spec expands into one case per dtype. A case runs the op over a few input shapes (a
broadcasting pair, a 0-dim scalar, an empty tensor), records the result (value, dtype, repr,
grad_fn graph), back-propagates a random weighting of it, and records every input's gradient;
float64 cases also take second derivatives (`create_graph=True`, then the gradient of a
weighted sum of the first gradients). Shapes are shared across ops on purpose: XLA compiles each
(op, shape, dtype) once, and reusing shapes keeps the suite fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from _parity_harness import Case

U = ((2, 3),)  # unary main shape
B = ((2, 3), (3,))  # binary, broadcasting
SCALAR_U = ((),)
SCALAR_B = ((), (2, 3))
EMPTY_U = ((0, 3),)
EMPTY_B = ((0, 3), (3,))


@dataclass(frozen=True)
class OpSpec:
    """An op to sweep.

    Attributes:
        name: case name suffix.
        fn: `fn(torch, *inputs)`, the op as torch code.
        shapes: input-shape tuples to run it on.
        domain: "any" (standard normal), "pos" (|x| + 0.5), "unit" (inside (-0.9, 0.9)).
        grad: whether to back-propagate (False for integer/bool results).
        second: whether float64 also checks second derivatives.
        reduce: widen float32 tolerance to 1e-4 (reductions, matmuls).
        dtypes: dtype names to run.
        first_only: only the first output of a tuple-returning op is differentiated.
    """

    name: str
    fn: object
    shapes: tuple = (U, SCALAR_U, EMPTY_U)
    domain: str = "any"
    grad: bool = True
    second: bool = True
    reduce: bool = False
    dtypes: tuple = ("float32", "float64")


def _input(torch, shape, dtype, domain):
    x = torch.randn(shape, dtype=dtype)
    if domain == "pos":
        x = x.abs() + 0.5
    elif domain == "unit":
        x = x.tanh() * 0.9
    elif domain == "sep":  # well separated values: no ties for max/min/sort-like ops
        x = x + torch.arange(x.numel(), dtype=dtype).reshape(x.shape) * 0.01
    return x.requires_grad_()


def _first(y):
    return y[0] if isinstance(y, (tuple, list)) else y


def _sweep_prog(spec: OpSpec, dtype_name: str):
    def prog(torch, rec):
        dtype = getattr(torch, dtype_name)
        # float64 runs the main shapes only (and second order): each extra (op, shape, dtype)
        # costs an XLA compile, and scalars/empties are dtype-independent paths.
        variants = spec.shapes if dtype_name == "float32" else spec.shapes[:1]
        for k, shapes in enumerate(variants):
            xs = [_input(torch, s, dtype, spec.domain) for s in shapes]
            y = rec.run(f"{k}.y", lambda xs=xs: spec.fn(torch, *xs))
            if not spec.grad or y is None:
                continue
            y0 = _first(y)
            if not y0.requires_grad:
                rec(f"{k}.y0.requires_grad", False)
                continue
            w = torch.randn(y0.shape, dtype=y0.dtype)
            rec.run(f"{k}.backward", lambda y0=y0, w=w: (y0 * w).sum().backward())
            for i, x in enumerate(xs):
                rec(f"{k}.x{i}", x)
            if not (spec.second and dtype_name == "float64" and k == 0):
                continue
            # second order on fresh leaves: grad of a weighted sum of the first gradients
            xs2 = [x.detach().requires_grad_() for x in xs]
            y2 = _first(spec.fn(torch, *xs2))
            gs = rec.run(
                f"{k}.g1",
                lambda y2=y2, w=w, xs2=xs2: torch.autograd.grad(
                    (y2 * w).sum(), xs2, create_graph=True, allow_unused=True
                ),
                graph=False,
            )
            if gs is None:
                continue
            vs = [torch.randn(x.shape, dtype=dtype) for x in xs2]
            terms = [(g * v).sum() for g, v in zip(gs, vs, strict=True) if g is not None]
            if not terms:
                continue
            total = terms[0]
            for t in terms[1:]:
                total = total + t
            rec.run(
                f"{k}.g2",
                lambda total=total, xs2=xs2: torch.autograd.grad(total, xs2, allow_unused=True),
                graph=False,
            )

    return prog


def _u(name, fn, **kw):
    return OpSpec(name, fn, **kw)


def _b(name, fn, **kw):
    kw.setdefault("shapes", (B, SCALAR_B, EMPTY_B))
    return OpSpec(name, fn, **kw)


def _r(name, fn, **kw):
    kw.setdefault("reduce", True)
    return OpSpec(name, fn, **kw)


NOGRAD = dict(grad=False, dtypes=("float32",))

SPECS: list[OpSpec] = [
    # unary elementwise
    _u("abs", lambda T, x: T.abs(x)),
    _u("neg", lambda T, x: -x),
    _u("exp", lambda T, x: T.exp(x)),
    _u("log", lambda T, x: T.log(x), domain="pos"),
    _u("log1p", lambda T, x: x.log1p(), domain="pos"),
    _u("log2", lambda T, x: T.log2(x), domain="pos"),
    _u("log10", lambda T, x: x.log10(), domain="pos"),
    _u("sqrt", lambda T, x: T.sqrt(x), domain="pos"),
    _u("rsqrt", lambda T, x: T.rsqrt(x), domain="pos"),
    _u("sin", lambda T, x: T.sin(x)),
    _u("cos", lambda T, x: x.cos()),
    _u("tan", lambda T, x: T.tan(x), domain="unit"),
    _u("tanh", lambda T, x: T.tanh(x)),
    _u("sigmoid", lambda T, x: T.sigmoid(x)),
    _u("relu", lambda T, x: T.relu(x)),
    _u("sign", lambda T, x: T.sign(x)),
    _u("erf", lambda T, x: T.erf(x)),
    _u("square", lambda T, x: T.square(x)),
    _u("reciprocal", lambda T, x: T.reciprocal(x), domain="pos"),
    _u("floor", lambda T, x: T.floor(x * 3)),
    _u("ceil", lambda T, x: x.mul(3).ceil()),
    _u("round", lambda T, x: T.round(x * 3)),
    _u("clamp", lambda T, x: T.clamp(x, -0.5, 0.7)),
    _u("clamp_min", lambda T, x: x.clamp(min=0.1)),
    _u("clamp_max", lambda T, x: x.clamp_max(0.2)),
    _u("clip", lambda T, x: T.clip(x, max=0.3)),
    _u("pow_scalar", lambda T, x: x**3),
    _u("pow_frac", lambda T, x: T.pow(x, 1.5), domain="pos"),
    _u("rpow", lambda T, x: 2**x),
    _u("rsub", lambda T, x: 1 - x),
    _u("rdiv", lambda T, x: 2 / x, domain="pos"),
    _u("add_scalar", lambda T, x: x + 2),
    _u("mul_scalar", lambda T, x: 3 * x),
    _u("div_scalar", lambda T, x: x / 4),
    _u("softmax", lambda T, x: T.softmax(x, dim=-1), shapes=(U, EMPTY_U)),
    _u("log_softmax", lambda T, x: x.log_softmax(dim=-1), shapes=(U, EMPTY_U)),
    _u("leaky_relu", lambda T, x: T.nn.functional.leaky_relu(x, 0.2)),
    _u("silu", lambda T, x: T.nn.functional.silu(x)),
    _u("gelu", lambda T, x: T.nn.functional.gelu(x)),
    _u("gelu_tanh", lambda T, x: T.nn.functional.gelu(x, approximate="tanh")),
    _u("softplus", lambda T, x: T.nn.functional.softplus(x)),
    _u("F_relu", lambda T, x: T.nn.functional.relu(x)),
    _u("F_sigmoid", lambda T, x: T.nn.functional.sigmoid(x)),
    _u("dropout_eval", lambda T, x: T.nn.functional.dropout(x, 0.5, training=False)),
    _u("dropout_p0", lambda T, x: T.nn.functional.dropout(x, 0.0)),
    # binary elementwise (broadcasting)
    _b("add", lambda T, a, b: a + b),
    _b("add_alpha", lambda T, a, b: T.add(a, b, alpha=2)),
    _b("sub", lambda T, a, b: a - b),
    _b("sub_alpha", lambda T, a, b: a.sub(b, alpha=0.5)),
    _b("mul", lambda T, a, b: a * b),
    _b("div", lambda T, a, b: a / b, domain="pos"),
    _b("pow", lambda T, a, b: a**b, domain="pos"),
    _b("maximum", lambda T, a, b: T.maximum(a, b)),
    _b("minimum", lambda T, a, b: T.minimum(a, b)),
    _b("where", lambda T, a, b: T.where(a > 0, a, b)),
    _b("clamp_tensor", lambda T, a, b: T.clamp(a, min=b)),
    _b("atan2_like", lambda T, a, b: (a * b).tanh() / (1 + b * b)),
    _b("remainder", lambda T, a, b: T.remainder(a, b), domain="pos"),
    _b("div_floor", lambda T, a, b: T.div(a, b, rounding_mode="floor"), domain="pos"),
    _b("div_trunc", lambda T, a, b: a.div(b, rounding_mode="trunc"), domain="pos"),
    _b("floor_divide", lambda T, a, b: a // b, domain="pos", **NOGRAD),
    _b(
        "mse_loss_none",
        lambda T, a, b: T.nn.functional.mse_loss(a, b.expand_as(a), reduction="none"),
        shapes=(B, EMPTY_B),
    ),
    # comparisons and predicates (forward only)
    _b("eq", lambda T, a, b: a == b.round(), **NOGRAD),
    _b("ne", lambda T, a, b: T.ne(a, b), **NOGRAD),
    _b("lt", lambda T, a, b: a < b, **NOGRAD),
    _b("le", lambda T, a, b: T.le(a, b), **NOGRAD),
    _b("gt", lambda T, a, b: a > b, **NOGRAD),
    _b("ge", lambda T, a, b: a.ge(b), **NOGRAD),
    _b("isclose", lambda T, a, b: T.isclose(a, b), **NOGRAD),
    _b("allclose", lambda T, a, b: T.allclose(a, a + 1e-9) and not T.allclose(a, b + 1), **NOGRAD),
    _b("equal", lambda T, a, b: (T.equal(a, a), T.equal(a, b.expand_as(a))), **NOGRAD),
    _u("isnan", lambda T, x: (T.isnan(x.log()), T.isinf(1 / (x * 0)), T.isfinite(x)), **NOGRAD),
    _u("logical_not", lambda T, x: T.logical_not(x > 0), **NOGRAD),
    _u(
        "bitwise",
        lambda T, x: (~(x > 0), (x > 0) & (x < 1), (x > 0) | (x < -1), (x > 0) ^ (x < 1)),
        **NOGRAD,
    ),
    _u(
        "int_ops",
        lambda T, x: (
            (x * 10).long() // 3,
            (x * 10).long() % 3,
            (x * 10).long() + 2 * (x > 0).long(),
            -(x * 5).int(),
        ),
        **NOGRAD,
    ),
    _u(
        "promotion",
        lambda T, x: (x + (x > 0), (x * 4).long() * 0.5, (x > 0) + 1, x.double() + x, x.float()),
        grad=True,
    ),
    # reductions
    _r("sum", lambda T, x: x.sum()),
    _r("sum_dim", lambda T, x: T.sum(x, dim=1), shapes=(U, EMPTY_U)),
    _r("sum_keepdim", lambda T, x: x.sum(0, keepdim=True), shapes=(U, EMPTY_U)),
    _r("sum_dims", lambda T, x: x.sum(dim=(0, 1)), shapes=(U, EMPTY_U)),
    _r("mean", lambda T, x: T.mean(x)),
    _r("mean_dim", lambda T, x: x.mean(dim=-1, keepdim=True), shapes=(U, EMPTY_U)),
    _r("prod", lambda T, x: T.prod(x), domain="pos"),
    _r("prod_dim", lambda T, x: x.prod(1), shapes=(U, EMPTY_U)),
    _r("max_all", lambda T, x: x.max(), shapes=(U, SCALAR_U), domain="sep"),
    _r("min_all", lambda T, x: T.min(x), shapes=(U, SCALAR_U), domain="sep"),
    _r("max_dim", lambda T, x: x.max(dim=1), shapes=(U,), domain="sep"),
    _r("min_dim", lambda T, x: T.min(x, 0, keepdim=True), shapes=(U,), domain="sep"),
    _r("amax", lambda T, x: T.amax(x, dim=0), shapes=(U,), domain="sep"),
    _r(
        "argmax",
        lambda T, x: (T.argmax(x), x.argmax(dim=1), x.argmin(0, keepdim=True)),
        shapes=(U, SCALAR_U),
        **NOGRAD,
    ),
    _r("norm", lambda T, x: x.norm()),
    _r("norm_dim", lambda T, x: T.norm(x, dim=1), shapes=(U,)),
    _r("norm_p1", lambda T, x: x.norm(p=1), shapes=(U,)),
    _r("var", lambda T, x: x.var(), shapes=(U,)),
    _r("var_dim", lambda T, x: T.var(x, dim=0, unbiased=False), shapes=(U,)),
    _r("std", lambda T, x: T.std(x), shapes=(U,)),
    _r("std_dim", lambda T, x: x.std(dim=1, keepdim=True), shapes=(U,)),
    _r("logsumexp", lambda T, x: T.logsumexp(x, dim=1), shapes=(U, EMPTY_U)),
    _r("cumsum", lambda T, x: T.cumsum(x, dim=1), shapes=(U, EMPTY_U)),
    _r("all_any", lambda T, x: (T.all(x > 0), (x > 0).any(), T.count_nonzero(x > 0)), **NOGRAD),
    # linear algebra
    _r("matmul_2d", lambda T, a, b: a @ b, shapes=(((2, 3), (3, 4)), ((0, 3), (3, 4)))),
    _r("matmul_1d_2d", lambda T, a, b: T.matmul(a, b), shapes=(((3,), (3, 4)),)),
    _r("matmul_2d_1d", lambda T, a, b: T.matmul(a, b), shapes=(((2, 3), (3,)),)),
    _r("matmul_1d_1d", lambda T, a, b: a.matmul(b), shapes=(((3,), (3,)),)),
    _r(
        "matmul_batched",
        lambda T, a, b: a @ b,
        shapes=(((2, 2, 3), (3, 4)), ((2, 2, 3), (2, 3, 4))),
    ),
    _r("mm", lambda T, a, b: T.mm(a, b), shapes=(((2, 3), (3, 4)),)),
    _r("mv", lambda T, a, b: T.mv(a, b), shapes=(((2, 3), (3,)),)),
    _r("bmm", lambda T, a, b: T.bmm(a, b), shapes=(((2, 2, 3), (2, 3, 4)),)),
    _r("dot", lambda T, a, b: T.dot(a, b), shapes=(((3,), (3,)),)),
    _r("outer", lambda T, a, b: T.outer(a, b), shapes=(((3,), (2,)),)),
    _r(
        "linear",
        lambda T, x, w, b: T.nn.functional.linear(x, w, b),
        shapes=(((2, 3), (4, 3), (4,)),),
    ),
    _r("linear_nobias", lambda T, x, w: T.nn.functional.linear(x, w), shapes=(((2, 3), (4, 3)),)),
    # shape ops
    _u("view", lambda T, x: x.view(3, 2), shapes=(U,)),
    _u("view_infer", lambda T, x: x.view(-1), shapes=(U, SCALAR_U, EMPTY_U)),
    _u("reshape", lambda T, x: T.reshape(x, (3, -1)), shapes=(U, EMPTY_U)),
    _u("flatten", lambda T, x: T.flatten(x)),
    _u("unflatten", lambda T, x: x.flatten().unflatten(0, (3, 2)), shapes=(U,)),
    _u("squeeze", lambda T, x: T.squeeze(x.unsqueeze(1)), shapes=(U, SCALAR_U)),
    _u("squeeze_dim", lambda T, x: x.unsqueeze(0).squeeze(0), shapes=(U, EMPTY_U)),
    _u("unsqueeze", lambda T, x: T.unsqueeze(x, -1)),
    _u("permute", lambda T, x: x.unsqueeze(0).permute(2, 0, 1), shapes=(U, EMPTY_U)),
    _u("transpose", lambda T, x: T.transpose(x, 0, 1), shapes=(U, EMPTY_U)),
    _u("t", lambda T, x: x.t(), shapes=(U, EMPTY_U)),
    _u("T", lambda T, x: x.T, shapes=(U,)),
    _u("mT", lambda T, x: x.mT, shapes=(U,)),
    _u("expand", lambda T, x: x[:1].expand(4, 3), shapes=(U,)),
    _u("expand_as", lambda T, x: x[0].expand_as(x), shapes=(U,)),
    _u("broadcast_to", lambda T, x: T.broadcast_to(x, (2, 2, 3)), shapes=(U, SCALAR_U)),
    _u("repeat", lambda T, x: x.repeat(2, 1)),
    _u("flip", lambda T, x: T.flip(x, [0, 1]), shapes=(U, EMPTY_U)),
    _u("select", lambda T, x: T.select(x, 1, 2), shapes=(U,)),
    _u("narrow", lambda T, x: x.narrow(1, 1, 2), shapes=(U, EMPTY_U)),
    _u("index_int", lambda T, x: x[1], shapes=(U,)),
    _u("index_slice", lambda T, x: x[:, 1:], shapes=(U, EMPTY_U)),
    _u("index_step", lambda T, x: x[:, ::2], shapes=(U,)),
    _u("index_neg", lambda T, x: x[-1, -2], shapes=(U,)),
    _u("index_none", lambda T, x: x[None, ..., 1], shapes=(U,)),
    _u("index_tensor", lambda T, x: x[T.tensor([1, 0, 1])], shapes=(U,)),
    _u("index_list", lambda T, x: x[:, [0, 2, 2]], shapes=(U,)),
    _u("index_mask", lambda T, x: x[x > 0]),
    _u("setitem", lambda T, x: _setitem(x), shapes=(U,)),
    _u("stack", lambda T, x: T.stack([x, x * 2], dim=1)),
    _u("cat", lambda T, x: T.cat([x, x.exp()], dim=0), shapes=(U, EMPTY_U)),
    _u("cat_dim1", lambda T, x: T.concat((x, x[:, :1]), 1), shapes=(U,)),
    _u("hstack", lambda T, x: T.hstack([x, x])),
    _u("vstack", lambda T, x: T.vstack([x, x])),
    _u("unbind", lambda T, x: T.stack(x.unbind(1)[::-1]), shapes=(U,)),
    _u("split", lambda T, x: T.cat(T.split(x, 2, dim=1)[::-1], 1), shapes=(U,)),
    _u("split_sizes", lambda T, x: x.split([1, 2], 1)[1], shapes=(U,)),
    _u("chunk", lambda T, x: T.chunk(x, 2, 0)[0], shapes=(U,)),
    _u("clone", lambda T, x: T.clone(x)),
    _u("contiguous", lambda T, x: x.t().contiguous(), shapes=(U,)),
    _u("to_double", lambda T, x: x.to(T.float64) * x.double()),
    _u("to_float", lambda T, x: x.float()),
    _u("diag", lambda T, x: (T.diag(x[:, :2]), T.diag(x[0])), shapes=(U,)),
    _u("masked_fill", lambda T, x: x.masked_fill(x > 0, 0.5)),
    _u("nonzero", lambda T, x: (T.nonzero(x > 0), (x > 0).nonzero(as_tuple=True)), **NOGRAD),
    _u("detach_mix", lambda T, x: x * x.detach()),
    # in-place on non-leaves
    _u("inplace_arith", lambda T, x: _inplace_arith(x)),
    _u("inplace_unary", lambda T, x: _inplace_unary(x)),
    _u("inplace_clamp", lambda T, x: (x * 1).clamp_(-0.5, 0.5)),
    _u("inplace_masked", lambda T, x: (x * 1).masked_fill_(x < 0, 0.0)),
    _u("inplace_view", lambda T, x: _inplace_view(x), shapes=(U,)),
    _u("inplace_copy", lambda T, x: _copy(T, x), shapes=(U,)),
    _u("relu_inplace", lambda T, x: T.nn.functional.relu(x * 1, inplace=True)),
    # losses
    _r("mse_loss", lambda T, a, b: T.nn.functional.mse_loss(a, b), shapes=(((2, 3), (2, 3)),)),
    _r(
        "mse_loss_sum",
        lambda T, a, b: T.nn.functional.mse_loss(a, b, reduction="sum"),
        shapes=(((2, 3), (2, 3)),),
    ),
    _r("l1_loss", lambda T, a, b: T.nn.functional.l1_loss(a, b), shapes=(((2, 3), (2, 3)),)),
    _r(
        "bce_logits",
        lambda T, a, b: T.nn.functional.binary_cross_entropy_with_logits(a, b.sigmoid()),
        shapes=(((2, 3), (2, 3)),),
    ),
    _r(
        "bce_logits_w",
        lambda T, a, b, w: T.nn.functional.binary_cross_entropy_with_logits(
            a, b.sigmoid(), weight=w, pos_weight=w[0].abs()
        ),
        shapes=(((2, 3), (2, 3), (2, 3)),),
    ),
    _r(
        "bce",
        lambda T, a, b: T.nn.functional.binary_cross_entropy(a.sigmoid(), b.sigmoid()),
        shapes=(((2, 3), (2, 3)),),
    ),
    _r(
        "cross_entropy",
        lambda T, x: T.nn.functional.cross_entropy(x, T.tensor([2, 0])),
        shapes=(U,),
    ),
    _r(
        "cross_entropy_w",
        lambda T, x, w: T.nn.functional.cross_entropy(x, T.tensor([2, 1]), weight=w.abs()),
        shapes=(((2, 3), (3,)),),
    ),
    _r(
        "cross_entropy_sum",
        lambda T, x: T.nn.functional.cross_entropy(x, T.tensor([2, -100]), reduction="sum"),
        shapes=(U,),
    ),
    _r(
        "nll_loss",
        lambda T, x: T.nn.functional.nll_loss(x.log_softmax(1), T.tensor([1, 1])),
        shapes=(U,),
    ),
    _r(
        "cross_entropy_probs",
        lambda T, x, p: T.nn.functional.cross_entropy(x, p.softmax(1)),
        shapes=(((2, 3), (2, 3)),),
    ),
    _u("one_hot", lambda T, x: T.nn.functional.one_hot(T.tensor([0, 2, 1]), 4), **NOGRAD),
]


def _setitem(x):
    y = x * 1
    y[0, 1] = 7.0
    y[1] = x[0] * 2
    y[:, 2] = 0.5
    return y


def _inplace_arith(x):
    y = x * 1
    y.add_(1)
    y.mul_(x)
    y.sub_(0.5)
    y.div_(2)
    y += x
    y *= 2
    y -= 1
    y /= 3
    y.pow_(2)
    return y


def _inplace_unary(x):
    y = x * 1
    y.exp_()
    y.neg_()
    y.sigmoid_()
    y.tanh_()
    y.abs_()
    y.sqrt_()
    return y


def _inplace_view(x):
    y = x * 2
    v = y[0]
    v.mul_(3)
    y[1].add_(y[0])
    return y


def _copy(T, x):
    y = T.zeros(2, 3, dtype=x.dtype)
    y.copy_(x.exp())
    return y


OP_CASES: list[Case] = [
    Case(
        f"op/{s.name}/{dt}",
        _sweep_prog(s, dt),
        seed=1,
        rtol32=1e-4 if s.reduce else 1e-5,
        tags=("op",),
    )
    for s in SPECS
    for dt in s.dtypes
]
