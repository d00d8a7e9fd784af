"""funcgrad / compat / torch benchmarks: one run, one table of times and ratios.

    python benchmarks/bench.py            # all workloads
    python benchmarks/bench.py --quick    # fewer repeats, smaller scaling series

Columns: torch eager, compat eager, compat.compile, funcgrad under jit, raw `jax.jit(jax.grad)`.
Ratios: compat eager and compat.compile against torch eager; compat.compile against funcgrad
and raw JAX; funcgrad against raw JAX. Every timing is the best of several loops of calls, with
the result blocked on, in one process, the columns interleaved so they are comparable. The MLP
rows also report achieved FLOP/s against the machine's own matmul throughput measured in the
same run; the full run ends with the peak memory of a step, each column in a fresh process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import compat  # noqa: E402  (turns on x64; every array below names its dtype)
import funcgrad as fg  # noqa: E402

try:
    import torch
except ImportError:  # the table still prints, with torch columns empty
    torch = None


def _block(x):
    if isinstance(x, compat.Tensor):
        x = x._data
    if isinstance(x, jax.Array):
        x.block_until_ready()
    elif isinstance(x, (tuple, list)):
        for y in x:
            _block(y)
    return x


def timeit(fn, repeats: int, inner: int) -> float:
    """Seconds per call: the best of `repeats` loops of `inner` calls (as `timeit` advises, the
    minimum is the least disturbed by other work on a shared machine)."""
    return time_columns({"fn": fn}, repeats, inner)["fn"]


def time_columns(cols: dict, repeats: int, inner: int) -> dict:
    """Seconds per call of each column, interleaved: every round times one loop of each column
    in turn, so a slow spell of the machine hits all columns alike and the ratios stay fair."""
    for fn in cols.values():
        for _ in range(3):
            _block(fn())
    best = dict.fromkeys(cols, float("inf"))
    for _ in range(repeats):
        for name, fn in cols.items():
            t0 = time.perf_counter()
            for _ in range(inner):
                out = fn()
            _block(out)
            best[name] = min(best[name], (time.perf_counter() - t0) / inner)
    return best


def _row(cols: dict, repeats: int, inner: int) -> dict:
    t = time_columns(cols, repeats, inner)
    return {c: t.get(c) for c in COLS}


# -- workloads: each returns {column: zero-arg step function} --------------------------------
def w_2xtx(n: int):
    xs = np.arange(n, dtype=np.float32) / n
    cols = {}
    if torch is not None:
        xt = torch.tensor(xs, requires_grad=True)

        def t_step():
            y = 2 * torch.dot(xt, xt)
            y.backward()
            g = xt.grad
            xt.grad = None
            return g

        cols["torch"] = t_step
    xc = compat.tensor(xs, requires_grad=True)

    def c_step():
        y = 2 * compat.dot(xc, xc)
        y.backward()
        g = xc.grad
        xc.grad = None
        return g

    cols["compat"] = c_step

    @compat.compile
    def c_comp(x):
        y = 2 * compat.dot(x, x)
        y.backward()
        g = x.grad
        x.grad = None
        return g

    cols["compat.compile"] = lambda: c_comp(xc)
    xj = jnp.asarray(xs)
    f = jax.jit(fg.grad(lambda x: 2 * jnp.dot(x, x)))
    cols["funcgrad"] = lambda: f(xj)
    r = jax.jit(jax.grad(lambda x: 2 * jnp.dot(x, x)))
    cols["jax"] = lambda: r(xj)
    return cols


def w_seed004():
    vals = dict(x1=[2.0, 3.0], x2=[2.0, 1.0], w1=[3.0, 2.0], w2=[1.0, 4.0])
    yt = [11.0, 15.0]
    cols = {}

    def loss_fn(mod, x1, x2, w1, w2, b, y_true):
        y_pred = x1 * w1 + x2 * w2 + b
        return mod.mean((y_pred - y_true) ** 2)

    for name, mod in (("torch", torch), ("compat", compat)):
        if mod is None:
            continue
        t = {k: mod.tensor(v, requires_grad=True) for k, v in vals.items()}
        b = mod.tensor(1.0, requires_grad=True)
        y = mod.tensor(yt)
        params = (t["w1"], t["w2"], b)

        def step(mod=mod, t=t, b=b, y=y, params=params):
            loss = loss_fn(mod, t["x1"], t["x2"], t["w1"], t["w2"], b, y)
            loss.backward()
            out = [p.grad for p in params]
            for p in (*params, t["x1"], t["x2"]):
                p.grad = None
            return out

        cols[name] = step
        if mod is compat:

            @compat.compile
            def comp(w1, w2, b, x1, x2, y):
                loss = loss_fn(compat, x1, x2, w1, w2, b, y)
                loss.backward()
                out = [p.grad.clone() for p in (w1, w2, b)]
                for p in (w1, w2, b, x1, x2):
                    p.grad = None
                return out

            cols["compat.compile"] = lambda t=t, b=b, y=y: comp(
                t["w1"], t["w2"], b, t["x1"], t["x2"], y
            )
    arr = {k: jnp.asarray(v, jnp.float32) for k, v in vals.items()}
    bj, yj = jnp.asarray(1.0, jnp.float32), jnp.asarray(yt, jnp.float32)

    def jloss(params, x1, x2, y):
        w1, w2, b = params
        return jnp.mean((x1 * w1 + x2 * w2 + b - y) ** 2)

    p = (arr["w1"], arr["w2"], bj)
    f = jax.jit(fg.grad(jloss))
    cols["funcgrad"] = lambda: f(p, arr["x1"], arr["x2"], yj)
    r = jax.jit(jax.grad(jloss))
    cols["jax"] = lambda: r(p, arr["x1"], arr["x2"], yj)
    return cols


def w_sgd(n: int = 64, d: int = 8, lr: float = 0.01):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(np.float32)
    Y = rng.standard_normal(n).astype(np.float32)
    cols = {}
    for name, mod in (("torch", torch), ("compat", compat)):
        if mod is None:
            continue
        Xt, Yt = mod.tensor(X), mod.tensor(Y)
        w = mod.zeros(d, requires_grad=True)
        b = mod.zeros(1, requires_grad=True)

        def step(mod=mod, Xt=Xt, Yt=Yt, w=w, b=b):
            loss = ((Xt @ w + b - Yt) ** 2).mean()
            loss.backward()
            with mod.no_grad():
                w.sub_(lr * w.grad)
                b.sub_(lr * b.grad)
                w.grad.zero_()
                b.grad.zero_()
            return w

        cols[name] = step
        if mod is compat:
            cstep = compat.compile(lambda X_, Y_, w_, b_, f=step: f(compat, X_, Y_, w_, b_))
            w2 = compat.zeros(d, requires_grad=True)
            b2 = compat.zeros(1, requires_grad=True)
            cols["compat.compile"] = lambda c=cstep, a=(Xt, Yt, w2, b2): c(*a)

    def loss(params, X, Y):
        w, b = params
        return jnp.mean((X @ w + b - Y) ** 2)

    def make(gradfn):
        @jax.jit
        def upd(params, X, Y):
            g = gradfn(loss)(params, X, Y)
            return jax.tree_util.tree_map(lambda p, gg: p - lr * gg, params, g)

        state = [(jnp.zeros(d, jnp.float32), jnp.zeros(1, jnp.float32))]
        Xj, Yj = jnp.asarray(X), jnp.asarray(Y)

        def run():
            state[0] = upd(state[0], Xj, Yj)
            return state[0]

        return run

    cols["funcgrad"] = make(fg.grad)
    cols["jax"] = make(jax.grad)
    return cols


def mlp_flops(batch: int, widths: tuple) -> float:
    mm = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    return 2.0 * batch * mm * 3  # forward + two matmuls per layer in backward


def w_mlp(batch: int = 256, hidden: int = 512, lr: float = 0.01):
    widths = (784, hidden, hidden, 10)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, 784)).astype(np.float32)
    labels = rng.integers(0, 10, batch)
    init = [
        ((rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32), np.zeros(o, np.float32))
        for i, o in zip(widths[:-1], widths[1:], strict=True)
    ]
    cols = {}
    for name, mod in (("torch", torch), ("compat", compat)):
        if mod is None:
            continue
        F = mod.nn.functional
        params = [
            (mod.tensor(W, requires_grad=True), mod.tensor(b, requires_grad=True)) for W, b in init
        ]
        Xt, Lt = mod.tensor(X), mod.tensor(labels)

        def step(mod=mod, F=F, params=params, Xt=Xt, Lt=Lt):
            h = Xt
            for i, (W, b) in enumerate(params):
                h = F.linear(h, W, b)
                if i < len(params) - 1:
                    h = F.relu(h)
            loss = F.cross_entropy(h, Lt)
            loss.backward()
            with mod.no_grad():
                for W, b in params:
                    W.sub_(lr * W.grad)
                    b.sub_(lr * b.grad)
                    W.grad = None
                    b.grad = None
            return params[0][0]

        cols[name] = step
        if mod is compat:
            params2 = [
                (compat.tensor(W, requires_grad=True), compat.tensor(b, requires_grad=True))
                for W, b in init
            ]
            cstep = compat.compile(lambda ps, X_, L_, f=step, F=F: f(compat, F, ps, X_, L_))
            cols["compat.compile"] = lambda c=cstep, a=(params2, Xt, Lt): c(*a)

    def loss(params, X, L):
        h = X
        for i, (W, b) in enumerate(params):
            h = h @ W.T + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        logp = jax.nn.log_softmax(h)
        return -jnp.mean(jnp.take_along_axis(logp, L[:, None], 1))

    def make(gradfn):
        @jax.jit
        def upd(params, X, L):
            g = gradfn(loss)(params, X, L)
            return jax.tree_util.tree_map(lambda p, gg: p - lr * gg, params, g)

        state = [[(jnp.asarray(W), jnp.asarray(b)) for W, b in init]]
        Xj, Lj = jnp.asarray(X), jnp.asarray(labels)

        def run():
            state[0] = upd(state[0], Xj, Lj)
            return state[0][0][0]

        return run

    cols["funcgrad"] = make(fg.grad)
    cols["jax"] = make(jax.grad)
    return cols, mlp_flops(batch, widths)


def matmul_peak(n: int = 1024) -> float:
    """FLOP/s of one large float32 matmul on JAX's default device (the machine's reference)."""
    a = jnp.ones((n, n), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    sec = timeit(lambda: f(a), repeats=5, inner=5)
    return 2.0 * n**3 / sec


COLS = ("torch", "compat", "compat.compile", "funcgrad", "jax")


def fmt_t(s):
    if s is None:
        return "-"
    return f"{s * 1e6:9.1f}us" if s < 1e-2 else f"{s * 1e3:9.2f}ms"


def fmt_r(a, b):
    return "-" if a is None or b is None else f"{a / b:6.2f}x"


def run(quick: bool) -> int:
    reps = 5 if quick else 15
    dev = jax.devices()[0]
    print(
        f"# funcgrad benchmarks — JAX {jax.__version__} on {dev.platform} ({dev.device_kind}); "
        f"torch {torch.__version__ if torch else 'not installed'} on CPU; "
        f"{os.cpu_count()} CPU cores"
    )
    rows = []
    workloads = [
        ("2xTx backward (n=4, seed 002/003)", lambda: w_2xtx(4), 300),
        ("seed 004 linear model backward", w_seed004, 300),
        ("64x8 linear-regression SGD step", w_sgd, 300),
    ]
    for label, make, inner in workloads:
        cols = make()
        rows.append((label, _row(cols, reps, inner)))
    cols, flops = w_mlp()
    mlp_times = _row(cols, reps, 3 if quick else 5)
    rows.append(("MLP 784-512-512-10 SGD step, batch 256", mlp_times))
    print_table("workload", rows)
    peak = matmul_peak()
    print(f"\nmatmul peak (1024^3 float32 on {dev.platform}): {peak / 1e9:.1f} GFLOP/s")
    print("MLP achieved FLOP/s (forward + backward matmuls only) and ratio to that peak:")
    for c in COLS:
        if mlp_times.get(c):
            ach = flops / mlp_times[c]
            print(f"  {c:15s} {ach / 1e9:8.1f} GFLOP/s   peak/achieved = {peak / ach:5.2f}x")
    print("\nScaling: 2xTx backward by vector length")
    rows = []
    for n in [10**k for k in range(2, 6 if quick else 8)]:
        rows.append((str(n), _row(w_2xtx(n), reps // 2, 100 if n <= 10**5 else 5)))
    print_table("n", rows)
    print("\nScaling: MLP SGD step by hidden width (batch 256)")
    rows = []
    for width in (128, 512) if quick else (128, 256, 512, 1024, 2048):
        rows.append((str(width), _row(w_mlp(hidden=width)[0], reps // 3, 3)))
    print_table("width", rows)
    if not quick:
        print_memory()
    return 0


RATIOS = (
    ("compat/torch", "compat", "torch"),
    ("compile/torch", "compat.compile", "torch"),
    ("compile/fg", "compat.compile", "funcgrad"),
    ("compile/jax", "compat.compile", "jax"),
    ("fg/jax", "funcgrad", "jax"),
)


def print_table(first: str, rows: list) -> None:
    width = max(len(first), *(len(label) for label, _ in rows))
    header = (
        f"{first:{width}s} "
        + " ".join(f"{c:>14s}" for c in COLS)
        + "".join(f"  {name:>13s}" for name, _, _ in RATIOS)
    )
    print(header)
    print("-" * len(header))
    for label, t in rows:
        print(
            f"{label:{width}s} "
            + " ".join(f"{fmt_t(t[c]):>14s}" for c in COLS)
            + "".join(f"  {fmt_r(t[a], t[b]):>13s}" for _, a, b in RATIOS)
        )


# -- peak memory: each column in a fresh process ----------------------------------------------
MEMORY_WORKLOADS = {
    "2xTx backward, n=1e7": lambda: w_2xtx(10**7),
    "MLP SGD step, width 2048": lambda: w_mlp(hidden=2048)[0],
}


def _kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(field)


def memory_child(workload: str, column: str) -> None:
    """Prints the peak resident memory (MiB) one column's steady-state steps need above the
    process's memory once the workload's inputs exist: the peak mark is reset after warm-up
    (Linux `clear_refs`), so compilation is not counted, but what the allocators kept is."""
    cols = MEMORY_WORKLOADS[workload]()
    fn = cols[column]
    base = _kib("VmRSS")
    for _ in range(3):
        _block(fn())
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    for _ in range(5):
        _block(fn())
    print((_kib("VmHWM") - base) / 1024)


def print_memory() -> None:
    import subprocess

    if not os.path.exists("/proc/self/clear_refs"):
        print("\nPeak memory: needs Linux /proc (skipped)")
        return
    print("\nPeak memory of a step above its inputs (MiB, resident; one fresh process per cell)")
    print(f"{'workload':26s} " + " ".join(f"{c:>14s}" for c in COLS))
    for label in MEMORY_WORKLOADS:
        cells = []
        for c in COLS:
            if c.startswith("torch") and torch is None:
                cells.append("-")
                continue
            r = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--memory-child", label, c],
                capture_output=True,
                text=True,
                check=False,
            )
            cells.append(f"{float(r.stdout.split()[-1]):.1f}" if r.returncode == 0 else "error")
        print(f"{label:26s} " + " ".join(f"{x:>14s}" for x in cells))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and sizes, no memory")
    ap.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if torch is not None:
        torch.set_num_threads(os.cpu_count() or 1)
    jax.config.update("jax_default_matmul_precision", "highest")
    if args.memory_child:
        memory_child(*args.memory_child)
        return 0
    return run(args.quick)


if __name__ == "__main__":
    sys.exit(main())
