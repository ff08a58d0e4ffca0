"""What a gradient step maximises: layer means, single channels, and guide-image matching.

Contract:
- Every objective is read from the activations of a set of layers (``DreamConfig.
  dreamed_layers``, network order). The *plain* objective is one weighted sum over all their
  channels: ``sum over layers of mean over positions of (activation . w_layer)``, where
  ``w_layer`` holds one weight per channel. A whole layer with weight ``a`` puts ``a / C`` on
  each of its ``C`` channels (so the term is ``a`` times the layer's mean activation); a chosen
  channel ``(layer, c, b)`` adds ``b`` at ``c``. ``objective_weights`` builds that vector (all
  layers concatenated) from a config: a step takes it as a tensor, so choosing other layers'
  weights or other channels never retraces the step.
- The *guided* objective (``guided_objective``) scores each position of the dream's features
  at the guide layer by its dot product with the best-matching feature vector of the guide
  (the "controlling dreams" objective of Google's original notebook), scaled so that its
  gradient is about as large as the plain objective's. A step mixes them:
  ``(1 - strength) * plain + strength * guided``.
- ``guide_features(model, layer, guide, scale)`` computes the guide's feature vectors once per
  octave, at the guide's own working size times ``scale`` (the octave's share of the full
  working size, so patterns match in scale), at most ``MAX_GUIDE_VECTORS`` of them (a fixed
  random subset of positions when there are more: the matching costs positions x vectors).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .config import DreamConfig
from .guide import Guide
from .media.image import resize, to_model_range
from .models.feature_model import FeatureModel
from .models.runtime import start_tensorflow
from .serving.cache import LruCache

tf = start_tensorflow()

#: At most this many guide feature vectors are matched against (memory: positions x vectors).
MAX_GUIDE_VECTORS = 2048
#: Guide feature sets (and traced guide-feature functions) kept at once.
GUIDES_CACHED = 16


def objective_weights(
    config: DreamConfig, layers: Sequence[str], channel_counts: Sequence[int]
) -> np.ndarray:
    """The per-channel weights of the plain objective, ``layers`` concatenated in order.

    Raises:
        ValueError: a chosen channel does not exist in its layer.
    """
    counts = dict(zip(layers, channel_counts))
    per_layer = {layer: np.zeros(count, dtype=np.float32) for layer, count in counts.items()}
    for name, weight in config.layers:
        per_layer[name] += weight / counts[name]
    for layer, channel, weight in config.channels:
        if channel >= counts[layer]:
            raise ValueError(
                f"Layer {layer} has {counts[layer]} channels (0 to {counts[layer] - 1}); "
                f"channel {channel} does not exist."
            )
        per_layer[layer][channel] += weight
    return np.concatenate([per_layer[layer] for layer in layers])


def plain_objective(activations: Sequence[tf.Tensor], weights: Sequence[tf.Tensor]) -> tf.Tensor:
    """Sum over layers of the mean over positions of each activation dotted with its weights."""
    total = tf.constant(0.0)
    for activation, layer_weights in zip(activations, weights):
        per_position = tf.linalg.matvec(tf.cast(activation, tf.float32), layer_weights)
        total += tf.reduce_mean(per_position)
    return total


def guided_objective(activation: tf.Tensor, guide: tf.Tensor) -> tf.Tensor:
    """Mean over the dream's positions of the best dot product with a guide feature vector.

    Args:
        activation: the dream's features at the guide layer, ``(1, h, w, C)``.
        guide: the guide's feature vectors, ``(M, C)``, float32.

    Divided by ``C`` times the guide's mean feature value: its gradient at a position is then
    the matched guide vector over that scale, per channel about as large as a whole-layer mean
    term's ``1 / C``, so ``strength`` mixes like with like.
    """
    channels = tf.shape(activation)[-1]
    features = tf.reshape(tf.cast(activation, tf.float32), [-1, channels])
    # Matching is a max over dot products; its gradient is the best-matching guide vector.
    best = tf.reduce_max(tf.matmul(features, guide, transpose_b=True), axis=1)
    scale = tf.reduce_sum(tf.reduce_mean(guide, axis=0)) + 1e-6
    return tf.reduce_mean(best) / scale


def guide_shape(guide: Guide, scale: float, min_side: int) -> tuple[int, int]:
    """The guide's size at one octave: its working size times ``scale``, no smaller than the
    network can see."""
    height, width = guide.shape
    factor = max(scale, min_side / min(height, width))
    return max(1, round(height * factor)), max(1, round(width * factor))


def guide_features(model: FeatureModel, layer: str, guide: Guide, scale: float) -> tf.Tensor:
    """The guide's feature vectors at ``layer``, ``(M, C)`` float32, M <= MAX_GUIDE_VECTORS.

    Kept in a small cache: the frames of a guided video, or dreams repeated with the same
    guide, compute each (guide, size, layer) once.
    """
    shape = guide_shape(guide, scale, model.min_side)
    key = (id(model), layer, guide.digest, shape)
    # The entry keeps the model alive, so its id cannot be reused while the entry exists.
    _, vectors = _guide_cache.get_or_build(
        key, lambda: (model, _compute_guide_features(model, layer, guide, shape))
    )
    return vectors


def _compute_guide_features(
    model: FeatureModel, layer: str, guide: Guide, shape: tuple[int, int]
) -> tf.Tensor:
    pixels = resize(guide.pixels, shape)
    batch = tf.constant(to_model_range(pixels)[np.newaxis])
    features = _feature_function(model, layer)(batch)
    vectors = tf.reshape(tf.cast(features[0], tf.float32), [-1, features.shape[-1]])
    count = int(vectors.shape[0])
    if count <= MAX_GUIDE_VECTORS:
        return vectors
    # A fixed random subset, not a regular grid: a grid can alias with a periodic guide
    # (stripes sampled only at their flat middles lose the edges that make them stripes).
    chosen = np.sort(np.random.default_rng(0).choice(count, MAX_GUIDE_VECTORS, replace=False))
    return tf.gather(vectors, chosen)


def _feature_function(model: FeatureModel, layer: str):
    """One traced graph per (model, layer) from a [-1, 1] batch to that layer's features:
    an eager Keras call costs several times a graph call."""

    def build():
        extractor, preprocess = model.extractor([layer]), model.preprocess

        @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32)])
        def features(batch):
            (output,) = _as_list(extractor(preprocess(batch), training=False))
            return output

        return model, features

    return _feature_functions.get_or_build((id(model), layer), build)[1]


_guide_cache: LruCache = LruCache(GUIDES_CACHED)
_feature_functions: LruCache = LruCache(GUIDES_CACHED)


def no_guide(channels: int = 1) -> tf.Tensor:
    """An empty guide (zero vectors) for steps without one: the signature still wants it."""
    return tf.zeros([0, channels], tf.float32)


def _as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
