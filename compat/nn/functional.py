"""Mirrors `torch.nn.functional` for the losses and activations autograd tutorials use."""

from __future__ import annotations

from .._ops.elementwise import relu as _relu
from .._ops.elementwise import sigmoid, tanh  # noqa: F401
from .._ops.nn import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    dropout,
    gelu,
    l1_loss,
    leaky_relu,
    linear,
    log_softmax,
    mse_loss,
    nll_loss,
    one_hot,
    silu,
    softmax,
    softplus,
)


def relu(input, inplace: bool = False):
    """Mirrors `torch.nn.functional.relu(input, inplace=False)`."""
    if inplace:
        return input.relu_()
    return _relu(input)
