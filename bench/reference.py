"""A plain DeepDream loop written the way the TensorFlow DeepDream tutorial writes it.

It exists only so ``bench/benchmark.py`` can say how much faster the engine's ``dream`` is than
the textbook loop at equal settings. It uses the engine's own ``FeatureModel``: the same Keras
backbone as loaded (``model.backbone``, the plain Keras model the tutorial would call, not the
engine's folded inference form) and the same preprocessing, so the network computes the same
function and only the loop and the graph's form differ:

- every octave resizes the current image with ``tf.image.resize`` (the tutorial's way: the
  dream itself is resized, not a difference image added back to the photo);
- a ``tf.function`` with an ``input_signature`` rolls the image by a random shift drawn in the
  graph and loops over tiles with ``tf.range(0, size, tile)``; for every tile a fresh
  ``GradientTape`` watches the WHOLE rolled image and the gradient is taken with respect to
  that whole image (as the tutorial does), then the sum is rolled back and divided by its
  standard deviation;
- the step (add ``step_size * gradient``, clip to [-1, 1]) runs eagerly, and the image makes a
  round trip through NumPy after every step, like the tutorial's simple loop.

Two deliberate departures keep the work equal to the engine's: tiles start at every multiple
of the tile size (the tutorial drops the last start, so part of the image never gets a
gradient in a given step; at 1024x768 with 512-pixel tiles it would compute one tile instead
of four), and a border tile thinner than the network's smallest input is padded with zeros
(InceptionV3 cannot see a 37-pixel strip). Layer weights are applied as in the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

if TYPE_CHECKING:
    from deepdream import FeatureModel


class ReferenceTiledGradients(tf.Module):
    """The tutorial's tiled-gradient function for one model and one choice of layers."""

    def __init__(
        self, model: FeatureModel, layers: Sequence[str], layer_weights: Sequence[float]
    ) -> None:
        super().__init__(name="reference_tiled_gradients")
        import keras

        backbone = model.backbone
        self._extractor = keras.Model(
            backbone.input, [backbone.get_layer(layer).output for layer in layers]
        )
        self._preprocess = model.preprocess
        self._min_side = int(model.min_side)
        self._layer_weights = tf.constant(list(layer_weights), dtype=tf.float32)

    @property
    def trace_count(self) -> int:
        """How many times the tiled-gradient function has been traced."""
        return self.__call__.experimental_get_tracing_count()

    def _loss(self, tile: tf.Tensor) -> tf.Tensor:
        outputs = self._extractor(self._preprocess(tile[tf.newaxis]), training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        means = [tf.reduce_mean(tf.cast(output, tf.float32)) for output in outputs]
        return tf.reduce_sum(tf.stack(means) * self._layer_weights)

    @tf.function(
        input_signature=(
            tf.TensorSpec([None, None, 3], tf.float32),
            tf.TensorSpec([], tf.int32),
        )
    )
    def __call__(self, image: tf.Tensor, tile_size: tf.Tensor) -> tf.Tensor:
        height, width = tf.shape(image)[0], tf.shape(image)[1]
        shift = tf.random.uniform([2], minval=-tile_size, maxval=tile_size, dtype=tf.int32)
        rolled = tf.roll(image, shift=shift, axis=[0, 1])
        gradients = tf.zeros_like(rolled)
        for y in tf.range(0, height, tile_size):
            for x in tf.range(0, width, tile_size):
                with tf.GradientTape() as tape:
                    tape.watch(rolled)
                    tile = rolled[y : y + tile_size, x : x + tile_size]
                    pad_h = tf.maximum(self._min_side - tf.shape(tile)[0], 0)
                    pad_w = tf.maximum(self._min_side - tf.shape(tile)[1], 0)
                    loss = self._loss(tf.pad(tile, [[0, pad_h], [0, pad_w], [0, 0]]))
                gradients += tape.gradient(loss, rolled)
        gradients = tf.roll(gradients, shift=-shift, axis=[0, 1])
        return gradients / (tf.math.reduce_std(gradients) + 1e-8)


def reference_dream(
    image: np.ndarray,
    gradients_of: ReferenceTiledGradients,
    shapes: Sequence[tuple[int, int]],
    steps_per_octave: int,
    step_size: float,
    tile_size: int,
) -> np.ndarray:
    """Dream on a uint8 RGB ``image`` at the given octave ``shapes`` (small to large).

    Returns the uint8 dream, resized back to the input's size when the last octave differs.
    """
    dreaming = tf.constant(image.astype(np.float32) / 127.5 - 1.0)
    tile = tf.constant(tile_size, dtype=tf.int32)
    for shape in shapes:
        dreaming = tf.image.resize(dreaming, shape)
        for _ in range(steps_per_octave):
            gradients = gradients_of(dreaming, tile)
            dreaming = tf.clip_by_value(dreaming + gradients * step_size, -1.0, 1.0)
            dreaming = tf.convert_to_tensor(dreaming.numpy())
    if tuple(dreaming.shape[:2]) != tuple(image.shape[:2]):
        dreaming = tf.image.resize(dreaming, image.shape[:2])
    return np.clip((dreaming.numpy() + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
