"""The gradient-ascent step: tiled gradients after a random roll, one trace for every size.

Contract:
- ``random_shift(rng, shape, limit)`` draws how far to roll the image this step.
- ``GradientAscentStep(model, layers, channels)`` is a ``tf.Module`` whose ``__call__``
  takes a [-1, 1] RGB image ``(height, width, 3)`` of any size, a roll shift, the tile size,
  one weight per layer and the step size, and returns ``(new_image, loss)``:
  the image moved up the normalised gradient of the objective, clipped to [-1, 1].
  The objective is the weighted sum over layers of the mean activation (optionally of a
  channel subset only), averaged over tiles.
- Its ``tf.function`` has an ``input_signature`` with unknown height and width, so it is
  traced once and reused for every image size and octave (``trace_count`` proves it).
- ``step_for(model, layers, channels)`` hands out one shared step per model, layer *set* and
  channel choice, from a bounded cache (a server that sees many choices keeps a few steps,
  not one per choice ever made). A step's ``layers`` are in network order: pass the layer
  weights in that order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .cache import LruCache
from .model import FeatureModel, canonical_layers
from .runtime import start_tensorflow

tf = start_tensorflow()

#: Traced steps kept at once (each holds an extractor graph and its traced function).
CACHED_STEPS = 16


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


class GradientAscentStep(tf.Module):
    """One gradient-ascent step on an image, for one model and one choice of layers."""

    def __init__(
        self, model: FeatureModel, layers: Sequence[str], channels: Sequence[int] = ()
    ) -> None:
        super().__init__(name="gradient_ascent_step")
        self.model = model
        self.model_name = model.name
        self.precision = model.precision
        self.layers = canonical_layers(model.name, layers)
        self._extractor = model.extractor(self.layers)
        self._preprocess = model.preprocess
        self._min_side = int(model.min_side)
        self._channels = tuple(int(c) for c in channels)
        if self._channels:
            outputs = self._extractor.outputs
            for layer, output in zip(self.layers, outputs):
                if max(self._channels) >= output.shape[-1]:
                    raise ValueError(
                        f"Layer {layer} has {output.shape[-1]} channels; "
                        f"channel {max(self._channels)} does not exist."
                    )

    @property
    def trace_count(self) -> int:
        """How many times the step function has been traced (1 after the first call)."""
        return self.__call__.experimental_get_tracing_count()

    def _objective(self, tile: tf.Tensor, layer_weights: tf.Tensor) -> tf.Tensor:
        activations = self._extractor(self._preprocess(tile[tf.newaxis]), training=False)
        if not isinstance(activations, (list, tuple)):
            activations = [activations]
        losses = []
        for activation in activations:
            if self._channels:
                activation = tf.gather(activation, self._channels, axis=-1)
            losses.append(tf.reduce_mean(tf.cast(activation, tf.float32)))
        return tf.reduce_sum(tf.stack(losses) * layer_weights)

    # The signature leaves height and width open: one trace serves every image size and
    # octave. Without it, tf.function would retrace (minutes on CPU) for each new shape.
    @tf.function(
        input_signature=(
            tf.TensorSpec([None, None, 3], tf.float32, name="image"),
            tf.TensorSpec([2], tf.int32, name="shift"),
            tf.TensorSpec([], tf.int32, name="tile_size"),
            tf.TensorSpec([None], tf.float32, name="layer_weights"),
            tf.TensorSpec([], tf.float32, name="step_size"),
        )
    )
    def __call__(self, image, shift, tile_size, layer_weights, step_size):
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
                    loss = self._objective(padded, layer_weights)
                row = row.write(row.size(), tf.transpose(tape.gradient(loss, tile), [1, 0, 2]))
                total_loss += loss
                tiles += 1.0
            rows = rows.write(rows.size(), tf.transpose(row.concat(), [1, 0, 2]))
        gradients = tf.reshape(rows.concat(), tf.shape(image))
        gradients = tf.roll(gradients, shift=-shift, axis=[0, 1])
        # Normalised gradient: the step size means the same at every layer and octave.
        gradients /= tf.math.reduce_std(gradients) + 1e-8
        image = tf.clip_by_value(image + gradients * step_size, -1.0, 1.0)
        return image, total_loss / tiles


_steps: LruCache = LruCache(CACHED_STEPS)


def step_for(
    model: FeatureModel, layers: Sequence[str], channels: Sequence[int] = ()
) -> GradientAscentStep:
    """The shared step for this model, layer set and channels (built once, traced once).

    Its ``layers`` are ``canonical_layers(model.name, layers)``: pass weights in that order.
    """
    key = (id(model), canonical_layers(model.name, layers), tuple(int(c) for c in channels))
    # The entry keeps the model alive, so its id cannot be reused while the entry exists.
    _, step = _steps.get_or_build(key, lambda: (model, GradientAscentStep(model, *key[1:])))
    return step


def cached_steps() -> tuple[GradientAscentStep, ...]:
    """The steps cached right now (least recently used first)."""
    return tuple(step for _, step in _steps.values())
