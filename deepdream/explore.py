"""Exploring channels: what one feature detector of a layer sees, drawn as lucid draws it (a
Fourier, colour-decorrelated picture grown under jitter, scale and rotation; ``visualise.py``).

Contract:
- ``channel_config(model_name, layer, channel, size)`` is the ``DreamConfig`` of one channel's
  sketch: that channel alone as the objective, from noise, ``param="fft"`` with the standard
  transforms, ``SKETCH_STEPS`` steps, a fixed seed. Dreamed (``dream_steps``, here or on a
  cluster's worker) on ``channel_canvas(config)`` it gives ``channel_sketch``'s very pixels.
- ``channel_sketch(model, layer, channel, size)`` is that sketch: a (size, size, 3) uint8 image.
- ``channel_sketches(model, layer, channels, size)`` draws several channels in one run (a
  batch, member ``i`` maximising ``channels[i]``: one trace, one pass a step for all): a list
  of (size, size, 3) uint8 images in the order asked.
- ``diverse_sketches(model, layer, channel, n, size)`` draws ``n`` versions of one channel at
  once, pushed apart by a ``Diversity`` penalty (weight ``DIVERSITY``) on how alike their
  styles are at ``layer``, so they show different facets: a list of ``n`` images.
- ``channel_canvas(config)`` is the noise canvas a sketch's config dreams on (its size only
  matters).
Raises ``ValueError`` for a channel the layer has not, or a size below the network's smallest.
Importing this module does not import TensorFlow (a page on a cluster builds sketch configs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .config import DreamConfig
from .media.image import noise_canvas

if TYPE_CHECKING:
    from .models.feature_model import FeatureModel

#: Side of a channel sketch, in pixels.
SKETCH_SIDE = 112
#: Side of a channel opened larger.
LARGE_SIDE = 192
#: Steps a sketch grows for: patterns are clear by 48 (issue 30's measurements).
SKETCH_STEPS = 48
#: The diversity penalty's weight: at -5 four versions' Gram similarity falls from about 0.96
#: to 0.3 (mixed4:97, measured on Google's InceptionV3) while each still shows its channel.
DIVERSITY = -5.0


def channel_config(
    model_name: str, layer: str, channel: int, size: int = SKETCH_SIDE
) -> DreamConfig:
    """The settings of one channel's sketch (see the module docstring)."""
    return DreamConfig(
        model=model_name,
        layers=(),
        channels=((layer, int(channel), 1.0),),
        steps_per_octave=SKETCH_STEPS,
        octaves=1,
        max_side=size,
        start="noise",
        param="fft",
        transforms="standard",
        seed=0,
        preview_every=1000,
    )


def channel_sketch(
    model: FeatureModel,
    layer: str,
    channel: int,
    size: int = SKETCH_SIDE,
    steps: int = SKETCH_STEPS,
) -> np.ndarray:
    """What ``channel`` of ``layer`` sees: a (size, size, 3) uint8 image."""
    from .feature_objectives import Channel

    return _grown(model, Channel(layer, int(channel)), size, steps, batch=1)[0]


def channel_sketches(
    model: FeatureModel,
    layer: str,
    channels: Sequence[int],
    size: int = SKETCH_SIDE,
    steps: int = SKETCH_STEPS,
) -> list[np.ndarray]:
    """The sketches of ``channels`` of ``layer``, drawn in one batched run."""
    from .feature_objectives import Channel

    if not channels:
        return []
    objective = sum(Channel(layer, int(c), member=i) for i, c in enumerate(channels))
    return list(_grown(model, objective, size, steps, batch=len(channels)))


def diverse_sketches(
    model: FeatureModel,
    layer: str,
    channel: int,
    n: int = 4,
    size: int = LARGE_SIDE,
    steps: int = SKETCH_STEPS,
) -> list[np.ndarray]:
    """``n`` different versions of what ``channel`` of ``layer`` sees (``n`` >= 1)."""
    from .feature_objectives import Channel, Diversity

    if n < 1:
        raise ValueError("Draw at least one version of the channel.")
    objective = Channel(layer, int(channel)) + Diversity(layer, DIVERSITY)
    return list(_grown(model, objective, size, steps, batch=n))


def _grown(model, objective, size: int, steps: int, batch: int) -> np.ndarray:
    # The same settings as channel_config's dream (from_noise.py), so a sketch drawn here
    # and one dreamed on a cluster's worker are the same picture.
    from .from_noise import LEARNING_RATE
    from .visualise import visualise

    return visualise(
        model,
        objective,
        size=size,
        batch=batch,
        steps=steps,
        param="fft",
        transforms="standard",
        learning_rate=LEARNING_RATE,
        seed=0,
    )


def channel_canvas(config: DreamConfig) -> np.ndarray:
    """The square noise canvas a channel sketch of ``config`` starts from."""
    return noise_canvas(config.max_side, config.max_side, config.seed)
