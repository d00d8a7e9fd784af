"""compat's op table, split by family: each op's forward, backward rule and torch grad_fn name
live together in one of these modules."""

from . import control, elementwise, linalg, nn, reductions, shape  # noqa: F401
