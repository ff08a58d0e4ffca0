"""Exploring channels: what one feature detector of a layer dreams from a grey canvas.

Contract:
- ``channel_config(model_name, layer, channel, size)`` is the ``DreamConfig`` of one channel's
  sketch: that channel alone as the objective, from a ``size``-pixel noise canvas, Laplacian
  normalisation (smooth, readable patterns), two octaves, a fixed seed.
- ``channel_sketch(model, layer, channel, size)`` runs it and returns the uint8 RGB picture.
- ``channel_canvas(config)`` is the noise canvas a sketch starts from.
Importing this module does not import TensorFlow (a page on a cluster builds sketch configs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .config import DreamConfig
from .media.image import noise_canvas

if TYPE_CHECKING:
    from .models.feature_model import FeatureModel

#: Side of a channel sketch, in pixels.
SKETCH_SIDE = 112


def channel_config(
    model_name: str, layer: str, channel: int, size: int = SKETCH_SIDE
) -> DreamConfig:
    """The settings of one channel's sketch (see the module docstring)."""
    return DreamConfig(
        model=model_name,
        layers=(),
        channels=((layer, int(channel), 1.0),),
        steps_per_octave=10,
        step_size=0.05,
        octaves=2,
        octave_scale=1.5,
        max_side=size,
        normalize="laplacian",
        start="noise",
        seed=0,
        preview_every=1000,
    )


def channel_sketch(
    model: FeatureModel, layer: str, channel: int, size: int = SKETCH_SIDE
) -> np.ndarray:
    """What ``channel`` of ``layer`` dreams from a grey canvas: a (size, size, 3) uint8 image.

    Raises:
        ValueError: the layer does not have that channel.
    """
    from .render import dream

    config = channel_config(model.name, layer, channel, size)
    return dream(channel_canvas(config), config, model).image


def channel_canvas(config: DreamConfig) -> np.ndarray:
    """The square noise canvas a channel sketch of ``config`` starts from."""
    return noise_canvas(config.max_side, config.max_side, config.seed)
