"""Graph nodes (`grad_fn` objects) and the recording of an op onto the graph.

Each differentiable op owns one Node subclass named as torch names it (`MulBackward0`, ...).
A node holds its edges (`next_functions`), what its backward rule needs (saved values), and the
version of every saved tensor, so a later in-place change is caught as torch catches it.
"""

from __future__ import annotations

import itertools

from . import _grad_mode

_seq = itertools.count()
_SAVED_FREED = object()


#: Bumped whenever a hook is added or removed anywhere (compat.compile guards on it).
hook_epoch = [0]
#: Number of `compat.compile` traces in progress: sites that change an existing tensor test it
#: and call `check_compile_mutation` (which refuses to change a tensor outside the step's state).
compile_active = [0]


def check_compile_mutation(*tensors) -> None:
    from ._compile import check_mutation

    for t in tensors:
        check_mutation(t)


class RemovableHandle:
    """Mirrors `torch.utils.hooks.RemovableHandle`: `.remove()` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, registry: dict) -> None:
        self._registry = registry
        self.id = next(RemovableHandle._ids)
        hook_epoch[0] += 1

    def remove(self) -> None:
        self._registry.pop(self.id, None)
        hook_epoch[0] += 1

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class Node:
    """Base of every `grad_fn` class. Mirrors `torch.autograd.graph.Node`.

    `next_functions` is a tuple of `(node or None, output_nr)` pairs, one per differentiable input.
    """

    __slots__ = (
        "next_functions",
        "_saved",
        "_saved_versions",
        "_seq",
        "_hooks",
        "_pre_hooks",
        "_tensors",
        "_extra",
        "_nout",
        "__weakref__",
        "__dict__",
    )
    # Subclasses set: the backward rule, the names of saved values (for `_saved_<name>`).
    _rule = None
    _saved_names: tuple = ()
    _no_jit = False  # True for rules that must not be compiled (user code, data-dependent)

    def name(self) -> str:
        return type(self).__name__

    def register_hook(self, fn) -> RemovableHandle:
        """`fn(grad_inputs, grad_outputs)` runs after this node's backward."""
        if self._hooks is None:
            self._hooks = {}
        h = RemovableHandle(self._hooks)
        self._hooks[h.id] = fn
        return h

    def register_prehook(self, fn) -> RemovableHandle:
        """`fn(grad_outputs)` runs before this node's backward and may return replacements."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        h = RemovableHandle(self._pre_hooks)
        self._pre_hooks[h.id] = fn
        return h

    @property
    def metadata(self) -> dict:
        return self.__dict__

    def __getattr__(self, attr: str):
        # torchviz reads saved values as `_saved_<name>` attributes, as torch exposes them.
        if attr.startswith("_saved_"):
            names = type(self)._saved_names
            key = attr[len("_saved_") :]
            if key in names:
                saved = object.__getattribute__(self, "_saved")
                if saved is _SAVED_FREED:
                    raise RuntimeError(_FREED_MSG)
                return saved[names.index(key)]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")

    def __call__(self, *grads):
        """Applies the backward rule to output gradients (as `grad_fn(grad)` does in torch)."""
        from . import _engine

        return _engine.apply_node(self, list(grads), graph=_grad_mode.is_grad_enabled())


_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class AccumulateGrad(Node):
    """The node that adds a gradient into a leaf's `.grad` (torch's `AccumulateGrad`)."""

    __slots__ = ("variable",)


AccumulateGrad.__module__ = "builtins"

_classes: dict[str, type] = {}


def node_class(torch_name: str, rule, saved: tuple = ()) -> type:
    """Makes the Node subclass for one op.

    Args:
      torch_name: the class name torch gives the op's `grad_fn`, e.g. "MulBackward0".
      rule: `rule(F, node, grads, *saved) -> tuple of input gradients`; `F` is the array
        namespace (raw JAX arrays, or compat tensors when the graph of the backward is recorded).
      saved: names of the saved values, exposed as `grad_fn._saved_<name>`.
    """
    cls = type(
        torch_name,
        (Node,),
        {"__slots__": (), "_rule": staticmethod(rule), "_saved_names": tuple(saved)},
    )
    # Makes repr() read `<MulBackward0 object at 0x...>`, as torch's C++ classes print.
    cls.__module__ = "builtins"
    _classes.setdefault(torch_name, cls)
    return cls


def new_node(cls, inputs, saved=(), extra=None, nout: int = 1) -> Node:
    """Creates a node whose edges point at `inputs`' grad_fn (or accumulator)."""
    node = cls.__new__(cls)
    node.next_functions = tuple(edge(t) for t in inputs)
    node._saved = saved
    node._saved_versions = tuple(
        (t, t._vc[0]) for t in saved if getattr(t, "_vc", None) is not None
    )
    node._seq = next(_seq)
    node._hooks = None
    node._pre_hooks = None
    node._tensors = None  # tensors whose hooks / retain_grad hang on this node
    node._extra = extra
    node._nout = nout
    return node


def edge(t):
    """The graph edge leading to tensor `t`: its grad_fn, its leaf accumulator, or nothing."""
    if t is None or not getattr(t, "requires_grad", False):
        return (None, 0)
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    acc = t._accumulator
    if acc is None:
        acc = AccumulateGrad.__new__(AccumulateGrad)
        acc.next_functions = ()
        acc._saved = ()
        acc._saved_versions = ()
        acc._seq = next(_seq)
        acc._hooks = None
        acc._pre_hooks = None
        acc._tensors = None
        acc._extra = None
        acc._nout = 1
        acc.variable = t
        t._accumulator = acc
    return (acc, 0)
