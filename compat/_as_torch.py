"""`compat.as_torch()`: run unmodified torch code on compat.

Inside the block, `import torch` (and `torch.nn`, `torch.nn.functional`, `torch.autograd`,
`torch.autograd.functional`, `torch.autograd.graph`) resolve to compat's modules; on exit
`sys.modules` is restored exactly, so real torch can still be imported in the same process.
"""

from __future__ import annotations

import contextlib
import sys

_ALIASES = {
    "torch": "compat",
    "torch.nn": "compat.nn",
    "torch.nn.functional": "compat.nn.functional",
    "torch.autograd": "compat.autograd",
    "torch.autograd.functional": "compat.autograd.functional",
    "torch.autograd.graph": "compat.autograd.graph",
}


@contextlib.contextmanager
def as_torch():
    """Makes `import torch` give compat inside a `with` block.

    Example:
        >>> import compat
        >>> with compat.as_torch():
        ...     import torch
        ...     x = torch.arange(4.0, requires_grad=True)
        ...     (2 * torch.dot(x, x)).backward()
        ...     print(x.grad)
        tensor([ 0.,  4.,  8., 12.])
    """
    import importlib

    saved = {k: v for k, v in sys.modules.items() if k == "torch" or k.startswith("torch.")}
    for k in saved:
        del sys.modules[k]
    try:
        for name, target in _ALIASES.items():
            sys.modules[name] = importlib.import_module(target)
        yield sys.modules["torch"]
    finally:
        for k in [k for k in sys.modules if k == "torch" or k.startswith("torch.")]:
            del sys.modules[k]
        sys.modules.update(saved)
