"""How good a moving dream is, measured: flicker, drift, strength and edges.

Contract (all pure numpy/OpenCV; frames are uint8 RGB arrays of one size; ``D`` below is what
the dream added to a frame, ``output - input`` in grey levels):
- ``detail_strength(D)``: the mid-frequency energy of ``D`` (mean absolute difference of
  Gaussians, sigma 1 and 4, on its grey values): how strong the dream's pattern is, blind to
  an overall brightness change.
- ``flicker(inputs, outputs, shift)``: for a clip whose content moves by a known ``shift``
  ``(dy, dx)`` pixels a frame (frame ``t+1`` at ``(y, x)`` shows what frame ``t`` shows at
  ``(y + dy, x + dx)``), the median over ``t`` of ``mean|D(t+1) moved back - D(t)|`` divided by
  ``mean|D|``. 0 is a dream glued to the scene; dreaming each frame on its own gives about
  0.9.
- ``drift(inputs, outputs, count)``: mean of ``D`` over the last ``count`` frames minus over
  the first ``count`` (grey levels): brightness creep shows up here.
- ``strength_ratios(inputs, outputs)``: each frame's ``detail_strength`` over the first's.
- ``edge_ratio(inputs, outputs, shift, strip)``: how strong the dream is in the strip of
  ``strip`` pixels where new content enters (the leading edge of a pan), relative to the rest
  of the frame; the median over the frames after the first.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def added_detail(source: np.ndarray, output: np.ndarray) -> np.ndarray:
    """``output - source`` as float32 grey levels (what the dream added)."""
    return output.astype(np.float32) - source.astype(np.float32)


def _band(detail: np.ndarray) -> np.ndarray:
    grey = detail.mean(axis=2) if detail.ndim == 3 else detail
    grey = grey.astype(np.float32)
    return cv2.GaussianBlur(grey, (0, 0), 1.0) - cv2.GaussianBlur(grey, (0, 0), 4.0)


def detail_strength(detail: np.ndarray) -> float:
    """Mid-frequency energy of an added-detail image (grey levels)."""
    return float(np.abs(_band(detail)).mean())


def _overlap(shape: tuple[int, int], shift: tuple[int, int]) -> tuple[tuple, tuple]:
    """Slices (in frame t+1, in frame t) of the part both frames show, for a content shift."""
    height, width = shape
    dy, dx = shift
    later = (slice(max(0, -dy), height - max(0, dy)), slice(max(0, -dx), width - max(0, dx)))
    earlier = (slice(max(0, dy), height - max(0, -dy)), slice(max(0, dx), width - max(0, -dx)))
    return later, earlier


def flicker(
    inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray], shift: tuple[int, int]
) -> float:
    """Median frame-to-frame change of the added detail, after undoing the known motion."""
    details = [added_detail(i, o) for i, o in zip(inputs, outputs)]
    later, earlier = _overlap(details[0].shape[:2], shift)
    ratios = []
    for current, following in zip(details, details[1:]):
        a, b = following[later], current[earlier]
        scale = (np.abs(a).mean() + np.abs(b).mean()) / 2
        ratios.append(float(np.abs(a - b).mean() / scale) if scale > 0 else 0.0)
    return float(np.median(ratios))


def drift(inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray], count: int = 4) -> float:
    """Mean added brightness of the last ``count`` frames minus the first ``count`` frames'."""
    means = [float(added_detail(i, o).mean()) for i, o in zip(inputs, outputs)]
    return float(np.mean(means[-count:]) - np.mean(means[:count]))


def strength_ratios(inputs: Sequence[np.ndarray], outputs: Sequence[np.ndarray]) -> list[float]:
    """Each frame's dream strength divided by the first frame's."""
    strengths = [detail_strength(added_detail(i, o)) for i, o in zip(inputs, outputs)]
    return [s / strengths[0] for s in strengths]


def edge_ratio(
    inputs: Sequence[np.ndarray],
    outputs: Sequence[np.ndarray],
    shift: tuple[int, int],
    strip: int,
) -> float:
    """Dream strength in the strip where content enters, over the strength elsewhere.

    ``shift`` as for ``flicker``: content moving left (``dx > 0``) enters on the right.
    """
    dy, dx = shift
    ratios = []
    for source, output in list(zip(inputs, outputs))[1:]:
        band = np.abs(_band(added_detail(source, output)))
        if abs(dx) >= abs(dy):
            edge = band[:, -strip:] if dx > 0 else band[:, :strip]
            rest = band[:, strip:-strip]
        else:
            edge = band[-strip:, :] if dy > 0 else band[:strip, :]
            rest = band[strip:-strip, :]
        ratios.append(float(edge.mean() / rest.mean()) if rest.mean() > 0 else 0.0)
    return float(np.median(ratios))
