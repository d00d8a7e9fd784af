"""Random torch programs as data, and their interpreter.

A program is a list of steps (plain tuples of strings and ints, so it can be stored as JSON).
`build_program(pick)` draws one from any source of choices: hypothesis (`HypothesisPick`, for
shrinking) or a seeded `random.Random` (`RandomPick`, for the recorded corpus). `run_program`
executes the steps against a torch-like module, recording every value, gradient and error.
"""

from __future__ import annotations

import random

SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1)]  # few shapes: each new one costs XLA compiles
UNARY = [
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "neg",
    "abs",
    "relu",
    "exp",
    "square",
    "half",
    "sum",
    "mean",
    "sum0",
    "t",
    "unsqueeze",
    "reshape",
    "clone",
    "detach",
    "softmax",
]
BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "where", "matmul_like"]
INPLACE = ["add_", "mul_", "sin_", "relu_", "zero_", "clamp_", "setitem"]


class RandomPick:
    """Choices from a seeded `random.Random`."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, seq):
        return seq[self.rng.randint(0, len(seq) - 1)]


class HypothesisPick:
    """Choices drawn through hypothesis's `data` object (so failing programs shrink)."""

    def __init__(self, data):
        self.data = data

    def integer(self, lo: int, hi: int) -> int:
        from hypothesis import strategies as st

        return self.data.draw(st.integers(lo, hi))

    def choice(self, seq):
        from hypothesis import strategies as st

        return seq[self.data.draw(st.integers(0, len(seq) - 1))]


# Features where compat is known to differ from torch (see KNOWN_DIVERGENCES in
# _parity_registry.py): left out of the default hypothesis run so it checks everything else;
# the slow run and the recorded corpus keep them.
# Transposes (views) feeding in-place ops make graphs and error precedence around CopySlices
# differ from torch's (README, "Known differences"): the long random programs leave them out.
KNOWN_GAPS = ("t",)


def build_program(pick, max_steps: int = 10, exclude: tuple = ()) -> list:
    """Draws a program: leaves, then ops, in-place ops, grad-mode blocks and backward calls.

    `exclude` names in-place ops, unary ops or step kinds (e.g. "retain_grad") not to draw.
    """
    dtype = pick.choice(["float32", "float64"])
    steps: list = [["dtype", dtype]]
    n = 0
    for _ in range(pick.integer(1, 3)):
        steps.append(["leaf", SHAPES.index(pick.choice(SHAPES)), pick.integer(0, 3) > 0])
        n += 1
    for _ in range(pick.integer(1, max_steps)):
        kind = pick.choice(
            [
                k
                for k in (
                    "unary",
                    "unary",
                    "binary",
                    "binary",
                    "inplace",
                    "nograd",
                    "retain_grad",
                    "backward",
                )
                if k not in exclude
            ]
        )
        i = pick.integer(0, n - 1)
        if kind == "unary":
            steps.append(["unary", pick.choice([u for u in UNARY if u not in exclude]), i])
            n += 1
        elif kind == "binary":
            steps.append(["binary", pick.choice(BINARY), i, pick.integer(0, n - 1)])
            n += 1
        elif kind == "nograd":
            steps.append(["nograd", pick.choice(BINARY), i, pick.integer(0, n - 1)])
            n += 1
        elif kind == "inplace":
            steps.append(["inplace", pick.choice([o for o in INPLACE if o not in exclude]), i])
        elif kind == "retain_grad":
            steps.append(["retain_grad", i])
        else:
            steps.append(["backward", i, pick.integer(0, 1) == 1])
    steps.append(["backward", n - 1, False])
    return steps


def _unary(torch, op, x):
    if op == "half":
        return x * 0.5
    if op == "sum0":
        return x.sum(0) if x.dim() else x.sum()
    if op == "t":
        return x.t() if x.dim() <= 2 else x
    if op == "unsqueeze":
        return x.unsqueeze(0)
    if op == "reshape":
        return x.reshape(-1)
    if op == "softmax":
        return torch.softmax(x, dim=-1) if x.dim() else x.exp()
    if op == "square":
        return x * x
    return getattr(x, op)()


def _binary(torch, op, a, b):
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        return a / (b * b + 1)
    if op == "where":
        return torch.where(a > b, a, b * 2)
    if op == "matmul_like":
        return (a.unsqueeze(-1) * b.unsqueeze(0)).sum() if a.dim() and b.dim() else a * b
    return getattr(torch, op)(a, b)


def _inplace(torch, op, x):
    if op == "add_":
        x.add_(1.5)
    elif op == "mul_":
        x.mul_(2.0)
    elif op == "clamp_":
        x.clamp_(-0.5, 0.5)
    elif op == "setitem":
        if x.dim():
            x[0] = 0.25
        else:
            x.fill_(0.25)
    else:
        getattr(x, op)()


def run_program(torch, rec, steps: list) -> None:
    """Runs `steps` (see `build_program`), recording as it goes."""
    vals: list = []
    leaves: list = []
    dtype = torch.float32
    for s, step in enumerate(steps):
        kind = step[0]
        if kind == "dtype":
            dtype = getattr(torch, step[1])
        elif kind == "leaf":
            x = torch.randn(SHAPES[step[1]], dtype=dtype, requires_grad=step[2])
            vals.append(x)
            leaves.append(x)
        elif kind in ("unary", "binary", "nograd"):

            def op(step=step, kind=kind):
                if kind == "unary":
                    return _unary(torch, step[1], vals[step[2]])
                if kind == "binary":
                    return _binary(torch, step[1], vals[step[2]], vals[step[3]])
                with torch.no_grad():
                    return _binary(torch, step[1], vals[step[2]], vals[step[3]])

            out = rec.run(f"{s}.{kind}.{step[1]}", op)
            # an op that raised leaves its first input in its place, so later indices hold
            vals.append(out if out is not None else vals[step[2]])
        elif kind == "inplace":
            rec.run(
                f"{s}.inplace.{step[1]}",
                lambda step=step: _inplace(torch, step[1], vals[step[2]]),
                record_result=False,
            )
            rec(f"{s}.after", vals[step[2]])
        elif kind == "retain_grad":
            rec.run(
                f"{s}.retain_grad",
                lambda step=step: vals[step[1]].retain_grad(),
                record_result=False,
            )
        elif kind == "backward":
            t = vals[step[1]]
            holders = [v for v in vals if v.is_leaf or v.retains_grad]
            with torch.no_grad():
                before = [None if v.grad is None else v.grad.clone() for v in holders]
            rec.run(
                f"{s}.backward",
                lambda t=t, step=step: t.sum().backward(retain_graph=step[2]),
                record_result=False,
            )
            if rec.data[f"{s}.backward"] != "ok":
                # A failed backward changes no .grad in compat (its documented guarantee); torch
                # may already have accumulated into some leaves or retained non-leaves before
                # the failing node. Both sides restore the grads here so the rest of the program
                # stays comparable (the error itself was compared above).
                for v, g in zip(holders, before, strict=True):
                    v.grad = g
                # torch has also freed the buffers of the nodes it ran before failing, which
                # compat (atomic) has not: later backward calls would differ by design. The
                # program ends here on both sides.
                break
            for j, leaf in enumerate(leaves):
                rec(f"{s}.leaf{j}", leaf)
    for j, v in enumerate(vals):
        rec(f"end.v{j}", v)
