"""`compat.Tensor`: torch's stateful tensor over a JAX array.

A Tensor holds its `jax.Array` in `_data` and the autograd state torch keeps: `requires_grad`,
`grad`, `grad_fn` (with `_output_nr`), a leaf accumulator, a version counter shared with its
views, `retains_grad` and hooks. Every op is a JAX op on `_data`, so the same code runs with a JAX
tracer inside (see `compat.compile`). Methods are one-liners into the op families in `_ops`.
"""

from __future__ import annotations

import warnings

import jax
import numpy as np

from . import _dtype, _grad_mode, _node
from ._node import RemovableHandle

_state = _grad_mode._state

_NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information."
)


class Size(tuple):
    """Mirrors `torch.Size`: a tuple that prints as `torch.Size([2, 3])`."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))


class Tensor:
    """Mirrors `torch.Tensor` for autograd purposes, over a `jax.Array`.

    Differences from torch: storage is immutable underneath, so in-place ops replace `_data` and
    write through to a view's base; memory layout (strides, contiguity) is not modelled.
    """

    __slots__ = (
        "_data",
        "_rg",
        "_grad",
        "grad_fn",
        "_output_nr",
        "_vc",
        "_view",
        "_accumulator",
        "_retains_grad",
        "_hooks",
        "_post_acc_hooks",
        "__weakref__",
        "__dict__",
    )
    __array_priority__ = 1000

    def __new__(cls, *args, **kwargs):
        # `torch.Tensor(3, 5)` / `torch.Tensor([1, 2])` legacy constructor.
        if cls is Tensor and (args or kwargs):
            from . import _creation

            return _creation.legacy_new(_dtype.get_default_dtype(), *args, **kwargs)
        self = object.__new__(cls)
        if cls is Tensor and not args:
            from . import _creation

            return _creation.legacy_new(_dtype.get_default_dtype())
        return self

    @classmethod
    def _make(cls, data, requires_grad: bool = False) -> Tensor:
        t = object.__new__(Tensor)
        t._data = data
        t._rg = requires_grad
        t._grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._vc = [0]
        t._view = None
        t._accumulator = None
        t._retains_grad = False
        t._hooks = None
        t._post_acc_hooks = None
        return t

    # -- basic attributes ------------------------------------------------------------------------
    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.from_jax(self._data.dtype)

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """Mirrors `Tensor.size(dim=None)`."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_ops.shape.norm_dim(dim, self.ndim)]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    @property
    def device(self):
        from ._device import device_of

        return device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def element_size(self) -> int:
        return self.dtype.itemsize

    def is_floating_point(self) -> bool:
        return self.dtype.category == 2

    def is_complex(self) -> bool:
        return self.dtype.category == 3

    def type(self, dtype=None):
        if dtype is None:
            return f"torch.{self.dtype._legacy}"
        return self.to(dtype)

    # -- autograd state --------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        # The attribute and the method word their dtype error differently in torch.
        self._set_requires_grad(value, "floating point and complex dtype")

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mirrors `Tensor.requires_grad_()`."""
        return self._set_requires_grad(requires_grad, "floating point dtype")

    def _set_requires_grad(self, requires_grad, kinds: str) -> Tensor:
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and self.dtype.category < 2:
            raise RuntimeError(f"only Tensors of {kinds} can require gradients")
        if _node.compile_active[0]:
            _node.check_compile_mutation(self)
        self._rg = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(_NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    "attempting to assign a gradient with dtype "
                    f"'{_dtype_cname(value.dtype)}' to a tensor with grad_dtype "
                    f"'{self.dtype._legacy.replace('Tensor', '')}'. The gradient must match the "
                    "tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
                    "tensor's grad_dtype attribute with a specific dtype, or None to allow any "
                    "dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its "
                    "gradient may break downstream systems that assume they match."
                )
            if tuple(value.shape) != tuple(self.shape):
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the "
                    "tensor are the same size"
                )
        if _node.compile_active[0]:
            _node.check_compile_mutation(self)
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad and self.grad_fn is not None

    def retain_grad(self) -> None:
        """Mirrors `Tensor.retain_grad()`: a non-leaf keeps its `.grad` after backward."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            self._retains_grad = True
            self._register_on_node()

    def _register_on_node(self) -> None:
        # The engine finds a non-leaf's hooks and retained grad through its grad_fn.
        fn = self.grad_fn
        if fn._tensors is None:
            fn._tensors = {}
        fn._tensors[self._output_nr] = self

    def register_hook(self, hook) -> RemovableHandle:
        """Mirrors `Tensor.register_hook(hook)`: `hook(grad)` may return a replacement gradient."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = {}
        h = RemovableHandle(self._hooks)
        self._hooks[h.id] = hook
        if self.grad_fn is not None:
            self._register_on_node()
        return h

    def register_post_accumulate_grad_hook(self, hook) -> RemovableHandle:
        """Mirrors torch's: `hook(tensor)` runs after the leaf's `.grad` was accumulated."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        if self._post_acc_hooks is None:
            self._post_acc_hooks = {}
        h = RemovableHandle(self._post_acc_hooks)
        self._post_acc_hooks[h.id] = hook
        return h

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Mirrors `Tensor.backward(gradient=None, retain_graph=None, create_graph=False,
        inputs=None)`."""
        from . import _engine

        _engine.backward(
            (self,), None if gradient is None else (gradient,), retain_graph, create_graph, inputs
        )

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's values but not its graph (torch's `.data`)."""
        return _ops.shape.alias(self, track_version=False)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        if _node.compile_active[0]:
            _node.check_compile_mutation(self)
        self._data = value._data

    def detach(self) -> Tensor:
        """Mirrors `Tensor.detach()`: same values and version counter, no graph."""
        return _ops.shape.alias(self, track_version=True)

    def detach_(self) -> Tensor:
        """Mirrors `Tensor.detach_()`."""
        if self._view is not None and self.grad_fn is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the Optimizer."
                "zero_grad() function in torch/optim/optimizer.py as the solution."
            )
        self.grad_fn = None
        self._rg = False
        self._output_nr = 0
        return self

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def _base(self):
        return None if self._view is None else self._view[0]

    # -- conversion ------------------------------------------------------------------------------
    def item(self):
        """Mirrors `Tensor.item()`: a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        try:
            return np.asarray(self._data).reshape(()).item()
        except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
            _ops.control.concrete_error("item()")

    def tolist(self):
        return np.asarray(self._data).tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """Mirrors `Tensor.numpy()`; refuses a tensor that requires grad, as torch does."""
        if self._rg and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return np.asarray(self._data)

    def __array__(self, dtype=None, copy=None):
        if self._rg:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        arr = np.asarray(self._data)
        return arr if dtype is None else arr.astype(dtype)

    def __jax_array__(self):
        return self._data

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.category != 1 or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            if self._data.size == 0:
                raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        try:
            return bool(self._data.reshape(()))
        except jax.errors.ConcretizationTypeError:
            _ops.control.concrete_error("bool()")

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_ops.shape.unbind(self, 0))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return _printing_repr(self)

    def __str__(self) -> str:
        return _printing_repr(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return format(str(self), spec)

    def __reduce_ex__(self, proto):
        return (_rebuild, (np.asarray(self._data), self._rg))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may "
                "be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        t = Tensor._make(self._data, self._rg)
        if self._grad is not None:
            t._grad = Tensor._make(self._grad._data)
        memo[id(self)] = t
        return t


def _rebuild(arr, requires_grad):
    import jax.numpy as jnp

    return Tensor._make(jnp.asarray(arr), requires_grad)


def _dtype_cname(d) -> str:
    return {"float32": "float", "float64": "double", "int64": "long int", "int32": "int"}.get(
        d.name, d.name
    )


def _printing_repr(t: Tensor) -> str:
    from ._printing import format_tensor

    if isinstance(t._data, jax.core.Tracer):
        return f"tensor(<traced {t.dtype.name}{list(t._data.shape)}>)"
    fn = t.grad_fn
    return format_tensor(
        np.asarray(t._data),
        t.dtype.name,
        requires_grad=t._rg,
        grad_fn_name=None if fn is None else type(fn).__name__,
    )


from . import _ops  # noqa: E402  (ops need Tensor defined first)
from ._ops import _methods  # noqa: E402, F401  (installs the Tensor methods)
