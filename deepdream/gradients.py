"""The gradient-ascent step: tiled gradients after a random roll, one trace for every size.

Contract:
- ``random_shift(rng, shape, limit)`` draws how far to roll the image this step.
- ``GradientAscentStep(model, layers, guide_layer=None, normalize="std")`` is a ``tf.Module``
  whose ``__call__`` takes a [-1, 1] RGB image ``(height, width, 3)`` of any size, a roll
  shift, the tile size, the per-channel objective weights (``objectives.objective_weights``,
  all ``layers`` concatenated), the guide's feature vectors and strength, and the step size,
  and returns ``(new_image, loss)``: the image moved up the normalised gradient of the
  objective (``objectives.py``), clipped to [-1, 1]. The loss is averaged over tiles.
- ``normalize="std"`` divides the gradient by its standard deviation; ``"laplacian"`` first
  gives every band of a Laplacian pyramid of the gradient unit spread ("lapnorm"), which
  favours larger, smoother patterns, then divides by the standard deviation too, so the step
  size means the same either way.
- Its ``tf.function`` has an ``input_signature`` with unknown height and width, so it is
  traced once and reused for every image size, octave, layer weighting and channel choice
  (``trace_count`` proves it).
- ``step_for(model, layers, guide_layer, normalize)`` hands out one shared step per model,
  layer *set*, guide layer and normalisation, from a bounded cache. A step's ``layers`` are in
  network order; ``step.weights_for(config)`` builds its objective weights from a config.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .config import DreamConfig
from .models.feature_model import FeatureModel, canonical_layers
from .models.runtime import start_tensorflow
from .objectives import guided_objective, objective_weights, plain_objective
from .serving.cache import LruCache

tf = start_tensorflow()

#: Traced steps kept at once (each holds an extractor graph and its traced function).
CACHED_STEPS = 16
#: Bands of the Laplacian pyramid that "laplacian" normalisation evens out.
LAPLACIAN_LEVELS = 4


def random_shift(rng: np.random.Generator, shape: tuple[int, int], limit: int) -> np.ndarray:
    """A random (dy, dx) roll, each in [-limit, limit] and within the image size.

    Rolling before tiling moves the tile borders every step, so no seam builds up where
    borders would otherwise always fall.
    """
    height, width = shape
    dy = int(rng.integers(-min(limit, height), min(limit, height) + 1))
    dx = int(rng.integers(-min(limit, width), min(limit, width) + 1))
    return np.array([dy, dx], dtype=np.int32)


def graph_tile_size(length: tf.Tensor, tile: tf.Tensor) -> tf.Tensor:
    """In-graph twin of ``octaves.tile_spans``: the span size for ``length`` split by ``tile``.

    Tiles then start at ``range(0, length, size)``, the last one ``min(size, length - start)``.
    """
    count = (length + tile - 1) // tile
    return (length + count - 1) // count


def _binomial_kernel() -> tf.Tensor:
    # A 5x5 binomial blur applied to each colour plane on its own (depthwise-like, via eye).
    taps = np.array([1.0, 4.0, 6.0, 4.0, 1.0], dtype=np.float32)
    kernel = np.outer(taps, taps) / np.sum(taps) ** 2
    return tf.constant(kernel[:, :, None, None] * np.eye(3, dtype=np.float32)[None, None])


def _split_band(image: tf.Tensor, kernel: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(low, high): the image blurred to half size, and what that loses at full size."""
    low = tf.nn.conv2d(image, kernel, [1, 2, 2, 1], "SAME")
    back = tf.nn.conv2d_transpose(low, kernel * 4.0, tf.shape(image), [1, 2, 2, 1])
    return low, image - back


def laplacian_normalize(gradient: tf.Tensor, levels: int = LAPLACIAN_LEVELS) -> tf.Tensor:
    """``gradient`` (h, w, 3) with every Laplacian band scaled to unit spread, then merged.

    Fine detail usually dominates a raw gradient; evening out the bands lets coarse bands
    (large, smooth patterns) count as much.
    """
    kernel = _binomial_kernel()
    image = gradient[tf.newaxis]
    highs = []
    for _ in range(levels):
        image, high = _split_band(image, kernel)
        highs.append(high)
    merged = image / (tf.math.reduce_std(image) + 1e-8)
    for high in reversed(highs):
        upsampled = tf.nn.conv2d_transpose(merged, kernel * 4.0, tf.shape(high), [1, 2, 2, 1])
        merged = upsampled + high / (tf.math.reduce_std(high) + 1e-8)
    return merged[0]


class GradientAscentStep(tf.Module):
    """One gradient-ascent step on an image, for one model and one set of layers."""

    def __init__(
        self,
        model: FeatureModel,
        layers: Sequence[str],
        guide_layer: str | None = None,
        normalize: str = "std",
    ) -> None:
        super().__init__(name="gradient_ascent_step")
        self.model = model
        self.model_name = model.name
        self.precision = model.precision
        self.layers = canonical_layers(
            model.name, [*layers, *([guide_layer] if guide_layer else [])]
        )
        self.guide_layer = guide_layer
        self.normalize = normalize
        self._extractor = model.extractor(self.layers)
        self._preprocess = model.preprocess
        self._min_side = int(model.min_side)
        #: Channels of each of ``layers``, in order: the objective weights' layout.
        self.channel_counts = tuple(int(output.shape[-1]) for output in self._extractor.outputs)
        self._guide_index = self.layers.index(guide_layer) if guide_layer else None

    @property
    def trace_count(self) -> int:
        """How many times the step function has been traced (1 after the first call)."""
        return self.__call__.experimental_get_tracing_count()

    def weights_for(self, config: DreamConfig) -> tf.Tensor:
        """The objective weights of ``config`` in this step's layout (a float32 vector).

        Raises:
            ValueError: a chosen channel does not exist in its layer.
        """
        return tf.constant(objective_weights(config, self.layers, self.channel_counts))

    def _objective(self, tile, weights, guide, guide_strength):
        activations = self._extractor(self._preprocess(tile[tf.newaxis]), training=False)
        if not isinstance(activations, (list, tuple)):
            activations = [activations]
        per_layer = tf.split(weights, self.channel_counts)
        plain = plain_objective(activations, per_layer)
        if self._guide_index is None:
            return plain
        guided = guided_objective(activations[self._guide_index], guide)
        return (1.0 - guide_strength) * plain + guide_strength * guided

    # The signature leaves height, width and the weights' length open: one trace serves every
    # image size, octave and objective weighting. Without it, tf.function would retrace
    # (seconds to minutes on CPU) for each new shape.
    @tf.function(
        input_signature=(
            tf.TensorSpec([None, None, 3], tf.float32, name="image"),
            tf.TensorSpec([2], tf.int32, name="shift"),
            tf.TensorSpec([], tf.int32, name="tile_size"),
            tf.TensorSpec([None], tf.float32, name="weights"),
            tf.TensorSpec([None, None], tf.float32, name="guide"),
            tf.TensorSpec([], tf.float32, name="guide_strength"),
            tf.TensorSpec([], tf.float32, name="step_size"),
        )
    )
    def __call__(self, image, shift, tile_size, weights, guide, guide_strength, step_size):
        height, width = tf.shape(image)[0], tf.shape(image)[1]
        rolled = tf.roll(image, shift=shift, axis=[0, 1])
        span_h = graph_tile_size(height, tile_size)
        span_w = graph_tile_size(width, tile_size)
        # Tiles cover the image exactly once, so their gradients are stitched together
        # (each row of tiles, then the rows) instead of each being padded to full size and
        # added: a 12-megapixel image then never holds more than two full-size gradients.
        rows = tf.TensorArray(tf.float32, size=0, dynamic_size=True, infer_shape=False)
        total_loss = tf.constant(0.0)
        tiles = tf.constant(0.0)
        for y in tf.range(0, height, span_h):
            tile_h = tf.minimum(span_h, height - y)
            # TensorArray.concat joins along axis 0: tiles of a row are stored transposed.
            row = tf.TensorArray(tf.float32, size=0, dynamic_size=True, infer_shape=False)
            for x in tf.range(0, width, span_w):
                tile_w = tf.minimum(span_w, width - x)
                # Tiles smaller than the network's smallest input are padded with mid-grey
                # (0); only the real pixels receive gradient.
                pad_h = tf.maximum(self._min_side - tile_h, 0)
                pad_w = tf.maximum(self._min_side - tile_w, 0)
                tile = rolled[y : y + tile_h, x : x + tile_w]
                with tf.GradientTape() as tape:
                    tape.watch(tile)
                    padded = tf.pad(tile, [[0, pad_h], [0, pad_w], [0, 0]])
                    loss = self._objective(padded, weights, guide, guide_strength)
                row = row.write(row.size(), tf.transpose(tape.gradient(loss, tile), [1, 0, 2]))
                total_loss += loss
                tiles += 1.0
            rows = rows.write(rows.size(), tf.transpose(row.concat(), [1, 0, 2]))
        gradients = tf.reshape(rows.concat(), tf.shape(image))
        gradients = tf.roll(gradients, shift=-shift, axis=[0, 1])
        if self.normalize == "laplacian":
            gradients = laplacian_normalize(gradients)
        # Normalised gradient: the step size means the same at every layer and octave.
        gradients /= tf.math.reduce_std(gradients) + 1e-8
        image = tf.clip_by_value(image + gradients * step_size, -1.0, 1.0)
        return image, total_loss / tiles


_steps: LruCache = LruCache(CACHED_STEPS)


def step_for(
    model: FeatureModel,
    layers: Sequence[str],
    guide_layer: str | None = None,
    normalize: str = "std",
) -> GradientAscentStep:
    """The shared step for this model, layer set, guide layer and normalisation (built once,
    traced once). Its ``layers`` are ``canonical_layers`` of ``layers`` and the guide layer."""
    chosen = [*layers, *([guide_layer] if guide_layer else [])]
    key = (id(model), canonical_layers(model.name, chosen), guide_layer, normalize)
    # The entry keeps the model alive, so its id cannot be reused while the entry exists.
    _, step = _steps.get_or_build(key, lambda: (model, GradientAscentStep(model, *key[1:])))
    return step


def step_for_config(model: FeatureModel, config: DreamConfig) -> GradientAscentStep:
    """The shared step that can run ``config``'s objective."""
    return step_for(model, config.dreamed_layers, config.matched_layer, config.normalize)


def cached_steps() -> tuple[GradientAscentStep, ...]:
    """The steps cached right now (least recently used first)."""
    return tuple(step for _, step in _steps.values())
