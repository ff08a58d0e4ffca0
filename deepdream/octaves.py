"""Octave arithmetic: which sizes a dream is computed at. Pure Python, no TensorFlow.

Contract:
- ``working_shape(shape, max_side)`` is the size the dream is computed at: the input's size,
  shrunk (never enlarged) so that its longer side is at most ``max_side``.
- ``octave_shapes(shape, n, scale, min_side)`` lists up to ``n`` sizes from small to full
  size, each ``scale`` times the previous. Octaves whose shorter side would fall below
  ``min_side`` (what the model can see) are left out rather than crashing; the full size is
  always the last entry, whatever its size (the gradient step pads tiles that are too small).
- ``octave_plan(shape, config, min_side)`` is the octave sizes a dream of a photo of ``shape``
  (height, width) runs at under ``config`` (its ``max_side``, ``octaves``, ``octave_scale``).
- ``tile_spans(length, tile)`` splits a row or column into near-equal tiles no longer than
  ``tile`` that cover every pixel once: no skipped border, no sliver, no wasted overlap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import DreamConfig

Shape = tuple[int, int]


def working_shape(shape: Shape, max_side: int) -> Shape:
    """The (height, width) to dream at: ``shape`` scaled down so its longer side <= max_side.

    Raises:
        ValueError: for an empty shape or a non-positive ``max_side``.
    """
    height, width = shape
    if height < 1 or width < 1:
        raise ValueError(f"The image is empty ({height}x{width} pixels).")
    if max_side < 1:
        raise ValueError("max_side must be at least 1.")
    longer = max(height, width)
    if longer <= max_side:
        return (height, width)
    factor = max_side / longer
    return (max(1, round(height * factor)), max(1, round(width * factor)))


def octave_shapes(shape: Shape, n: int, scale: float, min_side: int) -> list[Shape]:
    """Sizes to dream at, smallest first, ending with ``shape`` itself.

    Args:
        shape: (height, width) of the full working size.
        n: how many octaves are wanted (>= 1).
        scale: ratio between neighbouring octaves (> 1).
        min_side: smallest side the model accepts; smaller octaves are dropped.

    Returns:
        A list of 1..n distinct (height, width) pairs, strictly growing, last == shape.

    Raises:
        ValueError: for n < 1, scale <= 1, or an empty shape.
    """
    height, width = shape
    if height < 1 or width < 1:
        raise ValueError(f"The image is empty ({height}x{width} pixels).")
    if n < 1:
        raise ValueError("There must be at least one octave.")
    if not scale > 1:
        raise ValueError("The octave scale must be above 1.")
    shapes: list[Shape] = [(height, width)]
    for level in range(1, n):
        factor = scale**-level
        smaller = (round(height * factor), round(width * factor))
        if min(smaller) < min_side or smaller == shapes[-1]:
            break
        shapes.append(smaller)
    return shapes[::-1]


def octave_plan(shape: Shape, config: DreamConfig, min_side: int) -> list[Shape]:
    """The octave sizes, small to full working size, a dream of a ``shape`` photo runs at."""
    working = working_shape(shape, config.max_side)
    return octave_shapes(working, config.octaves, config.octave_scale, min_side)


def tile_spans(length: int, tile: int) -> list[tuple[int, int]]:
    """Split ``range(length)`` into ``ceil(length / tile)`` near-equal ``(start, size)`` spans.

    Every pixel is covered exactly once, no span is longer than ``tile``, and only the last
    span is shorter, by fewer pixels than there are spans, so there is no sliver of a tile
    (the TensorFlow tutorial skips that sliver; overlapping it would waste up to a tile).

    Raises:
        ValueError: for a non-positive length or tile.
    """
    if length < 1 or tile < 1:
        raise ValueError("length and tile must be at least 1.")
    count = -(-length // tile)
    size = -(-length // count)
    return [(start, min(size, length - start)) for start in range(0, length, size)]
