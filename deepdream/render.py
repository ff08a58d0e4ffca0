"""The render loop over octaves: a generator of progress updates, and the one-call ``dream``.

(Named ``render`` rather than ``dream`` so that the module never shadows the ``dream()``
function in the package's public face.)

Contract:
- ``dream_steps(image, config, model=None)`` takes a ``uint8`` RGB array and yields a
  ``DreamUpdate`` after every gradient step (octave, step, loss, elapsed, and every
  ``config.preview_every`` steps a preview image). The last update has ``result`` set to a
  ``DreamResult`` whose image has exactly the input's size and dtype.
- Previews come every ``config.preview_every`` steps and at the end of each octave.
- Cancelling is stopping iteration: the caller keeps the last update with a preview and may
  turn it into a full-size result with ``partial_result``; nothing needs closing.
- Octaves run from small to full working size; the detail the dream added is carried from
  octave to octave (and finally onto the full-resolution photo) as a difference image, so the
  photo's own sharpness is never lost to repeated resizing.
- With ``config.mask``, every step's change is scaled by the mask at its octave's size and
  the finished dream is laid onto the photo through it at full size (``Mask.lay``): where
  the mask is 0 the photo's pixels are returned unchanged.
- Same input + same config (seed included) + same model => the same output.
- A dream from noise with ``config.param == "fft"`` (``config.visualises``) is a feature
  visualisation instead of the octave loop: ``from_noise.noise_steps``, the same updates and
  result (the canvas gives its size only).
- ``dream(image, config, model=None)`` runs ``dream_steps`` to the end and returns the result.
- ``warm_up(model, config, shape, give_way)`` runs ``config`` for one step an octave on a
  noise canvas of ``shape``: the step is traced and the kernels for those sizes prepared, so
  the first real dream at these settings runs like a later one (a server does this in the
  background); it stops after any step once ``give_way()`` says so.
- When ``model`` is omitted the model named by ``config.model`` is loaded once and kept;
  InceptionV3 without weights raises ``WeightsUnavailableError`` (never random weights).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterator

import numpy as np

from .config import MODEL_TITLES, DreamConfig
from .from_noise import noise_steps
from .gradients import random_shift, step_for_config
from .media import image as pixels
from .models.feature_model import FeatureModel
from .models.loading import load_model
from .models.runtime import start_tensorflow
from .objectives import guide_features, no_guide
from .octaves import octave_plan
from .result import DreamResult, DreamUpdate, finish_dream
from .serving.cache import LruCache

tf = start_tensorflow()


_default_models: LruCache = LruCache(2)


def default_model(name: str) -> FeatureModel:
    """The model ``name`` with its default weights, loaded once per process (thread-safe)."""
    return _default_models.get_or_build(name, lambda: load_model(name))


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("The image must be an RGB array of shape (height, width, 3).")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError("The image is empty.")
    if image.dtype != np.uint8:
        raise ValueError("The image must hold uint8 pixels (0-255).")


def dream_steps(
    image: np.ndarray, config: DreamConfig, model: FeatureModel | None = None
) -> Iterator[DreamUpdate]:
    """Dream on ``image`` step by step; see the module docstring.

    Raises:
        ValueError: bad image array, a model that is not the one ``config`` is for, or a
            layer the model's weights do not really have (``FeatureModel.layers``; the step's
            extractor refuses it).
        WeightsUnavailableError: ``model`` omitted and its weights cannot be had.
    """
    _check_image(image)
    model = _model_for(config, model)
    if config.visualises:
        yield from noise_steps(image, config, model)
        return
    start = time.perf_counter()
    step = step_for_config(model, config)
    weights = step.weights_for(config)  # raises for a channel the layer does not have
    tile_size = tf.constant(config.tile_size, dtype=tf.int32)
    step_size = tf.constant(config.step_size, dtype=tf.float32)
    guide_strength = tf.constant(config.guide_strength if config.guide else 0.0, tf.float32)
    rng = np.random.default_rng(config.seed)

    shapes = octave_plan(image.shape[:2], config, model.min_side)
    progress = _Progress(shapes, config, start)
    detail = None  # what the dream added, as a difference image at the last octave's size
    for octave, shape in enumerate(shapes, start=1):
        base = tf.constant(pixels.to_model_range(pixels.resize(image, shape)))
        if detail is not None:
            detail = tf.image.resize(detail, shape, method="bilinear")
            dreaming = tf.clip_by_value(base + detail, -1.0, 1.0)
        else:
            dreaming = base
        guide = _octave_guide(config, model, shape, shapes[-1])
        where = _octave_mask(config, shape)
        for index in range(1, config.steps_per_octave + 1):
            shift = random_shift(rng, shape, config.tile_size)
            # The image stays a tensor between steps: no host copy unless a preview is due.
            stepped, loss = step(
                dreaming, shift, tile_size, weights, guide, guide_strength, step_size
            )
            # With a mask, each step moves a pixel only as far as the mask lets it, so the
            # dream neither lands nor grows where the mask keeps the photo.
            dreaming = stepped if where is None else dreaming + where * (stepped - dreaming)
            yield progress.stepped(octave, index, loss, dreaming)
        detail = dreaming - base

    result = finish_dream(
        image, np.asarray(detail), config, model, shapes, time.perf_counter() - start
    )
    yield progress.finished(loss, result)


def _model_for(config: DreamConfig, model: FeatureModel | None) -> FeatureModel:
    """``model``, or ``config``'s model with its default weights; refuses a model that is not
    the one ``config`` is for."""
    if model is None:
        model = default_model(config.model)
    if model.name != config.model:
        raise ValueError(
            f"These settings are for {MODEL_TITLES[config.model]}, but the model is "
            f"{MODEL_TITLES[model.name]}; use config.with_model({model.name!r})."
        )
    return model


class _Progress:
    """A dream's steps and work done so far, and the ``DreamUpdate`` each step makes.

    Work is counted in pixel-steps, so a step of the full-size octave weighs as much as it
    costs; a preview (a host copy of the image) is made only every ``preview_every`` steps and
    at each octave's end."""

    def __init__(self, shapes: list[tuple[int, int]], config: DreamConfig, start: float):
        self.shapes, self.config, self.start = shapes, config, start
        self.total = len(shapes) * config.steps_per_octave
        self.pixels_per_step = [height * width for height, width in shapes]
        self.total_work = float(sum(self.pixels_per_step) * config.steps_per_octave)
        self.done, self.work = 0, 0.0

    def stepped(self, octave: int, index: int, loss, dreaming) -> DreamUpdate:
        """The update after step ``index`` of ``octave`` (both from 1)."""
        steps = self.config.steps_per_octave
        self.done += 1
        self.work += self.pixels_per_step[octave - 1] / self.total_work
        due = self.done % self.config.preview_every == 0 or index == steps
        return DreamUpdate(
            octave=octave,
            octaves=len(self.shapes),
            step=index,
            steps=steps,
            done=self.done,
            total=self.total,
            work=min(self.work, 1.0),
            loss=float(loss),
            elapsed=time.perf_counter() - self.start,
            preview=pixels.from_model_range(dreaming.numpy()) if due else None,
        )

    def finished(self, loss, result: DreamResult) -> DreamUpdate:
        """The last update: the finished dream, its result attached."""
        return DreamUpdate(
            octave=len(self.shapes),
            octaves=len(self.shapes),
            step=self.config.steps_per_octave,
            steps=self.config.steps_per_octave,
            done=self.done,
            total=self.total,
            work=1.0,
            loss=float(loss),
            elapsed=result.elapsed,
            preview=result.image,
            result=result,
        )


def _octave_guide(
    config: DreamConfig, model: FeatureModel, shape: tuple[int, int], full: tuple[int, int]
) -> tf.Tensor:
    """The guide's features for this octave (computed once per octave), or an empty guide.

    The guide shrinks with the octaves, as the dream does, so its patterns keep their size
    relative to the dream's; and it is never larger than the octave itself, so its features
    cost at most one forward pass of the octave (a few percent of the octave's steps).
    """
    if config.guide is None:
        return no_guide()
    scale = min(shape[0] / full[0], shape[1] / full[1], max(shape) / max(config.guide.shape))
    return guide_features(model, config.matched_layer, config.guide, scale)


def _octave_mask(config: DreamConfig, shape: tuple[int, int]) -> tf.Tensor | None:
    """The mask at this octave's size, shaped to scale an image's change; None without."""
    if config.mask is None:
        return None
    return tf.constant(config.mask.strength(*shape)[..., None])


def dream(image: np.ndarray, config: DreamConfig, model: FeatureModel | None = None) -> DreamResult:
    """Run a whole dream and return its result (see ``dream_steps`` for errors)."""
    (last,) = collections.deque(dream_steps(image, config, model), maxlen=1)
    return last.result


#: The canvas a warm-up dreams on: a small 4:3 photo. Tracing is what a first dream pays
#: for; a small canvas keeps the warm-up from crowding a server's first real dream.
WARM_UP_SHAPE = (384, 512)


def warm_up(
    model: FeatureModel,
    config: DreamConfig,
    shape: tuple[int, int] = WARM_UP_SHAPE,
    give_way: Callable[[], bool] | None = None,
) -> float:
    """Trace ``config``'s step and prepare its kernels with a one-step-an-octave dream on a
    noise canvas of ``shape``; returns the seconds it took. ``give_way()``, asked after each
    step, may end it early (once the step is traced, by the first): a dream waiting for the
    warm-up's slot has its own sizes' kernels to make anyway."""
    start = time.perf_counter()
    canvas = pixels.noise_canvas(*shape, seed=config.seed)
    # The pixel loop: its traced step is what a photo's dream runs.
    steps = dream_steps(
        canvas, config.replace(steps_per_octave=1, start="noise", param="pixel"), model
    )
    for _ in steps:
        if give_way is not None and give_way():
            steps.close()
            break
    return time.perf_counter() - start
