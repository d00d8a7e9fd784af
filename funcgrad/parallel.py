"""Data-parallel and sharded gradients on a device mesh.

Everything here is a thin layer over JAX's own distributed machinery: a :class:`jax.sharding.Mesh`
names the devices, :class:`jax.sharding.NamedSharding` places arrays on it, ``jax.shard_map`` runs
one program per device, and ``jax.distributed`` joins several processes (hosts) into one global
mesh. Nothing is home-made, so the same code scales from a laptop to a pod.

Two entry points:

* :func:`data_parallel_grad` -- parameters replicated, the batch split across one mesh axis. Built
  with ``jax.shard_map`` + ``lax.pmean``: each device runs ``loss_fn`` on its own shard and one
  all-reduce averages the results. The per-device program is exactly the user's function and the
  only collective is the one we wrote, so there is nothing for the partitioner to guess.
* :func:`sharded_value_and_grad` -- parameters themselves split (``PartitionSpec`` per leaf) for
  models too large for one device, the batch optionally split along another axis. Built with
  ``jax.jit`` + shardings: which collectives a sharded model needs depends on every op inside
  ``loss_fn``, and XLA's partitioner derives them, so ``loss_fn`` needs no changes.

Both return a single jitted program, match ``jax.value_and_grad(loss_fn)`` numerically, and run
the computation on an ``Auto``-typed view of the mesh, so a mesh built with ``jax.make_mesh``'s
default ``Explicit`` axes works too; the results carry shardings on the mesh you passed.

Multi-host recipe (one process per host, the same script everywhere)::

    import jax
    from funcgrad import parallel

    jax.distributed.initialize(
        coordinator_address="10.0.0.1:1234",  # host 0's address and a free port
        num_processes=2,
        process_id=PROCESS_ID,  # 0 .. num_processes - 1
    )
    mesh = parallel.make_mesh((jax.device_count(),), ("batch",))  # global: every host's devices
    step = parallel.data_parallel_grad(loss_fn, mesh)
    batch = parallel.shard_local_batch(local_batch, mesh)  # this host's rows -> one global array
    loss, grads = step(params, batch)  # identical, replicated results on every host

On CPU-only hosts the cross-process collectives use gloo
(``jax.config.update("jax_cpu_collectives_implementation", "gloo")``, the default in jax 0.10).

To try it on one machine, ask XLA for simulated CPU devices before jax is imported
(``XLA_FLAGS=--xla_force_host_platform_device_count=8``). With many simulated devices on few cores,
XLA's CPU runtime can deadlock when several multi-device steps are queued; block on each step
(read the loss) there. ``jax.shard_map`` and ``jax.make_mesh`` are used directly (the older
``jax.experimental.shard_map`` is deprecated and warns), so jax >= 0.10 is required.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

__all__ = [
    "DataParallelGrad",
    "ShardedValueAndGrad",
    "data_parallel_grad",
    "make_mesh",
    "shard_batch",
    "shard_local_batch",
    "shard_params",
    "sharded_value_and_grad",
]

PyTree = Any


def make_mesh(
    axis_shapes: Sequence[int],
    axis_names: Sequence[str],
    *,
    axis_types: Sequence[AxisType] | None = None,
    devices: Sequence[Any] | None = None,
) -> Mesh:
    """Builds a device mesh (a thin wrapper over ``jax.make_mesh``).

    Unlike ``jax.make_mesh``, whose default axes are ``Explicit`` from jax 0.8 on, the axes default
    to ``AxisType.Auto``: unannotated code (a plain ``loss_fn``) then runs on the mesh and XLA
    propagates shardings. Every function in this module accepts either kind of mesh.

    Args:
      axis_shapes: devices along each axis; their product must equal the number of devices.
      axis_names: one name per axis, e.g. ``("data", "model")``.
      axis_types: optional ``jax.sharding.AxisType`` per axis; ``Auto`` for all when omitted.
      devices: devices to use; all of ``jax.devices()`` (every process's) when omitted.

    Returns:
      A ``jax.sharding.Mesh``.

    Raises:
      ValueError: if shapes and names differ in length or the shape does not use every device.

    Example:
      >>> mesh = make_mesh((jax.device_count(),), ("batch",))
      >>> mesh.axis_names
      ('batch',)
    """
    axis_shapes = tuple(int(s) for s in axis_shapes)
    axis_names = tuple(axis_names)
    if len(axis_shapes) != len(axis_names):
        raise ValueError(
            f"make_mesh: axis_shapes and axis_names must have the same length; got shapes "
            f"{axis_shapes} and names {axis_names}. Give one name per mesh axis."
        )
    n_devices = len(devices) if devices is not None else jax.device_count()
    if math.prod(axis_shapes) != n_devices:
        raise ValueError(
            f"make_mesh: the mesh shape {axis_shapes} holds {math.prod(axis_shapes)} devices but "
            f"{n_devices} are available. Choose axis sizes whose product is {n_devices}."
        )
    if axis_types is None:
        axis_types = (AxisType.Auto,) * len(axis_names)
    return jax.make_mesh(axis_shapes, axis_names, axis_types=tuple(axis_types), devices=devices)


def shard_params(params: PyTree, mesh: Mesh, specs: PyTree) -> PyTree:
    """Places parameters on ``mesh``, each leaf split as its ``PartitionSpec`` says.

    Args:
      params: a pytree of arrays.
      specs: a ``PartitionSpec`` (or ``None`` for replicated) per leaf of ``params``, or per
        subtree (a prefix of ``params``' structure), or a single spec for everything.

    Returns:
      ``params`` with every leaf a ``jax.Array`` sharded with ``NamedSharding(mesh, spec)``.

    Raises:
      ValueError: if a spec names an axis the mesh lacks, has more entries than its leaf has
        dimensions, or splits a dimension that does not divide across the named axes.

    Example:
      >>> from jax.sharding import PartitionSpec as P
      >>> mesh = make_mesh((jax.device_count(),), ("model",))
      >>> w = shard_params(jax.numpy.ones((4, 8 * jax.device_count())), mesh, P(None, "model"))
      >>> w.sharding.spec
      P(None, 'model')
    """
    _check_mesh(mesh, "shard_params")
    shardings = _param_shardings(params, mesh, specs, "shard_params")
    return jax.device_put(params, shardings)


def shard_batch(batch: PyTree, mesh: Mesh, axis_name: str = "batch") -> PyTree:
    """Places a batch on ``mesh``, split along its leading dimension over ``axis_name``.

    Use it to move data onto the devices ahead of a step (e.g. in an input pipeline), so the step
    itself does no host-to-device copies. In a multi-process run, every process must pass the same
    global batch; to give each process only its own rows use :func:`shard_local_batch`.

    Args:
      batch: a pytree of arrays that share a leading (batch) dimension.
      mesh: the device mesh.
      axis_name: the mesh axis the batch is split over.

    Returns:
      ``batch`` as ``jax.Array`` leaves with ``NamedSharding(mesh, P(axis_name))``.

    Raises:
      ValueError: if ``mesh`` has no axis ``axis_name`` or the batch does not divide across it.

    Example:
      >>> mesh = make_mesh((jax.device_count(),), ("batch",))
      >>> x = shard_batch(jax.numpy.ones((8 * jax.device_count(), 3)), mesh)
      >>> x.addressable_shards[0].data.shape
      (8, 3)
    """
    _check_mesh(mesh, "shard_batch")
    _check_axis(mesh, axis_name, "shard_batch", "axis_name")
    _check_batch(batch, mesh.shape[axis_name], axis_name, "shard_batch")
    return jax.device_put(batch, NamedSharding(mesh, PartitionSpec(axis_name)))


def shard_local_batch(local_batch: PyTree, mesh: Mesh, axis_name: str = "batch") -> PyTree:
    """Assembles each process's rows into one global batch split over ``axis_name``.

    The multi-host counterpart of :func:`shard_batch` (``jax.make_array_from_process_local_data``
    per leaf): process ``i`` passes only the rows its own devices hold, and the result is a global
    ``jax.Array`` whose leading dimension is the sum over processes. With one process it equals
    :func:`shard_batch`.

    Args:
      local_batch: this process's slice of the batch, a pytree of arrays.
      mesh: the global device mesh.
      axis_name: the mesh axis the batch is split over.

    Returns:
      The global batch, sharded with ``NamedSharding(mesh, P(axis_name))``.

    Raises:
      ValueError: if ``mesh`` has no axis ``axis_name`` or the local rows do not divide across
        this process's devices along it.

    Example:
      >>> mesh = make_mesh((jax.device_count(),), ("batch",))
      >>> x = shard_local_batch(np.ones((2 * jax.local_device_count(), 3)), mesh)
      >>> x.shape[0] == 2 * jax.device_count()
      True
    """
    _check_mesh(mesh, "shard_local_batch")
    _check_axis(mesh, axis_name, "shard_local_batch", "axis_name")
    sharding = NamedSharding(mesh, PartitionSpec(axis_name))
    # Rows of this process are spread over its devices along the axis (the local mesh's size).
    local_size = mesh.local_mesh.shape[axis_name]
    _check_batch(local_batch, local_size, axis_name, "shard_local_batch")
    return jax.tree.map(
        lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)), local_batch
    )


class DataParallelGrad:
    """The value-and-gradient function returned by :func:`data_parallel_grad`.

    Call it like ``jax.value_and_grad(loss_fn)``. Attributes: ``mesh``, ``axis_name``,
    ``batch_argnum``; method :meth:`shard_batch`.
    """

    def __init__(
        self, loss_fn: Callable[..., Any], mesh: Mesh, batch_argnum: int, axis_name: str
    ) -> None:
        self.loss_fn = loss_fn
        self.mesh = mesh
        self.axis_name = axis_name
        self.batch_argnum = batch_argnum
        self._num_shards = mesh.shape[axis_name]
        self._auto_mesh = _auto_view(mesh)
        self._checked: set[Any] = set()
        # One program: per-device value_and_grad plus one pmean, replicated results on `mesh`.
        self._step = jax.jit(self._sharded_step, out_shardings=NamedSharding(mesh, PartitionSpec()))
        functools.update_wrapper(self, loss_fn, updated=())

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[jax.Array, PyTree]:
        if len(args) <= self.batch_argnum:
            raise TypeError(
                f"data_parallel_grad: expected the batch as positional argument "
                f"{self.batch_argnum} (batch_argnum={self.batch_argnum}); got {len(args)} "
                f"positional argument(s). Call it as f(params, batch, ...) or set batch_argnum."
            )
        batch = args[self.batch_argnum]
        leaves, treedef = jax.tree.flatten(batch)
        key = (treedef, tuple(getattr(leaf, "shape", None) for leaf in leaves))
        if key not in self._checked:  # validate each batch structure and shape once
            _check_batch(batch, self._num_shards, self.axis_name, "data_parallel_grad")
            self._checked.add(key)
        return self._step(*args, **kwargs)

    def shard_batch(self, batch: PyTree) -> PyTree:
        """Places ``batch`` across this function's mesh axis (see :func:`shard_batch`)."""
        return shard_batch(batch, self.mesh, self.axis_name)

    def _sharded_step(self, *args: Any, **kwargs: Any) -> tuple[jax.Array, PyTree]:
        axis = self.axis_name
        in_specs = tuple(
            PartitionSpec(axis) if i == self.batch_argnum else PartitionSpec()
            for i in range(len(args))
        )

        def per_device(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            params, rest = args[0], args[1:]

            def global_loss(p: PyTree) -> jax.Array:
                # The mean of equal-sized shard means is the global mean. Differentiating it
                # (rather than pmean-ing local gradients) keeps shard_map's replication typing
                # sound: the transpose of broadcasting the replicated params is a psum.
                return jax.lax.pmean(self.loss_fn(p, *rest, **kwargs), axis)

            return jax.value_and_grad(global_loss)(params)

        return jax.shard_map(
            per_device,
            mesh=self._auto_mesh,
            in_specs=(in_specs, PartitionSpec()),
            out_specs=PartitionSpec(),
        )(args, kwargs)

    def __repr__(self) -> str:
        name = getattr(self.loss_fn, "__name__", repr(self.loss_fn))
        return f"data_parallel_grad({name}, axis={self.axis_name!r}, shards={self._num_shards})"


def data_parallel_grad(
    loss_fn: Callable[..., Any],
    mesh: Mesh | None = None,
    batch_argnum: int = 1,
    axis_name: str = "batch",
) -> DataParallelGrad:
    """``jax.value_and_grad(loss_fn)`` with the batch split across devices.

    Parameters (argument 0) are replicated; the batch (argument ``batch_argnum``, a pytree of
    arrays with a leading batch dimension) is split along mesh axis ``axis_name``; every other
    argument is replicated. Each device computes the loss and gradient of its shard, and one
    ``lax.pmean`` inside the same jitted program averages both, so with ``loss_fn`` a per-batch
    *mean* the results equal the single-device ones. Value and gradient come back replicated.

    Built with ``jax.shard_map`` (not jit + shardings) so the per-device program is exactly
    ``loss_fn`` on one shard and the only collective is the all-reduce of the gradient.

    Args:
      loss_fn: ``loss_fn(params, batch, *rest, **kwargs) -> scalar``, a mean over the batch.
      mesh: the device mesh; default: a 1-D mesh named ``axis_name`` over all devices.
      batch_argnum: position of the batch argument (params are always argument 0).
      axis_name: the mesh axis the batch is split over. Other mesh axes replicate the work.

    Returns:
      A :class:`DataParallelGrad`: call it as ``value, grads = f(params, batch, ...)``. It also
      has ``.mesh`` and ``.shard_batch(batch)``, which places a batch across the devices ahead of
      time. ``has_aux`` is not supported.

    Raises:
      ValueError: if the mesh lacks ``axis_name`` or ``batch_argnum`` is not a positive integer;
        when called, if the batch's leading dimension does not divide across the axis.

    Example:
      >>> import jax.numpy as jnp
      >>> def loss_fn(w, batch):
      ...     x, y = batch
      ...     return jnp.mean((x @ w - y) ** 2)
      >>> step = data_parallel_grad(loss_fn)
      >>> n = 4 * jax.device_count()
      >>> loss, grad = step(jnp.ones(3), step.shard_batch((jnp.ones((n, 3)), jnp.zeros(n))))
      >>> float(loss)
      9.0
    """
    if not callable(loss_fn):
        raise TypeError(
            f"data_parallel_grad: loss_fn must be callable; got {type(loss_fn).__name__}. "
            "Pass the loss function itself, e.g. data_parallel_grad(loss_fn)."
        )
    if isinstance(batch_argnum, bool) or not isinstance(batch_argnum, int) or batch_argnum < 1:
        raise ValueError(
            f"data_parallel_grad: batch_argnum must be a positive integer (argument 0 holds the "
            f"parameters); got {batch_argnum!r}. Pass the position of the batch argument."
        )
    if mesh is None:
        mesh = make_mesh((jax.device_count(),), (axis_name,))
    _check_mesh(mesh, "data_parallel_grad")
    _check_axis(mesh, axis_name, "data_parallel_grad", "axis_name")
    return DataParallelGrad(loss_fn, mesh, batch_argnum, axis_name)


class ShardedValueAndGrad:
    """The value-and-gradient function returned by :func:`sharded_value_and_grad`.

    Call it like ``jax.value_and_grad(loss_fn)``. Attributes: ``mesh``, ``param_specs``,
    ``batch_axis``; methods :meth:`shard_params`, :meth:`shard_batch`.
    """

    def __init__(
        self,
        loss_fn: Callable[..., Any],
        mesh: Mesh,
        param_specs: PyTree,
        batch_axis: str | None,
        batch_argnum: int,
    ) -> None:
        self.loss_fn = loss_fn
        self.mesh = mesh
        self.param_specs = param_specs
        self.batch_axis = batch_axis
        self.batch_argnum = batch_argnum
        self._auto_mesh = _auto_view(mesh)
        # out_shardings depend on the parameters' structure: one jitted program per structure.
        self._compiled: dict[Any, Callable[..., Any]] = {}
        functools.update_wrapper(self, loss_fn, updated=())

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[jax.Array, PyTree]:
        name = "sharded_value_and_grad"
        if not args:
            raise TypeError(
                f"{name}: expected the parameters as positional argument 0; got no positional "
                "arguments. Call it as f(params, batch, ...)."
            )
        if self.batch_axis is not None:
            if len(args) <= self.batch_argnum:
                raise TypeError(
                    f"{name}: expected the batch as positional argument {self.batch_argnum} "
                    f"(batch_argnum={self.batch_argnum}); got {len(args)} positional argument(s). "
                    "Call it as f(params, batch, ...) or set batch_argnum."
                )
            size = self.mesh.shape[self.batch_axis]
            _check_batch(args[self.batch_argnum], size, self.batch_axis, name)
        params = args[0]
        leaves, treedef = jax.tree.flatten(params)
        key = (treedef, tuple(getattr(leaf, "shape", None) for leaf in leaves))
        step = self._compiled.get(key)
        if step is None:
            # Validates every leaf against its spec (axis names, rank, divisibility) once per
            # structure and shapes, then builds the program.
            shardings = _param_shardings(params, self.mesh, self.param_specs, name)
            step = self._build(shardings)
            self._compiled[key] = step
        return step(*args, **kwargs)

    def shard_params(self, params: PyTree) -> PyTree:
        """Places ``params`` with this function's specs (see :func:`shard_params`)."""
        return shard_params(params, self.mesh, self.param_specs)

    def shard_batch(self, batch: PyTree) -> PyTree:
        """Places ``batch`` along ``batch_axis``, or replicates it when that is ``None``."""
        if self.batch_axis is None:
            return jax.device_put(batch, NamedSharding(self.mesh, PartitionSpec()))
        return shard_batch(batch, self.mesh, self.batch_axis)

    def _build(self, shardings: PyTree) -> Callable[..., Any]:
        # Constraints use the Auto view so XLA propagates shardings through unannotated code;
        # out_shardings use the caller's mesh so gradients match the parameters exactly.
        auto_params = jax.tree.map(lambda s: NamedSharding(self._auto_mesh, s.spec), shardings)
        batch_spec = PartitionSpec() if self.batch_axis is None else PartitionSpec(self.batch_axis)
        auto_batch = NamedSharding(self._auto_mesh, batch_spec)

        def step(*args: Any, **kwargs: Any) -> tuple[jax.Array, PyTree]:
            args = list(args)
            args[0] = jax.lax.with_sharding_constraint(args[0], auto_params)
            if self.batch_axis is not None:
                i = self.batch_argnum
                args[i] = jax.lax.with_sharding_constraint(args[i], auto_batch)
            return jax.value_and_grad(self.loss_fn)(*args, **kwargs)

        replicated = NamedSharding(self.mesh, PartitionSpec())
        return jax.jit(step, out_shardings=(replicated, shardings))

    def __repr__(self) -> str:
        name = getattr(self.loss_fn, "__name__", repr(self.loss_fn))
        return f"sharded_value_and_grad({name}, mesh_shape={dict(self.mesh.shape)})"


def sharded_value_and_grad(
    loss_fn: Callable[..., Any],
    mesh: Mesh,
    param_specs: PyTree,
    batch_axis: str | None = None,
    batch_argnum: int = 1,
) -> ShardedValueAndGrad:
    """``jax.value_and_grad(loss_fn)`` with parameters split across the mesh.

    For models too large for one device: each parameter leaf is split as its ``PartitionSpec``
    says (e.g. ``P(None, "model")`` splits the columns of a weight matrix over axis ``"model"``),
    and the batch is optionally split along another axis (``batch_axis``). The function runs
    under ``jax.jit`` with sharding constraints, and XLA's partitioner inserts the collectives the
    model needs, so ``loss_fn`` is unchanged and the results equal the single-device ones. The
    value comes back replicated and the gradients carry exactly the parameters' shardings, so an
    update ``params - lr * grads`` stays sharded.

    Args:
      loss_fn: ``loss_fn(params, batch, *rest, **kwargs) -> scalar``.
      mesh: the device mesh.
      param_specs: a ``PartitionSpec`` (``None`` = replicated) per parameter leaf, or per subtree
        (a prefix of the parameters' structure), or one spec for everything.
      batch_axis: mesh axis to split the batch's leading dimension over; ``None`` replicates it.
      batch_argnum: position of the batch argument (used only when ``batch_axis`` is set).

    Returns:
      A :class:`ShardedValueAndGrad`: call it as ``value, grads = f(params, batch, ...)``. It also
      has ``.shard_params(params)`` and ``.shard_batch(batch)`` to place inputs ahead of time.

    Raises:
      ValueError: if a spec or ``batch_axis`` names an axis the mesh lacks, or ``batch_argnum`` is
        not a positive integer; when called, if a parameter or the batch does not divide across
        the axes it is split over.

    Example:
      >>> import jax.numpy as jnp
      >>> from jax.sharding import PartitionSpec as P
      >>> mesh = make_mesh((1, jax.device_count()), ("data", "model"))
      >>> def loss_fn(p, x):
      ...     return jnp.mean(jnp.tanh(x @ p["w1"]) @ p["w2"])
      >>> specs = {"w1": P(None, "model"), "w2": P("model")}
      >>> f = sharded_value_and_grad(loss_fn, mesh, specs, batch_axis="data")
      >>> n = 4 * jax.device_count()
      >>> params = f.shard_params({"w1": jnp.ones((3, n)), "w2": jnp.ones(n)})
      >>> loss, grads = f(params, jnp.ones((2, 3)))
      >>> grads["w1"].sharding.spec
      P(None, 'model')
    """
    name = "sharded_value_and_grad"
    if not callable(loss_fn):
        raise TypeError(
            f"{name}: loss_fn must be callable; got {type(loss_fn).__name__}. "
            "Pass the loss function itself."
        )
    if isinstance(batch_argnum, bool) or not isinstance(batch_argnum, int) or batch_argnum < 1:
        raise ValueError(
            f"{name}: batch_argnum must be a positive integer (argument 0 holds the parameters); "
            f"got {batch_argnum!r}. Pass the position of the batch argument."
        )
    _check_mesh(mesh, name)
    if batch_axis is not None:
        _check_axis(mesh, batch_axis, name, "batch_axis")
    for spec in jax.tree.leaves(param_specs, is_leaf=_is_spec):
        _check_spec(spec, mesh, name)
    return ShardedValueAndGrad(loss_fn, mesh, param_specs, batch_axis, batch_argnum)


# --- helpers -------------------------------------------------------------------------------------


def _auto_view(mesh: Mesh) -> Mesh:
    """The same devices and names with every axis ``Auto`` (GSPMD propagation)."""
    if all(t == AxisType.Auto for t in mesh.axis_types):
        return mesh
    return Mesh(mesh.devices, mesh.axis_names, axis_types=(AxisType.Auto,) * len(mesh.axis_names))


def _check_mesh(mesh: Any, api: str) -> None:
    if not isinstance(mesh, Mesh):
        raise TypeError(
            f"{api}: mesh must be a jax.sharding.Mesh; got {type(mesh).__name__}. "
            "Build one with funcgrad.parallel.make_mesh(shape, names) or jax.make_mesh."
        )


def _check_axis(mesh: Mesh, axis: Any, api: str, arg: str) -> None:
    if axis not in mesh.axis_names:
        raise ValueError(
            f"{api}: the mesh has no axis {axis!r} ({arg}); got a mesh with axes "
            f"{tuple(mesh.axis_names)}. Pass {arg} as one of those names, or build the mesh with "
            f"an axis named {axis!r}."
        )


def _is_spec(x: Any) -> bool:
    return x is None or isinstance(x, PartitionSpec)


def _spec_axes(entry: Any) -> tuple[Any, ...]:
    """Mesh axis names in one ``PartitionSpec`` entry (a name, a tuple of names, or ``None``)."""
    if entry is None:
        return ()
    if isinstance(entry, tuple):
        return entry
    if isinstance(entry, str):
        return (entry,)
    return ()  # e.g. P.UNCONSTRAINED: nothing to check


def _check_spec(spec: Any, mesh: Mesh, api: str) -> None:
    if spec is None:
        return
    if not isinstance(spec, PartitionSpec):
        raise TypeError(
            f"{api}: parameter specs must be jax.sharding.PartitionSpec or None; got "
            f"{type(spec).__name__} ({spec!r}). Use e.g. P(None, 'model') per leaf."
        )
    for entry in spec:
        for axis in _spec_axes(entry):
            if axis not in mesh.axis_names:
                raise ValueError(
                    f"{api}: {spec} names mesh axis {axis!r}, but the mesh has axes "
                    f"{tuple(mesh.axis_names)}. Use one of those names in the spec."
                )


def _param_shardings(params: PyTree, mesh: Mesh, specs: PyTree, api: str) -> PyTree:
    """A ``NamedSharding`` per leaf of ``params``, validated against the leaf's shape."""

    def per_subtree(prefix: tuple[Any, ...], spec: Any, subtree: PyTree) -> PyTree:
        _check_spec(spec, mesh, api)
        spec = PartitionSpec() if spec is None else spec
        return jax.tree_util.tree_map_with_path(
            lambda path, leaf: _leaf_sharding(prefix + path, leaf, spec, mesh, api), subtree
        )

    try:
        return jax.tree_util.tree_map_with_path(per_subtree, specs, params, is_leaf=_is_spec)
    except ValueError as err:
        if str(err).startswith(f"{api}:"):
            raise
        raise ValueError(
            f"{api}: the parameter specs do not match the parameters' structure; got specs "
            f"{jax.tree.structure(specs, is_leaf=_is_spec)} for parameters "
            f"{jax.tree.structure(params)}. Give one PartitionSpec per leaf (or per subtree)."
        ) from err


def _leaf_sharding(path: Any, leaf: Any, spec: PartitionSpec, mesh: Mesh, api: str) -> Any:
    shape = np.shape(leaf)
    where = f"parameter {jax.tree_util.keystr(path)}" if path else "parameter"
    if len(spec) > len(shape):
        raise ValueError(
            f"{api}: {spec} has {len(spec)} entries but {where} has shape {shape} "
            f"({len(shape)} dims). Give at most one spec entry per dimension."
        )
    for dim, entry in enumerate(spec):
        axes = _spec_axes(entry)
        if not axes:
            continue
        parts = math.prod(mesh.shape[a] for a in axes)
        if shape[dim] % parts:
            raise ValueError(
                f"{api}: dimension {dim} of {where} (size {shape[dim]}) does not divide across "
                f"mesh axes {axes} ({parts} devices); got shape {shape} with {spec}. Pad the "
                f"parameter to a multiple of {parts} or split a different dimension."
            )
    return NamedSharding(mesh, spec)


def _check_batch(batch: PyTree, num_shards: int, axis: str, api: str) -> None:
    """Every leaf has the same leading dimension and it divides into ``num_shards`` shards."""
    leaves = jax.tree_util.tree_leaves_with_path(batch)
    if not leaves:
        raise ValueError(
            f"{api}: the batch has no arrays; got {batch!r}. Pass a pytree of arrays with a "
            "leading batch dimension."
        )
    sizes = {}
    for path, leaf in leaves:
        shape = np.shape(leaf)
        if not shape:
            where = f"batch leaf {jax.tree_util.keystr(path)}" if path else "batch"
            raise ValueError(
                f"{api}: {where} is a scalar; every batch leaf needs a leading batch dimension. "
                "Move per-call scalars out of the batch into another argument."
            )
        sizes[path] = shape[0]
    if len(set(sizes.values())) > 1:
        got = {jax.tree_util.keystr(path) or "batch": n for path, n in sizes.items()}
        raise ValueError(
            f"{api}: the batch leaves have different leading dimensions; got {got}. "
            "Every leaf of the batch must have the same batch size."
        )
    size = next(iter(sizes.values()))
    if size % num_shards:
        raise ValueError(
            f"{api}: the batch's leading dimension ({size}) does not divide across the "
            f"{num_shards} devices of mesh axis {axis!r}. Use a batch size that is a multiple of "
            f"{num_shards} (drop or pad the last batch), or a mesh axis whose size divides {size}."
        )
