"""One frame of a moving dream: dream it, and lay carried detail onto it.

Contract:
- ``dream_frame(image, config, model)`` is the dreamed picture of one frame (the render
  loop's, TensorFlow loaded only when it runs).
- ``lay_detail(source, detail)`` adds float detail to a ``uint8`` frame, rounded and clipped:
  what ``quality.added_detail`` measures, put back.
"""

from __future__ import annotations

import numpy as np

from ..config import DreamConfig


def dream_frame(image: np.ndarray, config: DreamConfig, model) -> np.ndarray:
    """``image`` dreamed under ``config`` with ``model`` (loaded when ``None``): the dream's
    picture only, its record left out."""
    from ..render import dream  # TensorFlow loads only when a dream runs

    return dream(image, config, model).image


def lay_detail(source: np.ndarray, detail: np.ndarray) -> np.ndarray:
    """``detail`` (float, grey levels) added to the ``uint8`` frame ``source``, rounded and
    clipped back to ``uint8``: the inverse of ``quality.added_detail``."""
    return np.clip(source.astype(np.float32) + detail + 0.5, 0, 255).astype(np.uint8)
