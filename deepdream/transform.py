"""Transformation robustness: the small random changes an image goes through before the network
sees it, at every step of a feature visualisation (lucid's ``optvis.transform``).

Contract:
- A ``Transform`` is a callable ``(images, rng) -> images`` on a ``(batch, h, w, 3)`` float
  tensor in [0, 1], differentiable in ``images``, drawing its randomness only from the
  ``tf.random.Generator`` ``rng`` it is given: the same generator state gives the same
  transformed image, so seeded runs repeat. They run in eager code and inside ``tf.function``.
- ``pad(width, value=0.5)``: ``width`` pixels of ``value`` on every side (size + 2 * width).
- ``jitter(d)``: a random (h - d, w - d) window, its top-left corner uniform in [0, d]^2: the
  picture moves by up to ``d`` pixels and the size shrinks by ``d``. ``window`` is its
  deterministic helper: the pixel at (y, x) lands at (y - top, x - left).
- ``random_scale(scales)``: resized (bilinear) by a factor chosen uniformly from ``scales``;
  the size becomes round(scale * size). Scale 1 keeps the image exactly.
- ``random_rotate(angles)``: rotated about its centre by an angle (degrees) chosen uniformly
  from ``angles``, same size, corners filled by reflection. Angle 0 keeps the image exactly.
- ``transforms_for(name)`` for ``name`` in ``TRANSFORMS``: ``"standard"`` is lucid's
  ``standard_transforms`` (pad 12, jitter 8, scale 0.9-1.1, rotate -10..10 degrees, jitter 4),
  which leaves the image ``(side + 12) * scale`` pixels on a side; ``"none"`` is no transform.
  The sizes change on purpose: the network is fully convolutional and objectives average
  over positions (a neuron objective reads the centre, which stays the centre).
- ``apply(transforms, images, rng)`` runs them in order.
Raises ``ValueError`` for an unknown name, an empty choice, or a window larger than the image.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from .config import TRANSFORMS
from .models.runtime import start_tensorflow

tf = start_tensorflow()

Transform = Callable[[tf.Tensor, tf.random.Generator], tf.Tensor]


def _choice(rng: tf.random.Generator, options: Sequence[float]) -> tf.Tensor:
    """One of ``options``, uniformly, as a float32 scalar tensor."""
    if not options:
        raise ValueError("A random transform needs at least one value to choose from.")
    index = rng.uniform([], 0, len(options), dtype=tf.int32)
    return tf.gather(tf.constant(options, dtype=tf.float32), index)


def window(images: tf.Tensor, top, left, height, width) -> tf.Tensor:
    """The (height, width) window of ``images`` whose top-left corner is (top, left)."""
    return images[:, top : top + height, left : left + width, :]


def pad(width: int, value: float = 0.5) -> Transform:
    """Pad by ``width`` pixels of ``value`` on every side (lucid pads with grey so the border
    the later jitter and rotation reveal is neutral rather than a hard edge)."""

    def inner(images: tf.Tensor, rng: tf.random.Generator) -> tf.Tensor:
        return tf.pad(
            images, [[0, 0], [width, width], [width, width], [0, 0]], constant_values=value
        )

    return inner


def jitter(d: int) -> Transform:
    """A random window ``d`` pixels smaller on each side's total: shifts by up to ``d`` px."""

    def inner(images: tf.Tensor, rng: tf.random.Generator) -> tf.Tensor:
        shape = tf.shape(images)
        tf.debugging.assert_greater(shape[1:3], d, "The image is too small to jitter.")
        top, left = tf.unstack(rng.uniform([2], 0, d + 1, dtype=tf.int32))
        return window(images, top, left, shape[1] - d, shape[2] - d)

    return inner


def scale_by(images: tf.Tensor, factor: tf.Tensor) -> tf.Tensor:
    """``images`` resized bilinearly by ``factor`` (each side rounded, at least 1 pixel)."""
    sides = tf.cast(tf.shape(images)[1:3], tf.float32) * factor
    size = tf.maximum(tf.cast(tf.round(sides), tf.int32), 1)
    return tf.image.resize(images, size, method="bilinear")


def random_scale(scales: Sequence[float]) -> Transform:
    """Resize by one of ``scales``, uniformly chosen: patterns must work at several sizes."""
    options = [float(s) for s in scales]

    def inner(images: tf.Tensor, rng: tf.random.Generator) -> tf.Tensor:
        return scale_by(images, _choice(rng, options))

    return inner


def rotate_by(images: tf.Tensor, degrees: tf.Tensor) -> tf.Tensor:
    """``images`` rotated about their centre by ``degrees`` (bilinear, reflected corners)."""
    angle = tf.cast(degrees, tf.float32) * (math.pi / 180.0)
    height = tf.cast(tf.shape(images)[1], tf.float32)
    width = tf.cast(tf.shape(images)[2], tf.float32)
    cos, sin = tf.cos(angle), tf.sin(angle)
    # The projective transform maps each output pixel to the input pixel it reads; these
    # offsets keep the centre ((w - 1) / 2, (h - 1) / 2) in place.
    x_offset = ((width - 1) - (cos * (width - 1) - sin * (height - 1))) / 2.0
    y_offset = ((height - 1) - (sin * (width - 1) + cos * (height - 1))) / 2.0
    matrix = tf.stack([cos, -sin, x_offset, sin, cos, y_offset, 0.0, 0.0])
    batch = tf.shape(images)[0]
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=tf.tile(matrix[None, :], [batch, 1]),
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )


def random_rotate(angles: Sequence[float]) -> Transform:
    """Rotate by one of ``angles`` (degrees), uniformly chosen."""
    options = [float(a) for a in angles]

    def inner(images: tf.Tensor, rng: tf.random.Generator) -> tf.Tensor:
        return rotate_by(images, _choice(rng, options))

    return inner


def standard_transforms() -> list[Transform]:
    """lucid's ``standard_transforms``: the set its feature visualisations were drawn with."""
    return [
        pad(12),
        jitter(8),
        random_scale([1 + (i - 5) / 50.0 for i in range(11)]),
        # Zero five times more often: lucid's list, so most steps see the image upright.
        random_rotate(list(range(-10, 11)) + 5 * [0]),
        jitter(4),
    ]


def transforms_for(name: str) -> list[Transform]:
    """The transform set called ``name`` (one of ``TRANSFORMS``)."""
    if name == "standard":
        return standard_transforms()
    if name == "none":
        return []
    raise ValueError(f"Unknown transforms {name!r}; choose one of: {', '.join(TRANSFORMS)}.")


def apply(transforms: Sequence[Transform], images: tf.Tensor, rng: tf.random.Generator):
    """``images`` through every transform in order."""
    for transform in transforms:
        images = transform(images, rng)
    return images
