"""Octave arithmetic: which sizes a dream is computed at. Pure Python, no TensorFlow.

Contract:
- ``working_shape(shape, max_side)`` is the size the dream is computed at: the input's size,
  shrunk (never enlarged) so that its longer side is at most ``max_side``.
- ``octave_shapes(shape, n, scale, min_side)`` lists up to ``n`` sizes from small to full
  size, each ``scale`` times the previous. Octaves whose shorter side would fall below
  ``min_side`` (what the model can see) are left out rather than crashing; the full size is
  always the last entry, whatever its size (the gradient step pads tiles that are too small).
- ``tile_starts(length, tile)`` covers every pixel of a row or column with full tiles; the
  last one is pulled back to end at the border instead of being skipped or left partial.
"""

from __future__ import annotations

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


def tile_starts(length: int, tile: int) -> list[int]:
    """Offsets of tiles of side ``tile`` that together cover ``range(length)``.

    A length no longer than one tile gives ``[0]`` (that single tile is the whole length).
    Otherwise tiles sit every ``tile`` pixels and the last starts at ``length - tile`` so it
    ends exactly at the border (it may overlap its neighbour; no pixel is skipped).
    """
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, tile))
    starts.append(length - tile)
    return starts
