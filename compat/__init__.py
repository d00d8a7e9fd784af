"""compat: PyTorch's stateful autograd API, emulated on JAX arrays.

`import compat as torch`, or run an unmodified script with `python -m compat script.py`: tensors
hold `jax.Array`s, ops are JAX ops, and `requires_grad`, `.backward()`, `.grad`, `grad_fn`,
`no_grad()` and friends behave as torch's do, down to reprs and error messages.
"""

from __future__ import annotations

import jax as _jax

# torch's integer default is int64 and float64 tensors must stay float64; compat names a dtype
# for every array it creates, so turning 64-bit mode on leaves float32 results unchanged.
_jax.config.update("jax_enable_x64", True)

from . import (  # noqa: E402
    _dtype,  # noqa: E402
    autograd,
    nn,
)
from ._as_torch import as_torch  # noqa: E402
from ._compile import compile, is_compiling  # noqa: E402, A004
from ._creation import (  # noqa: E402
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    Generator,
    HalfTensor,
    IntTensor,
    LongTensor,
    arange,
    as_tensor,
    default_generator,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    get_rng_state,
    initial_seed,
    linspace,
    manual_seed,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
    tensor,
    zeros,
    zeros_like,
)
from ._device import device  # noqa: E402
from ._dtype import (  # noqa: E402
    bfloat16,
    complex64,
    complex128,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    set_default_dtype,
    uint8,
)
from ._dtype import bool_ as bool  # noqa: E402, A001
from ._grad_mode import (  # noqa: E402
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from ._graph import make_dot  # noqa: E402
from ._ops.elementwise import (  # noqa: E402
    abs,
    add,
    allclose,
    bitwise_not,
    ceil,
    clamp,
    cos,
    div,
    eq,
    equal,
    erf,
    exp,
    floor,
    floor_divide,
    ge,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    log,
    log1p,
    log2,
    log10,
    logical_not,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    sub,
    tan,
    tanh,
    where,
)
from ._ops.linalg import bmm, dot, matmul, mm, mv, outer  # noqa: E402
from ._ops.nn import log_softmax, softmax  # noqa: E402
from ._ops.reductions import (  # noqa: E402
    all,
    amax,
    any,
    argmax,
    argmin,
    count_nonzero,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    sum,
    var,
)
from ._ops.shape import (  # noqa: E402
    broadcast_to,
    cat,
    chunk,
    concat,
    concatenate,
    diag,
    flatten,
    flip,
    hstack,
    masked_fill,
    narrow,
    nonzero,
    permute,
    reshape,
    select,
    split,
    squeeze,
    stack,
    transpose,
    unbind,
    unsqueeze,
    vstack,
)
from ._printing import get_printoptions, printoptions, set_printoptions  # noqa: E402
from ._tensor import Size, Tensor  # noqa: E402

clip = clamp
multiply = mul
subtract = sub
divide = div
true_divide = div
negative = neg
absolute = abs
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
cfloat = complex64
cdouble = complex128
__version__ = "2.13.0+compat"


def is_tensor(obj) -> bool:
    """Mirrors `torch.is_tensor`."""
    return isinstance(obj, Tensor)


def is_floating_point(t) -> builtins_bool:  # type: ignore[name-defined]
    return t.dtype.category == 2


def numel(t) -> builtins_int:  # type: ignore[name-defined]
    return t.numel()


def clone(t, *, memory_format=None):
    return t.clone()


def t(x):
    return x.t()


def detach(x):
    return x.detach()


def result_type(a, b):
    return _dtype.result_type(a, b)


def is_nonzero(t) -> builtins_bool:  # type: ignore[name-defined]
    return builtins_bool(t)


import builtins as _builtins  # noqa: E402

builtins_bool = _builtins.bool
builtins_int = _builtins.int
