"""Every parity case, by name (the keys of the recorded file), and the known divergences."""

from __future__ import annotations

from _parity_cases import CASES as _HAND
from _parity_fuzz import RandomPick, build_program, run_program
from _parity_harness import Case
from _parity_ops import OP_CASES

FUZZ_CORPUS_SIZE = 40


def _fuzz_case(seed: int) -> Case:
    steps = build_program(RandomPick(seed))
    return Case(
        f"fuzz/{seed:03d}",
        lambda T, rec: run_program(T, rec, steps),
        seed=seed,
        fuzz=steps,
        tags=("fuzz",),
    )


FUZZ_CASES = [_fuzz_case(s) for s in range(FUZZ_CORPUS_SIZE)]
ALL_CASES = [*_HAND, *OP_CASES, *FUZZ_CASES]
BY_NAME = {c.name: c for c in ALL_CASES}
if len(BY_NAME) != len(ALL_CASES):
    raise RuntimeError("duplicate parity case names")

# Cases where compat is known to differ from torch: run as strict xfails, so a fix shows up as
# an unexpected pass. Each entry says what differs.
KNOWN_DIVERGENCES: dict[str, str] = {}
_reason = (
    "compat's autograd.grad checks inputs before outputs: wrong message when the "
    "output does not require grad"
)
KNOWN_DIVERGENCES["error/backward_not_requiring_grad"] = _reason

_reason = (
    "CopySlices.next_functions: compat lists the whole in-place node; torch lists the"
    " base's grad_fn and the in-place node's other inputs"
)
KNOWN_DIVERGENCES["graph/inplace_nonleaf"] = _reason
KNOWN_DIVERGENCES["graph/views"] = _reason
KNOWN_DIVERGENCES["op/inplace_view/float32"] = _reason
KNOWN_DIVERGENCES["op/inplace_view/float64"] = _reason

_reason = (
    "zero-gradient ops (floor, ceil, round, remainder, div rounding_mode, "
    "floor_divide) do not set requires_grad/grad_fn in compat"
)
KNOWN_DIVERGENCES["op/remainder/float64"] = _reason

_reason = (
    "first derivative built with create_graph does not require grad (rule uses raw "
    "sign/mask): second derivative differs"
)
KNOWN_DIVERGENCES["op/abs/float64"] = _reason
KNOWN_DIVERGENCES["op/relu/float64"] = _reason
KNOWN_DIVERGENCES["op/F_relu/float64"] = _reason
KNOWN_DIVERGENCES["op/relu_inplace/float64"] = _reason
KNOWN_DIVERGENCES["op/norm_p1/float64"] = _reason
KNOWN_DIVERGENCES["op/l1_loss/float64"] = _reason
KNOWN_DIVERGENCES["op/diag/float64"] = _reason

_reason = (
    "composite activations get the grad_fn of their parts instead of torch's fused "
    "node (LeakyReluBackward0, SiluBackward0, GeluBackward0, SoftplusBackward0, "
    "ClampBackward0, ClampMaxBackward0)"
)
KNOWN_DIVERGENCES["op/leaky_relu/float32"] = _reason
KNOWN_DIVERGENCES["op/leaky_relu/float64"] = _reason
KNOWN_DIVERGENCES["op/silu/float32"] = _reason
KNOWN_DIVERGENCES["op/silu/float64"] = _reason
KNOWN_DIVERGENCES["op/gelu/float32"] = _reason
KNOWN_DIVERGENCES["op/gelu/float64"] = _reason
KNOWN_DIVERGENCES["op/gelu_tanh/float32"] = _reason
KNOWN_DIVERGENCES["op/gelu_tanh/float64"] = _reason
KNOWN_DIVERGENCES["op/softplus/float32"] = _reason
KNOWN_DIVERGENCES["op/softplus/float64"] = _reason
KNOWN_DIVERGENCES["op/clamp_tensor/float32"] = _reason
KNOWN_DIVERGENCES["op/clamp_tensor/float64"] = _reason
KNOWN_DIVERGENCES["op/clamp_max/float32"] = _reason
KNOWN_DIVERGENCES["op/clamp_max/float64"] = _reason

_reason = (
    "graph shape differs from torch's decomposition (batched matmul via mm/bmm views,"
    " 0-d mask index, contiguous() clone, copy_ CopyBackwards, split_with_sizes, diag"
    " DiagonalBackward0_copy)"
)
KNOWN_DIVERGENCES["op/matmul_batched/float32"] = _reason
KNOWN_DIVERGENCES["op/matmul_batched/float64"] = _reason
KNOWN_DIVERGENCES["op/index_mask/float32"] = _reason
KNOWN_DIVERGENCES["op/contiguous/float32"] = _reason
KNOWN_DIVERGENCES["op/contiguous/float64"] = _reason
KNOWN_DIVERGENCES["op/inplace_copy/float32"] = _reason
KNOWN_DIVERGENCES["op/inplace_copy/float64"] = _reason
KNOWN_DIVERGENCES["op/split_sizes/float32"] = _reason
KNOWN_DIVERGENCES["op/split_sizes/float64"] = _reason
KNOWN_DIVERGENCES["op/diag/float32"] = _reason

_reason = (
    "hstack/vstack of 0-d tensors and nonzero of a 0-d tensor fail or give the wrong "
    "shape in compat"
)
KNOWN_DIVERGENCES["op/hstack/float32"] = _reason
KNOWN_DIVERGENCES["op/vstack/float32"] = _reason
KNOWN_DIVERGENCES["op/nonzero/float32"] = _reason
