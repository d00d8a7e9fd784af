"""Grad modes: `no_grad`, `enable_grad`, `set_grad_enabled`, `inference_mode`.

As in torch, the mode is thread-local, and each object works both as a context manager and as a
decorator.
"""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled = True
        self.inference = False


_state = _State()


def is_grad_enabled() -> bool:
    """Mirrors `torch.is_grad_enabled()`."""
    return _state.enabled


def is_inference_mode_enabled() -> bool:
    """Mirrors `torch.is_inference_mode_enabled()`."""
    return _state.inference


class _Mode:
    """Base of the grad-mode context managers; subclasses say what to set in `_enter`."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)

        return wrapper

    def _args(self) -> tuple:
        return ()

    def __enter__(self):
        self._prev = (_state.enabled, _state.inference)
        self._enter()
        return None

    def __exit__(self, *exc) -> None:
        _state.enabled, _state.inference = self._prev

    def clone(self):
        return self.__class__(*self._args())


class _NoParamMode(_Mode):
    """A mode also usable as a bare decorator (`@torch.no_grad`, without parentheses)."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments")
        return cls()(orig_func)


class no_grad(_NoParamMode):  # noqa: N801 - torch's name
    """Mirrors `torch.no_grad`: ops inside build no graph and give tensors without grad."""

    def _enter(self) -> None:
        _state.enabled = False


class enable_grad(_NoParamMode):  # noqa: N801
    """Mirrors `torch.enable_grad`: turns graph building back on inside a `no_grad` block."""

    def _enter(self) -> None:
        _state.enabled = True


class set_grad_enabled(_Mode):  # noqa: N801
    """Mirrors `torch.set_grad_enabled(mode)`: sets the mode at once, and restores it on exit
    when used as a context manager."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._prev = (_state.enabled, _state.inference)
        _state.enabled = self.mode

    def _args(self) -> tuple:
        return (self.mode,)

    def __enter__(self):
        return None

    def __call__(self, fn):
        # Used as a decorator the constructor's immediate effect must not stick.
        _state.enabled, _state.inference = self._prev
        return super().__call__(fn)


class inference_mode(_Mode):  # noqa: N801
    """Mirrors `torch.inference_mode(mode=True)`: like `no_grad` for compat's purposes."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def _args(self) -> tuple:
        return (self.mode,)

    def _enter(self) -> None:
        if self.mode:
            _state.enabled = False
            _state.inference = True
