"""Feature visualisation: an image grown from almost nothing to maximise an objective (lucid's
``optvis.render.render_vis``), and the measurements that judge such images.

Contract:
- ``visualise_steps(model, objective, *, size, batch=1, steps=64, param="fft",
  transforms="standard", learning_rate=0.05, seed=0, preview_every=8, pre_relu=True)``
  yields a ``VisualUpdate`` after every step (step, objective value, elapsed seconds, and
  every ``preview_every`` steps and at the last step a ``preview``: the batch as uint8); then
  one last update whose ``images`` holds the final (batch, h, w, 3) uint8 pictures. Stopping
  iteration cancels: the last preview is the picture so far; nothing needs closing.
- Each step: the image from the parameterisation (``param.py``) goes through the transforms
  (``transform.py``), as ``image * 2 - 1`` through ``model.preprocess`` and the extractor of
  the objective's layers; Adam moves the parameterisation's variables up the objective's
  gradient. With ``pre_relu`` (the default, as lucid) the objective reads each layer's values
  before their ReLUs (``pre_relu_extractor``), so a channel at 0 on grey still has a
  gradient. The value reported is the objective on the transformed image of that step.
- The same model, objective, settings and seed give the same pixels.
- ``objective`` is an ``Objective``, a term, or text (``feature_objectives.parse``).
- ``visualise(...)`` runs it to the end and returns the images.
- ``direction_between(model, layer, photo_a, photo_b, pre_relu=True)`` is photo B's mean
  activation vector at ``layer`` minus photo A's (read as ``visualise_steps`` reads them):
  a ``Direction`` towards "more of what B has than A".
- Measurements (numpy in, floats out): ``high_frequency_share(image)`` is the share of the
  mean-removed grey image's spectral energy above half the Nyquist frequency (radially, 0.25
  cycles per pixel); white noise has about 0.8, smooth pictures nearly 0.
  ``gram_similarity(images, model, layer)`` is the mean pairwise cosine similarity of the
  images' Gram matrices at ``layer``; ``activation(images, model, layer, channel,
  pre_relu=False)`` the channel's mean activation (the images untransformed). Both read the
  layer's outputs (after ReLU) unless asked otherwise.
Raises ``ValueError`` for unknown settings, a size below ``model.min_side``, or a channel or
direction the layer has not (before any step runs).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .feature_objectives import Direction, Objective, Term, as_objective, mean_gram_similarity
from .models.feature_model import FeatureModel, canonical_layers
from .models.runtime import start_tensorflow
from .param import ImageParam
from .transform import TRANSFORMS, apply, transforms_for

tf = start_tensorflow()


@dataclass(frozen=True)
class VisualUpdate:
    """One step of a visualisation; the last update also has ``images``."""

    step: int
    steps: int
    objective: float
    elapsed: float
    preview: np.ndarray | None = None  # (batch, h, w, 3) uint8
    images: np.ndarray | None = None  # set on the last update only


class _Adam:
    """Adam ascent on a fixed list of variables (ours, not Keras's: it works on plain
    ``tf.Variable``\\ s inside ``tf.function`` and keeps no global state)."""

    def __init__(self, variables: Sequence[tf.Variable], rate: float):
        self.rate, self.beta1, self.beta2, self.epsilon = rate, 0.9, 0.999, 1e-8
        self.first = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self.second = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self.count = tf.Variable(0.0, trainable=False)

    def ascend(self, gradients: Sequence[tf.Tensor], variables: Sequence[tf.Variable]) -> None:
        count = self.count.assign_add(1.0)
        rate = self.rate * tf.sqrt(1 - self.beta2**count) / (1 - self.beta1**count)
        for gradient, variable, first, second in zip(gradients, variables, self.first, self.second):
            first.assign(self.beta1 * first + (1 - self.beta1) * gradient)
            second.assign(self.beta2 * second + (1 - self.beta2) * gradient**2)
            variable.assign_add(rate * first / (tf.sqrt(second) + self.epsilon))


def _shape_of(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    height, width = size
    return int(height), int(width)


def _before_relu(tensor):
    """The symbolic ``tensor`` as it was before its last ReLU: through concatenations (a
    mixed layer joins its branches' ReLUs), the ReLUs' inputs; anything else as it is."""
    import keras

    layer = tensor._keras_history[0]
    if isinstance(layer, keras.layers.Concatenate):
        return keras.ops.concatenate([_before_relu(t) for t in layer.input], axis=layer.axis)
    relu = isinstance(layer, keras.layers.ReLU) or (
        isinstance(layer, keras.layers.Activation) and layer.activation is keras.activations.relu
    )
    return layer.input if relu else tensor


def pre_relu_extractor(model: FeatureModel, layers: Sequence[str]):
    """Like ``model.extractor(layers)``, but each output is taken before its ReLUs.

    Why: a channel that a ReLU holds at 0 on the whole starting image has no gradient, so it
    would never move (lucid visualises ``*_pre_relu`` tensors for the same reason). Kept in
    the model's own extractor cache under a key of its own. Where the ReLU is fused into a
    convolution (VGG16's ``block*_conv*``) there is no tensor before it: those outputs stay
    as they are.
    """
    import keras

    key = ("pre_relu", *canonical_layers(model.name, layers))
    plain = model.extractor(key[1:])  # refuses layers the model does not offer

    def build():
        outputs = [_before_relu(output) for output in plain.outputs]
        return keras.Model(plain.input, outputs)

    return model.extractors.get_or_build(key, build)


def layer_activations(
    model: FeatureModel, layers: Sequence[str], images: tf.Tensor, pre_relu: bool = False
) -> dict:
    """``{layer: activations}`` of [0, 1] ``images``, before the ReLUs if ``pre_relu``."""
    ordered = canonical_layers(model.name, layers)
    extractor = pre_relu_extractor(model, ordered) if pre_relu else model.extractor(ordered)
    outputs = extractor(model.preprocess(images * 2.0 - 1.0))
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return {layer: tf.cast(out, tf.float32) for layer, out in zip(ordered, outputs)}


def _channel_counts(model: FeatureModel, layers: Sequence[str]) -> dict[str, int]:
    ordered = canonical_layers(model.name, layers)
    outputs = model.extractor(ordered).outputs
    return {layer: int(out.shape[-1]) for layer, out in zip(ordered, outputs)}


def _check_settings(model: FeatureModel, shape: tuple[int, int], transforms: str) -> None:
    if transforms not in TRANSFORMS:
        raise ValueError(f"Unknown transforms {transforms!r}; choose one of: {TRANSFORMS}.")
    if min(shape) < model.min_side:
        raise ValueError(
            f"The picture must be at least {model.min_side} pixels on a side for this "
            f"network; {shape[0]}x{shape[1]} is too small."
        )


def _to_uint8(images: tf.Tensor) -> np.ndarray:
    return np.clip(np.round(images.numpy() * 255.0), 0, 255).astype(np.uint8)


def visualise_steps(
    model: FeatureModel,
    objective: Objective | Term | str,
    *,
    size: int | Sequence[int],
    batch: int = 1,
    steps: int = 64,
    param: str = "fft",
    transforms: str = "standard",
    learning_rate: float = 0.05,
    seed: int = 0,
    preview_every: int = 8,
    pre_relu: bool = True,
) -> Iterator[VisualUpdate]:
    """Grow ``batch`` images of ``size`` that maximise ``objective``; see the module docstring.

    Raises:
        ValueError: unknown ``param``/``transforms``, a size below the network's smallest,
            a channel or direction the layer has not, or fewer than one step.
    """
    objective = as_objective(objective)
    shape = _shape_of(size)
    _check_settings(model, shape, transforms)
    if steps < 1 or preview_every < 1:
        raise ValueError("A visualisation needs at least one step and a preview interval.")
    objective.check(_channel_counts(model, objective.layers))
    image_param = ImageParam(param, shape, batch)
    variables = image_param.init(seed)
    chain = transforms_for(transforms)
    rng = tf.random.Generator.from_seed(seed)
    adam = _Adam(variables, learning_rate)

    # One trace per visualisation: shapes inside vary with the random scale, so the trace is
    # general over sizes; the variables, optimiser state and generator are captured.
    @tf.function(reduce_retracing=True)
    def step() -> tf.Tensor:
        with tf.GradientTape() as tape:
            seen = apply(chain, image_param.to_image(variables), rng)
            value = objective.value(layer_activations(model, objective.layers, seen, pre_relu))
        adam.ascend(tape.gradient(value, variables), variables)
        return value

    start = time.perf_counter()
    for index in range(1, steps + 1):
        value = float(step())
        due = index % preview_every == 0 or index == steps
        preview = _to_uint8(image_param.to_image(variables)) if due else None
        yield VisualUpdate(index, steps, value, time.perf_counter() - start, preview)
    images = _to_uint8(image_param.to_image(variables))
    yield VisualUpdate(steps, steps, value, time.perf_counter() - start, images, images)


def visualise(model: FeatureModel, objective: Objective | Term | str, **settings) -> np.ndarray:
    """Run ``visualise_steps`` to the end; the final (batch, h, w, 3) uint8 images."""
    (last,) = collections.deque(visualise_steps(model, objective, **settings), maxlen=1)
    return last.images


def _batch_of(images: np.ndarray) -> tf.Tensor:
    """uint8 images (h, w, 3) or (n, h, w, 3) as a float [0, 1] batch."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError("The images must be uint8 RGB arrays, (h, w, 3) or (n, h, w, 3).")
    return tf.constant(images.astype(np.float32) / 255.0)


def mean_activation_vector(
    model: FeatureModel, layer: str, photo: np.ndarray, pre_relu: bool = True
) -> np.ndarray:
    """``photo``'s (uint8 RGB) activations at ``layer``, averaged over positions."""
    activations = layer_activations(model, [layer], _batch_of(photo), pre_relu)[layer]
    return tf.reduce_mean(activations, axis=(0, 1, 2)).numpy()


def direction_between(
    model: FeatureModel,
    layer: str,
    photo_a: np.ndarray,
    photo_b: np.ndarray,
    weight: float = 1.0,
    pre_relu: bool = True,
) -> Direction:
    """A ``Direction`` towards "more of what ``photo_b`` has than ``photo_a``" at ``layer``."""
    vectors = [mean_activation_vector(model, layer, p, pre_relu) for p in (photo_a, photo_b)]
    difference = vectors[1] - vectors[0]
    return Direction(layer, tuple(float(x) for x in difference), weight)


def high_frequency_share(image: np.ndarray) -> float:
    """The share of ``image``'s spectral energy above half the Nyquist frequency.

    ``image``: (h, w, 3) or (h, w), any numeric type. The grey image's mean is removed first
    (a flat colour has no detail); a flat image has share 0.
    """
    grey = np.asarray(image, dtype=np.float64)
    if grey.ndim == 3:
        grey = grey.mean(axis=2)
    energy = np.abs(np.fft.fft2(grey - grey.mean())) ** 2
    fy = np.fft.fftfreq(grey.shape[0])[:, None]
    fx = np.fft.fftfreq(grey.shape[1])[None, :]
    high = np.sqrt(fx * fx + fy * fy) > 0.25  # Nyquist is 0.5 cycles per pixel
    total = energy.sum()
    return float(energy[high].sum() / total) if total > 0 else 0.0


def gram_similarity(images: np.ndarray, model: FeatureModel, layer: str) -> float:
    """The mean pairwise cosine similarity of ``images``' Gram matrices at ``layer``
    (uint8, (n, h, w, 3), n >= 2)."""
    if np.asarray(images).ndim != 4 or len(images) < 2:
        raise ValueError("Gram similarity compares at least two images.")
    activations = layer_activations(model, [layer], _batch_of(images))[layer]
    return float(mean_gram_similarity(activations))


def activation(
    images: np.ndarray, model: FeatureModel, layer: str, channel: int, pre_relu: bool = False
) -> float:
    """``channel``'s mean activation at ``layer`` over ``images`` (uint8), untransformed."""
    activations = layer_activations(model, [layer], _batch_of(images), pre_relu)[layer]
    return float(tf.reduce_mean(activations[..., channel]))
