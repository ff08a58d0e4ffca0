"""A zoom into a dream: each frame the previous one enlarged, turned and dreamed again.

Contract:
- ``zoom_step(image, zoom, rotate)`` enlarges ``image`` by ``zoom`` about its centre and turns
  it by ``rotate`` degrees, keeping its size (uncovered corners filled by reflection).
- ``zoom_frames(photo, config, motion, model)`` yields ``motion.zoom_frames`` updates: the
  dreamed photo, then each frame the previous one zoomed in by ``motion.zoom`` (turned by
  ``motion.rotate``), dreamed again with ``carried_steps``. With ``hold_strength`` each
  frame's new detail has zero mean, so a long zoom keeps its brightness. A ``config.mask``
  applies to every frame (a zoom enlarges earlier frames, so their dreamed part grows
  outward as it dives).
- Cancelling is stopping iteration. Nothing here writes files.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import cv2
import numpy as np

from ..config import DreamConfig
from .config import MotionConfig, MotionUpdate
from .frame import dream_frame, lay_detail
from .quality import added_detail


def zoom_step(image: np.ndarray, zoom: float, rotate: float = 0.0) -> np.ndarray:
    """``image`` enlarged by ``zoom`` and turned by ``rotate`` degrees about its centre.

    The size stays the same; corners uncovered by a rotation are filled by reflection.
    """
    height, width = image.shape[:2]
    centre = ((width - 1) / 2, (height - 1) / 2)
    matrix = cv2.getRotationMatrix2D(centre, rotate, zoom)
    return cv2.warpAffine(
        image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )


def zoom_frames(
    photo: np.ndarray, config: DreamConfig, motion: MotionConfig, model=None
) -> Iterator[MotionUpdate]:
    """Dream ``photo``, then zoom in and dream again, ``motion.zoom_frames`` frames in all.

    With ``hold_strength`` each frame's newly added detail has zero mean, so the zoom keeps
    its brightness however long it runs.

    Raises:
        ValueError: bad photo array.
        WeightsUnavailableError: ``model`` omitted and its weights cannot be had.
    """
    carried_config = config.replace(steps_per_octave=motion.steps_for_carried(config))
    start = time.perf_counter()
    output = None
    for index in range(motion.zoom_frames):
        if output is None:
            output = dream_frame(photo, config, model)
        else:
            zoomed = zoom_step(output, motion.zoom, motion.rotate)
            output = dream_frame(zoomed, carried_config, model)
            if motion.hold_strength:
                added = added_detail(zoomed, output)
                output = lay_detail(zoomed, added - added.mean(axis=(0, 1)))
            if config.mask is not None:  # each frame dreams only where the mask says
                output = config.mask.lay(zoomed, output)
        yield MotionUpdate(
            index=index,
            total=motion.zoom_frames,
            elapsed=time.perf_counter() - start,
            image=output,
            fresh=index == 0,
            explained=0.0,
        )
