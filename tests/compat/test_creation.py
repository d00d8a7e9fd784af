"""Tensor creation, dtypes, `Size`, `is_tensor` and the seeded random factories, against torch.

Every case is a function of the module (`torch` or `compat`); both runs must give the same
reprs, dtypes, shapes, flags and values (random draws included: compat reproduces torch's CPU
generator bit for bit), or the same error.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests._torch import assert_parity, parity, require_torch

torch = require_torch()

import compat  # noqa: E402

CASES = {
    # torch.tensor: dtype inference, explicit dtype, requires_grad
    "tensor-float": lambda T: T.tensor([1.0, 2.5, -3.0]),
    "tensor-int": lambda T: T.tensor([[1, 2], [3, 4]]),
    "tensor-bool": lambda T: T.tensor([True, False]),
    "tensor-scalar": lambda T: T.tensor(3.0),
    "tensor-mixed": lambda T: T.tensor([1, 2.5]),
    "tensor-dtype": lambda T: T.tensor([1, 2], dtype=T.float32),
    "tensor-float64": lambda T: T.tensor([1.0, 2.0], dtype=T.float64),
    "tensor-int32": lambda T: T.tensor([1, 2], dtype=T.int32),
    "tensor-requires-grad": lambda T: T.tensor([1.0, 2.0], requires_grad=True),
    "tensor-from-tensors": lambda T: T.tensor([T.tensor(1.0), T.tensor(2.0)]),
    "tensor-empty-list": lambda T: T.tensor([]),
    "tensor-nested": lambda T: T.tensor([[[1.0], [2.0]], [[3.0], [4.0]]]),
    "tensor-from-numpy-array": lambda T: T.tensor(np.array([1.0, 2.0], dtype=np.float32)),
    "tensor-int-requires-grad": lambda T: T.tensor([1, 2], requires_grad=True),
    "tensor-ragged": lambda T: T.tensor([[1.0, 2.0], [3.0]]),
    # arange
    "arange-end": lambda T: T.arange(5),
    "arange-float": lambda T: T.arange(4.0),
    "arange-start-end-step": lambda T: T.arange(-5, 5, 1, dtype=T.float32, requires_grad=True),
    "arange-float-step": lambda T: T.arange(0, 1, 0.25),
    "arange-negative-step": lambda T: T.arange(5, 0, -2),
    "arange-requires-grad": lambda T: T.arange(4.0, requires_grad=True),
    "arange-zero-step": lambda T: T.arange(0, 5, 0),
    # fills
    "ones": lambda T: T.ones(2, 3),
    "ones-tuple": lambda T: T.ones((2, 3)),
    "ones-requires-grad": lambda T: T.ones(4, requires_grad=True),
    "ones-int": lambda T: T.ones(3, dtype=T.int64),
    "zeros": lambda T: T.zeros(3),
    "zeros-size": lambda T: T.zeros(T.Size([2, 2])),
    "zeros-scalar": lambda T: T.zeros(()),
    "ones-like": lambda T: T.ones_like(T.tensor([[1.0, 2.0]], requires_grad=True)),
    "zeros-like": lambda T: T.zeros_like(T.arange(3)),
    "zeros-like-dtype": lambda T: T.zeros_like(T.arange(3), dtype=T.float32),
    "ones-like-requires-grad": lambda T: T.ones_like(T.zeros(2), requires_grad=True),
    "full": lambda T: T.full((2, 2), 7.0),
    "full-int": lambda T: T.full((3,), 7),
    "full-bool": lambda T: T.full((2,), True),
    "full-like": lambda T: T.full_like(T.zeros(2), 3.5),
    "eye": lambda T: T.eye(3),
    "eye-rect": lambda T: T.eye(2, 3),
    "eye-dtype": lambda T: T.eye(2, dtype=T.int64),
    "linspace": lambda T: T.linspace(0, 1, 5),
    "linspace-one": lambda T: T.linspace(-2, 2, 1),
    "linspace-many": lambda T: T.linspace(-3.0, 3.0, 7, requires_grad=True),
    "empty-shape": lambda T: (T.empty(2, 3).shape, T.empty(2, 3).dtype),
    "empty-requires-grad": lambda T: T.empty(2, requires_grad=True).requires_grad,
    "ones-negative": lambda T: T.ones(-1),
    # legacy constructors (shape and dtype only: torch's are uninitialised)
    "Tensor-shape": lambda T: (T.Tensor(3, 5).shape, T.Tensor(3, 5).dtype),
    "Tensor-data": lambda T: T.Tensor([1, 2, 3]),
    "Tensor-empty": lambda T: T.Tensor(),
    "FloatTensor-shape": lambda T: (T.FloatTensor(3, 3).shape, T.FloatTensor(3, 3).dtype),
    "FloatTensor-data": lambda T: T.FloatTensor([[1, 2], [3, 4]]),
    "LongTensor-data": lambda T: T.LongTensor([1, 2]),
    "DoubleTensor-data": lambda T: T.DoubleTensor([1.5]),
    "Tensor-not-leaf-grad": lambda T: T.Tensor(2, 2).requires_grad,
    # from_numpy shares dtype
    "from-numpy-f32": lambda T: T.from_numpy(np.arange(3, dtype=np.float32)),
    "from-numpy-f64": lambda T: T.from_numpy(np.array([[1.0, 2.0]])),
    "from-numpy-int": lambda T: T.from_numpy(np.array([1, 2], dtype=np.int64)),
    "from-numpy-bool": lambda T: T.from_numpy(np.array([True])),
    "from-numpy-list": lambda T: T.from_numpy([1, 2]),
    # as_tensor
    "as-tensor": lambda T: T.as_tensor([1.0, 2.0]),
    # random factories after manual_seed(0)
    "randn": lambda T: T.randn(5, 3, requires_grad=True),
    "randn-tuple": lambda T: T.randn((3, 3), requires_grad=True),
    "randn-size-kw": lambda T: T.randn(size=(), requires_grad=True),
    "randn-size-kw-vec": lambda T: T.randn(size=(3,), requires_grad=True),
    "randn-float64": lambda T: T.randn(4, dtype=T.float64),
    "randn-long": lambda T: T.randn(100),
    "rand": lambda T: T.rand(3, 3, requires_grad=True),
    "rand-long": lambda T: T.rand(40),
    "randint": lambda T: T.randint(0, 10, (5,)),
    "randint-high-only": lambda T: T.randint(6, (2, 3)),
    "random-sequence": lambda T: (T.randn(3), T.rand(2), T.randint(0, 5, (4,)), T.randn(2, 2)),
    "manual-seed-restarts": lambda T: (
        T.manual_seed(3) and None,
        T.randn(3),
        T.manual_seed(3) and None,
        T.randn(3),
    ),
    "randn-like": lambda T: T.randn_like(T.zeros(2, 2)),
    "randperm": lambda T: T.randperm(6),
    "randn-int-dtype": lambda T: T.randn(2, dtype=T.int64),
    # dtypes and Size
    "dtype-names": lambda T: (
        T.float32,
        T.float,
        T.float64,
        T.double,
        T.int64,
        T.long,
        T.int32,
        T.int,
        T.bool,
        T.uint8,
        T.float16,
        T.half,
    ),
    "dtype-props": lambda T: (
        T.float32.is_floating_point,
        T.int64.is_floating_point,
        T.float64.itemsize,
        T.bool.is_signed,
        T.int8.is_signed,
    ),
    "default-dtype": lambda T: T.get_default_dtype(),
    "promote-types": lambda T: (
        T.promote_types(T.int64, T.float32),
        T.promote_types(T.bool, T.int32),
    ),
    "size-repr": lambda T: (T.Size([2, 3]), repr(T.Size([2, 3])), str(T.Size([]))),
    "size-ops": lambda T: (
        T.Size([2, 3])[1],
        T.Size([2, 3, 4])[1:],
        T.Size([2, 3]).numel(),
        T.Size([2]) + T.Size([5]),
        T.Size([2, 3]) == (2, 3),
        len(T.Size([1, 2, 3])),
        list(T.Size([4])),
    ),
    "shape-is-size": lambda T: (
        T.zeros(2, 3).shape,
        T.zeros(2, 3).size(),
        T.zeros(2, 3).size(1),
        T.zeros(2, 3).size(-1),
        isinstance(T.zeros(1).shape, tuple),
    ),
    "is-tensor": lambda T: (
        T.is_tensor(T.zeros(1)),
        T.is_tensor([1]),
        T.is_tensor(1.0),
        T.is_tensor(np.zeros(1)),
    ),
    "is-floating-point": lambda T: (
        T.is_floating_point(T.zeros(1)),
        T.is_floating_point(T.arange(2)),
    ),
    "isinstance-Tensor": lambda T: (
        isinstance(T.zeros(1), T.Tensor),
        isinstance(T.tensor(1), T.Tensor),
    ),
    "tensor-type-str": lambda T: (T.zeros(1).type(), T.arange(2).type(), T.zeros(1).dtype),
    "default-device": lambda T: (T.zeros(1).device, str(T.zeros(1).device), T.device("cpu")),
    "tensor-device-kw": lambda T: T.tensor([1.0], device="cpu").device,
}


@pytest.mark.parametrize("name", list(CASES))
def test_creation_matches_torch(name):
    assert_parity(CASES[name], torch)


def test_manual_seed_returns_generator_and_same_stream():
    t_gen, c_gen = parity(lambda T: T.manual_seed(0), torch)
    assert type(t_gen).__name__ == type(c_gen).__name__ == "Generator"
    torch.manual_seed(1234)
    compat.manual_seed(1234)
    np.testing.assert_array_equal(compat.randn(7, 3).numpy(), torch.randn(7, 3).numpy())
    np.testing.assert_array_equal(compat.rand(11).numpy(), torch.rand(11).numpy())


def test_from_numpy_keeps_values_and_tensor_is_a_copy():
    arr = np.array([1.0, 2.0], dtype=np.float32)
    t = compat.tensor(arr)
    arr[0] = 5.0
    assert t.tolist() == [1.0, 2.0]
    assert compat.from_numpy(np.ones(2, dtype=np.float32)).dtype is compat.float32


def test_factories_under_no_grad_still_honour_requires_grad():
    def case(T):
        with T.no_grad():
            a = T.ones(2, requires_grad=True)
            b = a * 2
        return a.requires_grad, b.requires_grad, a.is_leaf, b.is_leaf

    t_res, c_res = parity(case, torch)
    assert c_res == (True, False, True, True)
