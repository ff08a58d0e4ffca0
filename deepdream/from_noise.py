"""A dream from noise drawn as a feature visualisation: the settings of a ``DreamConfig`` turned
into an objective and grown as a Fourier, colour-decorrelated picture (``visualise.py``), told
as the render loop's own ``DreamUpdate``s.

Contract:
- ``objective_for(config)`` is what the dream maximises: a ``Layer`` term per layer (its
  weight, negative ones too) and a ``Channel`` term per channel (negative ones push it down).
  With a guide, those terms take ``1 - guide_strength`` of the objective and a ``GuideMatch``
  (the pixel loop's guided objective, ``objectives.guided_objective``, on the guide's
  features at its layer) takes ``guide_strength``, as in a photo's dream.
- ``noise_steps(canvas, config, model)`` is the render loop for ``config.visualises``
  (a dream from noise with ``param="fft"``): ``config.total_steps`` (steps per octave times
  octaves) Adam steps of ``visualise_steps`` at the working size (the canvas's size fitted
  within ``max_side``), ``config.transforms`` at every step, seeded by ``config.seed``.
  The canvas gives only the size: the picture grows from the seed's own faint spectrum.
  It yields one ``DreamUpdate`` a step, counted as octaves of ``steps_per_octave`` steps so
  that progress bars and time estimates read as for any dream; previews every
  ``preview_every`` steps; then the last update with its ``DreamResult``, the picture at the
  canvas's size, laid through the mask (if any) like every dream (``result.finish_dream``).
- The objective reads each layer before its ReLU (lucid's way: a channel off on grey still has
  a gradient) when the dream is of channels only; with layers or a guide it reads the layers'
  outputs, as DeepDream's squared-activation objective and the guide's features do. The
  normalisation (``normalize``) and ``step_size`` belong to the pixel loop: Adam, at
  ``LEARNING_RATE``, needs neither.
- The same canvas size, config and model give the same pixels. Stopping iteration cancels.
Raises ``ValueError`` for a channel the layer has not (before any step).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import DreamConfig
from .feature_objectives import Channel, Layer, Objective
from .media import image as pixels
from .models.feature_model import FeatureModel
from .objectives import guide_features, guided_objective
from .octaves import working_shape
from .result import DreamUpdate, finish_dream
from .visualise import visualise_steps

#: Adam's learning rate on the Fourier variables (lucid's default; ``step_size`` is the pixel
#: loop's and means something else there).
LEARNING_RATE = 0.05


def objective_for(config: DreamConfig) -> Objective:
    """The layers' and channels' terms of ``config`` as one ``Objective``."""
    terms = [Layer(name, weight) for name, weight in config.layers]
    terms += [Channel(layer, channel, weight) for layer, channel, weight in config.channels]
    return Objective(tuple(terms))


@dataclass(frozen=True, eq=False)
class GuideMatch:
    """How well the dream's features at ``layer`` match the guide's ``vectors`` (M, C)."""

    layer: str
    vectors: Any  # a tf.Tensor
    weight: float = 1.0

    def value(self, activations):
        return self.weight * guided_objective(activations[self.layer], self.vectors)

    def check(self, channel_counts: Mapping[str, int]) -> None:
        """Every guide matches: its features come from the same layer."""


def _guided(config: DreamConfig, model: FeatureModel, shape: tuple[int, int]) -> Objective:
    plain = objective_for(config)
    if config.guide is None:
        return plain
    strength = config.guide_strength
    # The guide at the dream's scale, as the pixel loop's last octave matches it.
    scale = min(1.0, max(shape) / max(config.guide.shape))
    vectors = guide_features(model, config.matched_layer, config.guide, scale)
    match = GuideMatch(config.matched_layer, vectors, strength)
    return Objective(tuple(term * (1.0 - strength) for term in plain.terms) + (match,))


def noise_steps(
    canvas: np.ndarray, config: DreamConfig, model: FeatureModel
) -> Iterator[DreamUpdate]:
    """The Fourier dream from noise, step by step; see the module docstring."""
    shape = working_shape(canvas.shape[:2], config.max_side)
    total = config.total_steps
    steps = visualise_steps(
        model,
        _guided(config, model, shape),
        size=shape,
        steps=total,
        param=config.param,
        transforms=config.transforms,
        learning_rate=LEARNING_RATE,
        seed=config.seed,
        preview_every=config.preview_every,
        pre_relu=not config.layers and config.guide is None,
    )
    start = time.perf_counter()
    for update in steps:
        if update.images is not None:
            break
        yield _as_dream_update(update, config)
    result = _finish(canvas, update.images[0], config, model, shape, time.perf_counter() - start)
    last = _as_dream_update(update, config)
    yield dataclasses.replace(last, preview=result.image, result=result)


def _as_dream_update(update, config: DreamConfig) -> DreamUpdate:
    per_octave = config.steps_per_octave
    preview = None if update.preview is None else update.preview[0]
    return DreamUpdate(
        octave=(update.step - 1) // per_octave + 1,
        octaves=config.octaves,
        step=(update.step - 1) % per_octave + 1,
        steps=per_octave,
        done=update.step,
        total=update.steps,
        work=update.step / update.steps,
        loss=update.objective,
        elapsed=update.elapsed,
        preview=preview,
    )


def _finish(canvas, picture, config, model, shape, elapsed):
    # The picture replaces the canvas: brought to its size, the difference is the detail.
    detail = pixels.detail_of(pixels.resize(picture, canvas.shape[:2]), canvas)
    # Every step ran at the working size: the record lists it once an octave.
    return finish_dream(canvas, detail, config, model, [shape] * config.octaves, elapsed)
