"""funcgrad: automatic differentiation on JAX, in a functional style.

Thin, validated wrappers over JAX's transforms, plus what PyTorch autograd tutorials need and
JAX spells differently: gradients of non-scalar outputs with an explicit cotangent
(:func:`backward`), element-wise gradients, ``detach``, torch-style custom gradients
(:class:`Function`), a reverse-differentiable bounded :func:`while_loop`, gradient
accumulation, graph drawing (:func:`make_dot`) and data-parallel gradients (:mod:`parallel`).
Testing helpers live in :mod:`funcgrad.testing`.

Example:
  >>> import jax.numpy as jnp
  >>> import funcgrad as fg
  >>> fg.grad(lambda x: 2 * jnp.dot(x, x))(jnp.arange(4.0))
  Array([ 0.,  4.,  8., 12.], dtype=float32)
"""

from . import parallel as parallel  # noqa: E402
from ._accumulate import accumulate_grads as accumulate_grads
from ._control import while_loop as while_loop
from ._custom import Function as Function
from ._custom import custom_gradient as custom_gradient
from ._graph import make_dot as make_dot
from ._transforms import backward as backward
from ._transforms import detach as detach
from ._transforms import elementwise_grad as elementwise_grad
from ._transforms import grad as grad
from ._transforms import hessian as hessian
from ._transforms import jacobian as jacobian
from ._transforms import jvp as jvp
from ._transforms import stop_gradient as stop_gradient
from ._transforms import value_and_grad as value_and_grad
from ._transforms import vjp as vjp

__version__ = "0.1.0"
