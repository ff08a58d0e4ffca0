"""How a feature visualisation holds its image: the variables the optimiser moves.

Contract:
- ``ImageParam(kind, shape, batch)`` for ``kind`` in ``PARAMS``:
  - ``"fft"``: a scaled Fourier spectrum (lucid's ``param.image(fft=True, decorrelate=True)``):
    each ``rfft2`` frequency ``f`` (cycles per pixel) is scaled by
    ``1 / max(f, 1 / max(h, w)) ** decay``, so a step of the same size on every variable moves
    low frequencies far more than high ones; the colours are decorrelated with ImageNet's
    colour correlation (``COLOR_CORRELATION``, normalised by its largest column norm); a
    sigmoid maps the result into [0, 1].
  - ``"pixel"``: one variable per pixel and channel through the same sigmoid (no Fourier
    scaling, no colour decorrelation): the raw-pixel baseline.
- ``init(seed, sd=0.01)`` returns the trainable ``tf.Variable``\\ s, normal with spread ``sd``;
  the same seed gives the same variables.
- ``to_image(variables)`` is a ``(batch, h, w, 3)`` float32 tensor in [0, 1], differentiable
  in ``variables``. Zero variables give flat grey (0.5) in both kinds.
- ``spectrum_scale(h, w, decay)`` is the per-frequency scale, pure numpy.
Raises ``ValueError`` for an unknown kind or an empty shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .config import PARAMS
from .models.runtime import start_tensorflow

tf = start_tensorflow()

#: The square root of ImageNet's colour correlation matrix (from its SVD), as lucid uses it:
#: column k is how much colour component k adds to red, green and blue.
COLOR_CORRELATION = np.asarray(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32
)
#: Normalised so that no decorrelated component swings a colour channel more than a raw one.
COLOR_DECORRELATION = COLOR_CORRELATION / np.max(np.linalg.norm(COLOR_CORRELATION, axis=0))


def spectrum_scale(height: int, width: int, decay: float = 1.0) -> np.ndarray:
    """The scale of each ``rfft2`` frequency, shape ``(height, width // 2 + 1)``.

    Natural images have about 1/f amplitude; scaling the spectrum so gives the optimiser a
    landscape in which every variable matters about equally (the 1/max(h, w) floor keeps the
    mean colour from dominating). ``sqrt(h * w)`` undoes ``irfft2``'s 1/(h*w) normalisation
    up to lucid's constant, so the image's contrast does not depend on its size.
    """
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    freqs = np.sqrt(fx * fx + fy * fy)
    scale = 1.0 / np.maximum(freqs, 1.0 / max(height, width)) ** decay
    return (scale * np.sqrt(height * width)).astype(np.float32)


def decorrelate_colors(image: tf.Tensor) -> tf.Tensor:
    """Map decorrelated colour components to RGB offsets, (..., 3) -> (..., 3)."""
    return tf.tensordot(image, tf.constant(COLOR_DECORRELATION.T), axes=1)


class ImageParam:
    """An image of ``batch`` pictures of ``shape`` (height, width) held as ``kind`` says."""

    def __init__(self, kind: str, shape: Sequence[int], batch: int = 1, decay: float = 1.0):
        if kind not in PARAMS:
            raise ValueError(f"Unknown image parameterisation {kind!r}; choose {PARAMS}.")
        height, width = (int(side) for side in shape)
        if height < 1 or width < 1 or batch < 1:
            raise ValueError("The image needs a height, a width and a batch of at least 1.")
        self.kind, self.height, self.width, self.batch = kind, height, width, int(batch)
        self._scale = tf.constant(spectrum_scale(height, width, decay)) if kind == "fft" else None

    def variable_shape(self) -> tuple[int, ...]:
        """The shape of the one variable: (re/im, batch, 3, h, w//2+1) or (batch, h, w, 3)."""
        if self.kind == "fft":
            return (2, self.batch, 3, self.height, self.width // 2 + 1)
        return (self.batch, self.height, self.width, 3)

    def init(self, seed: int, sd: float = 0.01) -> list[tf.Variable]:
        """Fresh trainable variables, normal with spread ``sd``, the same for the same seed."""
        values = np.random.default_rng(seed).normal(0.0, sd, self.variable_shape())
        return [tf.Variable(values.astype(np.float32), trainable=True, name=f"{self.kind}_image")]

    def zeros(self) -> list[tf.Variable]:
        """Variables that are all zero (the flat grey image)."""
        return [tf.Variable(tf.zeros(self.variable_shape()), trainable=True)]

    def to_image(self, variables: Sequence[tf.Tensor]) -> tf.Tensor:
        """The (batch, h, w, 3) float32 image in [0, 1] that ``variables`` hold."""
        (values,) = variables
        if self.kind == "pixel":
            return tf.sigmoid(values)
        spectrum = tf.complex(values[0], values[1]) * tf.cast(self._scale, tf.complex64)
        planes = tf.signal.irfft2d(spectrum, fft_length=[self.height, self.width])
        # lucid's /4 keeps the initial image well inside the sigmoid's linear part.
        image = tf.transpose(planes, (0, 2, 3, 1)) / 4.0
        return tf.sigmoid(decorrelate_colors(image))
