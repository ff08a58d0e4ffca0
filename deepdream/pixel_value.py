"""Pictures that are values: kept read-only, compared and hashed by their content.

Contract: a subclass of ``PixelValue`` checks its array in ``_check(pixels)`` and calls
``super().__init__(pixels)``. The pixels are then a read-only contiguous copy, ``digest`` is
``"sha256:"`` and 16 hex digits of their shape and bytes (what a dream's record says of a
guide or a mask, never a file name), two values of one class with equal pixels are equal and
hash alike (so a frozen ``DreamConfig`` holding one stays hashable), and a value pickles by
its pixels (the cluster ships configs to its workers). Pure numpy.
"""

from __future__ import annotations

import hashlib

import numpy as np


class PixelValue:
    """Read-only pixels with a content digest; equal when the digests are."""

    __slots__ = ("pixels", "digest")

    def __init__(self, pixels: np.ndarray) -> None:
        self._check(pixels)
        pixels = np.ascontiguousarray(pixels)
        pixels.setflags(write=False)
        self.pixels = pixels
        hasher = hashlib.sha256(repr(pixels.shape).encode())
        hasher.update(pixels.tobytes())
        self.digest = "sha256:" + hasher.hexdigest()[:16]

    def _check(self, pixels: np.ndarray) -> None:
        """Raise ``ValueError`` (a plain sentence) for pixels this kind cannot hold."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __getstate__(self) -> dict:
        return {"pixels": np.array(self.pixels)}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["pixels"])
