"""`compat.device`: torch's device objects, mapped onto JAX's platforms."""

from __future__ import annotations


class device:  # noqa: N801 - torch's name
    """Mirrors `torch.device('cpu')`. compat runs on JAX's default backend; a JAX GPU reads as
    `cuda` and a TPU as `xla`, as torch/XLA name them."""

    __slots__ = ("type", "index")

    def __init__(self, type: str = "cpu", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index
        if ":" in type:
            type, idx = type.split(":")
            index = int(idx)
        self.type = type
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


_PLATFORM = {"cpu": "cpu", "gpu": "cuda", "cuda": "cuda", "rocm": "cuda", "tpu": "xla"}


def device_of(arr) -> device:
    try:
        d = next(iter(arr.devices()))
    except Exception:  # tracers have no device
        return device("cpu")
    kind = _PLATFORM.get(d.platform, d.platform)
    return device("cpu") if kind == "cpu" else device(kind, d.id)
