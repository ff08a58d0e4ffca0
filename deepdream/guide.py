"""A guide image: "dream like this picture". Pure numpy and Pillow, no TensorFlow.

Contract:
- ``Guide.from_image(array)`` keeps a copy of a ``uint8`` RGB array shrunk (never enlarged) so
  its longer side is at most ``GUIDE_MAX_SIDE`` pixels: the guide's own working size. Its
  features are computed from these pixels (``objectives.guide_features``).
- A guide is a value: two guides with the same pixels are equal and hash the same, so a
  ``DreamConfig`` holding one stays hashable and comparable. ``digest`` is a short hash of the
  pixels: what a dream's metadata records about its guide (never a file name or the bytes).
- It pickles (the cluster ships configs to workers) and is small (at most 512x512x3 bytes).
"""

from __future__ import annotations

import numpy as np

from .media.image import fit_within
from .pixel_value import PixelValue

#: The guide's features are computed at most at this size (longer side, pixels).
GUIDE_MAX_SIDE = 512


class Guide(PixelValue):
    """The pixels of a guide image at its working size, compared by content."""

    __slots__ = ()

    def _check(self, pixels: np.ndarray) -> None:
        if not isinstance(pixels, np.ndarray) or pixels.ndim != 3 or pixels.shape[2] != 3:
            raise ValueError("The guide image must be an RGB array of shape (height, width, 3).")
        if pixels.dtype != np.uint8 or min(pixels.shape[:2]) < 1:
            raise ValueError("The guide image must hold uint8 pixels and not be empty.")

    @classmethod
    def from_image(cls, image: np.ndarray) -> Guide:
        """A guide from a decoded photo (any size): shrunk to its working size first."""
        if not isinstance(image, np.ndarray) or image.ndim != 3:
            raise ValueError("The guide image must be an RGB array of shape (height, width, 3).")
        return cls(fit_within(image, GUIDE_MAX_SIDE))

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the guide's pixels."""
        return self.pixels.shape[:2]

    def __repr__(self) -> str:
        height, width = self.shape
        return f"Guide({width}x{height}, {self.digest})"
