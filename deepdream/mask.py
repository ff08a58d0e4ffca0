"""A mask: where the dream goes. Pure numpy and Pillow, no TensorFlow.

Contract:
- ``Mask.from_image(image, feather=0, invert=False)`` takes any picture (grey, RGB or RGBA,
  any size: white = dream, black = keep, grey = part strength; an RGBA picture's alpha counts
  as its coverage) and keeps it as one ``uint8`` plane, shrunk (never enlarged) so its longer
  side is at most ``MASK_MAX_SIDE``. ``feather`` blurs its edges by that many pixels of the
  mask's own size (a soft edge); ``invert`` swaps dream and keep.
- ``Mask.strength(height, width)`` is the mask stretched to that size as float32 0..1: a mask
  drawn on a photo has the photo's shape, and one of another shape is fitted to it.
- ``Mask.lay(photo, dreamed)`` keeps ``photo``'s pixels where the mask is 0 (exactly: not
  one grey level moves there), takes ``dreamed`` where it is 1 and mixes in between. The
  render loop also scales every step's change by the mask at each octave, so the dream does
  not grow from the kept part into the painted one either.
- A mask is a value: equal pixels, equal masks, one hash. ``digest`` is what a dream's record
  says of its mask (never a file name). It pickles (the cluster ships configs to workers).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from .pixel_value import PixelValue

#: Longest side a mask is kept at: sharper than any working size, small enough to ship.
MASK_MAX_SIDE = 2048
#: Most feather (pixels of the mask's own size) a mask may ask for.
MAX_FEATHER = 200


class Mask(PixelValue):
    """One grey plane, 255 = dream fully, 0 = keep the photo; compared by content."""

    __slots__ = ()

    def _check(self, pixels: np.ndarray) -> None:
        if not isinstance(pixels, np.ndarray) or pixels.ndim != 2 or pixels.dtype != np.uint8:
            raise ValueError("A mask must be a grey uint8 array of shape (height, width).")
        if min(pixels.shape) < 1:
            raise ValueError("The mask is empty.")

    @classmethod
    def from_image(cls, image: np.ndarray, feather: float = 0, invert: bool = False) -> Mask:
        """A mask from a picture (see the module docstring).

        Raises:
            ValueError: not a picture, a feather outside 0..``MAX_FEATHER``, or a mask that
                dreams nowhere (all black after ``invert``).
        """
        grey = _coverage(image)
        if not 0 <= feather <= MAX_FEATHER:
            raise ValueError(f"The mask's feather must be 0 to {MAX_FEATHER} pixels.")
        plane = Image.fromarray(grey)
        if max(plane.size) > MASK_MAX_SIDE:
            scale = MASK_MAX_SIDE / max(plane.size)
            size = (max(1, round(plane.width * scale)), max(1, round(plane.height * scale)))
            plane = plane.resize(size, Image.Resampling.BOX)
        if invert:
            plane = Image.eval(plane, lambda value: 255 - value)
        if feather > 0:
            plane = plane.filter(ImageFilter.GaussianBlur(feather / 2))
        pixels = np.asarray(plane, dtype=np.uint8)
        if not pixels.any():
            raise ValueError(
                "The mask is black everywhere, so there is nowhere to dream: paint (or make "
                "white) where the dream should go."
            )
        return cls(pixels)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the mask's pixels."""
        return self.pixels.shape

    @property
    def coverage(self) -> float:
        """Share of the picture dreamed, 0..1 (grey counts in part)."""
        return float(self.pixels.mean() / 255)

    def strength(self, height: int, width: int) -> np.ndarray:
        """The mask at ``height`` x ``width`` as float32 0..1 (0 stays exactly 0 away from
        an edge)."""
        plane = Image.fromarray(self.pixels)
        if plane.size != (width, height):
            plane = plane.resize((width, height), Image.Resampling.BILINEAR)
        return np.asarray(plane, dtype=np.float32) / 255.0

    def lay(self, photo: np.ndarray, dreamed: np.ndarray) -> np.ndarray:
        """``photo`` where the mask is 0, ``dreamed`` where it is 1, mixed in between."""
        if photo.shape != dreamed.shape:
            raise ValueError("The photo and the dream must have the same size.")
        weight = self.strength(*photo.shape[:2])
        result = np.empty_like(photo)
        for channel in range(photo.shape[2]):  # a plane at a time: large photos stay cheap
            kept = photo[..., channel].astype(np.float32)
            change = dreamed[..., channel].astype(np.float32) - kept
            result[..., channel] = np.clip(kept + weight * change + 0.5, 0, 255).astype(np.uint8)
        return result

    def __repr__(self) -> str:
        height, width = self.shape
        return f"Mask({width}x{height}, {self.coverage:.0%} dreamed, {self.digest})"


def _coverage(image: np.ndarray) -> np.ndarray:
    """A picture as one uint8 plane: its brightness, times its alpha when it has one."""
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise ValueError("A mask must be a picture: white where to dream, black where not.")
    pixels = image
    if pixels.dtype == np.bool_:
        pixels = pixels.astype(np.uint8) * 255
    if pixels.dtype != np.uint8:
        raise ValueError("A mask picture must hold uint8 pixels (0-255).")
    if pixels.ndim == 2:
        return pixels
    channels = pixels.shape[2]
    if channels not in (1, 3, 4):
        raise ValueError("A mask picture must be grey, RGB or RGBA.")
    if channels == 1:
        return pixels[..., 0]
    grey = np.asarray(Image.fromarray(np.ascontiguousarray(pixels[..., :3])).convert("L"))
    if channels == 4:  # painted strokes on a transparent layer: the alpha is the coverage
        alpha = pixels[..., 3].astype(np.uint16)
        grey = ((grey.astype(np.uint16) * alpha + 127) // 255).astype(np.uint8)
    return grey
